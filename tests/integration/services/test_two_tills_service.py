"""Two tills book at the same moment through the services, on one database (SQLite, and PostgreSQL when set).

Each till is a separate OS process (``spawn``) building its own ``Services`` over the database URL, as the app
does on each computer of a clinic. They leave a barrier together and book in the same instant; every till
keeps its transaction open a moment before committing, so the other one really overlaps it (SQLite: waits for
the write lock; PostgreSQL: reads while the first has not committed yet). Exactly one booking may win:

- the last session of a package is reserved once (the other till is told no session is left);
- two sessions of a course closer than its 28 days are not both booked, although sessions are left;
- one practitioner is not booked twice for the same time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from multiprocessing.synchronize import Barrier
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from catalogue_fixtures import add_client, assert_counters_match_ledger, save_demo_catalogue, sell_package
from sqlalchemy import Engine, func, select

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.db import create_engine_for, make_session_factory
from aestheticc_pos.store.tables import AppointmentRow, ClientPackageStepRow, SessionLedgerRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

HOLD_SECONDS = 0.5
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
LONDON = ZoneInfo("Europe/London")


class _SlowToCommit(UnitOfWork):
    def commit(self) -> None:
        time.sleep(HOLD_SECONDS)
        super().commit()


class SlowTillUnitsOfWork:
    """A ``UnitOfWorkFactory`` whose writing units of work hold their transaction open before committing."""

    def __init__(self, engine: Engine) -> None:
        self._write = make_session_factory(engine)
        self._read = make_session_factory(engine, read_only=True)

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self._read) if read_only else _SlowToCommit(self._write)


def till(url: str, booking: dict[str, Any], start: Barrier, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One till books an appointment; reports ("booked", id), ("refused", error class, sentence) or ("error", …)."""
    engine = create_engine_for(url)
    services = Services(uow=SlowTillUnitsOfWork(engine), clock=FixedClock(NOW))
    try:
        start.wait(timeout=60)
        booked = appointments_service.book_appointment(services, **booking)
        results.put(("booked", booked.appointment.id, ""))
    except DomainError as refusal:
        results.put(("refused", type(refusal).__name__, str(refusal)))
    except Exception as error:  # any other outcome fails the test, with its reason
        results.put(("error", type(error).__name__, repr(error)))
    finally:
        engine.dispose()


def run_tills(url: str, bookings: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(bookings))
    results = context.Queue()
    processes = [context.Process(target=till, args=(url, booking, start, results)) for booking in bookings]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [o for o in outcomes if o[0] == "error"] == []
    return sorted(outcomes)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=LONDON)


@pytest.fixture
def clinic(services: Services, manager: str, practitioner: str, receptionist: str) -> dict[str, str]:
    catalogue = save_demo_catalogue(services)
    ada = add_client(services, "Ada", "Lovelace")
    return {
        "ada": ada,
        "grace": add_client(services, "Grace", "Hopper"),
        "course": sell_package(services, catalogue.microneedling_course, ada),
        "microneedling": catalogue.microneedling.id,
    }


def booking(
    clinic: dict[str, str], staff: str, practitioner: str, starts_at: dt.datetime, **options: Any
) -> dict[str, Any]:
    return {
        "client_id": clinic["ada"],
        "treatment_id": clinic["microneedling"],
        "practitioner_id": practitioner,
        "starts_at": starts_at,
        "staff_id": staff,
        **options,
    }


def counters(services: Services, client_package_id: str) -> tuple[int, int, int]:
    with services.uow(read_only=True) as uow:
        step = uow.session.get(ClientPackageStepRow, (client_package_id, 1))
        assert step is not None
        return step.redeemed, step.reserved, step.remaining


def reserve_entries(services: Services, client_package_id: str) -> int:
    with services.uow(read_only=True) as uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(SessionLedgerRow)
                .where(
                    SessionLedgerRow.client_package_id == client_package_id,
                    SessionLedgerRow.kind == "reserve",
                )
            )
            or 0
        )


def appointments_held(services: Services) -> int:
    with services.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(AppointmentRow)) or 0


def test_the_last_session_is_booked_by_one_till_only(
    migrated_url, services, clinic, manager, practitioner, receptionist
) -> None:
    course = clinic["course"]
    packages_service.adjust_sessions(
        services,
        client_package_id=course,
        step_position=1,
        delta=-5,
        reason="Five used at our old premises",
        staff_id=manager,
    )
    assert counters(services, course) == (0, 0, 1)

    outcomes = run_tills(
        migrated_url,
        [
            booking(clinic, receptionist, practitioner, at(1, 10), client_package_id=course),
            booking(clinic, manager, manager, at(1, 10), client_package_id=course),
        ],
    )

    assert [kind for kind, *_ in outcomes] == ["booked", "refused"]
    assert outcomes[1][1:] == (
        "NoSessionsRemaining",
        "No microneedling session is left in Microneedling course of 6: every one is used or booked.",
    )
    assert counters(services, course) == (0, 1, 0)
    assert reserve_entries(services, course) == 1
    assert appointments_held(services) == 1
    assert_counters_match_ledger(services, course)


def test_two_sessions_closer_than_the_course_allows_are_not_both_booked(
    migrated_url, services, clinic, manager, practitioner, receptionist
) -> None:
    course = clinic["course"]
    outcomes = run_tills(
        migrated_url,
        [
            booking(clinic, receptionist, practitioner, at(1, 10), client_package_id=course),
            booking(clinic, manager, manager, at(11, 10), client_package_id=course),
        ],
    )

    assert [kind for kind, *_ in outcomes] == ["booked", "refused"]
    assert outcomes[1][1] == "BookingRefused"
    assert "at least 28 days after the previous microneedling session" in outcomes[1][2]
    assert counters(services, course) == (0, 1, 5)
    assert reserve_entries(services, course) == 1
    assert_counters_match_ledger(services, course)


def test_a_practitioner_is_not_booked_twice_for_the_same_time(
    migrated_url, services, clinic, manager, practitioner, receptionist
) -> None:
    outcomes = run_tills(
        migrated_url,
        [
            booking(clinic, receptionist, practitioner, at(1, 10), use_package=False),
            booking(clinic, manager, practitioner, at(1, 10), use_package=False, client_id=clinic["grace"]),
        ],
    )

    assert [kind for kind, *_ in outcomes] == ["booked", "refused"]
    assert outcomes[1][1:] == (
        "RuleViolation",
        "Dr Priya Patel already has an appointment at that time. Choose another time.",
    )
    assert appointments_held(services) == 1
