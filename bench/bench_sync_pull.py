"""Sync pull after a quiet spell: thousands of new payment events read and applied, requests counted.

    .venv/bin/python bench/bench_sync_pull.py [--members 130] [--months 13]

A clinic of ``--members`` Direct Debit members (signed up, authorised and subscribed through the real services,
sync engine, gocardless-pro client and the simulator on 127.0.0.1) stops syncing for ``--months`` while
GoCardless keeps collecting: every month each subscription makes a payment (``subscriptions payment_created``,
``payments created``, ``submitted``, ``confirmed``). Then one pull reads and applies all of it.

Figures, each with its baseline from the same run:

- requests of the pull, against ⌈N/500⌉ (N: the events read; GoCardless's largest page is 500), and against the
  reads one request per new payment would have cost (what the pull did before ``include=payment``);
- the pull's time, against a bare read of the same pages (the gateway's ``list_events`` over the same streams,
  nothing applied);
- a second pull at once: the overlap re-read before the watermark, in requests (one page of every kind of event,
  as an idle till asks each cycle) and events.

Results go to ``bench/results/sync_pull.json`` with the machine and the date. It runs in a temporary folder that
is removed at the end, and never touches the clinic's own data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from aestheticc_pos.clock import FixedClock  # noqa: E402
from aestheticc_pos.domain.staff import Role  # noqa: E402
from aestheticc_pos.services import catalogue, clients  # noqa: E402
from aestheticc_pos.services import memberships as memberships_service  # noqa: E402
from aestheticc_pos.services import staff as staff_service  # noqa: E402
from aestheticc_pos.services.context import ClinicSettings, Services, write_clinic_settings  # noqa: E402
from aestheticc_pos.services.handlers import MessageBus  # noqa: E402
from aestheticc_pos.settings import sqlite_url  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.tables import MembershipRow  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402
from aestheticc_pos.sync.engine import SyncEngine  # noqa: E402
from aestheticc_pos.sync.gocardless import GoCardlessGateway  # noqa: E402
from aestheticc_pos.sync.pull import EVENTS_PAGE_LIMIT, STREAMS  # noqa: E402
from aestheticc_pos.sync.simulator import Simulator  # noqa: E402

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
RESULTS = ROOT / "bench" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=130, help="Direct Debit members (default 130)")
    parser.add_argument("--months", type=int, default=13, help="months without a sync (default 13)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-pull-") as folder, Simulator(rate_limit=10**9) as sim:
        figures = _run(Path(folder), sim, args.members, args.months)
    _write(figures, args)
    return 0


def _run(folder: Path, sim: Simulator, members: int, months: int) -> dict[str, float]:
    url = sqlite_url(folder / "till.db")
    upgrade_to_head(url)
    engine = create_engine_for(url)
    try:
        uow = UnitOfWorkFactory(engine)
        clock = FixedClock(START)
        services = Services(uow=uow, clock=clock)
        sim.set_clock(START)
        gateway = GoCardlessGateway("bench-token", base_url=sim.base_url, timeout=30)
        till = SyncEngine(
            uow, gateway, clock, bus=MessageBus(services), rng=random.Random(1), requests_per_minute=10**7
        )
        started = time.perf_counter()
        _clinic_of_members(services, sim, till, members)
        print(
            f"{members} members signed up, authorised and subscribed in {time.perf_counter() - started:.1f} s"
        )

        later = (START + dt.timedelta(days=30 * months + 5)).date()
        seen = {e["id"] for e in sim.events()}
        sim.advance_to(later, auto_confirm=True)
        clock.set(dt.datetime.combine(later, dt.time(9), tzinfo=dt.UTC))
        waiting = [e for e in sim.events() if e["id"] not in seen]
        payment_events = sum(1 for e in waiting if e["resource_type"] == "payments")
        print(
            f"{months} months later GoCardless has {len(waiting)} new events, {payment_events} about payments"
        )

        bare_ms = _bare_read_ms(gateway)
        new_payments = len({e["links"]["payment"] for e in waiting if e["resource_type"] == "payments"})
        before = len(sim.requests)
        t0 = time.perf_counter()
        report = till.pull_events_once(later)
        pull_ms = (time.perf_counter() - t0) * 1000
        requests = len(sim.requests) - before
        assert report.stopped is None, report.stopped

        before = len(sim.requests)
        again = till.pull_events_once(later)
        again_requests = len(sim.requests) - before
        paid = _members_paid_through(uow)
    finally:
        engine.dispose()

    pages = math.ceil(report.received / EVENTS_PAGE_LIMIT)
    per_payment = report.pages + new_payments
    print()
    print(
        f"{'events read (N)':<46} {report.received:>8}   applied {report.applied}, {report.duplicates} again"
    )
    print(
        f"{'requests of the pull':<46} {requests:>8}   {requests / pages:5.2f}× ⌈N/500⌉ = {pages}"
        f"   ({requests / per_payment:.3f}× one request per new payment: {per_payment})"
    )
    print(
        f"{'time of the pull (read and apply)':<46} {pull_ms:8.0f} ms {pull_ms / bare_ms:5.1f}× a bare page read"
    )
    print(f"{'':<46} {'':>8}   ({bare_ms:.0f} ms: the same pages read, nothing applied)")
    print(
        f"{'a second pull at once (overlap re-read)':<46} {again_requests:>8}   requests (1: the first page); "
        f"{again.received} events re-read, {again.applied} applied"
    )
    print(f"{'members paid through the last month':<46} {paid:>8}   of {members}")
    return {
        "events": report.received,
        "payment_events": payment_events,
        "requests": requests,
        "pages_target": pages,
        "requests_one_per_payment": per_payment,
        "pull_ms": round(pull_ms, 1),
        "bare_read_ms": round(bare_ms, 1),
        "second_pull_requests": again_requests,
        "second_pull_events": again.received,
        "members_paid_up": paid,
    }


def _clinic_of_members(services: Services, sim: Simulator, till: SyncEngine, members: int) -> None:
    with services.uow() as work:
        write_clinic_settings(
            work.session, ClinicSettings(name="Bench Clinic", address="1 High Street, Bath")
        )
        work.commit()
    manager = staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="123456", by_staff_id=None
    ).id
    desk = staff_service.add_staff(
        services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager
    ).id
    tier = catalogue.add_tier(
        services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20"
    ).id
    for n in range(members):
        client = clients.add_client(
            services, staff_id=desk, first_name=f"Member{n}", last_name="Bench", email=f"m{n}@example.com"
        )
        memberships_service.start_membership(services, client_id=client.id, tier_id=tier, staff_id=desk)
    today = START.date()
    _sync_until_quiet(till, today)
    with services.uow(read_only=True) as uow:
        flows = [f for f in uow.session.query(MembershipRow.gc_flow_id).all() if f[0]]
    for (flow,) in flows:
        sim.authorise(flow, account_holder_name="Member Bench", account_number="55779911")
    _sync_until_quiet(till, today)


def _sync_until_quiet(till: SyncEngine, today: dt.date) -> None:
    """Cycles until one sends nothing (a cycle drains at most 100 rows twice)."""
    for _ in range(100):
        report = till.run_cycle(today)
        sent = report.first_drain.sent + (report.second_drain.sent if report.second_drain else 0)
        if sent == 0:
            return
    raise RuntimeError("the outbox never emptied")


def _bare_read_ms(gateway: GoCardlessGateway) -> float:
    """Reading every page the pull reads (a first page of every kind of event, then each stream), applying
    nothing."""
    t0 = time.perf_counter()
    gateway.list_events(limit=EVENTS_PAGE_LIMIT)
    for resource_type, include in STREAMS:
        after = None
        while True:
            page = gateway.list_events(
                after=after, limit=EVENTS_PAGE_LIMIT, resource_type=resource_type, include=include
            )
            after = page.after
            if after is None:
                break
    return (time.perf_counter() - t0) * 1000


def _members_paid_through(uow: UnitOfWorkFactory) -> int:
    with uow(read_only=True) as work:
        rows = work.session.query(MembershipRow.paid_through).all()
    latest = max((r[0] for r in rows if r[0] is not None), default=None)
    return sum(1 for r in rows if r[0] == latest)


def _write(figures: dict[str, float], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = {
        "name": "sync_pull",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "data": f"{args.members} members, {args.months} months of events (simulator on 127.0.0.1, SQLite)",
        "figures": figures,
    }
    path = RESULTS / "sync_pull.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
