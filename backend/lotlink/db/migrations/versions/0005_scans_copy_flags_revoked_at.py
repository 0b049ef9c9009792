"""Scans of serialised codes (time and a coarse place only), the serials flagged as copies, and
the time of a certificate's revocation.

``certificate.revoked_at`` stays NULL for revocations indexed before this revision; a
reindex fills it from the revoking blocks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX32 = sa.String(length=66)
INSTANT = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RULES = ("impossible_travel", "scan_rate", "not_commissioned")


def upgrade() -> None:
    op.create_table(
        "serial_scan",
        sa.Column("id", ID, nullable=False),
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("scanned_at", INSTANT, nullable=False),
        sa.Column("lat_tenths", sa.SmallInteger(), nullable=True),
        sa.Column("lon_tenths", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "lat_tenths BETWEEN -900 AND 900", name=op.f("ck_serial_scan_lat_range")
        ),
        sa.CheckConstraint(
            "lon_tenths BETWEEN -1800 AND 1800", name=op.f("ck_serial_scan_lon_range")
        ),
        sa.CheckConstraint(
            "(lat_tenths IS NULL) = (lon_tenths IS NULL)", name=op.f("ck_serial_scan_place_whole")
        ),
        sa.ForeignKeyConstraint(
            ["lot_key"], ["lot.lot_key"], name=op.f("fk_serial_scan_lot_key_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_scan")),
    )
    op.create_index(
        op.f("ix_serial_scan_lot_key_serial_scanned_at"),
        "serial_scan",
        ["lot_key", "serial", "scanned_at"],
        unique=False,
    )
    op.create_table(
        "copy_flag",
        sa.Column("id", ID, nullable=False),
        sa.Column("lot_key", HEX32, nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(*RULES, name="rule", native_enum=False, create_constraint=True, length=17),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detected_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_key"], ["lot.lot_key"], name=op.f("fk_copy_flag_lot_key_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_flag")),
        sa.UniqueConstraint(
            "lot_key", "serial", "rule", name=op.f("uq_copy_flag_lot_key_serial_rule")
        ),
    )
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("revoked_at", INSTANT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("revoked_at")
    op.drop_table("copy_flag")
    op.drop_index(op.f("ix_serial_scan_lot_key_serial_scanned_at"), table_name="serial_scan")
    op.drop_table("serial_scan")
