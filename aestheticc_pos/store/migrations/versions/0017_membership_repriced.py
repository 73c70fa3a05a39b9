"""Memberships say whether they may have been billed at another price than their own (``repriced``).

The Memberships report and today's MRR priced the repriced memberships (a tier change, a period billed at
another price) from their payments, and found them by reading every payment of the group: 1–2 s once a group
has a year of monthly payments. The write paths now keep the flag (``store/membership_repricing.py``); it is
set here from the payments by a copy of the store's ``rebuild_repriced`` as it was for these tables (migration
0020 made it set ``own_price_from`` too). The reports' covering index of the
memberships carries the flag, and the repriced ones have a small covering index of their own.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.membership_repricing import billed_at_another_price

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT = ["started_on", "ends_on", "status", "tier_name", "monthly_price_pence", "signup_fee_pence"]
# The repriced ones: few, read on their own (SQLite compares a boolean as 1).
REPRICED = {"sqlite_where": sa.text("repriced = 1"), "postgresql_where": sa.text("repriced")}


def rebuild_repriced(connection: sa.Connection) -> None:
    """Every membership's flag from its payments, as the store's ``rebuild_repriced`` worked it out for these
    tables (migration 0020 added ``own_price_from``, which it now sets too)."""
    m = sa.table(
        "memberships",
        *(sa.column(n) for n in ("id", "monthly_price_pence", "signup_fee_pence", "started_on", "repriced")),
    )
    p = sa.table(
        "membership_payments",
        *(sa.column(n) for n in ("membership_id", "amount_pence", "status", "period_start")),
    )
    billed = sa.exists().where(p.c.membership_id == m.c.id, billed_at_another_price(p.c, m.c))
    connection.execute(sa.update(m).values(repriced=sa.case((billed, sa.true()), else_=sa.false())))


def upgrade() -> None:
    op.add_column(
        "memberships", sa.Column("repriced", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    bind = op.get_bind()
    rebuild_repriced(bind)
    op.drop_index("ix_memberships_report", table_name="memberships")
    op.create_index("ix_memberships_report", "memberships", [*REPORT, "repriced", "id"])
    op.create_index("ix_memberships_repriced", "memberships", [*REPORT, "id"], **REPRICED)
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("ANALYZE memberships")


def downgrade() -> None:
    op.drop_index("ix_memberships_repriced", table_name="memberships")
    op.drop_index("ix_memberships_report", table_name="memberships")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("repriced")
    op.create_index("ix_memberships_report", "memberships", [*REPORT, "id"])
