"""Who signs a relayed write: the service with a custodial actor's key, or the actor itself.

A self-custody actor's signature is checked here, before anything is sent, so a wrong key is a
4xx naming the field rather than a reverted transaction; the contract checks it again anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import to_checksum_address

from lotlink.chain.typed_data import TYPES, Authorization, recover_typed
from lotlink.errors import InvalidInputError, SignatureMismatchError
from lotlink.keystore import load_custodial_account
from lotlink.models import Actor
from lotlink.models.actor import Custody
from lotlink.schemas.lots import ClientAuthorization
from lotlink.services.chain_access import ChainAccess, fresh_nonce, signature_deadline


def authorize_write(
    chain: ChainAccess,
    actor: Actor,
    function: str,
    args: Sequence[object],
    given: ClientAuthorization | None,
    *,
    field: str = "authorization",
) -> Authorization:
    """`actor`'s authorization of `function(*args)`: signed here for a custodial actor, or the
    client's own signature, accepted only if it recovers to the actor."""
    address = to_checksum_address(actor.address)
    if given is None:
        if actor.custody != Custody.CUSTODIAL:
            raise InvalidInputError(
                field=field,
                reason=f"a self-custody actor must sign {function} itself "
                "(signature, nonce, deadline)",
            )
        return chain.contract.sign_write(
            function,
            *args,
            signer=load_custodial_account(chain.settings, address),
            nonce=fresh_nonce(),
            deadline=signature_deadline(),
        )
    primary_type = function[0].upper() + function[1:]
    names = [name for name, _ in TYPES[primary_type] if name not in ("nonce", "deadline")]
    values = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else list(args)
    message = dict(zip(names, values, strict=True))
    message |= {"nonce": given.nonce, "deadline": given.deadline}
    signature = bytes.fromhex(given.signature[2:])
    try:
        recovered: str | None = recover_typed(
            primary_type, message, chain.contract.domain, signature
        )
    except Exception:  # a malformed signature recovers to nobody
        recovered = None
    if recovered != address:
        raise SignatureMismatchError(
            field=f"{field}.signature", expected=address, recovered=recovered
        )
    return Authorization(
        signer=address, nonce=given.nonce, deadline=given.deadline, signature=signature
    )
