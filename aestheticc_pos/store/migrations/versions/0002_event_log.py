"""The Sync screen: keep what applying each GoCardless event did (its log of recent events), and let a manager
discard work GoCardless refused (outbox status "discarded").

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:59:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_OLD_STATUSES = "'pending', 'in_flight', 'done', 'waiting_for_prerequisite', 'failed'"
_NEW_STATUSES = _OLD_STATUSES + ", 'discarded'"


def _outbox_statuses(allowed: str) -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_status_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_status_valid"), f"status IN ({allowed})")


def upgrade() -> None:
    _outbox_statuses(_NEW_STATUSES)
    with op.batch_alter_table("processed_events") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=False, server_default="applied"))
        batch.add_column(sa.Column("membership_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("processed_events") as batch:
        batch.alter_column("outcome", server_default=None)


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'discarded'")
    _outbox_statuses(_OLD_STATUSES)
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_column("note")
        batch.drop_column("membership_id")
        batch.drop_column("outcome")
