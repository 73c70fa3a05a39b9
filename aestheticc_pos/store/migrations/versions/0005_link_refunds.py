"""A payment link paid for an invoice that was settled meanwhile is refunded: its refund and two statuses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "'preparing', 'open', 'authorised', 'paid', 'cancelled', 'expired', 'failed'"
_NEW = _OLD + ", 'refund_pending', 'refunded'"


def _statuses(allowed: str) -> None:
    with op.batch_alter_table("payment_links") as batch:
        batch.drop_constraint(op.f("ck_payment_links_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_payment_links_status_valid"), f"status IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("payment_links") as batch:
        batch.add_column(sa.Column("gc_refund_id", sa.String(length=40), nullable=True))
    _statuses(_NEW)


def downgrade() -> None:
    op.execute("UPDATE payment_links SET status = 'paid' WHERE status IN ('refund_pending', 'refunded')")
    _statuses(_OLD)
    with op.batch_alter_table("payment_links") as batch:
        batch.drop_column("gc_refund_id")
