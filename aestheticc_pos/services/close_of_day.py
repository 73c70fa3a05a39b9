"""Close of day at a till: the X report (the day so far, any time), the cash-up and the Z report that closes
the day, and the visits left "booked" in the past that must be settled first (DESIGN.md §3; rules in
``domain/close_of_day.py``).

A day is the clinic's calendar day in its time zone, per till (its sale-number prefix: each till counts its
own drawer). Closing writes the Z report's figures as they were; a closed day is never changed — a refund or
void of its sales is refused (``require_day_open_in``) and made as a new document on a later day.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.close_of_day import (
    CashCount,
    Direction,
    Movement,
    ReportKind,
    Takings,
    TenderLine,
    count_cash,
    require_open,
    takings,
    unsettled_visits,
)
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientRow,
    DayClosureRow,
    SaleRow,
    StaffRow,
    TenderRow,
    TreatmentRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class VisitToSettle:
    """An appointment still "booked" although its time has passed."""

    appointment_id: str
    starts_at: dt.datetime
    client_name: str
    treatment_name: str
    practitioner_name: str


@dataclass(frozen=True, slots=True)
class Closure:
    """How the day was closed: its Z number, the drawer, who closed it and when."""

    z_number: int
    cash: CashCount
    staff_name: str
    closed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DayReport:
    """An X report (``closure`` None) or the Z report of a closed day."""

    kind: ReportKind
    day: dt.date
    till_prefix: str
    takings: Takings
    sales: int
    refunds: int
    first_number: str | None
    last_number: str | None
    to_settle: tuple[VisitToSettle, ...]
    closure: Closure | None

    @property
    def expected_cash_change(self) -> Money:
        """What the day did to the drawer: cash taken less cash paid back."""
        return self.takings.line(TenderKind.CASH).net


@use_case(Action.CASH_UP)
def day_report(services: Services, day: dt.date, staff_id: str) -> DayReport:
    """The day at this till: an X report while it is open, its Z report once closed."""
    day = inputs.calendar_day(day, what="The day")
    with services.uow(read_only=True) as uow:
        return _report(uow, services, day)


@use_case(Action.CASH_UP)
def close_day(
    services: Services,
    day: dt.date,
    *,
    opening_float: Money | str,
    counted: Money | str,
    reason: str = "",
    staff_id: str,
) -> DayReport:
    """Count the drawer and close the day with its Z report. Refused for a day still to come, a day already
    closed, a visit of the day (or before) still "booked", and a difference in the drawer without a reason."""
    day = inputs.calendar_day(day, what="The day")
    opening_float = inputs.money(opening_float, what="The float")
    counted = inputs.money(counted, what="The cash counted")
    reason = inputs.text(reason, what="The reason", required=False, max_length=500)
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        if day > now.astimezone(settings.tz).date():
            raise RuleViolation("A day can be closed once it has begun: choose today or an earlier day.")
        report = _report(uow, services, day)
        if report.closure is not None:
            raise RuleViolation(
                f"{day.day} {day:%b %Y} is already closed (Z {report.closure.z_number}). Print its Z report again."
            )
        if report.to_settle:
            n = len(report.to_settle)
            raise RuleViolation(
                f"{n} appointment{'s are' if n > 1 else ' is'} still booked although {'their' if n > 1 else 'its'} "
                "time has passed: mark each attended, no-show or cancelled, then close the day."
            )
        cash = count_cash(report.takings, opening_float=opening_float, counted=counted, reason=reason)
        z_number = 1 + int(
            s.scalar(
                select(func.max(DayClosureRow.z_number)).where(
                    DayClosureRow.till_prefix == settings.till_prefix
                )
            )
            or 0
        )
        s.add(
            DayClosureRow(
                day=day,
                till_prefix=settings.till_prefix,
                z_number=z_number,
                report=json.dumps(_figures(report), sort_keys=True),
                opening_float_pence=opening_float.pence,
                counted_pence=counted.pence,
                expected_pence=cash.expected.pence,
                currency=counted.currency,
                reason=cash.reason,
                staff_id=staff_id,
                closed_at=now,
            )
        )
        try:
            s.flush()
        except IntegrityError:  # another till closed it at the same moment (PostgreSQL)
            raise RuleViolation(f"{day.day} {day:%b %Y} was closed at another till just now.") from None
        append_audit(
            s,
            at=now,
            staff_id=staff_id,
            action="day.closed",
            record_type="day",
            record_id=f"{settings.till_prefix}:{day.isoformat()}",
            reason=cash.reason or None,
            details={
                "z_number": z_number,
                "net_pence": report.takings.net.pence,
                "difference_pence": cash.difference.pence,
            },
        )
        closed = _report(uow, services, day)
        uow.commit()
    return closed


@use_case(Action.CASH_UP)
def visits_to_settle(
    services: Services, staff_id: str, *, from_earlier_days: bool = False
) -> list[VisitToSettle]:
    """Every visit still "booked" whose time has passed, oldest first (asked at close). With
    ``from_earlier_days``, only those of a day before today: what the till asks about again next morning,
    leaving this morning's visits to their usual course."""
    now = services.now()
    with services.uow(read_only=True) as uow:
        before = now
        if from_earlier_days:
            tz = read_clinic_settings(uow.session).tz
            before = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz).astimezone(dt.UTC)
        return _to_settle(uow, now, before=before)


def require_day_open_in(uow: UnitOfWork, moment: dt.datetime) -> None:
    """Refuse to change what was recorded at ``moment`` once its day is closed at this till."""
    settings = read_clinic_settings(uow.session)
    day = moment.astimezone(settings.tz).date()
    closed = uow.session.scalars(
        select(DayClosureRow.day).where(
            DayClosureRow.day == day, DayClosureRow.till_prefix == settings.till_prefix
        )
    ).all()
    require_open(day, closed)


_closures = DayClosureRow.__table__.c
_DAY_CLOSED = select(_closures.day).where(  # built once: checked at every sale and refund
    _closures.day == bindparam("day"), _closures.till_prefix == bindparam("till")
)


def require_today_open_in(
    uow: UnitOfWork, now: dt.datetime, *, what: str, settings: ClinicSettings | None = None
) -> None:
    """Refuse a new document (``what``: "the sale", "the refund") on a day already closed at this till: its Z
    report is written, so the document would be in no Z report. ``settings``: the clinic's, if already read."""
    settings = settings or read_clinic_settings(uow.session)
    today = now.astimezone(settings.tz).date()
    closed = uow.session.execute(_DAY_CLOSED, {"day": today, "till": settings.till_prefix}).first()
    if closed is not None:
        raise RuleViolation(
            "Today is already closed at this till, so nothing more can be recorded on it. "
            f"Record {what} tomorrow, or at another till."
        )


def _report(uow: UnitOfWork, services: Services, day: dt.date) -> DayReport:
    s = uow.session
    settings = read_clinic_settings(s)
    closure_row = s.get(DayClosureRow, (day, settings.till_prefix))
    if closure_row is not None:  # the Z report as it was written at close, whatever was recorded since
        return _z_report(uow, closure_row)
    start = dt.datetime.combine(day, dt.time(), settings.tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), settings.tz).astimezone(dt.UTC)
    rows = s.execute(
        select(SaleRow.kind, SaleRow.number, TenderRow.kind, TenderRow.amount_pence, TenderRow.currency)
        .join(TenderRow, TenderRow.sale_id == SaleRow.id, isouter=True)
        .where(
            SaleRow.till_prefix == settings.till_prefix, SaleRow.created_at >= start, SaleRow.created_at < end
        )
        .order_by(SaleRow.number)
    ).all()
    movements = [
        Movement(
            TenderKind(tender),
            Direction.IN if kind == "sale" else Direction.OUT,
            Money(abs(pence), currency),
            number,
        )
        for kind, number, tender, pence, currency in rows
        if tender is not None and pence
    ]
    documents = {(kind, number) for kind, number, *_ in rows}
    sale_numbers = sorted(number for _kind, number in documents)
    now = services.now()
    return DayReport(
        kind=ReportKind.X,
        day=day,
        till_prefix=settings.till_prefix,
        takings=takings(movements),
        sales=sum(1 for kind, _ in documents if kind == "sale"),
        refunds=sum(1 for kind, _ in documents if kind != "sale"),
        first_number=sale_numbers[0] if sale_numbers else None,
        last_number=sale_numbers[-1] if sale_numbers else None,
        to_settle=tuple(_to_settle(uow, now, before=min(end, now))),
        closure=None,
    )


def _z_report(uow: UnitOfWork, row: DayClosureRow) -> DayReport:
    """A closed day's Z report from the figures kept when it was closed."""
    figures = json.loads(row.report)
    currency = str(figures["currency"])
    tenders = figures["tenders"]
    lines = tuple(
        TenderLine(
            tender,
            Money(int(tenders.get(tender.value, {}).get("taken_pence", 0)), currency),
            Money(int(tenders.get(tender.value, {}).get("refunded_pence", 0)), currency),
        )
        for tender in TenderKind
    )
    return DayReport(
        kind=ReportKind.Z,
        day=row.day,
        till_prefix=row.till_prefix,
        takings=Takings(lines=lines, currency=currency),
        sales=int(figures["sales"]),
        refunds=int(figures["refunds"]),
        first_number=figures["first_number"],
        last_number=figures["last_number"],
        to_settle=(),
        closure=_closure(uow, row),
    )


def _to_settle(uow: UnitOfWork, now: dt.datetime, *, before: dt.datetime) -> list[VisitToSettle]:
    rows = uow.session.execute(
        select(AppointmentRow, ClientRow, TreatmentRow.name, StaffRow.name)
        .join(ClientRow, ClientRow.id == AppointmentRow.client_id)
        .join(TreatmentRow, TreatmentRow.id == AppointmentRow.treatment_id)
        .join(StaffRow, StaffRow.id == AppointmentRow.practitioner_id)
        .where(AppointmentRow.status == AppointmentStatus.BOOKED.value, AppointmentRow.starts_at < before)
    ).all()
    by_id = {a.id: (a, c, t, p) for a, c, t, p in rows}
    order = unsettled_visits({a.id: a.starts_at for a, *_ in rows}, now)
    return [
        VisitToSettle(
            appointment_id=a.id,
            starts_at=a.starts_at,
            client_name=f"{c.first_name} {c.last_name}",
            treatment_name=t,
            practitioner_name=p,
        )
        for a, c, t, p in (by_id[i] for i in order)
    ]


def _closure(uow: UnitOfWork, row: DayClosureRow) -> Closure:
    staff_name = uow.session.scalar(select(StaffRow.name).where(StaffRow.id == row.staff_id)) or ""
    cash = CashCount(
        opening_float=Money(row.opening_float_pence, row.currency),
        expected=Money(row.expected_pence, row.currency),
        counted=Money(row.counted_pence, row.currency),
        reason=row.reason,
    )
    return Closure(z_number=row.z_number, cash=cash, staff_name=staff_name, closed_at=row.closed_at)


def _figures(report: DayReport) -> dict[str, object]:
    return {
        "sales": report.sales,
        "refunds": report.refunds,
        "first_number": report.first_number,
        "last_number": report.last_number,
        "currency": report.takings.currency,
        "tenders": {
            line.tender.value: {"taken_pence": line.taken.pence, "refunded_pence": line.refunded.pence}
            for line in report.takings.lines
        },
    }
