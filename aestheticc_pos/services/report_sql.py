"""What the report use cases share: the clinic's day and currency, periods as a small table to join on, and
the few SQL expressions that differ between SQLite and PostgreSQL.

Every figure of a report is one aggregate over the clinic's rows (``SUM``/``COUNT`` grouped by period and by
what the figure splits on): a period is a row of ``moment_periods`` (UTC instants: where the clinic's local
days begin, so a sale at 00:30 BST on 1 Jul falls in July) or ``date_periods`` (calendar days), and a row is
counted in the period whose range holds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, Subquery, case, cast, func, literal, null, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Period
from aestheticc_pos.services.context import read_clinic_settings
from aestheticc_pos.store.tables import UTCDateTime
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReportClinic:
    """The clinic as a report needs it: its name, today in its time zone, the zone and the currency."""

    name: str
    today: dt.date
    tz: ZoneInfo
    currency: str

    def money(self, pence: Any) -> Money:
        return Money(int(pence or 0), self.currency)

    def day_start(self, day: dt.date) -> dt.datetime:
        """The UTC instant the clinic's ``day`` begins."""
        return dt.datetime.combine(day, dt.time(0), self.tz).astimezone(dt.UTC)


def clinic_in(uow: UnitOfWork, now: dt.datetime) -> ReportClinic:
    settings = read_clinic_settings(uow.session)
    return ReportClinic(settings.name, now.astimezone(settings.tz).date(), settings.tz, settings.currency)


def moment_periods(clinic: ReportClinic, periods: Sequence[Period]) -> Subquery:
    """The periods as rows ``(i, starts, ends)``: UTC instants, ``starts`` included and ``ends`` not."""
    rows = [
        select(
            literal(i, Integer).label("i"),
            literal(clinic.day_start(p.first), UTCDateTime()).label("starts"),
            literal(clinic.day_start(p.after), UTCDateTime()).label("ends"),
        )
        for i, p in enumerate(periods)
    ]
    return union_all(*rows).subquery("periods")


def date_periods(periods: Sequence[Period]) -> Subquery:
    """The periods as rows ``(i, first, after)``: calendar days, ``first`` included and ``after`` not."""
    rows = [
        select(
            literal(i, Integer).label("i"),
            literal(p.first, Date()).label("first"),
            literal(p.after, Date()).label("after"),
        )
        for i, p in enumerate(periods)
    ]
    return union_all(*rows).subquery("periods")


def period_of(column: Any, bounds: Sequence[Any]) -> ColumnElement[int]:
    """The index ``i`` of the period holding ``column``, where period ``i`` runs from ``bounds[i]`` (included) to
    ``bounds[i + 1]`` (not): NULL before the first bound and from the last. One pass over the rows groups them
    all, where joining a table of periods would read the rows once per period."""
    whens = [(column < bound, literal(i - 1, Integer)) for i, bound in enumerate(bounds[1:], start=1)]
    return case((column < bounds[0], null()), *whens, else_=null())


def date_bounds(periods: Sequence[Period]) -> list[dt.date]:
    """The calendar days the periods (consecutive) start on, and the day after the last: ``period_of``'s bounds."""
    return [p.first for p in periods] + [periods[-1].after]


def moment_bounds(clinic: ReportClinic, periods: Sequence[Period]) -> list[dt.datetime]:
    """The UTC instants the clinic's periods (consecutive) start at, and the end of the last."""
    return [clinic.day_start(d) for d in date_bounds(periods)]


def by_index(rows: Any, size: int, default: Any = 0) -> list[Any]:
    """Rows ``(i, value)`` of an aggregate grouped by period, as a list with one value per period (``default``
    where no row fell in a period)."""
    out = [default] * size
    for i, value in rows:
        out[int(i)] = value
    return out


def pence_sum(column: Any) -> ColumnElement[int]:
    """``SUM`` that is 0, never NULL, over no rows."""
    return func.coalesce(func.sum(column), 0)


def rounded_sum(column: Any) -> ColumnElement[int]:
    """``SUM`` of fractional pence, rounded once to the penny (half away from zero) on either database."""
    return cast(func.round(func.coalesce(func.sum(cast(column, Float)), 0)), Integer)


class days_between(FunctionElement[float]):  # noqa: N801 - used like a SQL function
    """``later - earlier`` in days, for two date columns (SQLite: julianday; PostgreSQL: date subtraction)."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between)
def _days_between_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"
