"""Staff kept by a manager: a PIN reset waiting for the person's new PIN, and when a leaver left.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("pin_reset", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("left_at")
        batch.drop_column("pin_reset")
