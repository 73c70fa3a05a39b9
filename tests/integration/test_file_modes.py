"""Client data is health data: the data folder is 0700 and what the app keeps in it 0600 — the database and its
-wal and -shm files, backups, settings.json, the audit head and the number floor — set when created, and
tightened at start for files an older version left readable (DESIGN.md §4)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aestheticc_pos.app import build_services
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import backups
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.settings import (
    DATABASE_FILE,
    SETTINGS_FILE,
    AppSettings,
    load_settings,
    sqlite_url,
    write_gocardless_environment,
)

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_till_keeps_everything_private_from_the_first_start(tmp_path: Path) -> None:
    settings = load_settings(environ={"AESTHETICC_DATA_DIR": str(tmp_path / "till")})
    write_gocardless_environment(settings.data_dir, "sandbox")
    services = build_services(settings)
    try:
        staff_service.add_staff(services, name="Mia", role=Role.MANAGER, pin="135790", by_staff_id=None)
        with services.uow() as uow:  # the connection stays open in the pool: the -wal and -shm files too
            uow.next_number("sale:A")
            uow.commit()
        backups.back_up_if_due(services, settings)
        database = settings.data_dir / DATABASE_FILE

        assert _mode(settings.data_dir) == 0o700
        assert _mode(settings.backups_dir) == 0o700
        files = [
            database,
            database.with_name(f"{DATABASE_FILE}-wal"),
            database.with_name(f"{DATABASE_FILE}-shm"),
            settings.data_dir / SETTINGS_FILE,
            database.with_name(f"{DATABASE_FILE}.audit-head"),
            settings.data_dir / "number-floor.json",
            *settings.backups_dir.iterdir(),
        ]
        assert all(path.exists() for path in files) and len(files) == 7
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        services.uow.engine.dispose()  # type: ignore[attr-defined]


def test_files_an_older_version_left_readable_are_tightened_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "till"
    first = build_services(AppSettings(data_dir=folder, database_url=sqlite_url(folder / DATABASE_FILE)))
    first.uow.engine.dispose()  # type: ignore[attr-defined]
    backups_dir = folder / "backups"
    backups_dir.mkdir()
    old_backup = backups_dir / "aestheticc-20261101-230000Z.db"
    old_backup.write_bytes((folder / DATABASE_FILE).read_bytes())
    (folder / SETTINGS_FILE).write_text("{}")
    for path in (folder, backups_dir):
        path.chmod(0o755)
    for path in (folder / DATABASE_FILE, old_backup, folder / SETTINGS_FILE):
        path.chmod(0o644)

    settings = load_settings(environ={"AESTHETICC_DATA_DIR": str(folder)})
    services = build_services(settings)
    services.uow.engine.dispose()  # type: ignore[attr-defined]

    assert (_mode(folder), _mode(backups_dir)) == (0o700, 0o700)
    assert [_mode(p) for p in (folder / DATABASE_FILE, old_backup, folder / SETTINGS_FILE)] == [0o600] * 3
