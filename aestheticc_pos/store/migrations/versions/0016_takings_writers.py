"""The takings summary's rows name their writer (a till's thread): two tills, or a till and its own sync, never
wait on each other's row locks again.

On PostgreSQL the summary's upsert locks a day's rows until the document commits. Keyed by day alone, every
till's checkout waited on any other transaction adding to the same day: a sync page that records link payments
while it applies up to 500 events held them for seconds. ``writer`` joins each table's key
(``store/takings_summary.takings_writer``); the reports already sum over the key. The rows there are summed again
with the writer '' (``rebuild_takings``); the downgrade sums them again without it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aestheticc_pos.store.takings_summary import rebuild_takings

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TIME_ZONE = "Europe/London"
KEYS = {
    "takings_days": ["day", "document_kind", "reason", "currency"],
    "takings_line_days": [
        "day",
        "document_kind",
        "line_kind",
        "practitioner_id",
        "discount_group",
        "currency",
    ],
    "tender_days": ["day", "document_kind", "tender_kind", "currency"],
}


def _time_zone() -> str:
    zone = op.get_bind().execute(sa.text("SELECT value FROM settings WHERE key = 'time_zone'")).scalar()
    return zone or DEFAULT_TIME_ZONE


def upgrade() -> None:
    for table, key in KEYS.items():
        op.execute(sa.text(f"DELETE FROM {table}"))  # summed again below, each row with its writer
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.add_column(
                sa.Column("writer", sa.String(length=40), nullable=False, server_default=sa.text("''"))
            )
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", [*key, "writer"])
    rebuild_takings(op.get_bind(), _time_zone())


def downgrade() -> None:
    for table, key in KEYS.items():
        op.execute(sa.text(f"DELETE FROM {table}"))
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", key)
            batch.drop_column("writer")
    rebuild_takings(op.get_bind(), _time_zone(), writers=False)
