"""Booking, attending, cancelling and no-shows through the services, on a real database (DESIGN.md §3 "Packages").

The clock stands at 09:00 on Tuesday 24 Nov 2026 in London (GMT, so London time is UTC) until a test moves it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from catalogue_fixtures import (
    LONDON,
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

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.appointments import AppointmentStatus, NoShowPolicy, SessionOutcome
from aestheticc_pos.domain.errors import (
    BookingRefused,
    InvalidInput,
    NotFound,
    NotPermitted,
    PackageExpired,
    RuleViolation,
)
from aestheticc_pos.domain.packages import LedgerKind
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import deposits as deposits_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services, read_clinic_settings, write_clinic_settings
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import SessionLedgerRow


@pytest.fixture
def catalogue(services: Services) -> DemoCatalogue:
    return save_demo_catalogue(services)


@pytest.fixture
def ada(services: Services, catalogue: DemoCatalogue) -> str:
    return add_client(services, "Ada", "Lovelace")


@pytest.fixture
def starter(services: Services, catalogue: DemoCatalogue, ada: str) -> str:
    """Ada's Botox starter, bought today."""
    return sell_package(services, catalogue.botox_starter, ada)


@pytest.fixture
def course(services: Services, catalogue: DemoCatalogue, ada: str) -> str:
    """Ada's Microneedling course of 6, bought today."""
    return sell_package(services, catalogue.microneedling_course, ada)


@pytest.fixture
def book(services: Services, receptionist: str, practitioner: str):  # type: ignore[no-untyped-def]
    """The receptionist books ``treatment_id`` for a client with Dr Patel (unless told otherwise)."""

    def book(client_id: str, treatment_id: str, starts_at: dt.datetime, **options: object):  # type: ignore[no-untyped-def]
        options.setdefault("practitioner_id", practitioner)
        options.setdefault("staff_id", receptionist)
        return appointments_service.book_appointment(
            services, client_id=client_id, treatment_id=treatment_id, starts_at=starts_at, **options
        )

    return book


def ledger_kinds(services: Services, client_package_id: str) -> list[tuple[str, str | None]]:
    with services.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(SessionLedgerRow)
            .where(SessionLedgerRow.client_package_id == client_package_id)
            .order_by(SessionLedgerRow.seq)  # the order they were written
        )
        return [(row.kind, row.reason) for row in rows]


def set_no_show_policy(services: Services, policy: NoShowPolicy) -> None:
    with services.uow() as uow:
        settings = read_clinic_settings(uow.session)
        write_clinic_settings(uow.session, dataclasses.replace(settings, no_show_policy=policy))
        uow.commit()


# --- the Botox starter, step by step -------------------------------------------------------------------------


def test_botox_starter_worked_example(
    services, clock: FixedClock, catalogue, ada, starter, book, receptionist
) -> None:
    consultation = book(ada, catalogue.consultation.id, at(2026, 11, 24, 10))
    assert consultation.appointment.package_name == "Botox starter"
    assert consultation.appointment.step_position == 1
    assert package_steps(services, ada) == [(0, 1, 0), (0, 0, 1), (0, 0, 1)]
    (summary,) = packages_service.client_packages_overview(services, ada)
    assert [step.next_booking_on for step in summary.steps] == [None, dt.date(2026, 11, 26), None]

    with pytest.raises(BookingRefused) as refused:
        book(ada, catalogue.botox.id, at(2026, 11, 25, 10))
    assert refused.value.earliest == dt.date(2026, 11, 26)
    assert str(refused.value) == (
        "Botox treatment can be booked from 26 Nov 2026: at least 2 days after the consultation on 24 Nov 2026."
    )
    with pytest.raises(BookingRefused) as too_soon:
        book(ada, catalogue.review.id, at(2026, 12, 24, 10))
    assert str(too_soon.value) == "Review cannot be booked yet: book the botox treatment first."
    assert too_soon.value.earliest is None
    assert len(appointments_service.appointments_of_client(services, ada)) == 1  # refusals write nothing

    treatment = book(ada, catalogue.botox.id, at(2026, 11, 26, 10))
    assert treatment.appointment.step_position == 2
    with pytest.raises(BookingRefused) as refused:
        book(ada, catalogue.review.id, at(2026, 12, 9, 16))
    assert refused.value.earliest == dt.date(2026, 12, 10)
    assert str(refused.value) == (
        "Review can be booked from 10 Dec 2026: at least 14 days after the botox treatment on 26 Nov 2026."
    )
    review = book(ada, catalogue.review.id, at(2026, 12, 10, 9))
    assert package_steps(services, ada) == [(0, 1, 0), (0, 1, 0), (0, 1, 0)]

    clock.set(at(2026, 11, 24, 10, 40))
    detail = appointments_service.attend_appointment(
        services, appointment_id=consultation.appointment.id, staff_id=receptionist
    )
    assert detail.appointment.status is AppointmentStatus.ATTENDED
    assert [used_booked_remaining(p) for p in detail.packages] == [[(1, 0, 0), (0, 1, 0), (0, 1, 0)]]

    clock.set(at(2026, 11, 26, 10, 30))
    detail = appointments_service.appointment_detail(services, treatment.appointment.id)
    assert detail.step_rule_problems == ()
    assert detail.appointment.treatment_name == "Botox treatment"
    assert detail.appointment.practitioner_name == "Dr Priya Patel"
    assert detail.appointment.client_name == "Ada Lovelace"
    appointments_service.attend_appointment(
        services, appointment_id=treatment.appointment.id, staff_id=receptionist
    )
    assert package_steps(services, ada) == [(1, 0, 0), (1, 0, 0), (0, 1, 0)]

    clock.set(at(2026, 12, 10, 9, 30))
    appointments_service.attend_appointment(
        services, appointment_id=review.appointment.id, staff_id=receptionist
    )
    (summary,) = packages_service.client_packages_overview(services, ada)
    assert used_booked_remaining(summary) == [(1, 0, 0), (1, 0, 0), (1, 0, 0)]
    assert summary.remaining == 0
    assert_counters_match_ledger(services, starter)


def test_practitioner_sees_the_package_and_any_broken_rule(
    services, catalogue, ada, starter, book, receptionist
) -> None:
    consultation = book(ada, catalogue.consultation.id, at(2026, 11, 25, 10))
    treatment = book(ada, catalogue.botox.id, at(2026, 11, 27, 10))
    review = book(ada, catalogue.review.id, at(2026, 12, 11, 10))

    cancelled = appointments_service.cancel_appointment(
        services, appointment_id=consultation.appointment.id, staff_id=receptionist
    )

    assert cancelled.appointment.status is AppointmentStatus.CANCELLED
    assert cancelled.session_outcome is SessionOutcome.RELEASE
    treatment_broken = (
        "The botox treatment booked for 27 Nov 2026 no longer fits the package rules. "
        "Botox treatment cannot be booked yet: book the consultation first."
    )
    review_broken = (
        "The review booked for 11 Dec 2026 no longer fits the package rules. "
        "Review cannot be booked yet: book the botox treatment first."
    )
    assert cancelled.warnings == (treatment_broken, review_broken)
    assert package_steps(services, ada) == [
        (0, 0, 1),
        (0, 1, 0),
        (0, 1, 0),
    ]  # later bookings are kept, not cancelled
    detail = appointments_service.appointment_detail(services, treatment.appointment.id)
    assert detail.step_rule_problems == (treatment_broken,)
    assert appointments_service.appointment_detail(services, review.appointment.id).step_rule_problems == (
        review_broken,
    )

    # Booking the consultation again, two days before the treatment, mends both.
    book(ada, catalogue.consultation.id, at(2026, 11, 25, 11))
    assert (
        appointments_service.appointment_detail(services, treatment.appointment.id).step_rule_problems == ()
    )
    assert appointments_service.appointment_detail(services, review.appointment.id).step_rule_problems == ()
    assert_counters_match_ledger(services, starter)


# --- attending ------------------------------------------------------------------------------------------------


def test_attend_redeems_the_booked_session_once_and_only_on_the_day(
    services, clock, catalogue, ada, course, book, practitioner, receptionist
) -> None:
    booked = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))
    assert package_steps(services, ada) == [(0, 1, 5)]

    with pytest.raises(RuleViolation) as early:
        appointments_service.attend_appointment(
            services, appointment_id=booked.appointment.id, staff_id=practitioner
        )
    assert str(early.value) == "This appointment is on a later day; it can be attended on the day."

    clock.set(at(2026, 12, 1, 11, 5))
    detail = appointments_service.attend_appointment(
        services, appointment_id=booked.appointment.id, staff_id=practitioner
    )
    assert detail.appointment.status is AppointmentStatus.ATTENDED
    assert package_steps(services, ada) == [(1, 0, 5)]  # used +1, booked −1, remaining unchanged

    with pytest.raises(RuleViolation) as twice:
        appointments_service.attend_appointment(
            services, appointment_id=booked.appointment.id, staff_id=practitioner
        )
    assert (
        str(twice.value) == "This appointment has already been attended, so it cannot be marked as attended."
    )
    with pytest.raises(RuleViolation) as cancel_after:
        appointments_service.cancel_appointment(
            services, appointment_id=booked.appointment.id, staff_id=receptionist
        )
    assert str(cancel_after.value) == "This appointment has already been attended, so it cannot be cancelled."
    assert package_steps(services, ada) == [(1, 0, 5)]
    assert ledger_kinds(services, course) == [("reserve", None), ("redeem", None)]
    assert_counters_match_ledger(services, course)


def test_booking_without_the_package_reserves_nothing(
    services, clock, catalogue, ada, course, book, receptionist
) -> None:
    booked = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10), use_package=False)
    assert (booked.appointment.client_package_id, booked.appointment.package_name) == (None, None)
    assert package_steps(services, ada) == [(0, 0, 6)]

    clock.set(at(2026, 12, 1, 11))
    appointments_service.attend_appointment(
        services, appointment_id=booked.appointment.id, staff_id=receptionist
    )
    assert package_steps(services, ada) == [(0, 0, 6)]
    assert ledger_kinds(services, course) == []


# --- cancellations and no-shows -------------------------------------------------------------------------------


def test_cancelling_in_time_gives_the_session_back_and_frees_the_slot(
    services, catalogue, ada, course, book, receptionist
) -> None:
    booked = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))
    cancelled = appointments_service.cancel_appointment(
        services, appointment_id=booked.appointment.id, staff_id=receptionist
    )
    assert cancelled.appointment.status is AppointmentStatus.CANCELLED
    assert (cancelled.session_outcome, cancelled.warnings) == (SessionOutcome.RELEASE, ())
    assert package_steps(services, ada) == [(0, 0, 6)]

    again = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))  # same practitioner, same time
    assert again.appointment.package_name == "Microneedling course of 6"
    with pytest.raises(RuleViolation) as twice:
        appointments_service.cancel_appointment(
            services, appointment_id=booked.appointment.id, staff_id=receptionist
        )
    assert str(twice.value) == "This appointment was cancelled, so it cannot be cancelled."
    assert ledger_kinds(services, course) == [("reserve", None), ("release", None), ("reserve", None)]
    assert_counters_match_ledger(services, course)


@pytest.mark.parametrize(
    ("policy", "ending", "outcome", "steps", "reason"),
    [
        (None, "late cancel", SessionOutcome.FORFEIT, [(1, 0, 5)], "Late cancellation: session forfeited"),
        (None, "no-show", SessionOutcome.FORFEIT, [(1, 0, 5)], "No-show: session forfeited"),
        (NoShowPolicy.RETURN, "late cancel", SessionOutcome.RELEASE, [(0, 0, 6)], None),
        (NoShowPolicy.RETURN, "no-show", SessionOutcome.RELEASE, [(0, 0, 6)], None),
    ],
    ids=[
        "late-cancel-forfeits-by-default",
        "no-show-forfeits-by-default",
        "late-cancel-returns",
        "no-show-returns",
    ],
)
def test_late_cancellations_and_no_shows_follow_the_clinic_policy(
    services, clock, catalogue, ada, course, book, receptionist, policy, ending, outcome, steps, reason
) -> None:
    if policy is not None:
        set_no_show_policy(services, policy)
    booked = book(ada, catalogue.microneedling.id, at(2026, 11, 24, 15))  # six hours from now
    if ending == "late cancel":
        ended = appointments_service.cancel_appointment(
            services, appointment_id=booked.appointment.id, staff_id=receptionist
        )
        assert ended.appointment.status is AppointmentStatus.LATE_CANCELLED
    else:
        with pytest.raises(RuleViolation) as early:
            appointments_service.mark_no_show(
                services, appointment_id=booked.appointment.id, staff_id=receptionist
            )
        assert (
            str(early.value)
            == "A client can only be marked as a no-show once the appointment time has passed."
        )
        clock.set(at(2026, 11, 24, 15, 20))
        ended = appointments_service.mark_no_show(
            services, appointment_id=booked.appointment.id, staff_id=receptionist
        )
        assert ended.appointment.status is AppointmentStatus.NO_SHOW

    assert ended.session_outcome is outcome
    assert package_steps(services, ada) == steps
    kind = LedgerKind.REDEEM if outcome is SessionOutcome.FORFEIT else LedgerKind.RELEASE
    assert ledger_kinds(services, course) == [("reserve", None), (kind.value, reason)]
    assert_counters_match_ledger(services, course)


def test_a_forfeited_session_of_the_last_step_before_still_counts_for_the_delays(
    services, catalogue, ada, starter, book, receptionist
) -> None:
    consultation = book(ada, catalogue.consultation.id, at(2026, 11, 24, 16))
    treatment = book(ada, catalogue.botox.id, at(2026, 11, 26, 10))
    cancelled = appointments_service.cancel_appointment(
        services, appointment_id=consultation.appointment.id, staff_id=receptionist
    )
    assert (cancelled.session_outcome, cancelled.warnings) == (SessionOutcome.FORFEIT, ())
    assert (
        appointments_service.appointment_detail(services, treatment.appointment.id).step_rule_problems == ()
    )
    assert package_steps(services, ada) == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]


# --- which package pays ---------------------------------------------------------------------------------------


def test_the_package_expiring_first_is_reserved(services, catalogue, ada, book) -> None:
    """A two-session taster bought today expires before a course bought in October: the taster goes first,
    and a session after the taster has expired comes from the course."""
    taster = dataclasses.replace(
        catalogue.microneedling_course,
        id="microneedling-2",
        name="Microneedling taster",
        validity_days=90,
        steps=(dataclasses.replace(catalogue.microneedling_course.steps[0], sessions=2),),
    )
    with services.uow() as uow:
        catalogue_repo.save_package(uow.session, taster)
        uow.commit()
    course = sell_package(services, catalogue.microneedling_course, ada, today=dt.date(2026, 10, 1))
    taster_id = sell_package(services, taster, ada)

    overview = packages_service.client_packages_overview(services, ada)
    assert [(p.name, p.expires_on) for p in overview] == [
        ("Microneedling taster", dt.date(2027, 2, 22)),
        ("Microneedling course of 6", dt.date(2027, 10, 1)),
    ]
    first = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))
    assert first.appointment.client_package_id == taster_id

    after_taster_expires = book(ada, catalogue.microneedling.id, at(2027, 3, 1, 10))
    assert after_taster_expires.appointment.client_package_id == course

    chosen = book(ada, catalogue.microneedling.id, at(2026, 12, 29, 10), client_package_id=course)
    assert chosen.appointment.client_package_id == course  # the receptionist may choose the other one
    assert [used_booked_remaining(p) for p in packages_service.client_packages_overview(services, ada)] == [
        [(0, 1, 1)],
        [(0, 2, 4)],
    ]


def test_a_package_of_another_client_cannot_pay(services, catalogue, ada, course, book) -> None:
    grace = add_client(services, "Grace", "Hopper")
    with pytest.raises(InvalidInput) as refused:
        book(grace, catalogue.microneedling.id, at(2026, 12, 1, 10), client_package_id=course)
    assert str(refused.value) == "That package belongs to another client."


def test_a_package_that_does_not_cover_the_treatment_cannot_pay(
    services, catalogue, ada, course, book
) -> None:
    with pytest.raises(RuleViolation) as refused:
        book(ada, catalogue.botox.id, at(2026, 12, 1, 10), client_package_id=course)
    assert str(refused.value) == "Microneedling course of 6 does not include Botox treatment."


# --- the diary ------------------------------------------------------------------------------------------------


def test_a_practitioner_cannot_be_double_booked(services, catalogue, ada, book, manager) -> None:
    grace = add_client(services, "Grace", "Hopper")
    first = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))  # 10:00–11:00 with Dr Patel

    with pytest.raises(RuleViolation) as refused:
        book(grace, catalogue.consultation.id, at(2026, 12, 1, 10, 30))
    assert (
        str(refused.value) == "Dr Priya Patel already has an appointment at that time. Choose another time."
    )
    with pytest.raises(RuleViolation):
        book(grace, catalogue.microneedling.id, at(2026, 12, 1, 9, 30))
    book(grace, catalogue.consultation.id, at(2026, 12, 1, 11))  # starts as the other ends
    book(
        grace, catalogue.consultation.id, at(2026, 12, 1, 10, 30), practitioner_id=manager
    )  # another practitioner

    appointments_service.cancel_appointment(services, appointment_id=first.appointment.id, staff_id=manager)
    book(grace, catalogue.consultation.id, at(2026, 12, 1, 10))  # a cancelled appointment holds no time

    day = appointments_service.appointments_on(services, dt.date(2026, 12, 1))
    assert [
        (v.practitioner_name, v.starts_at.astimezone(LONDON).strftime("%H:%M"), v.client_name) for v in day
    ] == [
        ("Dr Priya Patel", "10:00", "Grace Hopper"),
        ("Dr Priya Patel", "11:00", "Grace Hopper"),
        ("Mia Manager", "10:30", "Grace Hopper"),
    ]
    assert (
        len(appointments_service.appointments_on(services, dt.date(2026, 12, 1), include_cancelled=True)) == 4
    )


def test_the_clinic_day_is_the_day_in_london(services, catalogue, ada, book) -> None:
    """In summer London is an hour ahead of UTC: 00:30 on 2 Jul is still 1 Jul in UTC, but the clinic's 2 Jul."""
    course = sell_package(services, catalogue.microneedling_course, ada, today=dt.date(2026, 7, 1))
    just_after_midnight = at(2027, 7, 2, 0, 30)
    assert just_after_midnight.astimezone(dt.UTC).date() == dt.date(2027, 7, 1)

    with pytest.raises(PackageExpired) as refused:
        book(ada, catalogue.microneedling.id, just_after_midnight, client_package_id=course)
    assert str(refused.value) == (
        "Microneedling course of 6 expires on 1 Jul 2027, so no session can be booked for 2 Jul 2027."
    )
    last_evening = book(ada, catalogue.microneedling.id, at(2027, 7, 1, 22, 30))
    assert last_evening.appointment.client_package_id == course
    paid = book(ada, catalogue.microneedling.id, just_after_midnight, use_package=False)
    assert [v.id for v in appointments_service.appointments_on(services, dt.date(2027, 7, 2))] == [
        paid.appointment.id
    ]
    assert [v.id for v in appointments_service.appointments_on(services, dt.date(2027, 7, 1))] == [
        last_evening.appointment.id
    ]


def test_booking_in_the_past_is_refused(services, catalogue, ada, book) -> None:
    with pytest.raises(RuleViolation) as refused:
        book(ada, catalogue.consultation.id, at(2026, 11, 24, 8, 30))
    assert str(refused.value) == "That time has already passed. Choose a time from now on."


def test_only_practitioners_and_managers_treat(services, catalogue, ada, book, receptionist) -> None:
    with pytest.raises(InvalidInput) as refused:
        book(ada, catalogue.consultation.id, at(2026, 12, 1, 10), practitioner_id=receptionist)
    assert str(refused.value) == "Rita Reception does not treat clients. Choose a practitioner."


@pytest.mark.parametrize(
    ("unknown", "sentence"),
    [
        ("client_id", "That client is not on file (they may have been erased)."),
        ("treatment_id", "That treatment is not in the catalogue."),
        ("practitioner_id", "That staff member is not on the team."),
        ("client_package_id", "That client package does not exist."),
    ],
)
def test_booking_with_an_unknown_id_says_what_is_missing(
    services, catalogue, ada, book, unknown, sentence
) -> None:
    options = {"client_id": ada, "treatment_id": catalogue.consultation.id, unknown: "no-such-id"}
    client_id, treatment_id = options.pop("client_id"), options.pop("treatment_id")
    with pytest.raises(NotFound) as refused:
        book(client_id, treatment_id, at(2026, 12, 1, 10), **options)
    assert str(refused.value) == sentence


def test_booking_by_someone_not_on_the_team_is_refused(services, catalogue, ada, book) -> None:
    with pytest.raises(NotPermitted) as refused:
        book(ada, catalogue.consultation.id, at(2026, 12, 1, 10), staff_id="no-such-id")
    assert str(refused.value) == "Sign in first: every change at the till is made by someone."


def test_an_unknown_appointment_is_a_sentence(services, receptionist) -> None:
    for action in (
        appointments_service.cancel_appointment,
        appointments_service.mark_no_show,
        appointments_service.attend_appointment,
    ):
        with pytest.raises(NotFound) as refused:
            action(services, appointment_id="no-such-appointment", staff_id=receptionist)
        assert str(refused.value) == "That appointment does not exist."
    with pytest.raises(NotFound):
        appointments_service.appointment_detail(services, "no-such-appointment")


def test_the_appointment_screen_reads_the_detail_membership_and_deposit_at_once(
    services, catalogue, ada, course, starter, book
) -> None:
    """``appointment_screen`` gives what the three reads gave, from one transaction; a package that does not
    cover the treatment is not read."""
    booked = book(ada, catalogue.microneedling.id, at(2026, 12, 1, 10))
    screen = appointments_service.appointment_screen(services, booked.appointment.id)
    assert screen.detail == appointments_service.appointment_detail(services, booked.appointment.id)
    assert [p.name for p in screen.detail.packages] == ["Microneedling course of 6"]  # not the Botox starter
    assert screen.membership == membership_views.membership_of(services, ada)
    assert screen.deposit == deposits_service.deposit_of_appointment(services, booked.appointment.id)
    with pytest.raises(NotFound):
        appointments_service.appointment_screen(services, "no-such-appointment")
