"""Batch manifests as the indexer resolves them: a final ``invalid`` status (the anchored bytes
fail their checks), the reason a manifest is not verified, and its retry schedule.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("pending", "verified", "unavailable", "mismatch")
NEW = (*OLD, "invalid")


def _check(values: tuple[str, ...]) -> str:
    return "manifest_status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.drop_constraint(op.f("ck_batch_manifest_status"), type_="check")
        batch.create_check_constraint(op.f("ck_batch_manifest_status"), _check(NEW))
        batch.add_column(sa.Column("manifest_error", sa.String(length=1000), nullable=True))
        batch.add_column(
            sa.Column("manifest_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("manifest_retry_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_batch_manifest_status_manifest_retry_at",
            ["manifest_status", "manifest_retry_at"],
            unique=False,
        )
    with op.batch_alter_table("batch") as batch:
        batch.alter_column("manifest_attempts", server_default=None)


def downgrade() -> None:
    op.execute("UPDATE batch SET manifest_status = 'mismatch' WHERE manifest_status = 'invalid'")
    with op.batch_alter_table("batch") as batch:
        batch.drop_index("ix_batch_manifest_status_manifest_retry_at")
        batch.drop_column("manifest_retry_at")
        batch.drop_column("manifest_attempts")
        batch.drop_column("manifest_error")
        batch.drop_constraint(op.f("ck_batch_manifest_status"), type_="check")
        batch.create_check_constraint(op.f("ck_batch_manifest_status"), _check(OLD))
