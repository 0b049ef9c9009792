"""Anchoring durability: each batch keeps its manifest bytes, each anchor transaction its signed
raw form and gas limit, so a restarted anchorer can serve, rebroadcast or replace exactly what
it sent before a crash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch") as batch:
        batch.add_column(sa.Column("manifest", sa.Text(), nullable=True))
    with op.batch_alter_table("anchor_transaction") as batch:
        batch.add_column(sa.Column("raw_transaction", sa.Text(), nullable=True))
        batch.add_column(sa.Column("gas_limit", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("anchor_transaction") as batch:
        batch.drop_column("gas_limit")
        batch.drop_column("raw_transaction")
    with op.batch_alter_table("batch") as batch:
        batch.drop_column("manifest")
