"""Step delays: when each step (and each session inside a step) may be booked, and what a cancellation breaks."""

from __future__ import annotations

import datetime as dt

import pytest
from example_packages import BOTOX_STARTER, MICRONEEDLING

from aestheticc_pos.domain.catalogue import Package, PackageStep
from aestheticc_pos.domain.errors import BookingRefused, NoSessionsRemaining, NotFound, PackageExpired
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import (
    ClientPackage,
    adjust,
    bookings_broken_by_cancel,
    broken_bookings,
    check_booking,
    earliest_booking_date,
    redeem,
    reserve,
    sell_package,
    step_balance,
)

BOUGHT = dt.date(2026, 11, 20)


def d(day: int, month: int = 11, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def sold(package: Package, on: dt.date = BOUGHT) -> ClientPackage:
    return sell_package(package, client_package_id="cp-1", client_id="client-1", purchased_on=on)


def refusal(cp: ClientPackage, step: int, on: dt.date, **kwargs: str) -> BookingRefused:
    with pytest.raises(BookingRefused) as refused:
        check_booking(cp, step, on, **kwargs)
    return refused.value


def botox_with_consultation() -> ClientPackage:
    """Botox starter bought 20 Nov 2026, consultation booked for 24 Nov 2026."""
    cp, _ = reserve(sold(BOTOX_STARTER), 1, "appt-consult", d(24), today=BOUGHT)
    return cp


# --- between steps ---------------------------------------------------------------------------------------------


def test_treatment_the_day_after_the_consultation_is_refused_with_the_earliest_date() -> None:
    refused = refusal(botox_with_consultation(), 2, d(25))

    assert (
        str(refused)
        == "Treatment can be booked from 26 Nov 2026: at least 2 days after the consultation on 24 Nov 2026."
    )
    assert refused.earliest == d(26)
    assert refused.reason == "at least 2 days after the consultation on 24 Nov 2026"


def test_treatment_on_the_earliest_date_is_accepted() -> None:
    cp = botox_with_consultation()

    check_booking(cp, 2, d(26))
    cp, _ = reserve(cp, 2, "appt-treat", d(26), today=BOUGHT)
    assert step_balance(cp, 2).reserved == 1


def test_reserve_refuses_what_check_booking_refuses() -> None:
    with pytest.raises(BookingRefused, match="from 26 Nov 2026"):
        reserve(botox_with_consultation(), 2, "appt-treat", d(25), today=BOUGHT)


def test_a_step_cannot_be_booked_before_the_previous_one_is_booked() -> None:
    refused = refusal(sold(BOTOX_STARTER), 2, d(30))

    assert str(refused) == "Treatment cannot be booked yet: book the consultation first."
    assert refused.earliest is None
    review = refusal(botox_with_consultation(), 3, d(30, 12))
    assert str(review) == "Review cannot be booked yet: book the treatment first."


def test_the_delay_counts_from_the_attended_date_of_a_redeemed_session() -> None:
    cp, _ = reserve(sold(BOTOX_STARTER), 1, "appt-consult", d(24), today=BOUGHT)
    cp, _ = redeem(cp, 1, "appt-consult", d(24), today=d(24))
    cp, _ = reserve(cp, 2, "appt-treat", d(26), today=d(24))

    refused = refusal(cp, 3, d(9, 12))
    assert (
        str(refused)
        == "Review can be booked from 10 Dec 2026: at least 14 days after the treatment on 26 Nov 2026."
    )
    check_booking(cp, 3, d(10, 12))


def test_a_multi_session_step_counts_from_its_last_session() -> None:
    course = Package(
        id="pkg-peel",
        name="Peel and review",
        price=Money(20_000),
        validity_days=365,
        steps=(
            PackageStep(1, "tr-peel", "Peel", sessions=2),
            PackageStep(2, "tr-review", "Review", min_days_after_previous=7),
        ),
    )
    cp, _ = reserve(sold(course), 1, "appt-1", d(10, 12), today=BOUGHT)

    assert (
        str(refusal(cp, 2, d(30, 12)))
        == "Review cannot be booked yet: book the remaining 1 peel session first."
    )

    cp, _ = reserve(cp, 1, "appt-2", d(1, 12), today=BOUGHT)  # booked earlier than the first one
    refused = refusal(cp, 2, d(16, 12))
    assert (
        str(refused)
        == "Review can be booked from 17 Dec 2026: at least 7 days after the last peel session on 10 Dec 2026."
    )


def test_a_step_without_delay_cannot_come_before_the_previous_one() -> None:
    course = Package(
        id="pkg-x",
        name="Same-day pair",
        price=Money(10_000),
        validity_days=60,
        steps=(PackageStep(1, "tr-a", "Consultation"), PackageStep(2, "tr-b", "Peel")),
    )
    cp, _ = reserve(sold(course), 1, "appt-1", d(24), today=BOUGHT)

    assert (
        str(refusal(cp, 2, d(23)))
        == "Peel can be booked from 24 Nov 2026: not before the consultation on 24 Nov 2026."
    )
    check_booking(cp, 2, d(24))


def test_a_step_adjusted_down_to_no_sessions_is_skipped() -> None:
    cp, _ = adjust(sold(BOTOX_STARTER), 2, -1, "Client had the treatment elsewhere", today=BOUGHT)
    cp, _ = reserve(cp, 1, "appt-consult", d(24), today=BOUGHT)

    refused = refusal(cp, 3, d(1, 12))
    assert refused.earliest == d(8, 12)  # 14 days after the consultation, the nearest step with sessions
    with pytest.raises(NoSessionsRemaining):
        check_booking(cp, 2, d(1, 12))


def test_nothing_can_be_booked_before_the_purchase() -> None:
    refused = refusal(sold(BOTOX_STARTER), 1, d(19))

    assert (
        str(refused) == "Consultation can be booked from 20 Nov 2026: the package was bought on 20 Nov 2026."
    )
    assert refused.earliest == BOUGHT


# --- between sessions of one step ------------------------------------------------------------------------------


def test_microneedling_sessions_must_be_28_days_apart() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(24), today=BOUGHT)

    refused = refusal(cp, 1, d(1, 12))
    assert str(refused) == (
        "Microneedling can be booked from 22 Dec 2026: "
        "at least 28 days after the previous microneedling session on 24 Nov 2026."
    )
    assert refused.earliest == d(22, 12)
    check_booking(cp, 1, d(22, 12))


def test_a_session_placed_between_two_others_must_be_far_enough_from_both() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(1, 12), today=BOUGHT)
    cp, _ = reserve(cp, 1, "appt-3", d(26, 1, 2027), today=BOUGHT)  # 56 days later: room for one between

    check_booking(cp, 1, d(29, 12))  # 28 days after the first, 28 days before the next
    refused = refusal(cp, 1, d(30, 12))  # only 27 days before 26 Jan
    assert refused.earliest == d(23, 2, 2027)
    assert str(refused) == (
        "Microneedling can be booked from 23 Feb 2027: "
        "at least 28 days after the previous microneedling session on 26 Jan 2027."
    )


def test_a_session_before_an_existing_one_must_also_keep_the_gap() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(2, 1, 2027), today=BOUGHT)

    assert refusal(cp, 1, d(10, 12)).earliest == d(30, 1, 2027)  # 23 days before: too close
    check_booking(cp, 1, d(5, 12))  # 28 days before: fine


def test_no_date_before_expiry_means_no_earliest_date() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(1, 11, 2027), today=BOUGHT)  # expires 20 Nov 2027

    refused = refusal(cp, 1, d(10, 11, 2027))
    assert refused.earliest is None
    assert str(refused) == (
        "Microneedling cannot be booked on 10 Nov 2027: the next date allowed, 29 Nov 2027 "
        "(at least 28 days after the previous microneedling session on 1 Nov 2027), "
        "is after the package expires on 20 Nov 2027."
    )
    assert earliest_booking_date(cp, 1, d(10, 11, 2027)) is None
    assert earliest_booking_date(cp, 1, d(1, 10, 2027)) == d(1, 10, 2027)


def test_a_date_after_expiry_is_an_expiry_refusal() -> None:
    with pytest.raises(PackageExpired, match="expires on 20 Nov 2027"):
        check_booking(sold(MICRONEEDLING), 1, d(21, 11, 2027))


# --- moving a booking and the earliest date ----------------------------------------------------------------------


def test_moving_a_booking_ignores_its_own_session() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(24), today=BOUGHT)
    cp, _ = reserve(cp, 1, "appt-2", d(22, 12), today=BOUGHT)

    check_booking(cp, 1, d(29, 12), ignoring_appointment_id="appt-2")
    assert refusal(cp, 1, d(29, 12), ignoring_appointment_id="appt-1").earliest == d(19, 1, 2027)


def test_earliest_booking_date_finds_the_first_allowed_day() -> None:
    cp = botox_with_consultation()

    assert earliest_booking_date(cp, 1, d(21)) is None  # no consultation left
    assert earliest_booking_date(cp, 2, d(21)) == d(26)
    assert earliest_booking_date(cp, 2, d(28)) == d(28)
    assert earliest_booking_date(cp, 3, d(21)) is None  # the treatment is not booked yet
    assert earliest_booking_date(cp, 1, d(21), ignoring_appointment_id="appt-consult") == d(21)


# --- what a cancellation breaks -----------------------------------------------------------------------------------


def test_cancelling_the_consultation_warns_about_the_treatment_and_the_review() -> None:
    cp = botox_with_consultation()
    cp, _ = reserve(cp, 2, "appt-treat", d(26), today=BOUGHT)
    cp, _ = reserve(cp, 3, "appt-review", d(10, 12), today=BOUGHT)

    broken = bookings_broken_by_cancel(cp, "appt-consult")

    assert [(b.appointment_id, b.session_on, b.earliest) for b in broken] == [
        ("appt-treat", d(26), None),
        ("appt-review", d(10, 12), None),
    ]
    assert broken[0].message == (
        "The treatment booked for 26 Nov 2026 no longer fits the package rules. "
        "Treatment cannot be booked yet: book the consultation first."
    )
    assert broken[1].message == (
        "The review booked for 10 Dec 2026 no longer fits the package rules. "
        "Review cannot be booked yet: book the treatment first."
    )


def test_cancelling_the_last_session_warns_nothing() -> None:
    cp = botox_with_consultation()
    cp, _ = reserve(cp, 2, "appt-treat", d(26), today=BOUGHT)

    assert bookings_broken_by_cancel(cp, "appt-treat") == []
    assert broken_bookings(cp) == []


def test_cancelling_a_session_inside_a_step_breaks_nothing() -> None:
    cp, _ = reserve(sold(MICRONEEDLING), 1, "appt-1", d(24), today=BOUGHT)
    cp, _ = reserve(cp, 1, "appt-2", d(22, 12), today=BOUGHT)

    assert bookings_broken_by_cancel(cp, "appt-1") == []


def test_a_booking_broken_already_is_not_blamed_on_the_cancellation() -> None:
    cp, _ = reserve(sold(BOTOX_STARTER), 1, "appt-consult", d(24), today=BOUGHT)
    cp, _ = reserve(cp, 2, "appt-treat", d(26), today=BOUGHT)
    cp, _ = reserve(cp, 3, "appt-review", d(10, 12), today=BOUGHT)
    cp, _ = redeem(cp, 2, "appt-treat", d(28), today=d(28))  # treated two days later than booked

    assert [b.appointment_id for b in broken_bookings(cp)] == ["appt-review"]
    assert broken_bookings(cp)[0].earliest == d(12, 12)
    assert bookings_broken_by_cancel(cp, "appt-consult") == []  # the treatment was attended
    assert bookings_broken_by_cancel(cp, "appt-review") == []


def test_cancel_warnings_need_a_booked_appointment() -> None:
    with pytest.raises(NotFound):
        bookings_broken_by_cancel(sold(BOTOX_STARTER), "appt-unknown")
