"""Redemption: how much of each package clients use (sessions sold, redeemed, booked, refunded, left to expire)
and how quickly they go from one step to the next, against the package's minimum days between them.

Both are aggregates over what ``report_packages.client_package_sessions`` and the session ledger hold; the
steps' days come from the redeem entries (the day of each session), read by kind and client package from
``ix_session_ledger_report`` in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aestheticc_pos.domain.packages import LedgerKind
from aestheticc_pos.domain.reports import rate_bp
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.report_packages import client_package_sessions
from aestheticc_pos.services.report_sql import ReportClinic, clinic_in, days_between, pence_sum
from aestheticc_pos.store.tables import ClientPackageRow, PackageRow, PackageStepRow, SessionLedgerRow
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
    c = (
        client_package_sessions("total", "redeemed", "booked", "refunded", "open")
        .subquery("client_package_sessions")
        .c
    )
    rows = uow.session.execute(
        select(
            c.package_id,
            PackageRow.name,
            func.count(),
            pence_sum(c.total),
            pence_sum(c.redeemed),
            pence_sum(c.booked),
            pence_sum(c.refunded),
            pence_sum(case((c.expires_on < clinic.today, c.open), else_=0)),
        )
        .join(PackageRow, PackageRow.id == c.package_id)
        .group_by(c.package_id, PackageRow.name)
        .order_by(PackageRow.name, c.package_id)
    ).all()
    return tuple(PackageRedemption(pid, name, *(int(x) for x in figures)) for pid, name, *figures in rows)


def _step_timings(uow: UnitOfWork) -> tuple[StepTiming, ...]:
    """The first and last session of each step of each client package (materialised: read once, used twice),
    each step beside the one before it."""
    ledger = SessionLedgerRow
    sessions = (
        select(
            ledger.client_package_id.label("cp_id"),
            ledger.step_position.label("position"),
            func.min(ledger.session_on).label("first_on"),
            func.max(ledger.session_on).label("last_on"),
        )
        .where(ledger.kind == LedgerKind.REDEEM.value, ledger.session_on.is_not(None))
        .group_by(ledger.client_package_id, ledger.step_position)
        .cte("redeemed_steps")
        .prefix_with("MATERIALIZED")
    )
    earlier = sessions.alias("earlier")
    cp, step = ClientPackageRow, PackageStepRow
    rows = uow.session.execute(
        select(
            cp.package_id,
            PackageRow.name,
            step.position,
            step.name,
            step.min_days_after_previous,
            func.count(),
            func.avg(days_between(sessions.c.first_on, earlier.c.last_on)),
        )
        .select_from(sessions)
        .join(
            earlier, and_(earlier.c.cp_id == sessions.c.cp_id, earlier.c.position == sessions.c.position - 1)
        )
        .join(cp, cp.id == sessions.c.cp_id)
        .join(PackageRow, PackageRow.id == cp.package_id)
        .join(step, and_(step.package_id == cp.package_id, step.position == sessions.c.position))
        .group_by(cp.package_id, PackageRow.name, step.position, step.name, step.min_days_after_previous)
        .order_by(PackageRow.name, step.position)
    ).all()
    return tuple(
        StepTiming(pid, name, int(pos), step_name, int(minimum), int(n), None if avg is None else float(avg))
        for pid, name, pos, step_name, minimum, n, avg in rows
    )
