"""Problem reports from consumers' scan pages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX32 = sa.String(length=66)
INSTANT = sa.DateTime(timezone=True)
CATEGORIES = ("quality_defect", "illness_or_injury", "damaged", "suspected_counterfeit", "other")


def upgrade() -> None:
    op.create_table(
        "problem_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=True),
        sa.Column(
            "category",
            sa.Enum(*CATEGORIES, name="category", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("photo_sha256", HEX32, nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_key"], ["lot.lot_key"], name=op.f("fk_problem_report_lot_key_lot")
        ),
        sa.ForeignKeyConstraint(
            ["photo_sha256"],
            ["document.sha256"],
            name=op.f("fk_problem_report_photo_sha256_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_report")),
        sa.UniqueConstraint("reference", name=op.f("uq_problem_report_reference")),
    )
    op.create_index(
        op.f("ix_problem_report_lot_key_created_at"),
        "problem_report",
        ["lot_key", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_problem_report_lot_key_created_at"), table_name="problem_report")
    op.drop_table("problem_report")
