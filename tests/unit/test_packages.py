"""Client packages: selling, the session ledger, balances, refunds, expiry, choice, summary and credits."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from example_packages import BOTOX_STARTER, MICRONEEDLING

from aestheticc_pos.domain.catalogue import Package, PackageStep
from aestheticc_pos.domain.errors import (
    InvalidInput,
    NoSessionsRemaining,
    NotFound,
    PackageExpired,
    RuleViolation,
)
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import (
    ClientPackage,
    ClientPackageStatus,
    CounterChange,
    LedgerEntry,
    LedgerKind,
    StepBalance,
    adjust,
    booked_sessions,
    choose_package,
    counter_change,
    extend_expiry,
    format_date,
    package_credits,
    package_summary,
    redeem,
    refund_unused,
    release,
    remaining_sessions,
    reserve,
    sell_package,
    step_balance,
    step_for_treatment,
    void_redemption,
)

NOV_1 = dt.date(2026, 11, 1)
NOV_20 = dt.date(2026, 11, 20)

PEELS = Package(  # no delays at all: handy to use many sessions quickly
    id="pkg-peel",
    name="Peel trio",
    price=Money(10_000),
    validity_days=90,
    steps=(PackageStep(1, "tr-peel", "Chemical peel", sessions=3),),
)


def sold(package: Package = MICRONEEDLING, on: dt.date = NOV_1, cp_id: str = "cp-1") -> ClientPackage:
    return sell_package(package, client_package_id=cp_id, client_id="client-1", purchased_on=on)


def day(n: int) -> dt.date:
    """Day ``n`` after 1 Nov 2026."""
    return NOV_1 + dt.timedelta(days=n)


# --- selling ---------------------------------------------------------------------------------------------------


def test_selling_snapshots_the_terms_and_sets_expiry_from_validity() -> None:
    cp = sold(BOTOX_STARTER, on=NOV_20)

    assert cp.name == "Botox starter"
    assert cp.price == Money(30_000)
    assert cp.purchased_on == NOV_20
    assert cp.expires_on == dt.date(2027, 5, 19)  # 20 Nov 2026 + 180 days
    assert cp.steps == BOTOX_STARTER.steps
    assert cp.ledger == ()
    assert cp.status is ClientPackageStatus.ACTIVE


def test_editing_the_catalogue_later_does_not_change_what_was_sold() -> None:
    cp = sold(MICRONEEDLING)
    edited = replace(MICRONEEDLING, price=Money(90_000), steps=(replace(MICRONEEDLING.steps[0], sessions=3),))

    assert edited.price != cp.price
    assert step_balance(cp, 1).total == 6


def test_an_inactive_package_cannot_be_sold() -> None:
    with pytest.raises(RuleViolation, match="no longer offered for sale"):
        sold(replace(PEELS, active=False))


def test_dates_read_like_staff_write_them() -> None:
    assert format_date(dt.date(2026, 11, 26)) == "26 Nov 2026"
    assert format_date(dt.date(2027, 1, 5)) == "5 Jan 2027"


# --- ledger entries --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [LedgerKind.VOID, LedgerKind.ADJUST])
def test_voids_and_adjustments_need_a_reason(kind: LedgerKind) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        LedgerEntry(kind=kind, step_position=1, sessions=1, session_on=NOV_1, recorded_on=NOV_1, reason="  ")


def test_a_reservation_entry_needs_its_appointment() -> None:
    with pytest.raises(InvalidInput, match="appointment"):
        LedgerEntry(kind=LedgerKind.RESERVE, step_position=1, sessions=1, session_on=NOV_1, recorded_on=NOV_1)


def test_an_adjustment_of_zero_is_refused() -> None:
    with pytest.raises(InvalidInput):
        LedgerEntry(kind=LedgerKind.ADJUST, step_position=1, sessions=0, reason="x", recorded_on=NOV_1)


# --- reserve, release, redeem ------------------------------------------------------------------------------------


def test_reserving_moves_a_session_from_remaining_to_reserved() -> None:
    cp, entry = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)

    assert entry == LedgerEntry(
        kind=LedgerKind.RESERVE,
        step_position=1,
        sessions=1,
        session_on=day(10),
        appointment_id="appt-1",
        recorded_on=NOV_1,
    )
    assert cp.ledger == (entry,)
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=0, reserved=1, remaining=5)


def test_releasing_gives_the_session_back() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)
    cp, entry = release(cp, "appt-1", today=day(5))

    assert entry.kind is LedgerKind.RELEASE
    assert (entry.step_position, entry.session_on, entry.appointment_id) == (1, day(10), "appt-1")
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=0, reserved=0, remaining=6)


def test_releasing_an_appointment_that_holds_no_session_is_refused() -> None:
    with pytest.raises(NotFound, match="No session of Microneedling course is booked"):
        release(sold(), "appt-unknown", today=NOV_1)


def test_redeeming_a_reserved_appointment_converts_the_reservation() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)
    cp, entry = redeem(cp, 1, "appt-1", day(10), today=day(10))

    assert entry.kind is LedgerKind.REDEEM
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=1, reserved=0, remaining=5)


def test_redeeming_without_a_reservation_consumes_a_free_session() -> None:
    cp, entry = redeem(sold(), 1, None, day(10), today=day(10))
    cp, _ = redeem(cp, 1, "walk-in-appt", day(40), today=day(40))

    assert entry.appointment_id is None
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=2, reserved=0, remaining=4)


def test_an_appointment_can_hold_only_one_session_of_a_package() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)

    with pytest.raises(RuleViolation, match="already holds a session"):
        reserve(cp, 1, "appt-1", day(40), today=NOV_1)


def test_an_appointment_cannot_be_redeemed_twice() -> None:
    cp, _ = redeem(sold(), 1, "appt-1", day(10), today=day(10))

    with pytest.raises(RuleViolation, match="already been paid"):
        redeem(cp, 1, "appt-1", day(10), today=day(10))


def test_redeeming_a_reservation_as_another_step_is_refused() -> None:
    cp, _ = reserve(sold(BOTOX_STARTER, on=NOV_20), 1, "appt-1", dt.date(2026, 11, 24), today=NOV_20)

    with pytest.raises(RuleViolation, match="booked as the consultation of Botox starter, not the treatment"):
        redeem(cp, 2, "appt-1", dt.date(2026, 11, 24), today=dt.date(2026, 11, 24))


def test_no_session_can_be_used_once_every_one_is_used_or_booked() -> None:
    cp = sold(PEELS)
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))
    cp, _ = redeem(cp, 1, None, day(2), today=day(2))
    cp, _ = reserve(cp, 1, "appt-3", day(3), today=day(2))

    with pytest.raises(NoSessionsRemaining, match="No chemical peel session is left in Peel trio"):
        redeem(cp, 1, None, day(3), today=day(3))
    with pytest.raises(NoSessionsRemaining):
        reserve(cp, 1, "appt-4", day(4), today=day(3))
    # the reserved one can still be checked out: it converts, it does not need a free session
    cp, _ = redeem(cp, 1, "appt-3", day(3), today=day(3))
    assert step_balance(cp, 1) == StepBalance(total=3, redeemed=3, reserved=0, remaining=0)


def test_a_session_cannot_be_redeemed_before_it_takes_place_or_before_the_purchase() -> None:
    with pytest.raises(RuleViolation, match="cannot be redeemed before that day"):
        redeem(sold(), 1, None, day(10), today=day(9))
    with pytest.raises(RuleViolation, match="was bought on 1 Nov 2026"):
        redeem(sold(), 1, None, dt.date(2026, 10, 30), today=day(9))


def test_a_forfeited_session_is_redeemed_with_its_reason() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)
    cp, entry = redeem(cp, 1, "appt-1", day(10), today=day(10), reason="No-show: session forfeited")

    assert entry.reason == "No-show: session forfeited"
    assert step_balance(cp, 1).redeemed == 1


# --- void ------------------------------------------------------------------------------------------------------


def test_voiding_a_redemption_frees_the_session_and_does_not_reopen_the_reservation() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)
    cp, _ = redeem(cp, 1, "appt-1", day(10), today=day(10))
    cp, entry = void_redemption(cp, "appt-1", "Checked out on the wrong client", today=day(10))

    assert entry.kind is LedgerKind.VOID
    assert entry.reason == "Checked out on the wrong client"
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=0, reserved=0, remaining=6)
    assert booked_sessions(cp) == ()
    # the appointment can be checked out again once the mistake is undone
    cp, _ = redeem(cp, 1, "appt-1", day(10), today=day(11))
    assert step_balance(cp, 1).redeemed == 1


def test_a_redemption_without_appointment_is_voided_by_its_ledger_index() -> None:
    cp, _ = redeem(sold(), 1, None, day(10), today=day(10))
    cp, _ = redeem(cp, 1, None, day(40), today=day(40))
    cp, entry = void_redemption(cp, 1, "Paid by card instead", today=day(40))

    assert (entry.session_on, entry.appointment_id) == (day(40), None)
    assert [s.session_on for s in booked_sessions(cp, 1)] == [day(10)]
    with pytest.raises(NotFound, match="no redemption of Microneedling course to undo"):
        void_redemption(cp, 1, "again", today=day(40))


def test_voiding_needs_a_reason_and_a_redemption() -> None:
    cp, _ = redeem(sold(), 1, "appt-1", day(10), today=day(10))

    with pytest.raises(InvalidInput, match="needs a reason"):
        void_redemption(cp, "appt-1", " ", today=day(10))
    with pytest.raises(NotFound):
        void_redemption(cp, "appt-2", "typo", today=day(10))
    with pytest.raises(NotFound, match="not a redemption"):
        void_redemption(cp, 7, "typo", today=day(10))


def test_a_voided_appointment_redemption_cannot_be_voided_by_its_old_index() -> None:
    cp, _ = redeem(sold(), 1, "appt-1", day(10), today=day(10))
    cp, _ = void_redemption(cp, 0, "mistake", today=day(10))
    cp, _ = redeem(cp, 1, "appt-1", day(10), today=day(10))

    with pytest.raises(NotFound):
        void_redemption(cp, 0, "again", today=day(10))
    cp, _ = void_redemption(cp, 2, "mistake again", today=day(10))
    assert step_balance(cp, 1).redeemed == 0


# --- adjust ----------------------------------------------------------------------------------------------------


def test_a_manager_can_add_and_remove_sessions_with_a_reason() -> None:
    cp, entry = adjust(sold(), 1, 2, "Goodwill after a reaction", today=day(3))
    assert (entry.kind, entry.sessions, entry.reason) == (LedgerKind.ADJUST, 2, "Goodwill after a reaction")
    assert step_balance(cp, 1) == StepBalance(total=8, redeemed=0, reserved=0, remaining=8)

    cp, _ = adjust(cp, 1, -3, "Sold as a course of 5", today=day(3))
    assert step_balance(cp, 1) == StepBalance(total=5, redeemed=0, reserved=0, remaining=5)


def test_an_adjustment_cannot_remove_sessions_that_are_used_or_booked() -> None:
    cp = sold(PEELS)
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))
    cp, _ = reserve(cp, 1, "appt-2", day(5), today=day(1))

    with pytest.raises(NoSessionsRemaining, match="Only 1 session of chemical peel is unused in Peel trio"):
        adjust(cp, 1, -2, "correction", today=day(2))
    cp, _ = adjust(cp, 1, -1, "correction", today=day(2))
    assert step_balance(cp, 1).remaining == 0


def test_an_adjustment_needs_a_reason_and_a_non_zero_count() -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        adjust(sold(), 1, 1, "", today=NOV_1)
    with pytest.raises(InvalidInput):
        adjust(sold(), 1, 0, "nothing", today=NOV_1)
    with pytest.raises(NotFound, match="has no step 2"):
        adjust(sold(), 2, 1, "no such step", today=NOV_1)


# --- refund ----------------------------------------------------------------------------------------------------


def test_refund_of_a_600_course_of_6_with_4_unused_is_400() -> None:
    cp = sold(MICRONEEDLING)
    cp, _ = redeem(cp, 1, None, day(10), today=day(10))
    cp, _ = redeem(cp, 1, None, day(40), today=day(40))

    cp, entries, amount = refund_unused(cp, today=day(50))

    assert amount == Money(40_000)
    assert cp.status is ClientPackageStatus.REFUNDED
    assert [(e.kind, e.step_position, e.sessions) for e in entries] == [(LedgerKind.REFUND, 1, 4)]
    assert cp.ledger[-1:] == entries
    assert step_balance(cp, 1) == StepBalance(total=6, redeemed=2, reserved=0, remaining=0, refunded=4)


def test_refund_of_100_with_1_of_3_unused_rounds_half_up_to_33_33() -> None:
    cp = sold(replace(PEELS, price=Money(10_000)))
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))
    cp, _ = redeem(cp, 1, None, day(2), today=day(2))

    _, _, amount = refund_unused(cp, today=day(3))

    assert amount == Money(3_333)


def test_refund_is_pro_rata_of_the_price_paid_not_the_list_price() -> None:
    cp = sold(MICRONEEDLING)
    discounted = replace(cp, price=Money(45_000))  # sold at a discount: £450 for 6

    _, _, amount = refund_unused(discounted, today=day(1))

    assert amount == Money(45_000)


def test_refund_spreads_the_price_over_every_session_of_every_step() -> None:
    cp = sold(BOTOX_STARTER, on=NOV_20)  # £300 for 3 sessions
    cp, _ = redeem(cp, 1, None, NOV_20, today=NOV_20)

    cp, entries, amount = refund_unused(cp, today=NOV_20)

    assert amount == Money(20_000)
    assert [(e.step_position, e.sessions) for e in entries] == [(2, 1), (3, 1)]


def test_refund_counts_adjusted_sessions_in_the_total() -> None:
    cp, _ = adjust(sold(PEELS), 1, 1, "Goodwill", today=day(1))  # £100 for 4 sessions now
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))

    _, _, amount = refund_unused(cp, today=day(2))

    assert amount == Money(7_500)


def test_refund_is_refused_while_a_session_is_booked() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)

    with pytest.raises(RuleViolation, match="still has 1 session booked. Cancel or check out"):
        refund_unused(cp, today=day(2))


def test_refund_with_nothing_unused_is_refused() -> None:
    cp = sold(PEELS)
    for n in range(3):
        cp, _ = redeem(cp, 1, None, day(n), today=day(n))

    with pytest.raises(RuleViolation, match="nothing to refund"):
        refund_unused(cp, today=day(5))


def test_a_refunded_package_accepts_nothing_more() -> None:
    cp, _ = redeem(sold(), 1, "appt-1", day(1), today=day(1))
    cp, _, _ = refund_unused(cp, today=day(2))

    refused = [
        lambda: reserve(cp, 1, "appt-2", day(40), today=day(2)),
        lambda: redeem(cp, 1, None, day(2), today=day(2)),
        lambda: release(cp, "appt-1", today=day(2)),
        lambda: void_redemption(cp, "appt-1", "mistake", today=day(2)),
        lambda: adjust(cp, 1, 1, "goodwill", today=day(2)),
        lambda: refund_unused(cp, today=day(2)),
        lambda: extend_expiry(cp, day(500), "illness"),
    ]
    for attempt in refused:
        with pytest.raises(RuleViolation, match="has been refunded"):
            attempt()
    assert remaining_sessions(cp) == 0


# --- expiry ----------------------------------------------------------------------------------------------------


def test_no_session_can_be_booked_after_expiry() -> None:
    cp = sold(PEELS)  # bought 1 Nov 2026, 90 days: expires 30 Jan 2027
    assert cp.expires_on == dt.date(2027, 1, 30)

    with pytest.raises(PackageExpired) as refused:
        reserve(cp, 1, "appt-1", dt.date(2027, 1, 31), today=NOV_1)
    assert (
        str(refused.value) == "Peel trio expires on 30 Jan 2027, so no session can be booked for 31 Jan 2027."
    )
    cp, _ = reserve(cp, 1, "appt-1", dt.date(2027, 1, 30), today=NOV_1)  # the last day still counts


def test_no_session_can_be_redeemed_after_expiry() -> None:
    with pytest.raises(PackageExpired, match="Peel trio expired on 30 Jan 2027, so it cannot pay"):
        redeem(sold(PEELS), 1, None, dt.date(2027, 2, 1), today=dt.date(2027, 2, 1))


def test_a_manager_can_extend_the_expiry() -> None:
    cp = extend_expiry(sold(PEELS), dt.date(2027, 3, 1), "Client was ill for a month")

    assert cp.expires_on == dt.date(2027, 3, 1)
    cp, _ = redeem(cp, 1, None, dt.date(2027, 2, 1), today=dt.date(2027, 2, 1))
    assert step_balance(cp, 1).redeemed == 1


def test_an_extension_must_be_later_sensible_and_explained() -> None:
    cp = sold(PEELS)
    with pytest.raises(InvalidInput, match="must be after the current one, 30 Jan 2027"):
        extend_expiry(cp, dt.date(2027, 1, 30), "no change")
    with pytest.raises(InvalidInput, match="needs a reason"):
        extend_expiry(cp, dt.date(2027, 3, 1), "")
    with pytest.raises(InvalidInput, match="at the latest"):
        extend_expiry(cp, dt.date(2040, 1, 1), "typo in the year")


# --- which package pays ----------------------------------------------------------------------------------------


def test_the_package_that_expires_first_pays() -> None:
    later = sold(MICRONEEDLING, on=dt.date(2026, 6, 1), cp_id="cp-later")  # expires 1 Jun 2027
    sooner = sold(MICRONEEDLING, on=dt.date(2026, 3, 1), cp_id="cp-sooner")  # expires 1 Mar 2027

    assert choose_package([later, sooner], "tr-micro", on=day(5)) is sooner


def test_equal_expiry_goes_to_the_earliest_purchase_then_the_smallest_id() -> None:
    a = replace(sold(cp_id="cp-b"), expires_on=dt.date(2027, 6, 1))
    b = replace(sold(cp_id="cp-a", on=dt.date(2026, 10, 1)), expires_on=dt.date(2027, 6, 1))
    c = replace(sold(cp_id="cp-0"), expires_on=dt.date(2027, 6, 1))

    assert choose_package([a, c, b], "tr-micro", on=day(5)) is b
    assert choose_package([a, c], "tr-micro", on=day(5)) is c


def test_expired_refunded_used_up_or_unrelated_packages_do_not_pay() -> None:
    expired = sold(PEELS, cp_id="cp-expired", on=dt.date(2026, 1, 1))
    used = sold(PEELS, cp_id="cp-used")
    for n in range(3):
        used, _ = redeem(used, 1, None, day(n), today=day(n))
    refunded, _, _ = refund_unused(sold(PEELS, cp_id="cp-refunded"), today=NOV_1)

    assert choose_package([expired, used, refunded, sold(MICRONEEDLING)], "tr-peel", on=day(5)) is None
    assert choose_package([], "tr-peel", on=day(5)) is None


def test_a_treatment_books_into_the_first_step_with_sessions_left() -> None:
    twice = replace(
        PEELS,
        steps=(
            PackageStep(1, "tr-peel", "Chemical peel"),
            PackageStep(2, "tr-led", "LED"),
            PackageStep(3, "tr-peel", "Chemical peel", min_days_after_previous=7),
        ),
    )
    cp = sold(twice)
    assert step_for_treatment(cp, "tr-peel", today=day(1)) == 1
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))
    assert step_for_treatment(cp, "tr-peel", today=day(1)) == 3
    assert step_for_treatment(cp, "tr-botox", today=day(1)) is None
    assert step_for_treatment(cp, "tr-peel", today=dt.date(2027, 6, 1)) is None  # expired


# --- what staff see and what checkout can use ------------------------------------------------------------------


def test_summary_shows_used_booked_remaining_and_next_date_per_step() -> None:
    cp = sold(BOTOX_STARTER, on=NOV_20)
    cp, _ = redeem(cp, 1, "appt-c", dt.date(2026, 11, 24), today=dt.date(2026, 11, 24))

    summary = package_summary(cp, today=dt.date(2026, 11, 24))

    assert summary.expires_on == dt.date(2027, 5, 19)
    assert (summary.days_to_expiry, summary.expiring_soon, summary.expired) == (176, False, False)
    rows = [(s.name, s.total, s.used, s.booked, s.remaining, s.next_booking_on) for s in summary.steps]
    assert rows == [
        ("Consultation", 1, 1, 0, 0, None),
        ("Treatment", 1, 0, 0, 1, dt.date(2026, 11, 26)),
        ("Review", 1, 0, 0, 1, None),  # the treatment has to be booked first
    ]
    assert summary.remaining == 2


def test_summary_flags_a_package_expiring_within_30_days_and_an_expired_one() -> None:
    cp = sold(PEELS)  # expires 30 Jan 2027

    assert package_summary(cp, today=dt.date(2026, 12, 30)).expiring_soon is False  # 31 days left
    soon = package_summary(cp, today=dt.date(2026, 12, 31))
    assert (soon.days_to_expiry, soon.expiring_soon, soon.expired) == (30, True, False)
    gone = package_summary(cp, today=dt.date(2027, 2, 1))
    assert (gone.days_to_expiry, gone.expiring_soon, gone.expired) == (-2, False, True)
    assert all(step.next_booking_on is None for step in gone.steps)


def test_credits_offer_each_reservation_and_one_free_session_per_step() -> None:
    cp = sold(MICRONEEDLING)
    cp, _ = redeem(cp, 1, None, day(1), today=day(1))
    cp, _ = reserve(cp, 1, "appt-3", day(60), today=day(1))
    cp, _ = reserve(cp, 1, "appt-2", day(30), today=day(1))

    credits = package_credits([cp], on=day(30))

    assert [(c.appointment_id, c.session_number, c.step_sessions, c.remaining) for c in credits] == [
        ("appt-2", 2, 6, 3),
        ("appt-3", 3, 6, 3),
        (None, 2, 6, 3),
    ]
    assert {c.treatment_id for c in credits} == {"tr-micro"}
    assert credits[0].reason == "Package: Microneedling course, session 2 of 6"
    assert credits[0].expires_on == cp.expires_on


def test_credits_skip_expired_refunded_and_used_up_packages() -> None:
    used = sold(PEELS, cp_id="cp-used")
    for n in range(3):
        used, _ = redeem(used, 1, None, day(n), today=day(n))
    refunded, _, _ = refund_unused(sold(PEELS, cp_id="cp-refunded"), today=NOV_1)
    expired = sold(PEELS, cp_id="cp-expired", on=dt.date(2026, 1, 1))

    assert package_credits([used, refunded, expired], on=day(5)) == ()


def test_counter_change_says_whether_a_redemption_converted_a_reservation() -> None:
    cp, _ = reserve(sold(), 1, "appt-1", day(10), today=NOV_1)
    _, converting = redeem(cp, 1, "appt-1", day(10), today=day(10))
    _, free = redeem(cp, 1, None, day(10), today=day(10))

    assert counter_change(cp, converting) == CounterChange(1, adjusted=0, redeemed=1, reserved=-1, refunded=0)
    assert counter_change(cp, free) == CounterChange(1, adjusted=0, redeemed=1, reserved=0, refunded=0)
    _, adjustment = adjust(cp, 1, -2, "correction", today=day(1))
    assert counter_change(cp, adjustment) == CounterChange(1, adjusted=-2, redeemed=0, reserved=0, refunded=0)
