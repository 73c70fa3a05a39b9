"""Online SQLite backups while the till writes, and restoring one."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aestheticc_pos.store.backup import (
    InvalidBackup,
    backup_sqlite,
    list_backups,
    restore_sqlite,
    verify_backup,
)
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.migrate import head_revision, upgrade_to_head
from aestheticc_pos.store.tables import SettingRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic' / 'aestheticc.db'}"
    upgrade_to_head(url)
    return url


def test_a_backup_taken_while_the_till_writes_is_consistent_and_restores(
    sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    engine = create_engine_for(sqlite_url)
    factory = UnitOfWorkFactory(engine)
    stop = threading.Event()
    written: list[int] = []

    def till() -> None:  # one row per transaction, as fast as it can
        n = 0
        while not stop.is_set():
            with factory() as uow:
                uow.session.add(SettingRow(key=f"row {n:06d}", value=str(n)))
                uow.commit()
            written.append(n)
            n += 1

    writer = threading.Thread(target=till)
    writer.start()
    try:
        while len(written) < 50:
            threading.Event().wait(0.01)
        first = backup_sqlite(sqlite_url, folder, now=dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC))
        while len(written) < 100:
            threading.Event().wait(0.01)
        second = backup_sqlite(sqlite_url, folder, now=dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC))
    finally:
        stop.set()
        writer.join(timeout=30)

    assert list_backups(folder) == [first, second]
    assert (first.name, second.name) == ("aestheticc-20261124-180000Z.db", "aestheticc-20261124-180001Z.db")
    in_first, in_second = _rows_in(first), _rows_in(second)
    assert 50 <= len(in_first) < len(in_second) <= len(written)
    assert in_first == [f"row {n:06d}" for n in range(len(in_first))]  # a prefix: no torn transaction
    assert verify_backup(first) == head_revision()

    engine.dispose()  # the app closes its connections before restoring
    restore_sqlite(first, sqlite_url)
    engine = create_engine_for(sqlite_url)
    try:
        with UnitOfWorkFactory(engine)() as uow:
            assert uow.session.scalar(select(func.count()).select_from(SettingRow)) == len(in_first)
            uow.session.add(SettingRow(key="after restore", value="ok"))  # and the till carries on
            uow.commit()
    finally:
        engine.dispose()


def test_only_the_newest_backups_are_kept(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    for day in range(1, 6):
        backup_sqlite(sqlite_url, folder, keep=3, now=dt.datetime(2026, 11, day, 23, 0, tzinfo=dt.UTC))

    assert [p.name for p in list_backups(folder)] == [
        "aestheticc-20261103-230000Z.db",
        "aestheticc-20261104-230000Z.db",
        "aestheticc-20261105-230000Z.db",
    ]
    assert not list(folder.glob("*.partial"))


def test_restore_refuses_what_is_not_an_aestheticc_backup_and_leaves_the_database_alone(
    sqlite_url: str, tmp_path: Path
) -> None:
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("shopping list: milk, eggs")
    other_app = tmp_path / "other.db"
    with sqlite3.connect(other_app) as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    from_the_future = backup_sqlite(sqlite_url, tmp_path / "future")
    with sqlite3.connect(from_the_future) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")

    for bad in (not_sqlite, other_app, from_the_future, tmp_path / "missing.db"):
        with pytest.raises(InvalidBackup):
            restore_sqlite(bad, sqlite_url)
    assert verify_backup(Path(sqlite_url.removeprefix("sqlite:///"))) == head_revision()


def test_backups_are_for_sqlite_files_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SQLite"):
        backup_sqlite("postgresql+psycopg://till@server/clinic", tmp_path)


def _rows_in(backup: Path) -> list[str]:
    with sqlite3.connect(backup) as connection:
        return [
            key
            for (key,) in connection.execute("SELECT key FROM settings WHERE key LIKE 'row %' ORDER BY key")
        ]
