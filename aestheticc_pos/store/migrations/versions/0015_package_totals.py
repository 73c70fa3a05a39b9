"""What the package reports read without joining: a client package's session counters summed over its steps, a
step's package and days from the step before, a ledger entry's package price and sessions sold.

The liability, the redemption figures and the days between steps joined 100,000 client packages to their steps
and their ledger on UUID keys (a second and more on a group). Now the write paths keep these copies in the same
transaction as the counters they follow (``UnitOfWork._change``, ``package_repo.add_ledger_entry``,
``services.packages.record_ledger_entry``), and each report reads one covering index. The 0013 indexes these
replace are dropped. The backfill is the store's ``rebuild_package_totals``, written for these tables as this
migration makes them: a later migration that changes them freezes a copy of it here.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.package_repo import rebuild_package_totals

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOTALS = ("sold", "adjusted", "redeemed", "reserved", "refunded")
PACKAGE_TOTALS = ["package_id", "price_pence", "vat_rate_bp", *(f"sessions_{n}" for n in TOTALS)]
REPLACED = {  # migration 0013's, read by nothing now
    "ix_client_packages_report": (
        "client_packages",
        ["id", "expires_on", "purchased_on", "package_id", "price_pence", "vat_rate_bp"],
    ),
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
}
GAPS_ONLY = sa.text("days_after_previous IS NOT NULL")


def _zero() -> sa.TextClause:
    return sa.text("0")


def upgrade() -> None:
    for name, (table, _) in REPLACED.items():
        op.drop_index(name, table_name=table)
    for n in TOTALS:
        op.add_column(
            "client_packages",
            sa.Column(f"sessions_{n}", sa.Integer(), nullable=False, server_default=_zero()),
        )
    op.add_column(
        "client_package_steps",
        sa.Column("package_id", sa.String(length=36), nullable=False, server_default=sa.text("''")),
    )
    op.add_column("client_package_steps", sa.Column("days_after_previous", sa.Integer(), nullable=True))
    op.add_column(
        "session_ledger",
        sa.Column("package_price_pence", sa.BigInteger(), nullable=False, server_default=_zero()),
    )
    op.add_column(
        "session_ledger", sa.Column("package_sessions", sa.Integer(), nullable=False, server_default=_zero())
    )
    bind = op.get_bind()
    rebuild_package_totals(bind)
    op.create_index("ix_client_packages_liability", "client_packages", ["expires_on", *PACKAGE_TOTALS])
    op.create_index(
        "ix_client_packages_by_package", "client_packages", ["package_id", "expires_on", *PACKAGE_TOTALS[1:]]
    )
    op.create_index(
        "ix_client_package_steps_gaps",
        "client_package_steps",
        ["package_id", "position", "days_after_previous"],
        sqlite_where=GAPS_ONLY,
        postgresql_where=GAPS_ONLY,
    )
    op.create_index(
        "ix_session_ledger_flows",
        "session_ledger",
        ["kind", "session_on", "created_at", "sessions", "package_price_pence", "package_sessions"],
    )
    if bind.dialect.name == "sqlite":
        for table in ("client_packages", "client_package_steps", "session_ledger"):
            bind.exec_driver_sql(f"ANALYZE {table}")


def downgrade() -> None:
    op.drop_index("ix_session_ledger_flows", table_name="session_ledger")
    op.drop_index("ix_client_package_steps_gaps", table_name="client_package_steps")
    op.drop_index("ix_client_packages_by_package", table_name="client_packages")
    op.drop_index("ix_client_packages_liability", table_name="client_packages")
    with op.batch_alter_table("session_ledger") as batch:
        batch.drop_column("package_sessions")
        batch.drop_column("package_price_pence")
    with op.batch_alter_table("client_package_steps") as batch:
        batch.drop_column("days_after_previous")
        batch.drop_column("package_id")
    with op.batch_alter_table("client_packages") as batch:
        for n in reversed(TOTALS):
            batch.drop_column(f"sessions_{n}")
    for name, (table, columns) in REPLACED.items():
        op.create_index(name, table, columns)
