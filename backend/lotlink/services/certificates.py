"""Issue and revoke certificates and reports on chain, signed by their issuer, and read them.

The chain decides who may certify what (certifiers and inspectors anyone; a supplier only itself
and its own lots); its refusals come back as 403 or 409 naming the certificate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotlink.chain.contract import ContractRevertError
from lotlink.errors import (
    CertificateConflictError,
    CertificateNotFoundError,
    InvalidInputError,
    RoleNotAllowedError,
    UnknownActorError,
    UnknownDocumentError,
)
from lotlink.models import Actor, Certificate, Document
from lotlink.schemas.certificates import CertificateCreate, CertificateRevoke
from lotlink.services.authorization import authorize_write
from lotlink.services.chain_access import ChainAccess
from lotlink.services.lots import find_lot, find_lot_by_code
from lotlink.vocabulary import SubjectKind


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _subject(session: Session, form: CertificateCreate) -> tuple[SubjectKind, bytes]:
    if form.actor is not None:
        address = form.actor.lower()
        if session.get(Actor, address) is None:
            raise UnknownActorError(address=to_checksum_address(address))
        return SubjectKind.ACTOR, bytes(12) + bytes.fromhex(address[2:])
    if form.lot_key is not None:
        lot = find_lot(session, form.lot_key, field="lot_key")
    else:
        assert form.gtin is not None and form.lot_code is not None
        lot = find_lot_by_code(session, form.gtin, form.lot_code)
    return SubjectKind.LOT, bytes.fromhex(lot.lot_key[2:])


def _chain_now(chain: ChainAccess) -> datetime:
    """The chain's own time (its newest block's): a certificate valid "from now" must already be
    valid in the block that records it, and the chain's clock may trail ours."""
    latest = chain.contract.w3.eth.get_block("latest")
    return datetime.fromtimestamp(int(latest["timestamp"]), UTC)


def issue_certificate(
    session: Session, chain: ChainAccess, actor: Actor, form: CertificateCreate
) -> Certificate:
    """Issues the certificate on chain (signed by `actor`, relayed) and stores it."""
    subject_kind, subject = _subject(session, form)
    document = form.document.lower().removeprefix("0x")
    if session.get(Document, "0x" + document) is None:
        raise UnknownDocumentError(sha256=document, field="document")
    valid_from = form.valid_from or _chain_now(chain)
    if form.valid_until <= valid_from:
        raise InvalidInputError(field="valid_until", reason="must be after valid_from")
    issue = (
        subject_kind.code,
        subject,
        form.kind.code,
        bytes.fromhex(document),
        int(valid_from.timestamp()),
        int(form.valid_until.timestamp()),
    )
    issuer = to_checksum_address(actor.address)
    certificate_id = keccak(
        encode(["address", "uint8", "bytes32", "uint8", "bytes32"], [issuer, *issue[:4]])
    )
    auth = authorize_write(chain, actor, "issueCertificate", (issue,), form.authorization)
    session.commit()  # no transaction stays open across the chain round trip
    try:
        receipt = chain.relayer.send("issueCertificate", issue, auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, issuer, _hex(certificate_id)) from None
    position = chain.log_of(receipt, "CertificateIssued")
    row = Certificate(
        certificate_id=_hex(certificate_id),
        issuer_address=issuer.lower(),
        subject_kind=subject_kind,
        subject=_hex(subject),
        kind=form.kind,
        document_hash="0x" + document,
        valid_from=datetime.fromtimestamp(issue[4], UTC),
        valid_until=datetime.fromtimestamp(issue[5], UTC),
        block_number=position.block_number,
        tx_hash=position.tx_hash,
        log_index=position.log_index,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the indexer stored it from the chain first: the chain's row wins
        session.rollback()
    return get_certificate(session, _hex(certificate_id))


def revoke_certificate(
    session: Session, chain: ChainAccess, actor: Actor, certificate_id: str, form: CertificateRevoke
) -> Certificate:
    """Revokes a certificate on chain (its issuer only) with the hash of the stated reason."""
    row = get_certificate(session, certificate_id)
    reason_hash = keccak(form.reason.encode())
    args = (bytes.fromhex(row.certificate_id[2:]), reason_hash)
    auth = authorize_write(chain, actor, "revokeCertificate", args, form.authorization)
    session.commit()
    issuer = to_checksum_address(actor.address)
    try:
        receipt = chain.relayer.send("revokeCertificate", *args, auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, issuer, row.certificate_id) from None
    position = chain.log_of(receipt, "CertificateRevoked")
    row = get_certificate(session, certificate_id)
    row.revoked = True
    row.revoked_by = issuer.lower()
    row.revoked_reason_hash = _hex(reason_hash)
    row.revoked_reason = form.reason
    row.revoked_block = position.block_number
    row.revoked_tx_hash = position.tx_hash
    block = chain.contract.w3.eth.get_block(position.block_number)
    row.revoked_at = datetime.fromtimestamp(int(block["timestamp"]), UTC)
    session.commit()
    return row


def get_certificate(session: Session, certificate_id: str) -> Certificate:
    row = session.get(Certificate, certificate_id.lower())
    if row is None:
        raise CertificateNotFoundError(certificate_id=certificate_id)
    return row


def certificates_about(session: Session, subject: str) -> list[Certificate]:
    """Certificates whose subject is this lot key or (left-padded) actor address, newest first."""
    key = subject.lower()
    if len(key) == 42:
        key = "0x" + "00" * 12 + key[2:]
    query = select(Certificate).where(Certificate.subject == key)
    return list(session.scalars(query.order_by(Certificate.valid_from.desc())))


def _refusal(error: ContractRevertError, issuer: str, certificate_id: str) -> Exception:
    name = error.error_name
    if name == "LotlinkNotAllowedToCertify":
        return RoleNotAllowedError(
            actor=issuer,
            action="certify this subject (a supplier may certify only itself and its own lots)",
            allowed=["certifier", "inspector"],
        )
    if name == "LotlinkNotCertificateIssuer":
        return RoleNotAllowedError(
            actor=issuer, action=f"revoke certificate {certificate_id}", allowed=["its issuer"]
        )
    if name == "LotlinkDuplicateCertificate":
        return CertificateConflictError(certificate_id=certificate_id, reason="is issued already")
    if name == "LotlinkCertificateAlreadyRevoked":
        return CertificateConflictError(certificate_id=certificate_id, reason="is revoked already")
    if name == "LotlinkInvalidValidity":
        return InvalidInputError(field="valid_until", reason="must be after valid_from")
    if name in {"LotlinkInvalidSigner", "LotlinkExpiredSignature", "InvalidAccountNonce"}:
        return InvalidInputError(field="authorization", reason=str(error))
    return InvalidInputError(field="certificate", reason=str(error))
