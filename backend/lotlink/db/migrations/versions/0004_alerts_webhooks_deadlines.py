"""Alerts (complaint rules first; other quality rules share the table), webhook endpoints and
their delivery outbox, and response deadlines on problem reports with the suppliers' answers.

Existing reports get deadlines from their arrival with the default hours (12 to a first
response, 48 to a resolution), as the service would have set them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX32 = sa.String(length=66)
ADDRESS = sa.String(length=42)
INSTANT = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("lot_key", HEX32, nullable=True),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("supplier_address", ADDRESS, nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("statistic", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            _enum("open", "acknowledged", "escalated", "closed", name="state"),
            nullable=False,
        ),
        sa.Column("opened_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("acknowledged_at", INSTANT, nullable=True),
        sa.Column("acknowledged_by", ADDRESS, nullable=True),
        sa.Column("escalated_at", INSTANT, nullable=True),
        sa.Column("escalated_by", ADDRESS, nullable=True),
        sa.Column("recall_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", INSTANT, nullable=True),
        sa.Column("closed_by", ADDRESS, nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL)", name=op.f("ck_alert_closed_iff_time")
        ),
        sa.CheckConstraint(
            "state <> 'escalated' OR escalated_at IS NOT NULL",
            name=op.f("ck_alert_escalated_has_time"),
        ),
        sa.ForeignKeyConstraint(["lot_key"], ["lot.lot_key"], name=op.f("fk_alert_lot_key_lot")),
        sa.ForeignKeyConstraint(
            ["supplier_address"], ["actor.address"], name=op.f("fk_alert_supplier_address_actor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index(op.f("ix_alert_lot_key"), "alert", ["lot_key"], unique=False)
    op.create_index(op.f("ix_alert_state_opened_at"), "alert", ["state", "opened_at"], unique=False)
    op.create_index(op.f("ix_alert_supplier_address"), "alert", ["supplier_address"], unique=False)
    op.create_index(
        "uq_alert_fingerprint_not_closed",
        "alert",
        ["fingerprint"],
        unique=True,
        sqlite_where=sa.text("state <> 'closed'"),
        postgresql_where=sa.text("state <> 'closed'"),
    )

    op.create_table(
        "webhook_endpoint",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_address", ADDRESS, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("disabled_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_address"],
            ["actor.address"],
            name=op.f("fk_webhook_endpoint_actor_address_actor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(
        op.f("ix_webhook_endpoint_actor_address_url"),
        "webhook_endpoint",
        ["actor_address", "url"],
        unique=True,
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("endpoint_id", ID, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", _enum("pending", "delivered", "failed", name="state"), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("next_attempt_at", INSTANT, nullable=False),
        sa.Column("last_attempt_at", INSTANT, nullable=True),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", INSTANT, nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(
        op.f("ix_webhook_delivery_endpoint_id_message_id"),
        "webhook_delivery",
        ["endpoint_id", "message_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_webhook_delivery_state_next_attempt_at"),
        "webhook_delivery",
        ["state", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "report_response",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("kind", _enum("response", "resolution", name="kind"), nullable=False),
        sa.Column("actor_address", ADDRESS, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_address"],
            ["actor.address"],
            name=op.f("fk_report_response_actor_address_actor"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["problem_report.id"],
            name=op.f("fk_report_response_report_id_problem_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_response")),
    )
    op.create_index(
        op.f("ix_report_response_report_id_created_at"),
        "report_response",
        ["report_id", "created_at"],
        unique=False,
    )

    with op.batch_alter_table("problem_report") as batch:
        batch.add_column(sa.Column("received_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("received_offset", sa.String(length=6), nullable=True))
        batch.add_column(sa.Column("submitted_by", ADDRESS, nullable=True))
        batch.add_column(sa.Column("first_response_due_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("resolution_due_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("first_response_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("resolved_at", INSTANT, nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite keeps instants as UTC text without an offset (see models.types.UtcDateTime).
        def later(hours: int) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%f', created_at, '+{hours} hours')"
    else:

        def later(hours: int) -> str:
            return f"created_at + interval '{hours} hours'"

    op.execute(
        "UPDATE problem_report SET received_at = created_at,"
        f" first_response_due_at = {later(12)}, resolution_due_at = {later(48)}"
    )
    with op.batch_alter_table("problem_report") as batch:
        batch.alter_column("received_at", existing_type=INSTANT, nullable=False)
        batch.alter_column("first_response_due_at", existing_type=INSTANT, nullable=False)
        batch.alter_column("resolution_due_at", existing_type=INSTANT, nullable=False)
        batch.create_foreign_key(
            op.f("fk_problem_report_submitted_by_actor"), "actor", ["submitted_by"], ["address"]
        )
        batch.create_index(
            op.f("ix_problem_report_resolved_at_resolution_due_at"),
            ["resolved_at", "resolution_due_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("problem_report") as batch:
        batch.drop_index(op.f("ix_problem_report_resolved_at_resolution_due_at"))
        batch.drop_constraint(op.f("fk_problem_report_submitted_by_actor"), type_="foreignkey")
        for column in (
            "resolved_at",
            "first_response_at",
            "resolution_due_at",
            "first_response_due_at",
            "submitted_by",
            "received_offset",
            "received_at",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_report_response_report_id_created_at"), table_name="report_response")
    op.drop_table("report_response")
    op.drop_index(op.f("ix_webhook_delivery_state_next_attempt_at"), table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_endpoint_id_message_id"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_webhook_endpoint_actor_address_url"), table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")
    op.drop_index("uq_alert_fingerprint_not_closed", table_name="alert")
    op.drop_index(op.f("ix_alert_supplier_address"), table_name="alert")
    op.drop_index(op.f("ix_alert_state_opened_at"), table_name="alert")
    op.drop_index(op.f("ix_alert_lot_key"), table_name="alert")
    op.drop_table("alert")
