"""Redemption: how much of each package clients use (sessions sold, redeemed, booked, refunded, left to expire)
and how quickly they go from one step to the next, against the package's minimum days between them.

Both are aggregates over what the write paths keep beside the counters: each client package's sessions summed
over its steps, and each step's days from the step before (from the redeem entries: the day of each session).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aestheticc_pos.domain.reports import rate_bp
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.report_packages import OPEN, TOTAL
from aestheticc_pos.services.report_sql import ReportClinic, clinic_in, pence_sum
from aestheticc_pos.store.tables import ClientPackageRow, ClientPackageStepRow, PackageRow, PackageStepRow
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PackageRedemption:
    package_id: str
    name: str
    sold: int  # client packages
    sessions: int  # sold, with adjustments
    redeemed: int
    booked: int
    refunded: int
    expired: int  # left unused when the package expired

    @property
    def rate_bp(self) -> int | None:
        return rate_bp(self.redeemed, self.sessions)


@dataclass(frozen=True, slots=True)
class StepTiming:
    """Step ``position`` of a package: the days from the last session of the step before to the first of this
    one, on average over the clients who had both, against the package's minimum."""

    package_id: str
    package_name: str
    position: int
    step_name: str
    min_days: int
    clients: int
    average_days: float | None


@dataclass(frozen=True, slots=True)
class RedemptionReport:
    packages: tuple[PackageRedemption, ...]
    steps: tuple[StepTiming, ...]


@use_case(Action.VIEW_REPORTS)
def redemption_report(services: Services, *, staff_id: str) -> RedemptionReport:
    """Every package sold: how many of its sessions were used, and the days clients took between steps."""
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return RedemptionReport(_redemptions(uow, clinic), _step_timings(uow))


def _redemptions(uow: UnitOfWork, clinic: ReportClinic) -> tuple[PackageRedemption, ...]:
    """Per package, from the counters each client package keeps summed over its steps, summed package by
    package in the order of ``ix_client_packages_by_package`` (no sorting), then named."""
    cp = ClientPackageRow
    per = (
        select(
            cp.package_id,
            func.count().label("sold"),
            pence_sum(TOTAL).label("sessions"),
            pence_sum(cp.sessions_redeemed).label("redeemed"),
            pence_sum(cp.sessions_reserved).label("booked"),
            pence_sum(cp.sessions_refunded).label("refunded"),
            pence_sum(case((cp.expires_on < clinic.today, OPEN), else_=0)).label("expired"),
        )
        .group_by(cp.package_id)
        .subquery("per_package")
    )
    figures = (per.c.sold, per.c.sessions, per.c.redeemed, per.c.booked, per.c.refunded, per.c.expired)
    rows = uow.session.execute(
        select(per.c.package_id, PackageRow.name, *figures)
        .join(PackageRow, PackageRow.id == per.c.package_id)
        .order_by(PackageRow.name, per.c.package_id)
    ).all()
    return tuple(PackageRedemption(pid, name, *(int(x) for x in figures)) for pid, name, *figures in rows)


def _step_timings(uow: UnitOfWork) -> tuple[StepTiming, ...]:
    """The days each client package step kept from the one before (``days_after_previous``, written with the
    redemptions: ``domain.packages.step_gaps``), averaged per package step from ``ix_client_package_steps_gaps``,
    beside the catalogue step's name and minimum."""
    taken, step = ClientPackageStepRow, PackageStepRow
    rows = uow.session.execute(
        select(
            taken.package_id,
            PackageRow.name,
            taken.position,
            step.name,
            step.min_days_after_previous,
            func.count(),
            func.avg(taken.days_after_previous),
        )
        .join(PackageRow, PackageRow.id == taken.package_id)
        .join(step, and_(step.package_id == taken.package_id, step.position == taken.position))
        .where(taken.days_after_previous.is_not(None))
        .group_by(taken.package_id, PackageRow.name, taken.position, step.name, step.min_days_after_previous)
        .order_by(PackageRow.name, taken.position)
    ).all()
    return tuple(
        StepTiming(pid, name, int(pos), step_name, int(minimum), int(n), None if avg is None else float(avg))
        for pid, name, pos, step_name, minimum, n, avg in rows
    )
