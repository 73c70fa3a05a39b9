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

A restore never lets a receipt or invoice number be printed twice. Before the data is replaced, the highest
number of every series in it raises this till's number floor (kept in the data folder, outside the database:
``store/unit_of_work.NumberFloor``), so numbering carries on above them; and the result lists the sales and
invoices the restore took away (numbered in the replaced data, absent from the backup), for staff to check
against what was printed. The audit log's head kept outside the database becomes the restored log's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from aestheticc_pos.domain.errors import NotFound, RuleViolation
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.store import backup as store
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import AuditHeadFile, append_audit, audit_head_file, last_audit_head
from aestheticc_pos.store.backup import RolledBackDocument
from aestheticc_pos.store.unit_of_work import NUMBER_FLOOR_FILE, NumberFloor, UnitOfWorkFactory

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
    """What a restore did: ``backup`` is now the live data; ``safety_backup`` holds the data as it was.

    ``rolled_back``: the sales (refunds, voids) and invoices made after the backup was taken, which the
    restore took away. Their numbers were printed; they are not handed out again.
    """

    backup: BackupFile
    safety_backup: BackupFile
    rolled_back: tuple[RolledBackDocument, ...] = ()

    @property
    def rolled_back_sentence(self) -> str:
        """What staff should know about ``rolled_back``, in a sentence ("" when nothing was rolled back)."""
        if not self.rolled_back:
            return ""
        sales = [d.number for d in self.rolled_back if d.kind != "invoice"]
        invoices = [d.number for d in self.rolled_back if d.kind == "invoice"]
        parts = [_count(len(sales), "sale"), _count(len(invoices), "invoice")]
        what = " and ".join(part for part in parts if part)
        shown = [*sales, *invoices]
        listed = ", ".join(shown[:12]) + (f" and {len(shown) - 12} more" if len(shown) > 12 else "")
        return (
            f"The restore took back {what} made after the backup ({listed}). Their numbers will not be used "
            f"again; check them against the printed receipts and invoices, and record again what still stands."
        )


@use_case(Action.BACKUPS, retry=False)
def back_up_now(services: Services, app_settings: AppSettings, staff_id: str) -> BackupFile:
    """Take a backup of the SQLite database now (the oldest beyond the newest 30 are pruned). Audited."""
    _require_manager(services, staff_id)
    _require_sqlite(app_settings)
    path = store.backup_sqlite(app_settings.database_url, app_settings.backups_dir, now=services.now())
    _audit(services, staff_id, "database.backed_up", {"file": path.name})
    return _backup_file(path)


SCHEDULE = dt.timedelta(hours=24)


@use_case(Audience.TILL, retry=False)
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


@use_case(Action.BACKUPS, retry=False)
def restore_backup(
    services: Services, app_settings: AppSettings, path: Path | str, staff_id: str
) -> Restored:
    """Replace the clinic's data with the backup at ``path``; restart the app afterwards.

    Refused, with the data untouched, for a PostgreSQL clinic, for a manager's absence, and for a file that is
    not a sound Aestheticc backup this version can open (``InvalidBackup``).
    """
    _require_manager(services, staff_id)
    _require_sqlite(app_settings)
    source = Path(path)
    store.verify_backup(source)
    _audit(services, staff_id, "database.restore_started", {"file": source.name})
    folder = app_settings.backups_dir
    # Keep every backup there: pruning could delete the very file being restored.
    keep = max(store.DEFAULT_KEEP, len(store.list_backups(folder)) + 1)
    safety = store.backup_sqlite(app_settings.database_url, folder, keep=keep, now=services.now())
    rolled_back = tuple(store.documents_only_in(safety, source))
    _number_floor(services, app_settings).raise_to(store.highest_numbers(safety))
    if isinstance(services.uow, UnitOfWorkFactory):
        services.uow.engine.dispose()  # no pooled connection keeps reading the old data
    store.restore_sqlite(source, app_settings.database_url)
    with services.uow(read_only=True) as uow:
        _audit_head(services, app_settings).reset(last_audit_head(uow.session))
    if _staff_exists(services, staff_id):
        details = {"file": source.name, "safety_backup": safety.name, "rolled_back": len(rolled_back)}
        _audit(services, staff_id, "database.restored", details)
    return Restored(backup=_backup_file(source), safety_backup=_backup_file(safety), rolled_back=rolled_back)


# --- Helpers --------------------------------------------------------------------------------------------------


def _require_manager(services: Services, staff_id: str) -> None:
    with services.uow(read_only=True) as uow:
        require_staff(uow.session, staff_id, Action.BACKUPS)


def _require_sqlite(app_settings: AppSettings) -> None:
    if not app_settings.is_sqlite:
        raise RuleViolation(POSTGRESQL_REFUSAL)


def _number_floor(services: Services, app_settings: AppSettings) -> NumberFloor:
    """The floor the services number with (the app's wiring), else this data folder's."""
    if isinstance(services.uow, UnitOfWorkFactory) and services.uow.number_floor is not None:
        return services.uow.number_floor
    return NumberFloor(app_settings.data_dir / NUMBER_FLOOR_FILE)


def _audit_head(services: Services, app_settings: AppSettings) -> AuditHeadFile:
    if isinstance(services.uow, UnitOfWorkFactory) and services.uow.audit_head is not None:
        return services.uow.audit_head
    return audit_head_file(app_settings.data_dir, app_settings.database_url)


def _count(n: int, noun: str) -> str:
    return "" if n == 0 else f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _staff_exists(services: Services, staff_id: str) -> bool:
    try:
        with services.uow(read_only=True) as uow:
            repo.load_staff_row(uow.session, staff_id)
    except NotFound:
        return False
    return True


def _audit(services: Services, staff_id: str, action: str, details: dict[str, str | int]) -> None:
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
