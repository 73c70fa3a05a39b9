"""The Reports screen over the clinic group: how long each report takes to open, against its core aggregate in
raw SQL on the same data.

    .venv/bin/python bench/bench_reports.py [--data /tmp/bench-1m | --url …] [--repeat 10]

Timed, as the screen asks for them (a manager signed in, the group's "now" of ``bench/generate.py``):
the dashboard; takings for the last 90 days by week and for the last 12 months by month (both read the
takings summed per day, ``store/takings_summary.py``, against the raw sum over the sales); memberships for the last 12 months; package liability with
its 12-month roll-forward and the sessions expiring in 30 days (asked side by side, on two threads, as the page
asks them); redemption by package. Each against one raw
statement of the DB-API cursor that computes the report's headline figure (the net takings of the range, the
MRR today, the liability today, the sessions used per package). The target (issue 14) is a p95 under 300 ms.
"""

from __future__ import annotations

from common import Report, data_url, parser, row, samples  # isort: skip

import datetime as dt  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from sqlalchemy import select, text  # noqa: E402

from aestheticc_pos.clock import FixedClock  # noqa: E402
from aestheticc_pos.domain.reports import Grouping, months_back  # noqa: E402
from aestheticc_pos.domain.staff import Role  # noqa: E402
from aestheticc_pos.services import (  # noqa: E402
    report_memberships,
    report_packages,
    report_redemption,
    report_takings,
    reports,
)
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.tables import StaffRow  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # bench/generate.py's "now"
TODAY = NOW.date()
TARGET_MS = 300.0

NET_TAKINGS = text(
    "SELECT coalesce(sum(net_pence), 0) FROM sales WHERE created_at >= :start AND created_at < :end"
)
MRR = text(
    "SELECT coalesce(sum(monthly_price_pence), 0) FROM memberships "
    "WHERE status IN ('active', 'past_due', 'suspended', 'cancelling') AND started_on <= :today"
)
LIABILITY = text(  # from the counters each client package keeps summed over its steps (migration 0015)
    "SELECT round(sum(price_pence * 1.0 * (sessions_sold + sessions_adjusted - sessions_redeemed "
    "- sessions_refunded) / sessions_sold)) FROM client_packages WHERE expires_on >= :today"
)
USED = text(
    "SELECT package_id, sum(sessions_redeemed), sum(sessions_sold + sessions_adjusted) FROM client_packages "
    "GROUP BY package_id"
)


def main() -> int:
    p = parser(__doc__)
    p.set_defaults(repeat=10)
    args = p.parse_args()
    url = data_url(args)
    upgrade_to_head(url)
    engine = create_engine_for(url)
    services = Services(uow=UnitOfWorkFactory(engine), clock=FixedClock(NOW))
    report = Report("reports", url.split("@")[-1])
    with engine.connect() as connection:
        manager = connection.scalar(select(StaffRow.id).where(StaffRow.role == Role.MANAGER.value).limit(1))
    first_month = months_back(TODAY, 11)
    start = dt.datetime.combine(TODAY - dt.timedelta(days=89), dt.time(0), dt.UTC)
    end = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), dt.UTC)
    month_start = dt.datetime.combine(TODAY.replace(day=1), dt.time(0), dt.UTC)
    year_start = dt.datetime.combine(first_month, dt.time(0), dt.UTC)
    sqlite = url.startswith("sqlite")

    def stamp(moment: dt.datetime) -> object:
        return moment.replace(tzinfo=None).isoformat(sep=" ") if sqlite else moment

    def raw(statement, **params) -> Callable[[], None]:  # type: ignore[no-untyped-def]
        def run() -> None:
            with engine.connect() as connection:
                connection.execute(statement, params).all()

        return run

    cases = [
        (
            "Dashboard",
            lambda: reports.dashboard(services, staff_id=manager),
            "raw SUM of this month's takings",
            raw(NET_TAKINGS, start=stamp(month_start), end=stamp(end)),
        ),
        (
            "Takings, 90 days by week (7 splits)",
            lambda: report_takings.takings_report(
                services,
                first=TODAY - dt.timedelta(days=89),
                last=TODAY,
                grouping=Grouping.WEEK,
                staff_id=manager,
            ),
            "raw SUM of the range's takings",
            raw(NET_TAKINGS, start=stamp(start), end=stamp(end)),
        ),
        (
            "Takings, 12 months by month (7 splits)",
            lambda: report_takings.takings_report(
                services, first=first_month, last=TODAY, grouping=Grouping.MONTH, staff_id=manager
            ),
            "raw SUM of the range's takings",
            raw(NET_TAKINGS, start=stamp(year_start), end=stamp(end)),
        ),
        (
            "Memberships, 12 months (MRR bridge)",
            lambda: report_memberships.memberships_report(
                services, first_month=first_month, last_month=TODAY, staff_id=manager
            ),
            "raw SUM of today's MRR",
            raw(MRR, today=TODAY),
        ),
        (
            "Package liability page: 12-month roll-forward and sessions expiring in 30 days, side by side",
            lambda: _side_by_side(
                lambda: report_packages.liability_report(
                    services, first_month=first_month, last_month=TODAY, staff_id=manager
                ),
                lambda: report_packages.expiring_sessions(services, staff_id=manager),
            ),
            "raw SUM of today's liability",
            raw(LIABILITY, today=TODAY),
        ),
        (
            "Redemption by package",
            lambda: report_redemption.redemption_report(services, staff_id=manager),
            "raw sessions used per package",
            raw(USED),
        ),
    ]
    try:
        for what, work, baseline, base in cases:
            base_times = samples(base, args.repeat)
            cpu: list[float] = []
            times = samples(_cpu_timed(work, cpu), args.repeat)
            p95 = sorted(times)[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
            report.add(
                row(
                    what,
                    times,
                    baseline,
                    base_times,
                    target=f"p95 < {TARGET_MS:.0f} ms",
                    met=p95 < TARGET_MS,
                    note=f"CPU p50 {statistics.median(cpu[-args.repeat :]):.0f} ms (this process's own time)",
                )
            )
    finally:
        engine.dispose()
    report.write()
    return 0


def _side_by_side(*works: Callable[[], object]) -> None:
    """Run ``works`` at once on threads of their own, as the Reports screen asks a page's parts (each off the
    GUI thread), and wait for them all: the page is open when the last arrives."""
    with ThreadPoolExecutor(len(works)) as pool:
        for done in [pool.submit(work) for work in works]:
            done.result()


def _cpu_timed(work: Callable[[], object], into: list[float]) -> Callable[[], None]:
    """``work``, noting the processor time it took (ms) in ``into``: on a shared machine the wall time also
    counts the time others' work had the processor."""

    def run() -> None:
        started = time.process_time()
        work()
        into.append((time.process_time() - started) * 1000)

    return run


if __name__ == "__main__":
    raise SystemExit(main())
