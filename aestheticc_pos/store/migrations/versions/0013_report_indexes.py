"""Covering indexes for the owner's reports: each report's aggregates read indexes only, never the tables.

- sales by when (the takings of a range, its refunds and their reasons), with the id to reach the lines and
  tenders; a sale's lines and tenders by sale with the figures a split sums; an appointment's practitioner
  by its id (a line's practitioner);
- client packages by id with what a session is worth (price, VAT, expiry, purchase): read in id order beside
  the steps' counters, which are in the same order, so a package and its steps are read together; by
  purchase day (sold) and by expiry day (sessions about to expire);
- the session ledger by client package and kind (redeemed, refunded and adjusted sessions; days between steps);
- memberships by start with their tier, price and status (members and MRR on a day); their payments by
  membership and period (the price billed) and by charge day (collections, payments coming in).

SQLite chooses an index from the statistics ``ANALYZE`` keeps, so the tables are analysed once the indexes
exist (without statistics it prefers a table's unique index to a covering one); PostgreSQL's autovacuum does
the same on its own.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_sales_report": (
        "sales",
        ["created_at", "kind", "net_pence", "id", "staff_id", "refers_to_sale_id", "reason"],
    ),
    "ix_sale_lines_report": (
        "sale_lines",
        [
            "sale_id",
            "kind",
            "net_pence",
            "discount_pence",
            "position",
            "refunds_position",
            "appointment_id",
            "discount_reason",
        ],
    ),
    "ix_tenders_report": ("tenders", ["sale_id", "kind", "amount_pence"]),
    "ix_appointments_report": ("appointments", ["id", "practitioner_id"]),
    "ix_client_packages_report": (
        "client_packages",
        ["id", "expires_on", "purchased_on", "package_id", "price_pence", "vat_rate_bp"],
    ),
    "ix_client_packages_report_sold": ("client_packages", ["purchased_on", "price_pence"]),
    "ix_client_packages_report_expiry": (
        "client_packages",
        ["expires_on", "id", "package_id", "price_pence", "vat_rate_bp", "purchased_on"],
    ),
    "ix_client_package_steps_report": (
        "client_package_steps",
        ["client_package_id", "sessions", "adjusted", "redeemed", "reserved", "refunded"],
    ),
    "ix_session_ledger_report": (
        "session_ledger",
        ["client_package_id", "kind", "step_position", "session_on", "sessions", "created_at"],
    ),
    "ix_memberships_report": (
        "memberships",
        ["started_on", "ends_on", "status", "tier_name", "monthly_price_pence", "signup_fee_pence", "id"],
    ),
    "ix_membership_payments_report_period": (
        "membership_payments",
        ["membership_id", "period_start", "status", "amount_pence"],
    ),
    "ix_membership_payments_report_charge": (
        "membership_payments",
        ["charge_date", "source", "status", "amount_pence"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in sorted({table for table, _ in INDEXES.values()}):
            bind.exec_driver_sql(f"ANALYZE {table}")


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
