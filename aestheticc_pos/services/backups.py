"""Backing up the clinic's database and restoring a backup, from the Settings screen (DESIGN.md §4; manager only).

These are the use cases over ``store/backup.py``, for the embedded SQLite file: a backup is taken online (the
tills carry on writing) into the data directory's ``backups`` folder. PostgreSQL servers are backed up with
their own tools (``pg_dump``); here they are refused with a sentence saying so.

Restoring replaces the live database. It first takes a *safety backup* of the current data (into the same
folder, pruning nothing, so a restore can itself be undone), closes the app's pooled connections and copies
the backup in through SQLite's backup API. The app must be restarted afterwards: screens, caches and the sync
engine still hold what they read before. Both actions are audited; a restore is recorded in the current
database (so the safety backup holds who restored what) and, when that staff member exists there, in the
restored one too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from aestheticc_pos.domain.errors import NotFound, RuleViolation
from aestheticc_pos.domain.staff import Role, require_manager
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.store import backup as store
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

RECORD_TYPE = "database"
POSTGRESQL_REFUSAL = (
    "This clinic's data is on a PostgreSQL server, which the app does not back up or restore. "
    "Use the server's own tools (pg_dump and pg_restore), or ask whoever looks after the server."
)


@dataclass(frozen=True, slots=True)
class BackupFile:
    """One backup in the backups folder. ``taken_at`` is UTC (from the file's name)."""

    path: Path
    taken_at: dt.datetime
    size_bytes: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore did: ``backup`` is now the live data; ``safety_backup`` holds the data as it was."""

    backup: BackupFile
    safety_backup: BackupFile


def back_up_now(services: Services, app_settings: AppSettings, staff_id: str) -> BackupFile:
    """Take a backup of the SQLite database now (the oldest beyond the newest 30 are pruned). Audited."""
    _require_manager(services, staff_id, "back up the clinic's data")
    _require_sqlite(app_settings)
    path = store.backup_sqlite(app_settings.database_url, app_settings.backups_dir, now=services.now())
    _audit(services, staff_id, "database.backed_up", {"file": path.name})
    return _backup_file(path)


SCHEDULE = dt.timedelta(hours=24)


def back_up_if_due(
    services: Services, app_settings: AppSettings, every: dt.timedelta = SCHEDULE
) -> BackupFile | None:
    """The scheduled backup: take one when the newest is older than ``every`` (or there is none).

    Runs without a signed-in person (the app calls it at start and every hour); nothing to do on PostgreSQL.
    """
    if not app_settings.is_sqlite:
        return None
    newest = next(iter(list_backups(app_settings)), None)
    if newest is not None and services.now() - newest.taken_at < every:
        return None
    path = store.backup_sqlite(app_settings.database_url, app_settings.backups_dir, now=services.now())
    return _backup_file(path)


def list_backups(app_settings: AppSettings) -> list[BackupFile]:
    """The backups in this PC's backups folder, newest first (empty for a PostgreSQL clinic)."""
    return [_backup_file(path) for path in reversed(store.list_backups(app_settings.backups_dir))]


def restore_backup(
    services: Services, app_settings: AppSettings, path: Path | str, staff_id: str
) -> Restored:
    """Replace the clinic's data with the backup at ``path``; restart the app afterwards.

    Refused, with the data untouched, for a PostgreSQL clinic, for a manager's absence, and for a file that is
    not a sound Aestheticc backup this version can open (``InvalidBackup``).
    """
    _require_manager(services, staff_id, "restore a backup")
    _require_sqlite(app_settings)
    source = Path(path)
    store.verify_backup(source)
    _audit(services, staff_id, "database.restore_started", {"file": source.name})
    folder = app_settings.backups_dir
    # Keep every backup there: pruning could delete the very file being restored.
    keep = max(store.DEFAULT_KEEP, len(store.list_backups(folder)) + 1)
    safety = store.backup_sqlite(app_settings.database_url, folder, keep=keep, now=services.now())
    if isinstance(services.uow, UnitOfWorkFactory):
        services.uow.engine.dispose()  # no pooled connection keeps reading the old data
    store.restore_sqlite(source, app_settings.database_url)
    if _staff_exists(services, staff_id):
        _audit(services, staff_id, "database.restored", {"file": source.name, "safety_backup": safety.name})
    return Restored(backup=_backup_file(source), safety_backup=_backup_file(safety))


# --- Helpers --------------------------------------------------------------------------------------------------


def _require_manager(services: Services, staff_id: str, what: str) -> None:
    with services.uow(read_only=True) as uow:
        row = repo.load_staff_row(uow.session, staff_id)
        require_manager(Role(row.role), what)


def _require_sqlite(app_settings: AppSettings) -> None:
    if not app_settings.is_sqlite:
        raise RuleViolation(POSTGRESQL_REFUSAL)


def _staff_exists(services: Services, staff_id: str) -> bool:
    try:
        with services.uow(read_only=True) as uow:
            repo.load_staff_row(uow.session, staff_id)
    except NotFound:
        return False
    return True


def _audit(services: Services, staff_id: str, action: str, details: dict[str, str]) -> None:
    with services.uow() as uow:
        append_audit(
            uow.session,
            at=services.now(),
            staff_id=staff_id,
            action=action,
            record_type=RECORD_TYPE,
            record_id="clinic",
            details=details,
        )
        uow.commit()


def _backup_file(path: Path) -> BackupFile:
    stat = path.stat()
    stem = path.name.removeprefix(store.BACKUP_PREFIX).removesuffix(store.BACKUP_SUFFIX)
    try:
        taken_at = dt.datetime.strptime(stem, "%Y%m%d-%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:  # renamed by hand: the file's own time will do
        taken_at = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
    return BackupFile(path=path, taken_at=taken_at, size_bytes=stat.st_size)
