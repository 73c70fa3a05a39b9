"""Engines and sessions for the two databases the app runs on (DESIGN.md §4).

SQLite (one till, the default): WAL, ``synchronous=FULL`` so an acknowledged sale survives a power cut,
foreign keys on, a 10 s busy timeout, a page cache of its own size, no memory map, and in-memory temporary
storage (``SQLITE_TUNING``), ``PRAGMA optimize`` when a connection closes, and every transaction that may
write starts with ``BEGIN IMMEDIATE``: it takes the database's write lock up front, so two tills (or the till
and the sync thread) queue instead of both reading the last session and both taking it. This is SQLAlchemy's documented recipe for pysqlite:
turn off the driver's own transaction handling and emit BEGIN ourselves.

PostgreSQL (several tills on one server): READ COMMITTED, with conditional updates (``WHERE remaining >= 1``)
or ``SELECT … FOR UPDATE`` where a race matters, and retry of serialization failures (``is_retryable``).

The SQLite file (and its -wal and -shm files, which SQLite creates with the database's own mode) is 0600:
created so before SQLite opens it, tightened when an engine opens an older one.

Work that must happen only once a transaction has committed, outside the database (the audit head and the
number floor kept in the data folder), is registered with ``after_commit``; a rollback drops it.

Engines and session factories are built by ``app.py`` (or a test), never at import time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.settings import create_private_file, make_private_file

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
READ_ONLY_OPTION = "aestheticc_read_only"
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_AFTER_COMMIT = "aestheticc_after_commit"  # Session.info key: {name: (action, pending data)}
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# Per connection (the desk's threads and the sync's each hold one): a 4 MiB page cache, sorts and temporary
# indexes in memory, and no memory map. Every page a connection touches counts in the till's memory, once
# per connection for a mapped page: on a million clients, 8 MiB caches and a 16 MiB map took the desk from
# 138 to 154 MiB with Clients open, and a search reads one index range, a few pages (bench/RESULTS.md).
SQLITE_TUNING = (
    "PRAGMA cache_size = -4096",
    "PRAGMA mmap_size = 0",
    "PRAGMA temp_store = MEMORY",
)


def create_engine_for(url: str, *, foreign_keys: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url`` with the guarantees above.

    ``foreign_keys=False`` is for migrations only: SQLite's batch migrations copy and drop tables, which
    enforced foreign keys would refuse (they are checked once the migration is done).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=foreign_keys, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, echo=echo, pool_pre_ping=True, isolation_level="READ COMMITTED")
        event.listen(engine, "before_cursor_execute", _refuse_nul_characters)
        return engine
    raise ValueError(f"Aestheticc POS runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}")


NUL_REFUSED = "That text has a hidden character (NUL) in it that cannot be kept. Type it again and retry."


def _refuse_nul_characters(
    _connection: Connection, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """PostgreSQL refuses a NUL character in text outright (SQLite keeps it): a name, note or id pasted with
    one is refused with a sentence before it reaches the server, never as a crash. Nothing has been sent yet,
    so the transaction is as it was and the caller's error handling rolls it back."""
    rows = parameters if isinstance(parameters, list) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row if isinstance(row, tuple | list) else ()
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise InvalidInput(NUL_REFUSED)


def make_session_factory(
    engine: Engine, *, read_only: bool = False, info: Mapping[str, object] | None = None
) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose objects stay readable after commit.

    ``read_only`` sessions must not write. On SQLite they start a deferred transaction, so a search or a
    report never waits for a till that is writing (WAL readers see the last committed state). ``info`` is
    copied into every session's ``Session.info`` (what the store keeps outside the database, for instance).
    """
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    factory = sessionmaker(bind=bind, expire_on_commit=False, info=dict(info or {}))
    event.listen(factory, "after_commit", _run_after_commit)
    event.listen(factory, "after_rollback", _drop_after_commit)
    return factory


def after_commit(session: Session, name: str, action: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Run ``action(pending)`` once the session's transaction has committed; forget it if it rolls back.

    Returns ``pending``, a dict the caller fills as the transaction goes on (one per ``name`` and
    transaction). The action runs after the database has the data, so what it writes elsewhere is never ahead
    of the database; if it fails (a full disk) the failure is logged and the till carries on.
    """
    hooks: dict[str, tuple[Callable[[dict[str, Any]], None], dict[str, Any]]]
    hooks = session.info.setdefault(_AFTER_COMMIT, {})
    if name not in hooks:
        hooks[name] = (action, {})
    return hooks[name][1]


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction decides
    for name, (action, pending) in session.info.pop(_AFTER_COMMIT, {}).items():
        try:
            action(pending)
        except OSError:
            log.warning("After commit, %s could not be written to the data folder", name, exc_info=True)


def _drop_after_commit(session: Session) -> None:
    # A rolled-back savepoint may have held part of it: forgetting it all keeps what is written outside the
    # database behind it, never ahead of it.
    session.info.pop(_AFTER_COMMIT, None)


def sqlite_path_from_url(url: str) -> Path | None:
    """The file behind an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` means "another transaction got in the way; run the whole transaction again".

    PostgreSQL: serialization failure or deadlock (SQLSTATE 40001, 40P01). SQLite: the database stayed
    locked for the whole busy timeout.
    """
    original = getattr(error, "orig", None) or error
    if getattr(original, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    if isinstance(original, sqlite3.OperationalError):
        code = getattr(original, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY_CODES
        return "database is locked" in str(original) or "database is busy" in str(original)
    return False


def _sqlite_engine(url: str, *, foreign_keys: bool, echo: bool) -> Engine:
    path = sqlite_path_from_url(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        make_sqlite_file_private(path)
    engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if path is not None:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            for pragma in SQLITE_TUNING:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Refreshes the planner's statistics where the queries since opening showed they were worth it;
        # cheap, and usually nothing (sqlite.org/pragma.html#pragma_optimize).
        # Never waits for another till's write lock: skipped this time if the database is busy.
        try:
            dbapi_connection.execute("PRAGMA busy_timeout = 0")
            dbapi_connection.execute("PRAGMA analysis_limit = 400")
            dbapi_connection.execute("PRAGMA optimize")
        except sqlite3.Error:
            log.debug("PRAGMA optimize was skipped at close", exc_info=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sqlite_file_private(path: Path) -> None:
    """Create the database file 0600 if it is new (SQLite gives its -wal and -shm files the same mode), or
    tighten an existing one and its companions."""
    create_private_file(path)
    for suffix in SQLITE_COMPANIONS:
        make_private_file(path.with_name(path.name + suffix))
