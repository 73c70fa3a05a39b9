"""Client search at a clinic group's scale: keyset pages on covering indexes, any part of a phone or email.

The four single-column search indexes become partial covering ones over the clients still on file
(``anonymised_at IS NULL``), each ending with the id so a page of the list is one index range in list order.
The Clients screen's filters ask, client by client, "a member of this tier?" and "holds this package?":
covering indexes answer from the index alone.

Any part of a phone number or an email: on SQLite an FTS5 table with the trigram tokenizer
(``clients_contact_fts``, kept by triggers; its rowid is the client's); on PostgreSQL trigram GIN indexes from
``pg_trgm``. Where the extension cannot be created (no right to), the migration carries on without them and
such searches read the table instead (correct, slower).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ON_FILE = sa.text("anonymised_at IS NULL")
COVERING = {
    "ix_clients_surname_key": ["search_name_reversed", "id", "search_name"],
    "ix_clients_first_name_key": ["search_name", "id", "search_name_reversed"],
    "ix_clients_email_key": ["search_email", "id"],
    "ix_clients_phone_key": ["phone_digits", "id"],
}
OLD = {
    "ix_clients_search_name": "search_name",
    "ix_clients_search_name_reversed": "search_name_reversed",
    "ix_clients_search_email": "search_email",
    "ix_clients_phone_digits": "phone_digits",
}
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE clients_contact_fts USING fts5(phone, email, tokenize = 'trigram')",
    "INSERT INTO clients_contact_fts (rowid, phone, email) "
    "SELECT rowid, phone_digits, search_email FROM clients WHERE anonymised_at IS NULL",
    "CREATE TRIGGER clients_contact_fts_insert AFTER INSERT ON clients WHEN new.anonymised_at IS NULL BEGIN "
    "INSERT INTO clients_contact_fts (rowid, phone, email) VALUES (new.rowid, new.phone_digits, new.search_email); "
    "END",
    "CREATE TRIGGER clients_contact_fts_update AFTER UPDATE OF phone_digits, search_email, anonymised_at ON clients "
    "BEGIN DELETE FROM clients_contact_fts WHERE rowid = old.rowid; "
    "INSERT INTO clients_contact_fts (rowid, phone, email) SELECT new.rowid, new.phone_digits, new.search_email "
    "WHERE new.anonymised_at IS NULL; END",
    "CREATE TRIGGER clients_contact_fts_delete AFTER DELETE ON clients BEGIN "
    "DELETE FROM clients_contact_fts WHERE rowid = old.rowid; END",
]
PG_TRIGRAM = [
    "CREATE INDEX ix_clients_phone_trgm ON clients USING gin (phone_digits gin_trgm_ops) "
    "WHERE anonymised_at IS NULL",
    "CREATE INDEX ix_clients_email_trgm ON clients USING gin (search_email gin_trgm_ops) "
    "WHERE anonymised_at IS NULL",
]


def upgrade() -> None:
    bind = op.get_bind()
    for name in OLD:
        op.drop_index(name, table_name="clients")
    for name, columns in COVERING.items():
        op.create_index(name, "clients", columns, sqlite_where=ON_FILE, postgresql_where=ON_FILE)
    op.create_index("ix_memberships_client_tier", "memberships", ["client_id", "tier_id", "status"])
    op.create_index(
        "ix_client_packages_client_package",
        "client_packages",
        ["client_id", "package_id", "status", "expires_on"],
    )
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            bind.exec_driver_sql(statement)
    elif _pg_trgm(bind):
        for statement in PG_TRIGRAM:
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS clients_contact_fts_{name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS clients_contact_fts")
    else:
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_clients_phone_trgm")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_clients_email_trgm")
    op.drop_index("ix_client_packages_client_package", table_name="client_packages")
    op.drop_index("ix_memberships_client_tier", table_name="memberships")
    for name in COVERING:
        op.drop_index(name, table_name="clients")
    for name, column in OLD.items():
        op.create_index(name, "clients", [column])


def _pg_trgm(bind: sa.engine.Connection) -> bool:
    """Whether ``pg_trgm`` is (or could be made) available; a refusal is rolled back to a savepoint."""
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True
