"""A till's day closed with its Z report.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "day_closures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("till_prefix", sa.String(length=8), nullable=False),
        sa.Column("z_number", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("opening_float_pence", sa.BigInteger(), nullable=False),
        sa.Column("counted_pence", sa.BigInteger(), nullable=False),
        sa.Column("expected_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_day_closures_staff_id_staff")),
        sa.PrimaryKeyConstraint("day", "till_prefix", name=op.f("pk_day_closures")),
        sa.UniqueConstraint("till_prefix", "z_number", name=op.f("uq_day_closures_till_prefix_z_number")),
    )


def downgrade() -> None:
    op.drop_table("day_closures")
