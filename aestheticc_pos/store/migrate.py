"""Alembic, driven from code: the schema of a new or older database is brought to head at start (DESIGN.md §4).

The migrations live in the package (``store/migrations``); there is no ``alembic.ini``. A database already at
head is only read (a deferred transaction): a till starting while others sell never takes the write lock. On
SQLite a migration runs in one ``BEGIN IMMEDIATE`` transaction with foreign keys off (batch migrations copy and
drop tables), and the foreign keys are checked before it commits, only then; on PostgreSQL an advisory lock lets
one till migrate while the others wait.

A new migration: upgrade a scratch SQLite file to head, change ``tables.py``, then
``alembic.command.revision(alembic_config(url), message="…", autogenerate=True, rev_id="0002")`` (ids count up),
read what it wrote, and let ``tests/integration/test_migrations.py`` check it on both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from aestheticc_pos.store.db import READ_ONLY_OPTION, create_engine_for

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def upgrade_to_head(url: str) -> bool:
    """Create the schema of a new database, or migrate an older one to the newest. Returns whether a migration
    ran (a database at head is left alone, without taking the write lock).

    A start on a database at head reads one row and the names of the migration files: Alembic itself (a
    large import) is loaded only when there is something to migrate."""
    if current_revision(url) == head_revision():
        return False
    _run(url, lambda config: _command().upgrade(config, "head"))
    return True


def downgrade(url: str, revision: str) -> None:
    """Migrate down to ``revision`` ("base" drops everything). For tests and for undoing a bad release."""
    _run(url, lambda config: _command().downgrade(config, revision))


def current_revision(url: str) -> str | None:
    """The revision the database is at; None for a database with no schema yet."""
    engine = create_engine_for(url).execution_options(**{READ_ONLY_OPTION: True})
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


@cache
def head_revision() -> str:
    """The newest revision this version of the app knows: the migration files are named after their revision
    ids, which count up ("0011_client_search.py"), so this needs no Alembic (a test holds it to Alembic's)."""
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py*")]
    assert names, "the migrations folder has no revision"
    return max(names)[:4]


def known_revisions() -> frozenset[str]:
    """Every revision this version of the app can migrate from."""
    from alembic.script import ScriptDirectory  # loaded only when needed (a restore), not at every start

    return frozenset(
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the migrations in the package (and ``url``, when given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _command() -> ModuleType:
    """Alembic's commands, imported when a migration is about to run."""
    from alembic import command

    return command


def _run(url: str, step: Callable[[Config], None]) -> None:
    """Run an Alembic command on one connection, in one transaction that commits only if it all worked."""
    engine = create_engine_for(url, foreign_keys=False)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            step(config)
    finally:
        engine.dispose()
