"""The owner's dashboard: the figures checked every day, on one screen — today's takings, this month against the
same days of last month, the members and their monthly recurring revenue, arrears, what the clinic owes in
unused sessions, and the last 30 days of takings for a chart.

Each figure is one aggregate from the report modules (``report_takings``, ``report_memberships``,
``report_packages``), read in one transaction so they agree with each other; the takings sum the per-day
summary written with every sale, refund and void (``store/takings_summary.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Grouping, Period, periods
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.report_memberships import arrears_in, mrr_on_in
from aestheticc_pos.services.report_packages import EXPIRING_DAYS, UNBOOKED, liability_on_in
from aestheticc_pos.services.report_sql import ReportClinic, clinic_in, pence_sum
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientPackageRow,
    TakingsDayRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

CHART_DAYS = 30


@dataclass(frozen=True, slots=True)
class Dashboard:
    clinic_name: str
    is_set_up: bool
    today: dt.date
    takings_today: Money  # net of refunds
    sales_today: int
    appointments_today: int
    month_to_date: Money  # from the 1st to today
    last_month_to_date: Money  # the same days of last month
    last_month: Money  # the whole of last month
    members: int
    mrr: Money
    in_arrears: int
    arrears: Money
    liability: Money
    unredeemed_sessions: int
    expiring_packages: int  # with sessions unbooked, expiring in the next ``EXPIRING_DAYS`` days
    last_days: tuple[tuple[dt.date, Money], ...]  # net takings of each of the last ``CHART_DAYS`` days


@use_case(Action.VIEW_REPORTS)
def dashboard(services: Services, *, staff_id: str) -> Dashboard:
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return dashboard_in(uow, clinic, is_set_up=read_clinic_settings(uow.session).is_set_up)


def dashboard_in(uow: UnitOfWork, clinic: ReportClinic, *, is_set_up: bool = True) -> Dashboard:
    today = clinic.today
    this_month = today.replace(day=1)
    last_month_first = (this_month - dt.timedelta(days=1)).replace(day=1)
    last_month_last = this_month - dt.timedelta(days=1)
    last_month_same_day = last_month_first.replace(day=min(today.day, last_month_last.day))
    spans = [
        Period(today, today),
        Period(this_month, today),
        Period(last_month_first, last_month_same_day),
        Period(last_month_first, last_month_last),
    ]
    net_today, month_to_date, last_to_date, last_month = _net_takings(uow, clinic, spans)
    sales_today = uow.session.scalar(
        select(pence_sum(TakingsDayRow.documents)).where(
            TakingsDayRow.day == today, TakingsDayRow.document_kind == "sale"
        )
    )
    appointments_today = uow.session.scalar(
        select(func.count()).where(
            AppointmentRow.starts_at >= clinic.day_start(today),
            AppointmentRow.starts_at < clinic.day_start(today + dt.timedelta(days=1)),
            AppointmentRow.status.in_([AppointmentStatus.BOOKED.value, AppointmentStatus.ATTENDED.value]),
        )
    )
    members, mrr = mrr_on_in(uow, today)
    in_arrears, owed = arrears_in(uow)
    sessions, liability = liability_on_in(uow, today)
    days = periods(today - dt.timedelta(days=CHART_DAYS - 1), today, Grouping.DAY)
    daily = _net_takings(uow, clinic, days)
    return Dashboard(
        clinic_name=clinic.name,
        is_set_up=is_set_up,
        today=today,
        takings_today=clinic.money(net_today),
        sales_today=int(sales_today or 0),
        appointments_today=int(appointments_today or 0),
        month_to_date=clinic.money(month_to_date),
        last_month_to_date=clinic.money(last_to_date),
        last_month=clinic.money(last_month),
        members=members,
        mrr=clinic.money(mrr),
        in_arrears=in_arrears,
        arrears=clinic.money(owed),
        liability=clinic.money(liability),
        unredeemed_sessions=sessions,
        expiring_packages=_expiring_count(uow, today),
        last_days=tuple((d.first, clinic.money(net)) for d, net in zip(days, daily, strict=True)),
    )


def _net_takings(uow: UnitOfWork, clinic: ReportClinic, spans: list[Period]) -> list[int]:
    """The net takings (sales less refunds and voids) of each span, which may overlap: one pass over the
    summary's days (``store/takings_summary.py``), a sum per span."""
    day, net = TakingsDayRow.day, TakingsDayRow.net_pence
    row = uow.session.execute(
        select(*(pence_sum(case((and_(day >= p.first, day <= p.last), net), else_=0)) for p in spans)).where(
            day >= min(p.first for p in spans), day <= max(p.last for p in spans)
        )
    ).one()
    return [int(x) for x in row]


def _expiring_count(uow: UnitOfWork, today: dt.date) -> int:
    """Client packages expiring in the next ``EXPIRING_DAYS`` days with sessions not booked yet."""
    cp = ClientPackageRow
    return int(
        uow.session.scalar(
            select(func.count()).where(
                cp.expires_on >= today,
                cp.expires_on <= today + dt.timedelta(days=EXPIRING_DAYS),
                UNBOOKED > 0,
            )
        )
        or 0
    )
