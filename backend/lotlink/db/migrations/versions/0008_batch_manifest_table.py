"""Batch manifests in a table of their own (``batch_manifest``), out of the ``batch`` row.

SQLite rewrites a whole row for any change to it: every step of a batch's life (sent, anchored,
indexed) rewrote the megabyte its manifest takes, inside the write transaction every capture
waits for. The bytes move as they are; batches without a manifest get no row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_manifest",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root"], ["batch.root"], name=op.f("fk_batch_manifest_root_batch"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_batch_manifest")),
    )
    op.execute(
        "INSERT INTO batch_manifest (root, content) "
        "SELECT root, manifest FROM batch WHERE manifest IS NOT NULL"
    )
    # In place: SQLite 3.35+ drops a column without copying the table (and its megabytes of
    # manifests) the way a batch alteration would.
    op.drop_column("batch", "manifest")


def downgrade() -> None:
    op.add_column("batch", sa.Column("manifest", sa.Text(), nullable=True))
    op.execute(
        "UPDATE batch SET manifest = "
        "(SELECT content FROM batch_manifest WHERE batch_manifest.root = batch.root)"
    )
    op.drop_table("batch_manifest")
