"""Client packages through the services: what is left, expiry and its extension, refunds, adjustments and
undoing a redemption (DESIGN.md §3 "Packages"), on a real database.

The clock stands at 09:00 on Tuesday 24 Nov 2026 in London (GMT) until a test moves it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from catalogue_fixtures import (
    DemoCatalogue,
    add_client,
    assert_counters_match_ledger,
    at,
    package_steps,
    save_demo_catalogue,
    sell_package,
    used_booked_remaining,
)
from sqlalchemy import select

from aestheticc_pos.domain.errors import (
    InvalidInput,
    NoSessionsRemaining,
    NotFound,
    NotPermitted,
    PackageExpired,
    RuleViolation,
)
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import ClientPackageStatus
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import package_refunds as refunds_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.audit_repo import audit_entries, first_broken_audit_entry
from aestheticc_pos.store.tables import SessionLedgerRow


@pytest.fixture
def catalogue(services: Services) -> DemoCatalogue:
    return save_demo_catalogue(services)


@pytest.fixture
def ada(services: Services, catalogue: DemoCatalogue) -> str:
    return add_client(services, "Ada", "Lovelace")


@pytest.fixture
def course(services: Services, catalogue: DemoCatalogue, ada: str) -> str:
    """Ada's Microneedling course of 6 (£1,000, valid 365 days), bought today: it expires on 24 Nov 2027."""
    return sell_package(services, catalogue.microneedling_course, ada)


@pytest.fixture
def book_microneedling(
    services: Services, catalogue: DemoCatalogue, ada: str, receptionist: str, practitioner: str
):  # type: ignore[no-untyped-def]
    def book(starts_at: dt.datetime, **options: object) -> str:
        return appointments_service.book_appointment(
            services,
            client_id=ada,
            treatment_id=catalogue.microneedling.id,
            practitioner_id=practitioner,
            starts_at=starts_at,
            staff_id=receptionist,
            **options,
        ).appointment.id

    return book


@pytest.fixture
def attended(services, clock, book_microneedling, receptionist):  # type: ignore[no-untyped-def]
    """Book a session at ``starts_at``, move the clock to it and attend: the appointment's id."""

    def attend(starts_at: dt.datetime) -> str:
        appointment_id = book_microneedling(starts_at)
        clock.set(starts_at + dt.timedelta(minutes=65))
        appointments_service.attend_appointment(
            services, appointment_id=appointment_id, staff_id=receptionist
        )
        return appointment_id

    return attend


def audit_of(services: Services, client_package_id: str) -> list[tuple[str, str, str | None, dict]]:
    with services.uow(read_only=True) as uow:
        assert first_broken_audit_entry(uow.session) is None
        return [
            (e.action, e.staff_id, e.reason, dict(e.details))
            for e in audit_entries(uow.session, record_type="client_package", record_id=client_package_id)
        ]


# --- what is left ---------------------------------------------------------------------------------------------


def test_overview_of_a_new_package(services, ada, course) -> None:
    (summary,) = packages_service.client_packages_overview(services, ada)
    assert (summary.client_package_id, summary.name, summary.status) == (
        course,
        "Microneedling course of 6",
        ClientPackageStatus.ACTIVE,
    )
    assert (summary.purchased_on, summary.expires_on, summary.days_to_expiry) == (
        dt.date(2026, 11, 24),
        dt.date(2027, 11, 24),
        365,
    )
    assert (summary.expired, summary.expiring_soon, summary.remaining) == (False, False, 6)
    assert [(s.name, s.total, s.next_booking_on) for s in summary.steps] == [
        ("Microneedling", 6, dt.date(2026, 11, 24))
    ]


def test_overview_of_an_unknown_client_is_a_sentence(services) -> None:
    with pytest.raises(NotFound) as missing:
        packages_service.client_packages_overview(services, "no-such-client")
    assert str(missing.value) == "That client is not on file (they may have been erased)."


# --- expiry ---------------------------------------------------------------------------------------------------


def test_a_manager_extends_an_expired_package_and_it_is_audited(
    services, clock, ada, course, book_microneedling, manager, receptionist
) -> None:
    with pytest.raises(PackageExpired) as refused:
        book_microneedling(at(2027, 11, 25, 10))
    assert str(refused.value) == (
        "Microneedling course of 6 expires on 24 Nov 2027, so no session can be booked for 25 Nov 2027."
    )

    extend = partial(packages_service.extend_package, services, client_package_id=course)
    with pytest.raises(NotPermitted) as not_allowed:
        extend(new_expires_on="30/11/2027", reason="In hospital", staff_id=receptionist)
    assert str(not_allowed.value) == "Only a manager can extend a package."
    with pytest.raises(InvalidInput) as no_reason:
        extend(new_expires_on="30/11/2027", reason=" ", staff_id=manager)
    assert str(no_reason.value) == "Extending a package needs a reason."
    with pytest.raises(InvalidInput) as earlier:
        extend(new_expires_on="2027-11-01", reason="In hospital", staff_id=manager)
    assert str(earlier.value) == "The new expiry date must be after the current one, 24 Nov 2027."
    assert audit_of(services, course) == []

    extended = extend(
        new_expires_on="30/11/2027", reason="Client was in hospital for a month", staff_id=manager
    )
    assert extended.expires_on == dt.date(2027, 11, 30)
    assert packages_service.client_packages_overview(services, ada)[0].expires_on == dt.date(2027, 11, 30)
    assert book_microneedling(at(2027, 11, 25, 10))
    assert package_steps(services, ada) == [(0, 1, 5)]
    assert audit_of(services, course) == [
        (
            "package.extended",
            manager,
            "Client was in hospital for a month",
            {"from": "2027-11-24", "to": "2027-11-30"},
        )
    ]


def test_an_expired_package_leaves_the_overview_and_no_longer_pays(
    services, clock, catalogue, ada, course, book_microneedling
) -> None:
    clock.set(at(2027, 11, 25, 9))
    assert packages_service.client_packages_overview(services, ada) == []
    (closed,) = packages_service.client_packages_overview(services, ada, include_closed=True)
    assert (closed.expired, closed.days_to_expiry, closed.remaining) == (True, -1, 6)

    with pytest.raises(PackageExpired) as refused:
        book_microneedling(at(2027, 11, 26, 10), client_package_id=course)
    assert str(refused.value) == (
        "Microneedling course of 6 expires on 24 Nov 2027, so no session can be booked for 26 Nov 2027."
    )


# --- refunds --------------------------------------------------------------------------------------------------


def test_refunding_unused_sessions_pays_back_the_package_value_pro_rata(
    services, clock, ada, course, attended, book_microneedling, manager, receptionist
) -> None:
    attended(at(2026, 11, 24, 10))
    attended(at(2026, 12, 22, 10))
    booked = book_microneedling(at(2027, 1, 19, 10))
    assert package_steps(services, ada) == [(2, 1, 3)]

    refund = partial(refunds_service.refund_unused_sessions, services, client_package_id=course)
    with pytest.raises(RuleViolation) as still_booked:
        refund(reason="Moving abroad", staff_id=manager)
    assert str(still_booked.value) == (
        "Microneedling course of 6 still has 1 session booked. Cancel or check out those appointments before refunding."
    )
    appointments_service.cancel_appointment(services, appointment_id=booked, staff_id=receptionist)

    with pytest.raises(NotPermitted) as not_allowed:
        refund(reason="Moving abroad", staff_id=receptionist)
    assert str(not_allowed.value) == "Only a manager can refund a sale."
    with pytest.raises(InvalidInput) as no_reason:
        refund(reason="", staff_id=manager)
    assert str(no_reason.value) == "A reason for the refund is needed."

    refunded = refund(reason="Moving abroad", staff_id=manager)
    assert refunded.amount == Money.parse("666.67")  # £1,000 × 4 ÷ 6, not 4 × £200
    assert refunded.sessions_closed == 4
    assert packages_service.client_packages_overview(services, ada) == []
    (closed,) = packages_service.client_packages_overview(services, ada, include_closed=True)
    assert (closed.status, used_booked_remaining(closed)) == (ClientPackageStatus.REFUNDED, [(2, 0, 0)])
    assert audit_of(services, course) == [
        ("package.refunded", manager, "Moving abroad", {"sessions": 4, "amount_pence": 66667})
    ]
    assert_counters_match_ledger(services, course)

    closed_sentence = "Microneedling course of 6 has been refunded, so it cannot be used or changed any more."
    with pytest.raises(RuleViolation) as no_booking:
        book_microneedling(at(2027, 2, 16, 10), client_package_id=course)
    assert str(no_booking.value) == closed_sentence
    paid = book_microneedling(at(2027, 2, 16, 10))  # without the package: the client pays for it
    assert appointments_service.appointment_detail(services, paid).appointment.client_package_id is None
    with pytest.raises(RuleViolation) as again:
        refund(reason="Moving abroad", staff_id=manager)
    assert str(again.value) == closed_sentence


def test_a_fully_used_package_has_nothing_to_refund(services, ada, course, manager) -> None:
    packages_service.adjust_sessions(
        services, client_package_id=course, step_position=1, delta=-6, reason="Used before", staff_id=manager
    )
    with pytest.raises(RuleViolation) as nothing:
        refunds_service.refund_unused_sessions(
            services, client_package_id=course, reason="Asked", staff_id=manager
        )
    assert str(nothing.value) == (
        "Every session of Microneedling course of 6 has been used, so there is nothing to refund."
    )


# --- a manager's corrections ----------------------------------------------------------------------------------


def test_a_manager_adjusts_sessions_with_a_reason(
    services, ada, course, book_microneedling, manager, receptionist
) -> None:
    adjust = partial(packages_service.adjust_sessions, services, client_package_id=course, step_position=1)
    with pytest.raises(NotPermitted) as not_allowed:
        adjust(delta=1, reason="Goodwill", staff_id=receptionist)
    assert str(not_allowed.value) == "Only a manager can adjust a package's sessions."
    with pytest.raises(InvalidInput) as no_reason:
        adjust(delta=1, reason="  ", staff_id=manager)
    assert str(no_reason.value) == "An adjustment needs a reason."
    with pytest.raises(InvalidInput) as not_a_number:
        adjust(delta="one", reason="Goodwill", staff_id=manager)
    assert str(not_a_number.value) == "The number of sessions must be a whole number (you typed “one”)."
    with pytest.raises(NotFound) as no_step:
        adjust(step_position=2, delta=1, reason="Goodwill", staff_id=manager)
    assert str(no_step.value) == "Microneedling course of 6 has no step 2."

    summary = adjust(delta="1", reason="Goodwill: reaction after session 1", staff_id=manager)
    assert [(s.total, s.remaining) for s in summary.steps] == [(7, 7)]
    book_microneedling(at(2026, 12, 1, 10))
    with pytest.raises(NoSessionsRemaining) as too_many:
        adjust(delta=-7, reason="Typo", staff_id=manager)
    assert str(too_many.value) == (
        "Only 6 sessions of microneedling are unused in Microneedling course of 6, so 7 cannot be removed."
    )
    summary = adjust(delta=-6, reason="Sessions used elsewhere", staff_id=manager)
    assert [(s.total, s.used, s.booked, s.remaining) for s in summary.steps] == [(1, 0, 1, 0)]
    assert package_steps(services, ada) == [(0, 1, 0)]
    assert [(action, reason, details) for action, _, reason, details in audit_of(services, course)] == [
        ("package.adjusted", "Goodwill: reaction after session 1", {"step": 1, "delta": 1}),
        ("package.adjusted", "Sessions used elsewhere", {"step": 1, "delta": -6}),
    ]
    assert_counters_match_ledger(services, course)


def test_every_ledger_entry_is_written_at_the_services_time_not_the_computers(
    services, ada, course, book_microneedling, manager
) -> None:
    """The liability roll-forward puts adjustments and refunds in the month they were written: under a clock
    that is not the computer's (training, the demo, a test) they must carry that clock's time."""
    booked = book_microneedling(at(2026, 12, 1, 10))
    packages_service.adjust_sessions(
        services, client_package_id=course, step_position=1, delta=1, reason="Goodwill", staff_id=manager
    )
    appointments_service.cancel_appointment(services, appointment_id=booked, staff_id=manager)
    with services.uow(read_only=True) as uow:
        written = uow.session.scalars(
            select(SessionLedgerRow.created_at).where(SessionLedgerRow.client_package_id == course)
        ).all()
    assert len(written) == 3  # reserved, adjusted, released
    assert set(written) == {services.now()}
    assert services.now().date() != dt.datetime.now(dt.UTC).date()  # the test's clock is not the computer's


def test_a_manager_undoes_a_redemption(services, clock, ada, course, attended, manager, receptionist) -> None:
    appointment_id = attended(at(2026, 11, 24, 10))
    assert package_steps(services, ada) == [(1, 0, 5)]
    void = partial(
        packages_service.void_redemption, services, client_package_id=course, appointment_id=appointment_id
    )

    with pytest.raises(NotPermitted) as not_allowed:
        void(reason="Mistake", staff_id=receptionist)
    assert str(not_allowed.value) == "Only a manager can void a sale."
    with pytest.raises(InvalidInput) as no_reason:
        void(reason="", staff_id=manager)
    assert str(no_reason.value) == "Undoing a redemption needs a reason."

    summary = void(reason="Redeemed from the wrong client's course", staff_id=manager)
    assert used_booked_remaining(summary) == [(0, 0, 6)]  # free again, not booked again
    assert package_steps(services, ada) == [(0, 0, 6)]
    with pytest.raises(NotFound) as twice:
        void(reason="Again", staff_id=manager)
    assert str(twice.value) == "There is no redemption of Microneedling course of 6 to undo for that session."
    assert [action for action, *_ in audit_of(services, course)] == ["package.redemption_voided"]
    assert_counters_match_ledger(services, course)


@pytest.mark.parametrize("action", ["adjust", "extend", "refund", "void"])
def test_an_unknown_package_is_a_sentence(services, manager, action) -> None:
    calls = {
        "adjust": lambda: packages_service.adjust_sessions(
            services, client_package_id="nope", step_position=1, delta=1, reason="r", staff_id=manager
        ),
        "extend": lambda: packages_service.extend_package(
            services, client_package_id="nope", new_expires_on="2027-12-01", reason="r", staff_id=manager
        ),
        "refund": lambda: refunds_service.refund_unused_sessions(
            services, client_package_id="nope", reason="r", staff_id=manager
        ),
        "void": lambda: packages_service.void_redemption(
            services, client_package_id="nope", appointment_id="a", reason="r", staff_id=manager
        ),
    }
    with pytest.raises(NotFound) as missing:
        calls[action]()
    assert str(missing.value) == "That client package does not exist."
