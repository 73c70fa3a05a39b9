"""The membership payments summed per charge day (``membership_payment_days``), kept by triggers.

A year of a million-client group's membership payments is 1.2 million rows: the Takings report's tier split
read them all (1.8 s for 12 months), the Memberships report's collection too (0.7 s). Both now sum the summary
(``store/payment_days.py``), a few rows a day. Each payment also keeps the tier it paid for
(``membership_payments.tier_name``); the payments already written take their membership's tier now (a tier
changed before this migration counts its earlier payments under the new tier). The two indexes of the payments
by charge date served only those sums and go.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.payment_days import (
    create_payment_days_triggers,
    drop_payment_days_triggers,
    rebuild_payment_days,
)

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("membership_payments", sa.Column("tier_name", sa.String(length=120), nullable=True))
    op.create_table(
        "membership_payment_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("tier_name", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("writer", sa.String(length=40), server_default=sa.text("''"), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "source",
            "status",
            "tier_name",
            "currency",
            "writer",
            name=op.f("pk_membership_payment_days"),
        ),
    )
    bind = op.get_bind()
    bind.exec_driver_sql(
        "UPDATE membership_payments SET tier_name = "
        "(SELECT m.tier_name FROM memberships m WHERE m.id = membership_payments.membership_id)"
    )
    op.drop_index("ix_membership_payments_paid", table_name="membership_payments")
    op.drop_index("ix_membership_payments_report_charge", table_name="membership_payments")
    rebuild_payment_days(bind)
    create_payment_days_triggers(bind)
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("ANALYZE membership_payment_days")


def downgrade() -> None:
    bind = op.get_bind()
    drop_payment_days_triggers(bind)
    op.create_index(
        "ix_membership_payments_report_charge",
        "membership_payments",
        ["charge_date", "source", "status", "amount_pence"],
    )
    op.create_index(
        "ix_membership_payments_paid",
        "membership_payments",
        ["charge_date", "status", "membership_id", "amount_pence"],
    )
    op.drop_table("membership_payment_days")
    with op.batch_alter_table("membership_payments") as batch:
        batch.drop_column("tier_name")
