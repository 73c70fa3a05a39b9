"""The Sales screen's list: sales, refunds and voids by day range, number, client, staff member or way paid.

``find_sales`` reads one page of the list in one query (the client's and staff member's names, the original a
refund or void points to, and the ways it was paid, all joined in), newest first, with how many match in all;
the screen asks for the next page as the table scrolls. ``sales_filters`` gives the choices of the filters.
A sale's receipt is ``sales.sale_receipt``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.refunds import DocumentKind
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.store.tables import ClientRow, SaleRow, StaffRow, TenderRow, search_text

PAGE = 100
_TENDER_VALUES = frozenset(kind.value for kind in TenderKind)
_KINDS = tuple(kind.value for kind in DocumentKind)
MAX_DAYS = 3660  # ten years in one list is already more than anyone reads


@dataclass(frozen=True, slots=True)
class SaleSummary:
    """One row of the Sales screen. ``kind`` is sale, refund or void; a refund or void names its original."""

    id: str
    number: str
    created_at: dt.datetime
    kind: str
    original_id: str | None
    original_number: str | None
    client_id: str | None
    client_name: str | None
    client_email: str | None
    staff_name: str
    tenders: tuple[TenderKind, ...]
    total: Money
    channel: str


@dataclass(frozen=True, slots=True)
class SalesPage:
    rows: tuple[SaleSummary, ...]
    offset: int
    total_count: int  # how many sales match, across every page

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.rows) < self.total_count


@dataclass(frozen=True, slots=True)
class StaffChoice:
    id: str
    name: str


@use_case(Action.TAKE_PAYMENTS)
def sales_filters(services: Services, staff_id: str) -> tuple[StaffChoice, ...]:
    """Who has rung up a sale here (leavers too: their sales stay), by name: the Sales screen's staff filter."""
    with services.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(StaffRow.id, StaffRow.name)
            .where(exists().where(SaleRow.staff_id == StaffRow.id))
            .order_by(func.lower(StaffRow.name), StaffRow.id)
        ).all()
    return tuple(StaffChoice(row.id, row.name) for row in rows)


@use_case(Action.TAKE_PAYMENTS)
def find_sales(
    services: Services,
    staff_id: str,
    *,
    from_day: dt.date | str | None = None,
    to_day: dt.date | str | None = None,
    text: str = "",
    sold_by: str | None = None,
    tender: TenderKind | str | None = None,
    kind: str | None = None,
    offset: int = 0,
    how_many: int = PAGE,
) -> SalesPage:
    """One page of the sales that match, newest first; days are the clinic's, both included.

    With no days given it is today's. ``text`` is a sale number ("A-000123", or just "123") or the start of a
    client's name or email address. ``sold_by`` is a staff member's id, ``tender`` a way of paying, ``kind``
    sale, refund or void.
    """
    offset = inputs.offset(offset)
    how_many = inputs.how_many(how_many, maximum=1000)
    text = inputs.text(text, what="The search", required=False, max_length=100)
    chosen_tender = (
        None if tender in (None, "") else inputs.choice(TenderKind, tender, what="a way of paying")
    )
    if kind not in (None, "") and kind not in _KINDS:
        raise InvalidInput(f"“{kind}” is not a kind of sale ({', '.join(_KINDS)}).")
    if sold_by is not None and not isinstance(sold_by, str):
        raise InvalidInput("Choose the staff member from the list.")
    with services.uow(read_only=True) as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        today = services.now().astimezone(settings.tz).date()
        first = today if from_day in (None, "") else inputs.calendar_day(from_day, what="The first day")
        last = first if to_day in (None, "") else inputs.calendar_day(to_day, what="The last day")
        if from_day in (None, "") and to_day not in (None, ""):
            first = last
        if last < first:
            raise InvalidInput("The last day is before the first day. Choose the days again.")
        if (last - first).days > MAX_DAYS:
            raise InvalidInput("Choose at most ten years of sales at a time.")
        start = dt.datetime.combine(first, dt.time(), tzinfo=settings.tz).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=settings.tz).astimezone(
            dt.UTC
        )

        original = aliased(SaleRow)
        tenders = (
            select(func.aggregate_strings(TenderRow.kind, ","))
            .where(TenderRow.sale_id == SaleRow.id)
            .correlate(SaleRow)
            .scalar_subquery()
        )
        conditions = [SaleRow.created_at >= start, SaleRow.created_at < end]
        if text:
            conditions.append(_matching(text))
        if sold_by:
            conditions.append(SaleRow.staff_id == sold_by)
        if chosen_tender is not None:
            conditions.append(
                exists().where(TenderRow.sale_id == SaleRow.id, TenderRow.kind == chosen_tender.value)
            )
        if kind:
            conditions.append(SaleRow.kind == kind)
        query = (
            select(
                SaleRow.id,
                SaleRow.number,
                SaleRow.created_at,
                SaleRow.kind,
                SaleRow.refers_to_sale_id,
                original.number.label("original_number"),
                SaleRow.client_id,
                ClientRow.first_name,
                ClientRow.last_name,
                ClientRow.email,
                StaffRow.name.label("staff_name"),
                tenders.label("tenders"),
                SaleRow.net_pence,
                SaleRow.currency,
                SaleRow.channel,
                func.count().over().label("total_count"),
            )
            .join(StaffRow, StaffRow.id == SaleRow.staff_id)
            .outerjoin(ClientRow, ClientRow.id == SaleRow.client_id)
            .outerjoin(original, original.id == SaleRow.refers_to_sale_id)
            .where(and_(*conditions))
            .order_by(SaleRow.created_at.desc(), SaleRow.number.desc())
            .offset(offset)
            .limit(how_many)
        )
        rows = s.execute(query).all()
        if rows:
            total = rows[0].total_count
        elif offset:  # a page past the end: how many there are, for the screen to say so
            total = s.scalar(
                select(func.count())
                .select_from(SaleRow)
                .outerjoin(ClientRow, ClientRow.id == SaleRow.client_id)
                .where(and_(*conditions))
            )
        else:
            total = 0
    return SalesPage(rows=tuple(_summary(row) for row in rows), offset=offset, total_count=total)


def _matching(typed: str):  # type: ignore[no-untyped-def]
    """A sale number (whole, or its digits) or the start of the client's name (any word) or email."""
    upper = typed.upper().replace(" ", "")
    number = [SaleRow.number == upper]
    if upper.isdigit():
        number.append(SaleRow.number.like(f"%-{int(upper):06d}"))
    words = search_text(typed).split()
    name = and_(
        *(
            or_(
                ClientRow.search_name.like(_prefix(word), escape="\\"),
                ClientRow.search_name.like("% " + _prefix(word), escape="\\"),
            )
            for word in words
        )
    )
    email = ClientRow.search_email.like(_prefix(search_text(typed)), escape="\\")
    return or_(*number, and_(ClientRow.id.is_not(None), or_(name, email)))


def _prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _summary(row) -> SaleSummary:  # type: ignore[no-untyped-def]
    kinds = []
    for value in (row.tenders or "").split(","):
        if value in _TENDER_VALUES and TenderKind(value) not in kinds:
            kinds.append(TenderKind(value))
    client_name = (
        f"{row.first_name} {row.last_name}" if row.client_id and row.first_name is not None else None
    )
    return SaleSummary(
        id=row.id,
        number=row.number,
        created_at=row.created_at,
        kind=row.kind,
        original_id=row.refers_to_sale_id,
        original_number=row.original_number,
        client_id=row.client_id,
        client_name=client_name,
        client_email=row.email if row.client_id else None,
        staff_name=row.staff_name,
        tenders=tuple(kinds),
        total=Money(row.net_pence, row.currency),
        channel=row.channel,
    )
