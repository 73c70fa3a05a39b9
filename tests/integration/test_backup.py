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
    documents_only_in,
    highest_numbers,
    list_backups,
    make_backups_private,
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


def test_backups_are_private_to_the_user_from_their_first_byte(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"

    taken = backup_sqlite(sqlite_url, folder)

    assert folder.stat().st_mode & 0o777 == 0o700
    assert taken.stat().st_mode & 0o777 == 0o600
    taken.chmod(0o644)  # as an older version left them
    folder.chmod(0o755)
    make_backups_private(folder)
    assert (folder.stat().st_mode & 0o777, taken.stat().st_mode & 0o777) == (0o700, 0o600)


def test_what_a_restore_would_roll_back_and_the_numbers_already_issued(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as connection:
        _sale(connection, "A-000001")
    old = backup_sqlite(sqlite_url, tmp_path / "backups")
    with sqlite3.connect(path) as connection:
        for n in (2, 3):
            _sale(connection, f"A-{n:06d}")
        connection.execute(
            "INSERT INTO number_sequences (name, next_value) VALUES ('sale:A', 4), ('invoice:2026', 8), "
            "('audit_log', 40)"
        )
    new = backup_sqlite(sqlite_url, tmp_path / "backups")

    rolled_back = documents_only_in(new, old)

    assert [(d.kind, d.number, d.net_pence) for d in rolled_back] == [
        ("sale", "A-000002", 100),
        ("sale", "A-000003", 100),
    ]
    assert rolled_back[0].at == dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    assert documents_only_in(old, new) == []
    assert highest_numbers(new) == {"sale:A": 3, "invoice:2026": 7}  # the audit log keeps its own head


def _sale(connection: sqlite3.Connection, number: str) -> None:
    """A bare sale row (numbers are what a restore compares)."""
    connection.execute(
        "INSERT OR IGNORE INTO staff (id, name, role, pin_hash, pin_salt, failed_attempts, active, created_at) VALUES ('s', 'S', 'manager', 'h', 's', 0, 1, '2026-11-24 09:00:00.000000')"
    )
    connection.execute(
        "INSERT INTO sales (id, number, till_prefix, staff_id, kind, channel, created_at, gross_pence, "
        "discount_pence, net_pence, vat_pence, currency) VALUES (?, ?, 'A', 's', 'sale', 'pos', "
        "'2026-11-24 09:00:00.000000', 100, 0, 100, 17, 'GBP')",
        (number, number),
    )
