"""`GET /api/v1/me`: who a token acts for, and the EIP-712 domain its actor signs in."""

from __future__ import annotations

from eth_utils import to_checksum_address
from fastapi import APIRouter

from lotlink.api.deps import ActorDep, ChainDep
from lotlink.models import Actor
from lotlink.schemas.common import ActorPublic, Me, SigningDomain

router = APIRouter(prefix="/api/v1", tags=["actors"])


def actor_public(actor: Actor) -> ActorPublic:
    return ActorPublic(
        address=to_checksum_address(actor.address),
        name=actor.name,
        gln=actor.gln,
        custody=str(actor.custody),
        roles=sorted(str(r.role) for r in actor.roles),
    )


@router.get("/me", summary="The token's actor and its signing domain")
def read_me(actor: ActorDep, chain: ChainDep) -> Me:
    domain = SigningDomain(**chain.contract.domain.as_dict())
    return Me(**actor_public(actor).model_dump(), domain=domain)
