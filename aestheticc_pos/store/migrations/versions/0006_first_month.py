"""Every month billed, the first included: a tier's sign-up fee, and the sale that paid a membership's first month.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_SOURCES = "'direct_debit', 'desk'"
_NEW_SOURCES = _OLD_SOURCES + ", 'sale'"


def _fee() -> sa.Column[int]:
    return sa.Column("signup_fee_pence", sa.BigInteger(), nullable=False, server_default=sa.text("0"))


def _sources(allowed: str) -> None:
    with op.batch_alter_table("membership_payments") as batch:
        batch.drop_constraint(op.f("ck_membership_payments_source_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_membership_payments_source_valid"), f"source IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("tiers") as batch:
        batch.add_column(_fee())
        batch.create_check_constraint(op.f("ck_tiers_signup_fee_not_negative"), "signup_fee_pence >= 0")
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(_fee())
    with op.batch_alter_table("membership_payments") as batch:
        batch.add_column(sa.Column("sale_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(op.f("fk_membership_payments_sale_id_sales"), "sales", ["sale_id"], ["id"])
    _sources(_NEW_SOURCES)


def downgrade() -> None:
    op.execute("UPDATE membership_payments SET source = 'desk' WHERE source = 'sale'")
    _sources(_OLD_SOURCES)
    with op.batch_alter_table("membership_payments") as batch:
        batch.drop_constraint(op.f("fk_membership_payments_sale_id_sales"), type_="foreignkey")
        batch.drop_column("sale_id")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("signup_fee_pence")
    with op.batch_alter_table("tiers") as batch:
        batch.drop_constraint(op.f("ck_tiers_signup_fee_not_negative"), type_="check")
        batch.drop_column("signup_fee_pence")
