"""Idempotency keys of plain checkpoints (``idempotency_key``): per actor, the key, the request's
fingerprint and the checkpoint it produced, so that a retry after another writer moved the lot's
head is answered with the first event rather than chained as a second one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("actor_address", sa.String(length=42), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=66), nullable=False),
        sa.Column("checkpoint_digest", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_address"],
            ["actor.address"],
            name=op.f("fk_idempotency_key_actor_address_actor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checkpoint_digest"],
            ["checkpoint.digest"],
            name=op.f("fk_idempotency_key_checkpoint_digest_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_address", "key", name=op.f("pk_idempotency_key")),
    )
    op.create_index(
        op.f("ix_idempotency_key_created_at"), "idempotency_key", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_key_created_at"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
