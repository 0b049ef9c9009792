"""Actors: created with a custodial key or a self-custody address, registered on chain by the
admin's signature (relayed), and stored with the role the chain gave them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, keccak, to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lotlink.chain.accounts import admin_account
from lotlink.errors import ActorExistsError, InvalidInputError, UnknownActorError
from lotlink.gs1.keys import normalize_gln
from lotlink.keystore import create_custodial_account, keystore_path
from lotlink.models import Actor, ActorRole, Custody
from lotlink.services.chain_access import ChainAccess, fresh_nonce, signature_deadline
from lotlink.vocabulary import Role

#: Roles `lotlink actor add` hands out; admin and anchorer belong to the service itself.
ACTOR_ROLES = (Role.SUPPLIER, Role.INSPECTOR, Role.CARRIER, Role.CERTIFIER, Role.REGULATOR)


def profile_hash(*, name: str, gln: str) -> bytes:
    """The bytes32 the chain keeps for an actor's off-chain profile: keccak256 of its canonical
    JSON (sorted keys, no spaces), so anyone holding the profile can check it."""
    profile = json.dumps({"gln": gln, "name": name}, sort_keys=True, separators=(",", ":"))
    return keccak(profile.encode())


@dataclass(frozen=True, slots=True)
class NewActor:
    actor: Actor
    account: LocalAccount | None  # the custodial key, None for self-custody


def add_actor(
    session: Session,
    chain: ChainAccess,
    *,
    role: Role,
    gln: str,
    name: str,
    address: str | None = None,
) -> NewActor:
    """Creates the actor (a new custodial key unless `address` is given), registers it on chain
    and stores it. Registration is skipped when the chain already gives the address this role,
    so a run interrupted after the transaction can be repeated."""
    if role not in ACTOR_ROLES:
        allowed = ", ".join(r.value for r in ACTOR_ROLES)
        raise InvalidInputError(field="role", reason=f"{role.value!r} is not one of {allowed}")
    gln = normalize_gln(gln)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError(field="name", reason="must have 1 to 200 characters")
    account: LocalAccount | None = None
    if address is None:
        account = create_custodial_account(chain.settings)
        address = account.address
    elif not is_address(address):
        raise InvalidInputError(field="address", reason=f"{address!r} is not an Ethereum address")
    address = to_checksum_address(address)
    if session.get(Actor, address.lower()) is not None:
        raise ActorExistsError(address=address)

    profile = profile_hash(name=name, gln=gln)
    contract = chain.contract
    block = tx_hash = log_index = None
    if not contract.call("hasRole", role.id, address):
        args = (address, role.id, int(gln), profile)
        auth = contract.sign_write(
            "registerActor",
            *args,
            signer=admin_account(chain.settings),
            nonce=fresh_nonce(),
            deadline=signature_deadline(),
        )
        receipt = chain.relayer.send("registerActor", *args, auth=auth)
        position = chain.log_of(receipt, "ActorRegistered")
        block, tx_hash, log_index = position.block_number, position.tx_hash, position.log_index

    actor = Actor(
        address=address,
        name=name,
        gln=gln,
        profile_hash="0x" + profile.hex(),
        custody=Custody.SELF if account is None else Custody.CUSTODIAL,
        keystore_path=None if account is None else str(keystore_path(chain.settings, address)),
    )
    actor.roles.append(
        ActorRole(role=role, block_number=block, tx_hash=tx_hash, log_index=log_index)
    )
    session.add(actor)
    session.commit()
    return NewActor(actor=actor, account=account)


def get_actor(session: Session, address: str) -> Actor:
    """The actor `address` with its roles loaded; UnknownActorError if there is none."""
    if not is_address(address):
        raise InvalidInputError(field="address", reason=f"{address!r} is not an Ethereum address")
    actor = session.scalar(
        select(Actor).where(Actor.address == address.lower()).options(selectinload(Actor.roles))
    )
    if actor is None:
        raise UnknownActorError(address=to_checksum_address(address))
    return actor


def actor_roles(actor: Actor) -> set[Role]:
    return {Role(r.role) for r in actor.roles}
