"""Lotlink's domain errors: one root, one class per situation, each message built from its facts.

``retryable`` separates faults that may pass on their own (an endpoint down, a nonce race) from
those that will not (bad input, a wrong chain). Loops that retry look only at that flag.
"""

from __future__ import annotations

from typing import Any


class LotlinkError(Exception):
    """Root of every error Lotlink raises on purpose; its message is one line for a user."""

    retryable: bool = False


class ToolchainMissingError(LotlinkError):
    """Raised when a program the command needs (node, npm, anvil, a compiler) is not installed."""

    def __init__(self, *, tool: str, hint: str) -> None:
        super().__init__(f"{tool} is not available: {hint}")
        self.tool = tool


class CompilerError(LotlinkError):
    """Raised when solc rejects the contracts; the message carries solc's first error."""

    def __init__(self, *, detail: str) -> None:
        super().__init__(f"solc failed: {detail}")


class ArtifactsStaleError(LotlinkError):
    """Raised when contracts/build no longer matches contracts/src."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(
            f"contract artifacts are stale ({reason}); run `lotlink contracts compile`"
        )


class ChainStartError(LotlinkError):
    """Raised when the managed anvil cannot start, for instance because its port is taken."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"cannot start the local chain: {reason}")


class ChainUnavailableError(LotlinkError):
    """Raised when the JSON-RPC endpoint does not answer; usually passes on its own."""

    retryable = True

    def __init__(self, *, url: str, reason: str) -> None:
        super().__init__(f"chain endpoint {url} does not answer: {reason}")
        self.url = url


class ChainIdMismatchError(LotlinkError):
    """Raised when the endpoint's chain id differs from the expected one (the recorded
    deployment's, or the configured one for the managed chain)."""

    def __init__(
        self, *, expected: int, actual: int, url: str, source: str = "the recorded deployment is"
    ) -> None:
        super().__init__(
            f"chain id mismatch: {source} on chain {expected}, but {url} reports chain {actual}"
        )
        self.expected = expected
        self.actual = actual


class DeploymentMissingError(LotlinkError):
    """Raised when no deployment is recorded for this chain and none was asked for."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"no Lotlink deployment: {reason}")


class DeploymentStaleError(LotlinkError):
    """Raised when the recorded deployment's code is no longer on the chain (e.g. a wiped anvil)."""

    def __init__(self, *, address: str, chain_id: int) -> None:
        super().__init__(
            f"the recorded deployment at {address} has no code on chain {chain_id}; "
            "the chain was reset: remove var/deployment.json or run `lotlink deploy --force`"
        )


class ContractsChangedError(LotlinkError):
    """Raised when a contract's ABI differs from the one recorded at deployment time."""

    def __init__(self, *, name: str, address: str, chain_id: int) -> None:
        super().__init__(
            f"{name} changed since its deployment at {address} on chain {chain_id} (ABI differs); "
            "run `lotlink deploy --force` to deploy the new version"
        )
        self.name = name


class DeploymentFailedError(LotlinkError):
    """Raised when a deployment transaction is rejected, reverts or is not mined in time."""

    def __init__(self, *, name: str, reason: str) -> None:
        super().__init__(f"deploying {name} failed: {reason}")


class DeployerKeyMissingError(LotlinkError):
    """Raised when deploying to a remote endpoint without LOTLINK_DEPLOYER_KEY."""

    def __init__(self, *, url: str) -> None:
        super().__init__(
            f"deploying to {url} needs a funded key: set LOTLINK_DEPLOYER_KEY (0x-prefixed hex)"
        )


class DatabaseError(LotlinkError):
    """Raised when the database cannot be reached or migrated."""

    def __init__(self, *, url: str, reason: str) -> None:
        super().__init__(f"database {url}: {reason}")


class DatabaseBusyError(LotlinkError):
    """Raised when a write waited too long for the writers queued before it (SQLite)."""

    retryable = True
    retry_after = 5

    def __init__(self, *, waited: float) -> None:
        super().__init__(f"the database is busy: no turn to write after {waited:.0f} s; retry")


class WriterStoppedError(LotlinkError):
    """Raised when a capture arrives after this process's capture writer has stopped (the
    service is shutting down); another process, or this one restarted, takes it."""

    retryable = True
    retry_after = 5

    def __init__(self) -> None:
        super().__init__("this service process is stopping and stores no more captures; retry")


class InvalidGs1KeyError(LotlinkError):
    """Raised when a GTIN, GLN or lot code is malformed or fails its check digit."""

    def __init__(self, *, key: str, value: str, reason: str) -> None:
        super().__init__(f"invalid {key} {value!r}: {reason}")
        self.key = key
        self.value = value
        self.reason = reason


class DatabaseNotMigratedError(LotlinkError):
    """Raised when the database's schema revision is not the one this version of Lotlink needs."""

    def __init__(self, *, url: str, current: str | None, head: str) -> None:
        state = "was never migrated" if current is None else f"is at revision {current}"
        super().__init__(
            f"database {url} {state}, this Lotlink needs revision {head}; run `lotlink db upgrade`"
        )
        self.current = current
        self.head = head


class EpcisValidationError(LotlinkError):
    """Raised when an EPCIS document or event fails GS1's JSON Schema or Lotlink's event rules.

    The message names the JSON path of the first failing field and why; ``errors`` holds every
    failure as (path, reason) pairs, for a problem+json response that lists them all.
    """

    def __init__(self, *, path: str, reason: str, errors: list[tuple[str, str]]) -> None:
        super().__init__(f"invalid EPCIS at {path}: {reason}")
        self.path = path
        self.reason = reason
        self.errors = errors


class ServiceKeyMissingError(LotlinkError):
    """Raised when a remote chain is configured without one of the service's own keys."""

    def __init__(self, *, setting: str, url: str) -> None:
        super().__init__(f"{setting} must hold a hex private key to use the chain at {url}")
        self.setting = setting


# --- Write path: requests that the service refuses (issue #3) --------------------------------


class InvalidInputError(LotlinkError):
    """Raised when a request field is well-formed JSON but means something Lotlink refuses."""

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class AuthenticationError(LotlinkError):
    """Raised when a write comes without an API token, or with an unknown or revoked one."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"authentication required: {reason}")


class RoleNotAllowedError(LotlinkError):
    """Raised when the token's actor lacks the role the action needs."""

    def __init__(self, *, actor: str, action: str, allowed: list[str]) -> None:
        super().__init__(
            f"actor {actor} may not {action}: it needs the role {' or '.join(allowed)}"
        )
        self.actor = actor
        self.allowed = allowed


class UnknownActorError(LotlinkError):
    """Raised when an actor address is not registered with this service."""

    def __init__(self, *, address: str) -> None:
        super().__init__(f"no actor {address} is registered with this service")
        self.address = address


class SupplierNotFoundError(LotlinkError):
    """Raised when no actor registered with this service has the GLN a supplier page names."""

    def __init__(self, *, gln: str) -> None:
        super().__init__(f"no supplier with GLN {gln} is registered with this service")
        self.gln = gln


class ActorExistsError(LotlinkError):
    """Raised when an actor is added twice."""

    def __init__(self, *, address: str) -> None:
        super().__init__(f"actor {address} is already registered with this service")
        self.address = address


class UnknownTokenError(LotlinkError):
    """Raised when revoking an API token that does not exist."""

    def __init__(self, *, token: str) -> None:
        super().__init__(f"no API token {token!r}")


class KeystoreError(LotlinkError):
    """Raised when a custodial keystore is missing, unreadable or its passphrase is wrong."""

    def __init__(self, *, path: str, reason: str) -> None:
        super().__init__(f"keystore {path}: {reason}")
        self.path = path


class KeystorePasswordMissingError(LotlinkError):
    """Raised when custodial keys are needed on a remote chain without LOTLINK_KEYSTORE_PASSWORD."""

    def __init__(self) -> None:
        super().__init__(
            "custodial keys on a remote chain need LOTLINK_KEYSTORE_PASSWORD (the keystores' "
            "passphrase); only the managed development chain generates one"
        )


class UnknownLotError(LotlinkError):
    """Raised when a request names a lot that is not registered (``field`` says where)."""

    def __init__(self, *, lot: str, field: str = "lot") -> None:
        super().__init__(f"{field}: no lot {lot} is registered")
        self.lot = lot
        self.field = field


class DuplicateLotError(LotlinkError):
    """Raised when registering a lot (GTIN and lot code) that already exists."""

    def __init__(self, *, gtin: str, lot_code: str, lot_key: str) -> None:
        super().__init__(f"lot {gtin}/{lot_code} ({lot_key}) is already registered")
        self.gtin = gtin
        self.lot_code = lot_code
        self.lot_key = lot_key
        self.field = "lot_code"


class StaleHeadError(LotlinkError):
    """Raised when an event names a previous event that is no longer the head of its lot."""

    def __init__(self, *, lot_key: str, stated: str | None, head: str | None) -> None:
        super().__init__(
            f"lot {lot_key} has moved on: the event names previous {stated or 'none'}, "
            f"but the lot's current head is {head or 'none (no event yet)'}"
        )
        self.lot_key = lot_key
        self.stated = stated
        self.head = head
        self.field = "lotlink:previous"


class InvalidIdempotencyKeyError(LotlinkError):
    """Raised when an ``Idempotency-Key`` header is not 1 to 255 printable ASCII characters."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"Idempotency-Key: {reason}")
        self.field = "Idempotency-Key"


class IdempotencyKeyReusedError(LotlinkError):
    """Raised when an actor sends an ``Idempotency-Key`` it used for a different request (another
    lot or another form) within the keys' retention."""

    def __init__(self, *, key: str, hours: float) -> None:
        super().__init__(
            f"Idempotency-Key: {key!r} was used for a different request within the last "
            f"{hours:g} hours; send a new key with a new request"
        )
        self.key = key
        self.field = "Idempotency-Key"


class SignatureMismatchError(LotlinkError):
    """Raised when a client's signature does not recover to the actor it claims to be from."""

    def __init__(self, *, field: str, expected: str, recovered: str | None) -> None:
        got = "is malformed" if recovered is None else f"recovers to {recovered}"
        super().__init__(f"{field}: the signature {got}, not to the actor {expected}")
        self.field = field


class UnknownDocumentError(LotlinkError):
    """Raised when an event or certificate cites a document hash that was never uploaded."""

    def __init__(self, *, sha256: str, field: str) -> None:
        super().__init__(f"{field}: no document with SHA-256 {sha256} was uploaded")
        self.field = field


class DocumentNotFoundError(LotlinkError):
    """Raised when fetching a document that is not stored."""

    def __init__(self, *, sha256: str) -> None:
        super().__init__(f"no document with SHA-256 {sha256}")


class DocumentTooLargeError(LotlinkError):
    """Raised when an upload exceeds LOTLINK_MAX_UPLOAD_BYTES."""

    def __init__(self, *, limit: int) -> None:
        super().__init__(f"file: the upload exceeds the limit of {limit} bytes")
        self.field = "file"


class UnsupportedDocumentTypeError(LotlinkError):
    """Raised when an upload's bytes are not one of the accepted types (PDF, PNG, JPEG, WebP)."""

    def __init__(self, *, accepted: list[str]) -> None:
        super().__init__(f"file: the content is not one of {', '.join(accepted)}")
        self.field = "file"


class LogRangeRefusedError(LotlinkError):
    """Raised when an endpoint refuses an eth_getLogs block range or result size; the indexer
    halves its range and asks again."""

    retryable = True

    def __init__(self, *, from_block: int, to_block: int, reason: str) -> None:
        super().__init__(f"eth_getLogs {from_block}..{to_block} refused: {reason}")
        self.from_block = from_block
        self.to_block = to_block


class ChainRpcError(LotlinkError):
    """Raised when the endpoint answers a JSON-RPC call with an error that is not about range
    size; ``retryable`` says whether asking again later may succeed. ``code`` and ``data`` are
    the JSON-RPC error's, when the endpoint answered with one (``data``: e.g. revert data)."""

    def __init__(
        self,
        *,
        method: str,
        reason: str,
        retryable: bool,
        code: int | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(f"{method} failed: {reason}")
        self.method = method
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.data = data


class ChainReorgedError(LotlinkError):
    """Raised when the chain changed under a range being read; the indexer reads it again."""

    retryable = True

    def __init__(self, *, block_number: int) -> None:
        super().__init__(f"the chain reorganised at block {block_number} while it was being read")
        self.block_number = block_number


class ReorgTooDeepError(LotlinkError):
    """Raised when a reorg reaches below the blocks the indexer keeps; it stops rather than
    guess, and `lotlink reindex` rebuilds the index."""

    def __init__(self, *, oldest_kept: int, window: int) -> None:
        super().__init__(
            f"the chain reorganised below block {oldest_kept}, deeper than the {window} "
            "unconfirmed blocks the indexer keeps; raise LOTLINK_INDEXER_WINDOW or "
            "LOTLINK_CONFIRMATIONS, then run `lotlink reindex`"
        )
        self.oldest_kept = oldest_kept
        self.window = window


class IndexerStateError(LotlinkError):
    """Raised when the index belongs to another deployment or chain than the one configured."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"the index cannot follow this chain: {reason}")


class CheckpointNotFoundError(LotlinkError):
    """Raised when no event with the digest is stored."""

    def __init__(self, *, digest: str) -> None:
        super().__init__(f"no checkpoint with digest {digest}")


class InvalidDigitalLinkError(LotlinkError):
    """Raised when a GS1 Digital Link URI is malformed; the reason is shown to whoever scanned."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"not a valid GS1 Digital Link: {reason}")
        self.reason = reason


class CertificateNotFoundError(LotlinkError):
    """Raised when a certificate id is not known to this service's index."""

    def __init__(self, *, certificate_id: str) -> None:
        super().__init__(f"no certificate {certificate_id}")
        self.certificate_id = certificate_id


class CertificateConflictError(LotlinkError):
    """Raised when a certificate is issued twice, or revoked when it already is."""

    def __init__(self, *, certificate_id: str, reason: str) -> None:
        super().__init__(f"certificate {certificate_id} {reason}")
        self.certificate_id = certificate_id


# --- Consumer scan: resolver, pages and problem reports (issue #5) ---------------------------


class UnknownProductError(LotlinkError):
    """Raised when a Digital Link names a GTIN (or a lot of it) that no registered lot has."""

    def __init__(self, *, gtin: str, lot: str | None = None) -> None:
        what = f"lot {lot!r} of product {gtin}" if lot is not None else f"product {gtin}"
        super().__init__(f"{what} is not known here")
        self.gtin = gtin
        self.lot = lot


class UnknownLinkTypeError(LotlinkError):
    """Raised when a resolver request asks for a linkType this resolver does not serve."""

    def __init__(self, *, link_type: str, available: list[str]) -> None:
        super().__init__(f"no link of type {link_type!r} here; available: {', '.join(available)}")
        self.link_type = link_type
        self.available = available


class ReportRateLimitedError(LotlinkError):
    """Raised when one client sends more problem reports than the configured window allows."""

    retryable = True

    def __init__(self, *, limit: int, window_seconds: int, retry_after: int) -> None:
        super().__init__(
            f"too many reports from this connection: at most {limit} every "
            f"{window_seconds // 60} minutes; please try again in {max(retry_after, 1)} seconds"
        )
        self.retry_after = max(retry_after, 1)


class ReportRejectedError(LotlinkError):
    """Raised when a problem report form is incomplete or its photo is refused; ``field`` names
    the input the message is about."""

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ReportNotFoundError(LotlinkError):
    """Raised when a problem report reference is unknown (or not the asking supplier's)."""

    def __init__(self, *, reference: str) -> None:
        super().__init__(f"no problem report {reference}")
        self.reference = reference


class AlertNotFoundError(LotlinkError):
    """Raised when an alert id is unknown, or names an alert the asking actor may not see."""

    def __init__(self, *, alert_id: int) -> None:
        super().__init__(f"no alert {alert_id}")
        self.alert_id = alert_id


class AlertStateError(LotlinkError):
    """Raised when an alert cannot take a step from the state it is in (escalating a closed
    alert, acknowledging an escalated one)."""

    def __init__(self, *, alert_id: int, state: str, action: str) -> None:
        super().__init__(f"alert {alert_id} is {state}; it cannot be {action}")
        self.alert_id = alert_id
        self.state = state


class WebhookEndpointNotFoundError(LotlinkError):
    """Raised when a webhook endpoint id is unknown to the asking actor."""

    def __init__(self, *, endpoint_id: int) -> None:
        super().__init__(f"no webhook endpoint {endpoint_id}")
        self.endpoint_id = endpoint_id


class RecallNotFoundError(LotlinkError):
    """Raised when a recall id is not known to this service's index."""

    def __init__(self, *, recall_id: int) -> None:
        super().__init__(f"no recall {recall_id}")
        self.recall_id = recall_id


class FormTokenError(LotlinkError):
    """Raised when a web form comes back without the anti-forgery (CSRF) token its page gave it:
    a form from another site, or from an earlier session."""

    def __init__(self, *, reason: str) -> None:
        super().__init__(f"this form was refused: {reason}; open the page again and resend it")
        self.reason = f"This form was refused: {reason}. Open the page again and resend it."
