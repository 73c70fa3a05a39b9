"""Alembic's entry point; ``store/migrate.py`` runs it with an open connection (``config.attributes``)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from aestheticc_pos.store.client_search import modelled
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.tables import metadata

# One key for every till: the first to start migrates, the others wait and then find the schema at head.
_PG_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('aestheticc-pos migrations'))"


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        compare_server_default=True,
        # SQLite's DDL is transactional once pysqlite's own transaction handling is off (store/db.py).
        transactional_ddl=True,
        render_item=render_item,
        include_object=modelled,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(_PG_MIGRATION_LOCK))
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Autogenerate writes the app's column types as the plain types they store: migrations import no app code."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "no database URL: run migrations through aestheticc_pos.store.migrate"
    engine = create_engine_for(url, foreign_keys=False)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use aestheticc_pos.store.migrate")
run_online()
