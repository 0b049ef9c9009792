"""`/api/v1/certificates`: issue and revoke certificates and reports on chain, and read them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Query, status

from lotlink.api.deps import ChainDep, SessionDep, require_role
from lotlink.indexer.derived import validity_of
from lotlink.models import Actor, Certificate
from lotlink.schemas.certificates import CertificateCreate, CertificatePublic, CertificateRevoke
from lotlink.services.certificates import (
    certificates_about,
    get_certificate,
    issue_certificate,
    revoke_certificate,
)
from lotlink.vocabulary import Role

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

CertifierDep = Annotated[
    Actor,
    Depends(
        require_role(
            Role.CERTIFIER, Role.INSPECTOR, Role.SUPPLIER, action="issue or revoke certificates"
        )
    ),
]


def certificate_public(row: Certificate) -> CertificatePublic:
    validity = validity_of(row, at=datetime.now(UTC))
    return CertificatePublic(
        certificate_id=row.certificate_id,
        issuer=to_checksum_address(row.issuer_address),
        subject_kind=row.subject_kind.value,
        subject=row.subject,
        kind=row.kind.value,
        document=row.document_hash,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        validity=validity.value,
        revoked=row.revoked,
        revoked_reason=row.revoked_reason,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a certificate or report on chain, signed by its issuer",
)
def issue(
    form: CertificateCreate, session: SessionDep, chain: ChainDep, actor: CertifierDep
) -> CertificatePublic:
    return certificate_public(issue_certificate(session, chain, actor, form))


@router.post("/{certificate_id}/revoke", summary="Revoke a certificate (its issuer only)")
def revoke(
    certificate_id: str,
    form: CertificateRevoke,
    session: SessionDep,
    chain: ChainDep,
    actor: CertifierDep,
) -> CertificatePublic:
    return certificate_public(revoke_certificate(session, chain, actor, certificate_id, form))


@router.get("/{certificate_id}", summary="One certificate, with its validity now")
def read(certificate_id: str, session: SessionDep) -> CertificatePublic:
    return certificate_public(get_certificate(session, certificate_id))


@router.get("", summary="Certificates about a lot (lot key) or an actor (address)")
def about(
    session: SessionDep,
    subject: Annotated[str, Query(pattern=r"^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")],
) -> list[CertificatePublic]:
    return [certificate_public(row) for row in certificates_about(session, subject)]
