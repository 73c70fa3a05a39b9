"""Engines and sessions for the two databases the app runs on (DESIGN.md §4).

SQLite (one till, the default): WAL, ``synchronous=FULL`` so an acknowledged sale survives a power cut,
foreign keys on, a 10 s busy timeout, and every transaction that may write starts with ``BEGIN IMMEDIATE``:
it takes the database's write lock up front, so two tills (or the till and the sync thread) queue instead of
both reading the last session and both taking it. This is SQLAlchemy's documented recipe for pysqlite:
turn off the driver's own transaction handling and emit BEGIN ourselves.

PostgreSQL (several tills on one server): READ COMMITTED, with conditional updates (``WHERE remaining >= 1``)
or ``SELECT … FOR UPDATE`` where a race matters, and retry of serialization failures (``is_retryable``).

Engines and session factories are built by ``app.py`` (or a test), never at import time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 10_000
READ_ONLY_OPTION = "aestheticc_read_only"
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED


def create_engine_for(url: str, *, foreign_keys: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url`` with the guarantees above.

    ``foreign_keys=False`` is for migrations only: SQLite's batch migrations copy and drop tables, which
    enforced foreign keys would refuse (they are checked once the migration is done).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=foreign_keys, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, echo=echo, pool_pre_ping=True, isolation_level="READ COMMITTED")
    raise ValueError(f"Aestheticc POS runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}")


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose objects stay readable after commit.

    ``read_only`` sessions must not write. On SQLite they start a deferred transaction, so a search or a
    report never waits for a till that is writing (WAL readers see the last committed state).
    """
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


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
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine
