"""Sums the database keeps itself: a summary table added to by triggers on the table it sums.

A report that sums a big table over a few columns reads a summary instead, a row per key, kept in every
writer's transaction by triggers on the summed table (insert, the update of a column it reads, delete): a row's
contribution moves from its old key to its new one. Every writer keeps it, however it writes — the ORM, a
statement, SQL on a bare connection, a migration — and the rebuild (``INSERT … SELECT … GROUP BY``) is only for
a table filled before the triggers existed.

On PostgreSQL the trigger's upsert locks its summary row until the writer commits, so each row also names its
writer (the database session, ``pg_backend_pid()``): two tills adding to the same key never wait on each other.
SQLite has one writer at a time; its rows have the writer ''. The reports sum over the writer.

A key column cannot be NULL (it is part of the primary key): a nullable value is keyed through ``COALESCE``
(to ``NEVER``, a day after every real one, for a date). The SQL of a key or a sum is written for ``{row}``
(``NEW`` or ``OLD``) and ``{never}`` (the dialect's ``NEVER`` literal).

SQLite checks every trigger naming a table it renames, so a migration that rebuilds a summed table (or one a
trigger reads) with ``batch_alter_table`` drops the triggers first and creates them again after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

NEVER = dt.date(9999, 12, 31)  # the key of "no date" (no end, never)
_NEVER_SQL = {"sqlite": "'9999-12-31'", "postgresql": "DATE '9999-12-31'"}


@dataclass(frozen=True, slots=True)
class KeptSum:
    """``summary`` holds, per ``key``, the ``sums`` of the rows of ``source`` that are ``counted``.

    ``key`` and ``sums`` map a summary column to the SQL of a row's value; ``facts`` are the columns of
    ``source`` they read (an update of another column moves nothing)."""

    summary: str
    source: str
    key: dict[str, str]
    sums: dict[str, str]
    facts: tuple[str, ...]
    counted: str = "TRUE"

    def statements(self, dialect: str) -> list[str]:
        """``CREATE`` the triggers (and on PostgreSQL their function)."""
        name = self.summary
        if dialect == "postgresql":
            writer = "pg_backend_pid()::text"
            return [
                f"""CREATE FUNCTION {name}_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {self._move("OLD", "-", writer, dialect)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {self._move("NEW", "", writer, dialect)}
    END IF;
    RETURN NULL;
END $$""",
                f"""CREATE TRIGGER {name}_insert AFTER INSERT OR DELETE ON {self.source}
FOR EACH ROW EXECUTE FUNCTION {name}_kept()""",
                f"""CREATE TRIGGER {name}_update AFTER UPDATE OF {", ".join(self.facts)} ON {self.source}
FOR EACH ROW WHEN ({self._changed("IS DISTINCT FROM")}) EXECUTE FUNCTION {name}_kept()""",
            ]
        return [
            f"""CREATE TRIGGER {name}_insert AFTER INSERT ON {self.source}
BEGIN
{self._move("NEW", "", "''", dialect)}
END""",
            f"""CREATE TRIGGER {name}_update AFTER UPDATE OF {", ".join(self.facts)} ON {self.source}
WHEN {self._changed("IS NOT")}
BEGIN
{self._move("OLD", "-", "''", dialect)}
{self._move("NEW", "", "''", dialect)}
END""",
            f"""CREATE TRIGGER {name}_delete AFTER DELETE ON {self.source}
BEGIN
{self._move("OLD", "-", "''", dialect)}
END""",
        ]

    def drops(self, dialect: str) -> list[str]:
        name = self.summary
        if dialect == "postgresql":
            return [
                f"DROP TRIGGER IF EXISTS {name}_update ON {self.source}",
                f"DROP TRIGGER IF EXISTS {name}_insert ON {self.source}",
                f"DROP FUNCTION IF EXISTS {name}_kept()",
            ]
        return [f"DROP TRIGGER IF EXISTS {name}_{op}" for op in ("insert", "update", "delete")]

    def rebuild(self, connection: Connection) -> None:
        """Sum every row of ``source`` again, replacing what the summary held."""
        dialect = connection.dialect.name
        keys = [self._sql(sql, "s", dialect) for sql in self.key.values()]
        sums = [f"SUM({self._sql(sql, 's', dialect)})" for sql in self.sums.values()]
        columns = [*self.key, "writer", *self.sums]
        connection.exec_driver_sql(f"DELETE FROM {self.summary}")
        connection.exec_driver_sql(
            f"INSERT INTO {self.summary} ({', '.join(columns)}) "
            f"SELECT {', '.join(keys)}, '', {', '.join(sums)} FROM {self.source} s "
            f"WHERE {self._sql(self.counted, 's', dialect)} GROUP BY {', '.join(keys)}"
        )

    def _move(self, row: str, sign: str, writer: str, dialect: str) -> str:
        """Add (``sign`` '') or take away ('-') ``row`` (``NEW`` or ``OLD``) on its key."""
        columns = [*self.key, "writer", *self.sums]
        values = [
            *(self._sql(sql, row, dialect) for sql in self.key.values()),
            writer,
            *(f"{sign}({self._sql(sql, row, dialect)})" for sql in self.sums.values()),
        ]
        added = ", ".join(f"{c} = {self.summary}.{c} + excluded.{c}" for c in self.sums)
        return (
            f"INSERT INTO {self.summary} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"WHERE {self._sql(self.counted, row, dialect)} "
            f"ON CONFLICT ({', '.join([*self.key, 'writer'])}) DO UPDATE SET {added};"
        )

    def _changed(self, distinct: str) -> str:
        return " OR ".join(f"OLD.{name} {distinct} NEW.{name}" for name in self.facts)

    @staticmethod
    def _sql(sql: str, row: str, dialect: str) -> str:
        return sql.format(row=row, never=_NEVER_SQL.get(dialect, _NEVER_SQL["postgresql"]))


def create_triggers(connection: Connection, *kept: KeptSum) -> None:
    for k in kept:
        for statement in k.statements(connection.dialect.name):
            connection.exec_driver_sql(statement)


def drop_triggers(connection: Connection, *kept: KeptSum) -> None:
    for k in kept:
        for statement in k.drops(connection.dialect.name):
            connection.exec_driver_sql(statement)
