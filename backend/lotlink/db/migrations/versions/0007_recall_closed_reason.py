"""The words a recall was closed with, off chain beside the hash the chain keeps
(``recall.closed_reason``), as ``recall.reason`` is for the recall's own wording.

Recalls closed before this revision keep only ``closed_reason_hash``: the words never reached
this service's database, and the chain holds only their hash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recall") as batch:
        batch.add_column(sa.Column("closed_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recall") as batch:
        batch.drop_column("closed_reason")
