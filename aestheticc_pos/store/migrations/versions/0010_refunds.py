"""Refunds and voids: why a document gives money back, and which sold line each refund line gives back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sales") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("sale_lines") as batch:
        batch.add_column(sa.Column("refunds_position", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sale_lines") as batch:
        batch.drop_column("refunds_position")
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("reason")
