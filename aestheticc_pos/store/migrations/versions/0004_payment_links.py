"""Payment links for baskets, invoices, booking deposits and the booking portal's packages.

Links gain their purpose, who sent them, the GoCardless ids of their flow, payment and payer, and when they
were paid or closed; deposits point at their link and record a refund or the sale that credited them;
``package_links`` keeps each package's public "Buy" link (a billing request template). No earlier version
wrote payment links or deposits, so the columns every one has are added NOT NULL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:06:13.097452
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_DEPOSIT_STATUSES = "'requested', 'paid', 'credited', 'refund_pending', 'refunded', 'kept', 'cancelled'"
_LINK_STATUSES = "'preparing', 'open', 'authorised', 'paid', 'cancelled', 'expired', 'failed'"
_LINK_PURPOSES = "'basket', 'invoice', 'deposit', 'portal'"


def upgrade() -> None:
    op.create_table(
        "package_links",
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("gc_template_id", sa.String(length=40), nullable=True),
        sa.Column("authorisation_url", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_package_links_package_id_packages")
        ),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_package_links")),
        sa.UniqueConstraint("gc_template_id", name=op.f("uq_package_links_gc_template_id")),
    )
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_link_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("gc_refund_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("credited_sale_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_deposits_payment_link_id"), ["payment_link_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deposits_credited_sale_id_sales"), "sales", ["credited_sale_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deposits_payment_link_id_payment_links"),
            "payment_links",
            ["payment_link_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_deposits_status_valid"), f"status IN ({_DEPOSIT_STATUSES})"
        )

    with op.batch_alter_table("payment_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=20), nullable=False))
        batch_op.add_column(sa.Column("package_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("staff_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("replaces_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("description", sa.String(length=200), nullable=False))
        batch_op.add_column(sa.Column("buyer_name", sa.String(length=170), nullable=True))
        batch_op.add_column(sa.Column("buyer_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("gc_flow_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("gc_payment_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("gc_customer_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_payment_links_status"), ["status"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_payment_links_gc_payment_id"), ["gc_payment_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_links_package_id_packages"), "packages", ["package_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_links_replaces_id_payment_links"), "payment_links", ["replaces_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_links_staff_id_staff"), "staff", ["staff_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_links_status_valid"), f"status IN ({_LINK_STATUSES})"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_links_purpose_valid"), f"purpose IN ({_LINK_PURPOSES})"
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_links", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_links_purpose_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_payment_links_status_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_payment_links_staff_id_staff"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_payment_links_replaces_id_payment_links"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_payment_links_package_id_packages"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_payment_links_gc_payment_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_payment_links_status"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("paid_at")
        batch_op.drop_column("gc_customer_id")
        batch_op.drop_column("gc_payment_id")
        batch_op.drop_column("gc_flow_id")
        batch_op.drop_column("buyer_email")
        batch_op.drop_column("buyer_name")
        batch_op.drop_column("description")
        batch_op.drop_column("replaces_id")
        batch_op.drop_column("staff_id")
        batch_op.drop_column("package_id")
        batch_op.drop_column("purpose")

    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_deposits_status_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_deposits_payment_link_id_payment_links"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_deposits_credited_sale_id_sales"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deposits_payment_link_id"))
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("credited_sale_id")
        batch_op.drop_column("gc_refund_id")
        batch_op.drop_column("payment_link_id")

    op.drop_table("package_links")
