"""The memberships counted by the days they run (``membership_spans``, kept by triggers); a repriced membership
says from which day it is billed at its own price again (``own_price_from``); the payments owed have a small
index of their own.

The Memberships report read every membership of the group (100,000 in a million-client group) to count them by
tier and sum their prices day by day, and priced every repriced one (a tier changed, once, in its life: 4,800)
from its payments on each of its 13 days, most for tier changes years before the range. It now sums the
summary (``store/membership_spans.py``), and a repriced membership counts with those at their own price from
``own_price_from`` on (``store/membership_repricing.py``; set here by its ``rebuild_repriced``). What the
members in arrears owe is summed from the payments failed or charged back (``ix_membership_payments_owed``),
not every payment of theirs.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.membership_repricing import rebuild_repriced
from aestheticc_pos.store.membership_spans import (
    create_membership_spans_triggers,
    drop_membership_spans_triggers,
    rebuild_membership_spans,
)
from aestheticc_pos.store.payment_days import create_payment_days_triggers, drop_payment_days_triggers

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT = ["started_on", "ends_on", "status", "tier_name", "monthly_price_pence", "signup_fee_pence"]
REPRICED = {"sqlite_where": sa.text("repriced = 1"), "postgresql_where": sa.text("repriced")}
OWED = "status IN ('failed', 'charged_back')"


def upgrade() -> None:
    op.add_column("memberships", sa.Column("own_price_from", sa.Date(), nullable=True))
    bind = op.get_bind()
    rebuild_repriced(bind)
    op.drop_index("ix_memberships_repriced", table_name="memberships")
    op.drop_index("ix_memberships_report", table_name="memberships")
    op.create_index("ix_memberships_report", "memberships", [*REPORT, "repriced", "own_price_from", "id"])
    op.create_index("ix_memberships_repriced", "memberships", [*REPORT, "own_price_from", "id"], **REPRICED)
    op.create_index(
        "ix_membership_payments_owed",
        "membership_payments",
        ["membership_id", "period_start", "amount_pence"],
        sqlite_where=sa.text(OWED),
        postgresql_where=sa.text(OWED),
    )
    op.create_table(
        "membership_spans",
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tier_name", sa.String(length=120), nullable=False),
        sa.Column("repriced", sa.Boolean(), nullable=False),
        sa.Column("own_price_from", sa.Date(), nullable=False),
        sa.Column("writer", sa.String(length=40), server_default=sa.text("''"), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "started_on",
            "ends_on",
            "status",
            "tier_name",
            "repriced",
            "own_price_from",
            "writer",
            name=op.f("pk_membership_spans"),
        ),
    )
    rebuild_membership_spans(bind)
    create_membership_spans_triggers(bind)
    if bind.dialect.name == "sqlite":
        for table in ("memberships", "membership_payments", "membership_spans"):
            bind.exec_driver_sql(f"ANALYZE {table}")


def downgrade() -> None:
    bind = op.get_bind()
    drop_membership_spans_triggers(bind)
    op.drop_table("membership_spans")
    op.drop_index("ix_membership_payments_owed", table_name="membership_payments")
    op.drop_index("ix_memberships_repriced", table_name="memberships")
    op.drop_index("ix_memberships_report", table_name="memberships")
    # SQLite copies the table to drop a column, and the payments' triggers name it: they step aside meanwhile
    drop_payment_days_triggers(bind)
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("own_price_from")
    create_payment_days_triggers(bind)
    op.create_index("ix_memberships_report", "memberships", [*REPORT, "repriced", "id"])
    op.create_index("ix_memberships_repriced", "memberships", [*REPORT, "id"], **REPRICED)
