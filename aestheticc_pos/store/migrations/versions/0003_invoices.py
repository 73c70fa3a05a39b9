"""Invoices: drafts without a number or dates, who made them, their payment terms, the sale that paid them,
why one was voided, and the price override kept on a line.

No earlier version of the app wrote invoices, so the new columns that every invoice has are added NOT NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("number", existing_type=sa.String(length=32), nullable=True)
        batch.alter_column("issued_on", existing_type=sa.Date(), nullable=True)
        batch.alter_column("due_on", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("staff_id", sa.String(length=36), nullable=False))
        batch.add_column(sa.Column("payment_terms_days", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("priced_on", sa.Date(), nullable=False))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False))
        batch.add_column(sa.Column("sale_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch.create_foreign_key(op.f("fk_invoices_staff_id_staff"), "staff", ["staff_id"], ["id"])
        batch.create_foreign_key(op.f("fk_invoices_sale_id_sales"), "sales", ["sale_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_invoices_sale_id"), ["sale_id"])
        batch.create_check_constraint(
            op.f("ck_invoices_status_valid"), "status IN ('draft', 'issued', 'paid', 'void')"
        )
        batch.create_check_constraint(
            op.f("ck_invoices_issued_has_number_and_dates"),
            "status = 'draft' OR (number IS NOT NULL AND issued_on IS NOT NULL AND due_on IS NOT NULL)",
        )
        batch.create_check_constraint(
            op.f("ck_invoices_payment_terms_days_not_negative"), "payment_terms_days >= 0"
        )
    with op.batch_alter_table("invoice_lines") as batch:
        batch.add_column(sa.Column("override_price_pence", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("override_staff_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_invoice_lines_override_staff_id_staff"), "staff", ["override_staff_id"], ["id"]
        )


def downgrade() -> None:
    # The numberless drafts cannot exist in the older schema.
    op.execute(
        "DELETE FROM invoice_lines WHERE invoice_id IN (SELECT id FROM invoices WHERE status = 'draft')"
    )
    op.execute("DELETE FROM invoices WHERE status = 'draft'")
    with op.batch_alter_table("invoice_lines") as batch:
        batch.drop_constraint(op.f("fk_invoice_lines_override_staff_id_staff"), type_="foreignkey")
        batch.drop_column("override_staff_id")
        batch.drop_column("override_reason")
        batch.drop_column("override_price_pence")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint(op.f("ck_invoices_payment_terms_days_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_invoices_issued_has_number_and_dates"), type_="check")
        batch.drop_constraint(op.f("ck_invoices_status_valid"), type_="check")
        batch.drop_constraint(op.f("uq_invoices_sale_id"), type_="unique")
        batch.drop_constraint(op.f("fk_invoices_sale_id_sales"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_invoices_staff_id_staff"), type_="foreignkey")
        batch.drop_column("void_reason")
        batch.drop_column("sale_id")
        batch.drop_column("updated_at")
        batch.drop_column("priced_on")
        batch.drop_column("payment_terms_days")
        batch.drop_column("staff_id")
        batch.alter_column("due_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column("issued_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column("number", existing_type=sa.String(length=32), nullable=False)
