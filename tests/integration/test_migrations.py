"""Alembic owns the schema: one head, up and down cleanly, and the models match what the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect

from aestheticc_pos.store.client_search import TRIGRAM_OBJECTS, modelled
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)
from aestheticc_pos.store.tables import metadata


def test_there_is_exactly_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1
    # A start reads the head from the file names, without loading Alembic: they must agree.
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_new_database_is_created_by_upgrading_to_head(db_url: str) -> None:
    assert current_revision(db_url) is None

    upgrade_to_head(db_url)
    upgrade_to_head(db_url)  # a second start finds nothing to do

    assert current_revision(db_url) == head_revision()
    assert set(_table_names(db_url)) == set(metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_drops_everything_and_upgrade_rebuilds_it(db_url: str) -> None:
    upgrade_to_head(db_url)

    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    assert _table_names(db_url) == ["alembic_version"]

    upgrade_to_head(db_url)
    assert current_revision(db_url) == head_revision()


def test_the_models_match_the_migrated_schema(migrated_url: str) -> None:
    engine = create_engine_for(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": True, "include_object": modelled},
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_the_migrated_schema_has_every_check_constraint_of_the_models(migrated_url: str) -> None:
    # Autogenerate does not compare CHECK constraints, so an enum value added to a model but not to a
    # migration would go unnoticed without this. SQLite keeps the text as written, so it is compared too.
    engine = create_engine_for(migrated_url)
    try:
        inspector = inspect(engine)
        for table in metadata.sorted_tables:
            declared = {
                str(c.name): str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint)
            }
            reflected = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
            assert set(reflected) == set(declared), table.name
            if engine.dialect.name == "sqlite":
                assert reflected == declared, table.name
    finally:
        engine.dispose()


def _table_names(url: str) -> list[str]:
    engine = create_engine_for(url)
    try:
        names = inspect(engine).get_table_names()
        return sorted(n for n in names if not n.startswith(TRIGRAM_OBJECTS))  # migration 0011's search index
    finally:
        engine.dispose()


def test_a_till_starting_on_a_database_at_head_never_takes_the_write_lock(tmp_path) -> None:
    """Another till is selling (it holds SQLite's write lock): starting reads the revision and goes on at once,
    with no foreign key check under the lock (that runs only after a migration)."""
    import sqlite3
    import time

    url = f"sqlite:///{tmp_path / 'till.db'}"
    assert upgrade_to_head(url) is True  # the first start creates the schema
    selling = sqlite3.connect(tmp_path / "till.db", isolation_level=None)
    selling.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert upgrade_to_head(url) is False
        assert time.monotonic() - started < 1.0  # far below the 10 s busy timeout a writer would wait
    finally:
        selling.execute("ROLLBACK")
        selling.close()
