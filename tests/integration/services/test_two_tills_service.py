"""Two tills book at the same moment through the services, on one database (SQLite, and PostgreSQL when set).

Each till is a separate OS process with its own ``Services`` over the database URL (``tests/twotills.py``). They
leave a barrier together and book in the same instant; every till keeps its transaction open a moment before
committing, so the other one really overlaps it (SQLite: waits for the write lock; PostgreSQL: reads while the
first has not committed yet). Exactly one booking may win:

- the last session of a package is reserved once (the other till is told no session is left);
- two sessions of a course closer than its 28 days are not both booked, although sessions are left;
- one practitioner is not booked twice for the same time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from catalogue_fixtures import add_client, assert_counters_match_ledger, save_demo_catalogue, sell_package
from sqlalchemy import func, select
from twotills import run_tills

from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import AppointmentRow, ClientPackageStepRow, SessionLedgerRow

LONDON = ZoneInfo("Europe/London")


def book(services: Services, booking: dict[str, Any]) -> tuple[str, str, str]:
    """One till books an appointment (``run_tills`` reports a refusal)."""
    booked = appointments_service.book_appointment(services, **booking)
    return ("booked", booked.appointment.id, "")


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
        book,
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
        book,
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
        book,
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
