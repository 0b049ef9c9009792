"""Lotlink's SQL models. Importing this package registers every table on ``Base.metadata``.

One module per concept; the tables derived from the chain carry the log they came from
(:class:`ChainProvenance`) and use the chain's own keys as primary keys.
"""

from lotlink.db.base import Base
from lotlink.models.actor import Actor, ActorRole, Custody, Role
from lotlink.models.alert import Alert, AlertState
from lotlink.models.anchoring import (
    AnchorReceipt,
    AnchorTransaction,
    Batch,
    BatchManifest,
    BatchStatus,
    ManifestStatus,
    OutboxEntry,
    OutboxState,
)
from lotlink.models.api_token import ApiToken
from lotlink.models.certificate import Certificate, CertificateKind, SubjectKind
from lotlink.models.checkpoint import (
    Checkpoint,
    CheckpointDocument,
    CheckpointKind,
    CheckpointLot,
    CheckpointStatus,
)
from lotlink.models.document import Document
from lotlink.models.idempotency import IdempotencyKey
from lotlink.models.indexer import AppliedLog, IndexedBlock, IndexerCursor
from lotlink.models.lot import LineageEdge, Lot
from lotlink.models.provenance import ChainProvenance
from lotlink.models.recall import Recall, RecallLot, RecallStatus
from lotlink.models.report import ProblemReport, ReportCategory, ReportResponse, ResponseKind
from lotlink.models.scan import CopyFlag, CopyRule, SerialScan
from lotlink.models.types import ZERO_HASH
from lotlink.models.webhook import DeliveryState, WebhookDelivery, WebhookEndpoint
from lotlink.vocabulary import ChainEnum

__all__ = [
    "ZERO_HASH",
    "Actor",
    "ActorRole",
    "Alert",
    "AlertState",
    "AnchorReceipt",
    "AnchorTransaction",
    "ApiToken",
    "AppliedLog",
    "Base",
    "Batch",
    "BatchManifest",
    "BatchStatus",
    "Certificate",
    "CertificateKind",
    "ChainEnum",
    "ChainProvenance",
    "Checkpoint",
    "CheckpointDocument",
    "CheckpointKind",
    "CheckpointLot",
    "CheckpointStatus",
    "CopyFlag",
    "CopyRule",
    "Custody",
    "DeliveryState",
    "Document",
    "IdempotencyKey",
    "IndexedBlock",
    "IndexerCursor",
    "LineageEdge",
    "Lot",
    "ManifestStatus",
    "OutboxEntry",
    "OutboxState",
    "ProblemReport",
    "Recall",
    "RecallLot",
    "RecallStatus",
    "ReportCategory",
    "ReportResponse",
    "ResponseKind",
    "Role",
    "SerialScan",
    "SubjectKind",
    "WebhookDelivery",
    "WebhookEndpoint",
]
