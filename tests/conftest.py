"""Test-wide set-up. Qt must run offscreen before any QApplication exists, or the whole run aborts.

A database at head is a copy of one migrated once per run (``migrated_sqlite_template``, ``copy_migrated_sqlite``):
the migrations cost more than most test bodies. The tests about migrations (``test_migrations.py``) run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
# PINs hashed in microseconds, not 100 ms: the app's own setting (settings.pin_hash_cost), inherited by the
# processes tests start. Run with AESTHETICC_PIN_HASH_COST=standard to test at the real cost.
os.environ.setdefault("AESTHETICC_PIN_HASH_COST", "fast")

import pytest  # noqa: E402
from memory_keyring import installed, memory_keyring  # noqa: E402, F401 - fixtures for every test

from aestheticc_pos.settings import sqlite_url  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stress", action="store_true", default=False, help="run the long stress variants")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--stress"):
        return
    skip = pytest.mark.skip(reason="long stress variant: run with --stress")
    for item in items:
        if "stress" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read or write the real user data directory or a real database."""
    monkeypatch.setenv("AESTHETICC_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("AESTHETICC_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per run, for tests to copy (never to open)."""
    path = tmp_path_factory.mktemp("migrated-template") / "aestheticc.db"
    upgrade_to_head(sqlite_url(path))
    # upgrade_to_head closes its connections, so the WAL is checkpointed into the file: the file is the database.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture
def copy_migrated_sqlite(migrated_sqlite_template: Path) -> Callable[[Path], str]:
    """``copy_migrated_sqlite(path)`` → the URL of a new SQLite database at head at ``path``."""

    def copy(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_sqlite_template, path)
        return sqlite_url(path)

    return copy
