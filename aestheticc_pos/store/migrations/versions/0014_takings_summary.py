"""The takings summed per clinic day (``store/takings_summary.py``), filled from the documents already written.

Three tables keyed by clinic day and document kind: the documents by refund reason, the lines by item kind,
practitioner and discount group, the tenders by kind. The backfill sums every sale, refund and void on the day
it was written in the clinic's time zone (the ``time_zone`` setting, Europe/London when unset): ``INSERT …
SELECT … GROUP BY`` over runs of days with the same UTC offset, and each day the clocks change on its own.

The backfill is the store's ``rebuild_takings``, for these tables as this migration makes them (``writers=False``:
migration 0016 adds the rows' writer); a later migration that changes them otherwise freezes a copy of it here.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.takings_summary import rebuild_takings

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TIME_ZONE = "Europe/London"


def _totals() -> list[sa.Column]:
    return [
        sa.Column("gross_pence", sa.BigInteger(), nullable=False),
        sa.Column("discount_pence", sa.BigInteger(), nullable=False),
        sa.Column("net_pence", sa.BigInteger(), nullable=False),
        sa.Column("vat_pence", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "takings_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("document_kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        *_totals(),
        sa.PrimaryKeyConstraint("day", "document_kind", "reason", "currency", name=op.f("pk_takings_days")),
    )
    op.create_table(
        "takings_line_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("document_kind", sa.String(length=10), nullable=False),
        sa.Column("line_kind", sa.String(length=20), nullable=False),
        sa.Column("practitioner_id", sa.String(length=36), nullable=False),
        sa.Column("discount_group", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        *_totals(),
        sa.PrimaryKeyConstraint(
            "day",
            "document_kind",
            "line_kind",
            "practitioner_id",
            "discount_group",
            "currency",
            name=op.f("pk_takings_line_days"),
        ),
    )
    op.create_table(
        "tender_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("document_kind", sa.String(length=10), nullable=False),
        sa.Column("tender_kind", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tenders", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "document_kind", "tender_kind", "currency", name=op.f("pk_tender_days")
        ),
    )
    bind = op.get_bind()
    time_zone = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'time_zone'")).scalar()
    rebuild_takings(bind, time_zone or DEFAULT_TIME_ZONE, writers=False)
    if bind.dialect.name == "sqlite":
        for table in ("takings_days", "takings_line_days", "tender_days"):
            bind.exec_driver_sql(f"ANALYZE {table}")


def downgrade() -> None:
    op.drop_table("tender_days")
    op.drop_table("takings_line_days")
    op.drop_table("takings_days")
