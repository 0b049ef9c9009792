"""Initial schema: actors and tokens, lots and lineage, checkpoints and their hash chains,
documents, certificates, recalls, anchoring (outbox, batches, transactions, receipts) and the
indexer's state.

Types are spelled out here rather than imported from lotlink.models, so this file keeps meaning
what it meant when it was written: bytes32 values are 66 characters of 0x-hex, addresses 42,
instants are TIMESTAMP WITH TIME ZONE (stored in UTC), enums are VARCHAR with a CHECK.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX32 = sa.String(length=66)
ADDRESS = sa.String(length=42)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table, parents first."""
    op.create_table(
        "actor",
        sa.Column("address", ADDRESS, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("profile_hash", HEX32, nullable=True),
        sa.Column(
            "custody",
            sa.Enum("custodial", "self", name="custody", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("keystore_path", sa.String(length=1024), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("profile_block", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(custody = 'custodial') = (keystore_path IS NOT NULL)",
            name=op.f("ck_actor_keystore_iff_custodial"),
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_actor")),
    )
    op.create_index(op.f("ix_actor_gln"), "actor", ["gln"], unique=False)

    op.create_table(
        "applied_log",
        sa.Column("tx_hash", HEX32, nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", HEX32, nullable=False),
        sa.Column("contract_address", ADDRESS, nullable=False),
        sa.Column("event_name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tx_hash", "log_index", name=op.f("pk_applied_log")),
    )
    op.create_index(
        op.f("ix_applied_log_block_number_log_index"),
        "applied_log",
        ["block_number", "log_index"],
        unique=False,
    )

    op.create_table(
        "batch",
        sa.Column("root", HEX32, nullable=False),
        sa.Column("manifest_hash", HEX32, nullable=False),
        sa.Column("manifest_uri", sa.String(), nullable=True),
        sa.Column(
            "manifest_status",
            sa.Enum(
                "pending",
                "verified",
                "unavailable",
                "mismatch",
                name="manifest_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "built",
                "sent",
                "anchored",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("anchorer_address", ADDRESS, nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("tx_nonce", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("sent_at", INSTANT, nullable=True),
        sa.Column("anchored_at", INSTANT, nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_batch_attempts_not_negative")),
        sa.CheckConstraint("event_count > 0", name=op.f("ck_batch_event_count_positive")),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_batch")),
    )
    op.create_index(op.f("ix_batch_block_number"), "batch", ["block_number"], unique=False)
    op.create_index(op.f("ix_batch_status"), "batch", ["status"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("certificate_id", HEX32, nullable=False),
        sa.Column("issuer_address", ADDRESS, nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum("actor", "lot", name="subject_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("subject", HEX32, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "iso9001",
                "production_licence",
                "inspection_report",
                "certificate_of_analysis",
                "other",
                name="kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("document_hash", HEX32, nullable=False),
        sa.Column("valid_from", INSTANT, nullable=False),
        sa.Column("valid_until", INSTANT, nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_by", ADDRESS, nullable=True),
        sa.Column("revoked_reason_hash", HEX32, nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.Column("revoked_tx_hash", HEX32, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificate")),
    )
    op.create_index(
        op.f("ix_certificate_document_hash"), "certificate", ["document_hash"], unique=False
    )
    op.create_index(
        op.f("ix_certificate_issuer_address"), "certificate", ["issuer_address"], unique=False
    )
    op.create_index(
        op.f("ix_certificate_subject_kind_subject"),
        "certificate",
        ["subject_kind", "subject"],
        unique=False,
    )
    op.create_index(
        op.f("ix_certificate_valid_until"), "certificate", ["valid_until"], unique=False
    )

    op.create_table(
        "indexer_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", HEX32, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indexer_cursor")),
    )
    op.create_table(
        "recall",
        sa.Column("recall_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issuer_address", ADDRESS, nullable=False),
        sa.Column("recall_class", sa.SmallInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "closed", name="status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("reason_hash", HEX32, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("instructions_consumer", sa.Text(), nullable=True),
        sa.Column("instructions_trade", sa.Text(), nullable=True),
        sa.Column("voluntary", sa.Boolean(), nullable=False),
        sa.Column("issued_at", INSTANT, nullable=False),
        sa.Column("updated_by", ADDRESS, nullable=True),
        sa.Column("updated_block", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", INSTANT, nullable=True),
        sa.Column("closed_by", ADDRESS, nullable=True),
        sa.Column("closed_reason_hash", HEX32, nullable=True),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", INSTANT, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_recall_closed_iff_closed_at"),
        ),
        sa.CheckConstraint(
            "recall_class BETWEEN 1 AND 3", name=op.f("ck_recall_recall_class_range")
        ),
        sa.PrimaryKeyConstraint("recall_id", name=op.f("pk_recall")),
    )
    op.create_index(op.f("ix_recall_issuer_address"), "recall", ["issuer_address"], unique=False)
    op.create_index(
        op.f("ix_recall_status_issued_at"), "recall", ["status", "issued_at"], unique=False
    )

    op.create_table(
        "actor_role",
        sa.Column("actor_address", ADDRESS, nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "supplier",
                "inspector",
                "carrier",
                "certifier",
                "regulator",
                "anchorer",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_address"],
            ["actor.address"],
            name=op.f("fk_actor_role_actor_address_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_address", "role", name=op.f("pk_actor_role")),
    )
    op.create_index(op.f("ix_actor_role_role"), "actor_role", ["role"], unique=False)

    op.create_table(
        "anchor_transaction",
        sa.Column("tx_hash", HEX32, nullable=False),
        sa.Column("batch_root", HEX32, nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=True),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_root"],
            ["batch.root"],
            name=op.f("fk_anchor_transaction_batch_root_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tx_hash", name=op.f("pk_anchor_transaction")),
    )
    op.create_index(
        op.f("ix_anchor_transaction_batch_root"), "anchor_transaction", ["batch_root"], unique=False
    )
    op.create_index(
        op.f("ix_anchor_transaction_nonce"), "anchor_transaction", ["nonce"], unique=False
    )

    op.create_table(
        "api_token",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor_address", ADDRESS, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=True),
        sa.Column("last_used_at", INSTANT, nullable=True),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_address"],
            ["actor.address"],
            name=op.f("fk_api_token_actor_address_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(
        op.f("ix_api_token_actor_address"), "api_token", ["actor_address"], unique=False
    )

    op.create_table(
        "document",
        sa.Column("sha256", HEX32, nullable=False),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("uploaded_by", ADDRESS, nullable=True),
        sa.Column("uploaded_at", INSTANT, nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_document_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["actor.address"], name=op.f("fk_document_uploaded_by_actor")
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_document")),
    )
    op.create_table(
        "indexed_block",
        sa.Column("cursor_name", sa.String(length=64), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", HEX32, nullable=False),
        sa.Column("parent_hash", HEX32, nullable=False),
        sa.ForeignKeyConstraint(
            ["cursor_name"],
            ["indexer_cursor.name"],
            name=op.f("fk_indexed_block_cursor_name_indexer_cursor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cursor_name", "number", name=op.f("pk_indexed_block")),
    )
    op.create_table(
        "lot",
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot_code", sa.String(length=20), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("owner_address", ADDRESS, nullable=False),
        sa.Column("details_hash", HEX32, nullable=True),
        sa.Column("head_digest", HEX32, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity_milli >= 0", name=op.f("ck_lot_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["owner_address"], ["actor.address"], name=op.f("fk_lot_owner_address_actor")
        ),
        sa.PrimaryKeyConstraint("lot_key", name=op.f("pk_lot")),
    )
    op.create_index(op.f("ix_lot_gtin_lot_code"), "lot", ["gtin", "lot_code"], unique=True)
    op.create_index(op.f("ix_lot_owner_address"), "lot", ["owner_address"], unique=False)

    op.create_table(
        "checkpoint",
        sa.Column("digest", HEX32, nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("epcis_json", sa.Text(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "produced",
                "inspected",
                "shipped",
                "received",
                "transformed",
                name="kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("biz_step", sa.String(length=200), nullable=True),
        sa.Column("disposition", sa.String(length=200), nullable=True),
        sa.Column("event_time", INSTANT, nullable=False),
        sa.Column("event_time_offset", sa.String(length=6), nullable=False),
        sa.Column("record_time", INSTANT, nullable=False),
        sa.Column("read_point", sa.String(length=200), nullable=True),
        sa.Column("biz_location", sa.String(length=200), nullable=True),
        sa.Column("location_gln", sa.String(length=13), nullable=True),
        sa.Column("source_party", sa.String(length=200), nullable=True),
        sa.Column("destination_party", sa.String(length=200), nullable=True),
        sa.Column("primary_lot_key", HEX32, nullable=False),
        sa.Column("signer_address", ADDRESS, nullable=False),
        sa.Column("signature", sa.String(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "anchored",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event_time_offset LIKE '+__:__' OR event_time_offset LIKE '-__:__'",
            name=op.f("ck_checkpoint_event_time_offset_format"),
        ),
        sa.ForeignKeyConstraint(
            ["primary_lot_key"], ["lot.lot_key"], name=op.f("fk_checkpoint_primary_lot_key_lot")
        ),
        sa.ForeignKeyConstraint(
            ["signer_address"], ["actor.address"], name=op.f("fk_checkpoint_signer_address_actor")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_checkpoint")),
        sa.UniqueConstraint("event_id", name=op.f("uq_checkpoint_event_id")),
    )
    op.create_index(op.f("ix_checkpoint_event_time"), "checkpoint", ["event_time"], unique=False)
    op.create_index(
        op.f("ix_checkpoint_location_gln"), "checkpoint", ["location_gln"], unique=False
    )
    op.create_index(
        op.f("ix_checkpoint_primary_lot_key_event_time"),
        "checkpoint",
        ["primary_lot_key", "event_time"],
        unique=False,
    )
    op.create_index(
        op.f("ix_checkpoint_signer_address"), "checkpoint", ["signer_address"], unique=False
    )
    op.create_index(op.f("ix_checkpoint_status"), "checkpoint", ["status"], unique=False)

    op.create_table(
        "lineage_edge",
        sa.Column("child_key", HEX32, nullable=False),
        sa.Column("parent_key", HEX32, nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.CheckConstraint("child_key <> parent_key", name=op.f("ck_lineage_edge_not_self")),
        sa.CheckConstraint(
            "quantity_milli >= 0", name=op.f("ck_lineage_edge_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["child_key"],
            ["lot.lot_key"],
            name=op.f("fk_lineage_edge_child_key_lot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_key"],
            ["lot.lot_key"],
            name=op.f("fk_lineage_edge_parent_key_lot"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("child_key", "parent_key", name=op.f("pk_lineage_edge")),
    )
    op.create_index(
        op.f("ix_lineage_edge_parent_key"), "lineage_edge", ["parent_key"], unique=False
    )

    op.create_table(
        "recall_lot",
        sa.Column("recall_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_key"], ["lot.lot_key"], name=op.f("fk_recall_lot_lot_key_lot")
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recall.recall_id"],
            name=op.f("fk_recall_lot_recall_id_recall"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recall_id", "lot_key", name=op.f("pk_recall_lot")),
    )
    op.create_index(op.f("ix_recall_lot_lot_key"), "recall_lot", ["lot_key"], unique=False)

    op.create_table(
        "anchor_receipt",
        sa.Column("event_digest", HEX32, nullable=False),
        sa.Column("leaf", HEX32, nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("root", HEX32, nullable=False),
        sa.Column("batch_root", HEX32, nullable=True),
        sa.Column("tx_hash", HEX32, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", HEX32, nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_root"], ["batch.root"], name=op.f("fk_anchor_receipt_batch_root_batch")
        ),
        sa.ForeignKeyConstraint(
            ["event_digest"],
            ["checkpoint.digest"],
            name=op.f("fk_anchor_receipt_event_digest_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_digest", name=op.f("pk_anchor_receipt")),
    )
    op.create_index(
        op.f("ix_anchor_receipt_batch_root"), "anchor_receipt", ["batch_root"], unique=False
    )
    op.create_index(op.f("ix_anchor_receipt_root"), "anchor_receipt", ["root"], unique=False)

    op.create_table(
        "checkpoint_document",
        sa.Column("checkpoint_digest", HEX32, nullable=False),
        sa.Column("document_sha256", HEX32, nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_digest"],
            ["checkpoint.digest"],
            name=op.f("fk_checkpoint_document_checkpoint_digest_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "checkpoint_digest", "document_sha256", name=op.f("pk_checkpoint_document")
        ),
    )
    op.create_index(
        op.f("ix_checkpoint_document_document_sha256"),
        "checkpoint_document",
        ["document_sha256"],
        unique=False,
    )

    op.create_table(
        "checkpoint_lot",
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("checkpoint_digest", HEX32, nullable=False),
        sa.Column("prev_digest", HEX32, nullable=True),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.CheckConstraint(
            "quantity_milli >= 0", name=op.f("ck_checkpoint_lot_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["checkpoint_digest"],
            ["checkpoint.digest"],
            name=op.f("fk_checkpoint_lot_checkpoint_digest_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_key", "prev_digest"],
            ["checkpoint_lot.lot_key", "checkpoint_lot.checkpoint_digest"],
            name="fk_checkpoint_lot_prev_checkpoint_lot",
        ),
        sa.ForeignKeyConstraint(
            ["lot_key"], ["lot.lot_key"], name=op.f("fk_checkpoint_lot_lot_key_lot")
        ),
        sa.PrimaryKeyConstraint("lot_key", "checkpoint_digest", name=op.f("pk_checkpoint_lot")),
        sa.UniqueConstraint(
            "lot_key", "prev_digest", name=op.f("uq_checkpoint_lot_lot_key_prev_digest")
        ),
    )
    op.create_index(
        op.f("ix_checkpoint_lot_checkpoint_digest"),
        "checkpoint_lot",
        ["checkpoint_digest"],
        unique=False,
    )
    op.create_index(
        "uq_checkpoint_lot_lot_key_first",
        "checkpoint_lot",
        ["lot_key"],
        unique=True,
        sqlite_where=sa.text("prev_digest IS NULL"),
        postgresql_where=sa.text("prev_digest IS NULL"),
    )

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_digest", HEX32, nullable=False),
        sa.Column("enqueued_at", INSTANT, nullable=False),
        sa.Column("batch_root", HEX32, nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "batched",
                "anchored",
                name="state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_root"], ["batch.root"], name=op.f("fk_outbox_batch_root_batch")
        ),
        sa.ForeignKeyConstraint(
            ["event_digest"],
            ["checkpoint.digest"],
            name=op.f("fk_outbox_event_digest_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_digest", name=op.f("uq_outbox_event_digest")),
    )
    op.create_index(op.f("ix_outbox_batch_root"), "outbox", ["batch_root"], unique=False)
    op.create_index(op.f("ix_outbox_state_id"), "outbox", ["state", "id"], unique=False)


def downgrade() -> None:
    """Downgrade schema: drop every table, dependents first."""
    op.drop_table("outbox")
    op.drop_table("checkpoint_lot")
    op.drop_table("checkpoint_document")
    op.drop_table("anchor_receipt")
    op.drop_table("recall_lot")
    op.drop_table("lineage_edge")
    op.drop_table("checkpoint")
    op.drop_table("lot")
    op.drop_table("indexed_block")
    op.drop_table("document")
    op.drop_table("api_token")
    op.drop_table("anchor_transaction")
    op.drop_table("actor_role")
    op.drop_table("recall")
    op.drop_table("indexer_cursor")
    op.drop_table("certificate")
    op.drop_table("batch")
    op.drop_table("applied_log")
    op.drop_table("actor")
