"""Online backups of the embedded SQLite database, and restoring one (DESIGN.md §4).

A backup uses SQLite's backup API: it copies one consistent snapshot while the tills go on writing (WAL
readers do not block writers), checks the copy, and only then gives it its final name, so a backup folder
never holds half a file. Files are named by the UTC time they were taken and the oldest are pruned.

Restoring also goes through the backup API (into the live file, so its WAL and shared-memory files stay
consistent). Close the app's engine first (``engine.dispose()``): restoring under open connections would
pull the data from under them. PostgreSQL servers are backed up with their own tools (``pg_dump``).

What a restore rolls back is read from the two files before it happens: the sales and invoices numbered in
the database being replaced that the backup does not have (``documents_only_in``), and the highest number
each series had issued there (``highest_numbers``), so numbering can carry on above them.

The backups folder is 0700 and every backup 0600 from its first byte (``settings.make_private_dir``).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.settings import create_private_file, make_private_dir, make_private_file
from aestheticc_pos.store.db import BUSY_TIMEOUT_MS, sqlite_path_from_url
from aestheticc_pos.store.migrate import known_revisions, upgrade_to_head

BACKUP_PREFIX = "aestheticc-"
BACKUP_SUFFIX = ".db"
DEFAULT_KEEP = 30
# Tables whose presence says "this is an Aestheticc database" (with an Alembic revision this app knows).
_SIGNATURE_TABLES = frozenset({"alembic_version", "settings", "clients", "client_package_steps", "sales"})


class InvalidBackup(DomainError):
    """The file chosen for a restore is not a readable Aestheticc database this version can use."""


def backup_sqlite(
    url: str, folder: Path, *, keep: int = DEFAULT_KEEP, now: dt.datetime | None = None
) -> Path:
    """Back the database at ``url`` up into ``folder`` as ``aestheticc-YYYYMMDD-HHMMSSZ.db``; keep the newest
    ``keep`` backups there. Returns the new file. Safe to call while the app is writing.
    """
    make_private_dir(folder)
    taken = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    target = _backup_name(folder, taken)
    while target.exists():  # two backups in one second: the names must still sort in the order taken
        taken += dt.timedelta(seconds=1)
        target = _backup_name(folder, taken)
    backup_sqlite_to_file(url, target)
    prune_backups(folder, keep=keep)
    return target


def backup_sqlite_to_file(url: str, target: Path) -> None:
    """Write a consistent, checked copy of the database at ``url`` to ``target`` (replacing it)."""
    source_path = _require_sqlite_file(url)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)  # 0600 before the first byte of clinic data goes in
    try:
        with closing(_connect(source_path)) as source, closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)  # one step: one read snapshot, never restarted by concurrent writes
            copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            _check_integrity(copy, partial)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def restore_sqlite(backup_path: Path, url: str) -> None:
    """Replace the database at ``url`` with the backup, then migrate it to this version's schema.

    Raises ``InvalidBackup`` (the live database untouched) when the file is not an Aestheticc database,
    is damaged, or comes from a newer version of the app.
    """
    target_path = _require_sqlite_file(url)
    verify_backup(backup_path)
    with closing(_connect(backup_path, read_only=True)) as source, closing(_connect(target_path)) as target:
        source.backup(target)
    upgrade_to_head(url)


def verify_backup(path: Path) -> str:
    """Check that ``path`` is a sound Aestheticc database this version can open; return its revision."""
    if not path.is_file():
        raise InvalidBackup(f"There is no backup file at {path}.")
    try:
        with closing(_connect(path, read_only=True)) as connection:
            tables = {
                name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not tables >= _SIGNATURE_TABLES:
                raise InvalidBackup(f"{path.name} is not an Aestheticc POS database. Choose another file.")
            _check_integrity(connection, path)
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise InvalidBackup(
            f"{path.name} is not a database file, or it is damaged. Choose another file."
        ) from error
    if revision is None or revision[0] not in known_revisions():
        raise InvalidBackup(
            f"{path.name} comes from a newer version of Aestheticc POS. Update the app, then restore it."
        )
    return str(revision[0])


@dataclass(frozen=True, slots=True)
class RolledBackDocument:
    """A sale or invoice a restore took away: its number was printed and must not be handed out again.

    ``kind`` is "sale", "refund" or "void" (the sales table) or "invoice". ``at`` is a sale's time (UTC);
    ``issued_on`` an invoice's issue date.
    """

    kind: str
    number: str
    net_pence: int
    currency: str
    at: dt.datetime | None = None
    issued_on: dt.date | None = None


def documents_only_in(replaced: Path, kept: Path) -> list[RolledBackDocument]:
    """The numbered sales and invoices in the database file ``replaced`` that ``kept`` does not have (by
    number): what restoring ``kept`` over ``replaced`` rolls back. Sales first, each in the order made."""
    with closing(_connect(replaced, read_only=True)) as connection:
        connection.execute("ATTACH DATABASE ? AS kept", (_read_only_uri(kept),))
        sales = connection.execute(
            "SELECT kind, number, net_pence, currency, created_at FROM main.sales "
            "WHERE number NOT IN (SELECT number FROM kept.sales) ORDER BY created_at, number"
        ).fetchall()
        invoices = []
        if "invoices" in _tables(connection, "main"):  # older backups have no invoices yet
            kept_numbers = (
                "SELECT number FROM kept.invoices WHERE number IS NOT NULL"
                if "invoices" in _tables(connection, "kept")
                else "SELECT NULL WHERE 0"
            )
            invoices = connection.execute(
                "SELECT number, net_pence, currency, issued_on FROM main.invoices WHERE number IS NOT NULL "
                f"AND number NOT IN ({kept_numbers}) ORDER BY issued_on, number"
            ).fetchall()
    documents = [
        RolledBackDocument(kind, number, net, currency, at=_utc(created_at))
        for kind, number, net, currency, created_at in sales
    ]
    documents += [
        RolledBackDocument("invoice", number, net, currency, issued_on=_day(issued_on))
        for number, net, currency, issued_on in invoices
    ]
    return documents


def highest_numbers(path: Path, *, leave_out: frozenset[str] = frozenset({"audit_log"})) -> dict[str, int]:
    """The highest number each series (``number_sequences``) had handed out in the database file ``path``."""
    with closing(_connect(path, read_only=True)) as connection:
        rows = connection.execute("SELECT name, next_value - 1 FROM number_sequences").fetchall()
    return {name: int(value) for name, value in rows if name not in leave_out and value > 0}


def make_backups_private(folder: Path) -> None:
    """Tighten an existing backups folder (0700) and its backups (0600), as they were before this version."""
    if not folder.is_dir():
        return
    make_private_dir(folder)
    for path in list_backups(folder):
        make_private_file(path)


def list_backups(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))


def prune_backups(folder: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``folder``; returns what was deleted."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    backups = list_backups(folder)
    doomed = backups[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _backup_name(folder: Path, taken: dt.datetime) -> Path:
    return folder / f"{BACKUP_PREFIX}{taken:%Y%m%d-%H%M%S}Z{BACKUP_SUFFIX}"


def _require_sqlite_file(url: str) -> Path:
    path = sqlite_path_from_url(url)
    if path is None:
        raise ValueError(f"backups from the app are for an SQLite database file, not {url.split(':', 1)[0]}")
    return path


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(_read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)


def _tables(connection: sqlite3.Connection, schema: str) -> set[str]:
    rows = connection.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _utc(stored: str | None) -> dt.datetime | None:
    """A time as the app stores it in SQLite (naive UTC text) as an aware UTC datetime."""
    if not stored:
        return None
    moment = dt.datetime.fromisoformat(str(stored))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _day(stored: str | None) -> dt.date | None:
    return dt.date.fromisoformat(str(stored)[:10]) if stored else None


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA quick_check").fetchall()
    if result != [("ok",)]:
        raise InvalidBackup(f"{path.name} is damaged ({result[0][0]}). Choose another backup.")
