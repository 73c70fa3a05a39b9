"""The takings summed per clinic day, kept in the transaction that writes each sale, refund or void.

A clinic's takings of a day never need the documents' rows again once written, so the reports read three small
tables (``tables.py``: ``takings_days``, ``takings_line_days``, ``tender_days``) instead of joining every line
and tender of a range. Each holds, per clinic day and document kind (sale, refund, void — a refund's or void's
amounts are negative, as on the document), what the Takings report and the dashboard split on:

- the documents: their count and totals, by the reason a refund or void gives money back;
- the lines: their count and totals by item kind, by practitioner (the one of the appointment a line was sold
  for — a refund line's, that of the line it gives back —, else who made the original sale) and by discount
  group: the discount's reason, every price override as ``OVERRIDES``, every session redeemed from a package as
  ``PACKAGE_SESSIONS``, '' for a line with no discount;
- the tenders: their count and amount by tender kind.

``add_to_takings_in`` adds one document as its writer is writing it (a sale passes the rows it inserts, so
nothing of the sale is read back; ``add_written_to_takings_in`` reads a refund's or void's rows back by id);
``rebuild_takings`` sums every document again with ``INSERT … SELECT … GROUP BY`` (migration 0014's backfill,
the benchmark generator). Both add with upserts (``ON CONFLICT … DO UPDATE SET x = x + excluded.x``, the same on
SQLite and PostgreSQL), so two tills adding to the same day at once both count. On PostgreSQL the upsert locks
its rows until the document commits, so each row also names its writer (``takings_writer``: a till's thread):
no two writers share a row, and a till never waits on another till, or on its own sync's long page of events.
A writer takes its rows in one order (documents, lines, tenders, each by key), after the number series and
before the audit head (DESIGN.md §4). A line's discount
group is worked out the same way in Python (``_group``) and in SQL (``discount_group``); the tests hold both
to the documents' own rows.

A document's day is the clinic's day it was written on, in the clinic's time zone then: the reports' day
(``report_sql.ReportClinic.day_start``). A clinic that changes its time zone keeps its earlier days as they were.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.functions import FunctionElement

from aestheticc_pos.store.tables import (
    AppointmentRow,
    SaleLineRow,
    SaleRow,
    TakingsDayRow,
    TakingsLineDayRow,
    TenderDayRow,
    TenderRow,
)

OVERRIDES = "Price overrides"
PACKAGE_SESSIONS = "Package sessions"  # redeemed from a package: paid for when it was sold, not a discount
_PACKAGE_PREFIX = "Package:"  # "Package: Microneedling course, session 3 of 6" (domain/benefits.py)
_OVERRIDE_PREFIX = "Price override:"  # "Price override: Damaged box" (domain/pricing.py)
SALE = "sale"
_PROCESS = uuid.uuid4().hex[:12]  # this run of the app (or of a test worker)

_DOCUMENTS = TakingsDayRow.__table__
_LINES = TakingsLineDayRow.__table__
_TENDERS = TenderDayRow.__table__


def add_to_takings_in(
    session: Session,
    day: dt.date,
    *,
    kind: str,
    reason: str | None,
    seller_id: str,
    currency: str,
    totals: tuple[int, int, int, int],
    lines: Iterable[Mapping[str, Any]],
    tenders: Iterable[tuple[str, str, int]],
) -> None:
    """Add a sale, refund or void being written in this transaction to the takings of the clinic's ``day``.

    ``totals`` are the document's gross, discount, net and VAT in pence (negative on a refund or void); ``lines``
    its lines as stored (``sale_lines`` columns: ``kind``, ``appointment_id``, ``discount_reason`` and the four
    amounts); ``tenders`` each ``(kind, currency, amount in pence)``. ``seller_id`` made the sale (a refund's or
    void's: the sale it gives back), and a line without an appointment counts for them. The only read is the
    practitioner of the lines' appointments."""
    lines = list(lines)
    booked = sorted({line["appointment_id"] for line in lines if line["appointment_id"]})
    practitioner = (
        dict(
            session.execute(
                select(AppointmentRow.id, AppointmentRow.practitioner_id).where(AppointmentRow.id.in_(booked))
            ).all()
        )
        if booked
        else {}
    )
    writer = takings_writer()
    document: dict[tuple, list[int]] = {
        (day, kind, "" if kind == SALE else reason or "", currency, writer): [1, *totals]
    }
    by_line: dict[tuple, list[int]] = {}
    for line in lines:
        who = practitioner.get(line["appointment_id"]) or seller_id
        key = (
            day,
            kind,
            line["kind"],
            who,
            _group(line["discount_reason"], line["discount_pence"]),
            currency,
            writer,
        )
        figures = (1, *(line[f"{x}_pence"] for x in ("gross", "discount", "net", "vat")))
        by_line[key] = [a + b for a, b in zip(by_line.get(key, [0] * 5), figures, strict=True)]
    by_tender: dict[tuple, list[int]] = {}
    for tender_kind, tender_currency, amount in tenders:
        key = (day, kind, tender_kind, tender_currency, writer)
        by_tender[key] = [a + b for a, b in zip(by_tender.get(key, [0, 0]), (1, amount), strict=True)]
    connection = session.connection()
    for table, sums in ((_DOCUMENTS, document), (_LINES, by_line), (_TENDERS, by_tender)):
        if sums:  # each table's rows in key order: two tills lock a day's rows in the same order
            names = [c.name for c in table.columns]
            connection.execute(
                _adding(table), [dict(zip(names, (*k, *v), strict=True)) for k, v in sorted(sums.items())]
            )


def takings_writer() -> str:
    """This till's thread, as the summary's rows name their writer: the process (a till, or a test's) and the
    thread in it (the desk's workers, the sync's). On PostgreSQL an upsert locks its rows until the document
    commits; rows of their own let a till's sale go on while another till, or this till's sync applying a page
    of 500 events, holds theirs."""
    return f"{_PROCESS}/{threading.get_ident()}"


def add_written_to_takings_in(session: Session, document_id: str, day: dt.date) -> None:
    """``add_to_takings_in`` for a refund or void written through the ORM: its rows read back by id."""
    session.flush()
    sale = session.execute(select(SaleRow.__table__).where(SaleRow.id == document_id)).one()
    seller_id = sale.staff_id
    original: dict[int, str | None] = {}
    if sale.refers_to_sale_id is not None:
        seller_id = session.scalar(select(SaleRow.staff_id).where(SaleRow.id == sale.refers_to_sale_id))
        original = dict(
            session.execute(
                select(SaleLineRow.position, SaleLineRow.appointment_id).where(
                    SaleLineRow.sale_id == sale.refers_to_sale_id
                )
            ).all()
        )
    lines = [
        {**line._mapping, "appointment_id": line.appointment_id or original.get(line.refunds_position)}
        for line in session.execute(select(SaleLineRow.__table__).where(SaleLineRow.sale_id == document_id))
    ]
    add_to_takings_in(
        session,
        day,
        kind=sale.kind,
        reason=sale.reason,
        seller_id=seller_id,
        currency=sale.currency,
        totals=(sale.gross_pence, sale.discount_pence, sale.net_pence, sale.vat_pence),
        lines=lines,
        tenders=session.execute(
            select(TenderRow.kind, TenderRow.currency, TenderRow.amount_pence).where(
                TenderRow.sale_id == document_id
            )
        ).all(),
    )


def _group(reason: str | None, discount: int) -> str:
    """``discount_group`` of one line, in Python."""
    if discount == 0 or reason is None:
        return ""
    if reason.startswith(_PACKAGE_PREFIX):
        return PACKAGE_SESSIONS
    if reason.startswith(_OVERRIDE_PREFIX):
        return OVERRIDES
    return reason


@cache
def _adding(table: Table) -> TextClause:
    """``INSERT INTO table VALUES (…) ON CONFLICT (its key) DO UPDATE SET x = table.x + excluded.x``: the same
    text on SQLite and PostgreSQL, built once."""
    names = [c.name for c in table.columns]
    key = [c.name for c in table.primary_key.columns]
    added = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in names if n not in key)
    return text(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {added}"
    ).bindparams(bindparam("day", type_=Date()))


def rebuild_takings(connection: Connection, time_zone: str, *, writers: bool = True) -> None:
    """Sum every document again, each on its clinic day in ``time_zone``, replacing what the summary held.
    ``writers=False``: the tables as migration 0014 made them, before their rows named a writer (0016)."""
    for table in (_DOCUMENTS, _LINES, _TENDERS):
        connection.execute(delete(table))
    first, last = connection.execute(select(func.min(SaleRow.created_at), func.max(SaleRow.created_at))).one()
    if first is None:
        return
    tz = ZoneInfo(time_zone)
    for starts, ends, day in clinic_day_runs(tz, first.astimezone(tz).date(), last.astimezone(tz).date()):
        in_run = and_(SaleRow.created_at >= starts, SaleRow.created_at < ends)
        on = literal(day, Date()) if isinstance(day, dt.date) else _local_date(SaleRow.created_at, day)
        for statement in _statements(in_run, on, writers=writers):
            connection.execute(_upsert(connection.dialect.name, statement, writers=writers))


def clinic_day_runs(
    tz: ZoneInfo, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.datetime, dt.datetime, Any]]:
    """The clinic's days ``first`` to ``last`` as runs ``(starts, ends, day)`` of UTC instants: ``day`` is the
    offset in seconds from UTC that gives every instant of the run its local day (consecutive 24-hour days with
    the same offset at midnight), or the day itself for a day the clocks change in (23 or 25 hours)."""

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)

    run_start: dt.datetime | None = None
    run_offset = 0
    day = first
    while day <= last:
        starts, ends = start(day), start(day + dt.timedelta(days=1))
        offset = int(dt.datetime.combine(day, dt.time(0), tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        whole = ends - starts == dt.timedelta(days=1)
        if run_start is not None and (not whole or offset != run_offset):
            yield run_start, starts, run_offset
            run_start = None
        if not whole:
            yield starts, ends, day
        elif run_start is None:
            run_start, run_offset = starts, offset
        day += dt.timedelta(days=1)
    if run_start is not None:
        yield run_start, start(last + dt.timedelta(days=1)), run_offset


def discount_group(reason: Any, discount: Any) -> ColumnElement[str]:
    """A line's discount group: '' for no discount, the overrides and package sessions each as one group."""
    return case(
        (discount == literal_column("0"), literal_column("''")),
        (reason.is_(None), literal_column("''")),
        (_starts(reason, _PACKAGE_PREFIX), literal_column(f"'{PACKAGE_SESSIONS}'")),
        (_starts(reason, _OVERRIDE_PREFIX), literal_column(f"'{OVERRIDES}'")),
        else_=reason,
    )


def _starts(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` begins with ``prefix``, case and all (``LIKE`` ignores case on SQLite)."""
    return func.substr(column, 1, len(prefix)) == literal_column(f"'{prefix}'")


def _statements(where: ColumnElement[bool], day: ColumnElement[dt.date], *, writers: bool) -> list[Any]:
    """The three ``SELECT … GROUP BY`` of the documents matching ``where``, each row on ``day``, in the order
    every document adds them (documents, lines, tenders; each ordered by its key)."""
    day = day.label("day")
    reason = case(
        (SaleRow.kind == literal_column("'sale'"), literal_column("''")),
        else_=func.coalesce(SaleRow.reason, literal_column("''")),
    )
    rebuilt = [literal_column("''").label("writer")] if writers else []  # what is summed again has no writer
    documents_key = (day, SaleRow.kind, reason, SaleRow.currency)
    documents = (
        select(
            *documents_key,
            *rebuilt,
            func.count(),
            func.sum(SaleRow.gross_pence),
            func.sum(SaleRow.discount_pence),
            func.sum(SaleRow.net_pence),
            func.sum(SaleRow.vat_pence),
        )
        .where(where)
        .group_by(*documents_key)
        .order_by(*documents_key)
    )
    original_line, original_sale = aliased(SaleLineRow), aliased(SaleRow)
    who = func.coalesce(AppointmentRow.practitioner_id, original_sale.staff_id, SaleRow.staff_id)
    group = discount_group(SaleLineRow.discount_reason, SaleLineRow.discount_pence)
    lines_key = (day, SaleRow.kind, SaleLineRow.kind, who, group, SaleRow.currency)
    lines = (
        select(
            *lines_key,
            *rebuilt,
            func.count(),
            func.sum(SaleLineRow.gross_pence),
            func.sum(SaleLineRow.discount_pence),
            func.sum(SaleLineRow.net_pence),
            func.sum(SaleLineRow.vat_pence),
        )
        .select_from(SaleRow)
        .join(SaleLineRow, SaleLineRow.sale_id == SaleRow.id)
        .outerjoin(
            original_line,
            and_(
                original_line.sale_id == SaleRow.refers_to_sale_id,
                original_line.position == SaleLineRow.refunds_position,
            ),
        )
        .outerjoin(original_sale, original_sale.id == SaleRow.refers_to_sale_id)
        .outerjoin(
            AppointmentRow,
            AppointmentRow.id == func.coalesce(SaleLineRow.appointment_id, original_line.appointment_id),
        )
        .where(where)
        .group_by(*lines_key)
        .order_by(*lines_key)
    )
    tenders_key = (day, SaleRow.kind, TenderRow.kind, TenderRow.currency)
    tenders = (
        select(*tenders_key, *rebuilt, func.count(), func.sum(TenderRow.amount_pence))
        .select_from(SaleRow)
        .join(TenderRow, TenderRow.sale_id == SaleRow.id)
        .where(where)
        .group_by(*tenders_key)
        .order_by(*tenders_key)
    )
    return [(_DOCUMENTS, documents), (_LINES, lines), (_TENDERS, tenders)]


def _upsert(dialect_name: str, target: tuple[Any, Any], *, writers: bool) -> Any:
    """``INSERT INTO table SELECT …`` adding to the rows already there (same key) instead of clashing."""
    table, query = target
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    kept = [c for c in table.columns if writers or c.name != "writer"]
    key = [c.name for c in kept if c.primary_key]
    names = [c.name for c in kept]
    statement = dialect.insert(table).from_select(names, query)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={name: table.c[name] + excluded[name] for name in names if name not in key},
    )


class _local_date(FunctionElement[dt.date]):  # noqa: N801 - used like a SQL function
    """The calendar day of a UTC timestamp column moved by a whole number of seconds (the clinic's offset)."""

    type = Date()
    inherit_cache = True

    def __init__(self, moment: Any, seconds: int) -> None:
        super().__init__(moment, literal(int(seconds), Integer()))


@compiles(_local_date, "sqlite")
def _local_date_sqlite(element: _local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = list(element.clauses)
    return f"date({compiler.process(moment, **kw)}, ({compiler.process(seconds, **kw)}) || ' seconds')"


@compiles(_local_date)
def _local_date_default(element: _local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = list(element.clauses)
    offset = f"make_interval(secs => {compiler.process(seconds, **kw)})"
    return f"CAST(({compiler.process(moment, **kw)} AT TIME ZONE 'UTC') + {offset} AS DATE)"
