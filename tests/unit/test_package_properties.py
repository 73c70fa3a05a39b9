"""Hypothesis properties of the session ledger and of the step-delay rules."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from aestheticc_pos.domain.catalogue import Package, PackageStep
from aestheticc_pos.domain.errors import BookingRefused, DomainError
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import (
    ClientPackage,
    ClientPackageStatus,
    StepBalance,
    adjust,
    check_booking,
    earliest_booking_date,
    extend_expiry,
    redeem,
    refund_unused,
    release,
    reserve,
    sell_package,
    step_balance,
    void_redemption,
)

PURCHASED = dt.date(2026, 11, 20)
APPOINTMENTS = ["appt-a", "appt-b", "appt-c", "appt-d", "appt-e"]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def packages(draw: st.DrawFn) -> Package:
    count = draw(st.integers(1, 3))
    steps = tuple(
        PackageStep(
            position=n,
            treatment_id=f"tr-{n}",
            name=f"Step {n}",
            sessions=draw(st.integers(1, 4)),
            min_days_after_previous=draw(st.integers(0, 6)),
            min_days_between_sessions=draw(st.sampled_from([0, 0, 1, 3, 7])),
        )
        for n in range(1, count + 1)
    )
    return Package(
        id="pkg",
        name="Course",
        price=Money(draw(st.integers(0, 200_000))),
        validity_days=draw(st.integers(10, 45)),
        steps=steps,
    )


def when(offset: int) -> dt.date:
    return PURCHASED + dt.timedelta(days=offset)


# Weighted so that most operations can succeed; refunds end a package, so they are rare.
OPERATION_KINDS = ["reserve"] * 8 + ["release"] * 3 + ["redeem"] * 6 + ["void"] * 3 + ["adjust"] * 2
OPERATION_KINDS += ["refund", "extend"]


@st.composite
def scenarios(draw: st.DrawFn, max_ops: int = 30) -> tuple[Package, list[tuple]]:
    """A package and a sequence of operations on it, many of which the rules will refuse."""
    package = draw(packages())
    # now and then a step the package does not have: that must be refused cleanly
    step = st.sampled_from([*range(1, len(package.steps) + 1)] * 5 + [len(package.steps) + 1])
    day = st.integers(-2, package.validity_days + 2)
    appointment = st.sampled_from(APPOINTMENTS)
    ops: list[tuple] = []
    for _ in range(draw(st.integers(max_ops // 3, max_ops))):
        kind = draw(st.sampled_from(OPERATION_KINDS))
        if kind == "reserve":  # snap: book at the first date allowed from ``day``
            ops.append((kind, draw(step), draw(appointment), draw(day), draw(st.booleans())))
        elif kind == "release":
            ops.append((kind, draw(appointment)))
        elif kind == "redeem":  # lag: days between the session and its checkout (negative: refused)
            ops.append((kind, draw(step), draw(st.none() | appointment), draw(day), draw(st.integers(-1, 3))))
        elif kind == "void":
            ops.append((kind, draw(appointment | st.integers(-1, 8))))
        elif kind == "adjust":
            ops.append((kind, draw(step), draw(st.integers(-4, 4))))
        elif kind == "refund":
            ops.append((kind,))
        else:
            ops.append((kind, draw(st.integers(-5, 30))))
    return package, ops


def balances(cp: ClientPackage) -> list[StepBalance]:
    return [step_balance(cp, step.position) for step in cp.steps]


def assert_consistent(cp: ClientPackage) -> None:
    for b in balances(cp):
        assert min(b.total, b.redeemed, b.reserved, b.remaining, b.refunded) >= 0, b
        assert b.total == b.redeemed + b.reserved + b.refunded + b.remaining, b


@dataclass
class Outcome:
    cp: ClientPackage
    position: int | None = None  # the step whose balance the operation changed


def apply(cp: ClientPackage, op: tuple) -> Outcome:
    """Run one operation; raises DomainError when the rules refuse it."""
    kind, *args = op
    today = cp.purchased_on
    if kind == "reserve":
        step, appointment, day, snap = args
        on = when(day)
        if snap:
            on = earliest_booking_date(cp, step, on) or on
        new, _ = reserve(cp, step, appointment, on, today)
        return Outcome(new, step)
    if kind == "release":
        new, entry = release(cp, args[0], today)
        return Outcome(new, entry.step_position)
    if kind == "redeem":
        step, appointment, day, lag = args
        new, _ = redeem(cp, step, appointment, when(day), when(day + lag))
        return Outcome(new, step)
    if kind == "void":
        new, entry = void_redemption(cp, args[0], "Mistake at checkout", today)
        return Outcome(new, entry.step_position)
    if kind == "adjust":
        step, delta = args
        new, _ = adjust(cp, step, delta, "Manager correction", today)
        return Outcome(new, step)
    if kind == "refund":
        new, _, amount = refund_unused(cp, today)
        unused = sum(b.remaining for b in balances(cp))
        total = sum(b.total for b in balances(cp))
        assert amount == cp.price.fraction(unused, total)
        assert Money(0) <= amount <= cp.price
        return Outcome(new)
    (days,) = args
    return Outcome(extend_expiry(cp, cp.expires_on + dt.timedelta(days=days), "Client was unwell"))


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_remaining_sessions_never_go_negative_under_any_sequence_of_operations(
    scenario: tuple[Package, list[tuple]],
) -> None:
    package, ops = scenario
    cp = sell_package(package, client_package_id="cp", client_id="client", purchased_on=PURCHASED)
    assert_consistent(cp)
    for op in ops:
        before = balances(cp)
        try:
            outcome = apply(cp, op)
        except DomainError:
            continue  # refused: nothing changed (values are immutable), and only a DomainError may escape
        after = balances(outcome.cp)
        assert_consistent(outcome.cp)
        changed = {n for n, (b, a) in enumerate(zip(before, after, strict=True), start=1) if a != b}
        kind = op[0]
        if kind == "refund":
            assert all(b.reserved == 0 for b in before)
            assert all(
                a.remaining == 0 and a.refunded == b.refunded + b.remaining
                for b, a in zip(before, after, strict=True)
            )
            assert outcome.cp.status is ClientPackageStatus.REFUNDED
        elif kind == "extend":
            assert after == before and outcome.cp.expires_on > cp.expires_on
        else:
            assert changed == {outcome.position}
            b, a = before[outcome.position - 1], after[outcome.position - 1]
            if kind == "reserve":
                assert (a.reserved, a.remaining) == (b.reserved + 1, b.remaining - 1)
            elif kind == "release":
                assert (a.reserved, a.remaining) == (b.reserved - 1, b.remaining + 1)
            elif kind == "redeem":  # converts a reservation, or consumes a free session
                assert a.redeemed == b.redeemed + 1
                assert (a.reserved, a.remaining) in {
                    (b.reserved - 1, b.remaining),
                    (b.reserved, b.remaining - 1),
                }
            elif kind == "void":
                assert (a.redeemed, a.remaining) == (b.redeemed - 1, b.remaining + 1)
            else:
                assert (a.total, a.remaining) == (b.total + op[2], b.remaining + op[2])
        if cp.status is ClientPackageStatus.REFUNDED:
            raise AssertionError(f"a refunded package accepted {op}")
        cp = outcome.cp


# --- step delays -------------------------------------------------------------------------------------------------


def build(package: Package, ops: list[tuple]) -> ClientPackage:
    """The package after ``ops``, skipping refused ones (and refunds, which would close it).

    Bookings snap to allowed dates or not, and checkouts are not refused for delays, so the states reached
    include irregular ones (a treatment attended earlier than its step allows).
    """
    cp = sell_package(package, client_package_id="cp", client_id="client", purchased_on=PURCHASED)
    for op in ops:
        if op[0] == "refund":
            continue
        with contextlib.suppress(DomainError):
            cp = apply(cp, op).cp
    return cp


@PROPERTY_SETTINGS
@given(scenario=scenarios(max_ops=20))
def test_a_refusal_names_the_true_earliest_date(scenario: tuple[Package, list[tuple]]) -> None:
    cp = build(*scenario)
    window = [
        cp.purchased_on + dt.timedelta(days=n) for n in range(-3, (cp.expires_on - cp.purchased_on).days + 4)
    ]
    for step in cp.steps:
        verdicts: dict[dt.date, BookingRefused | DomainError | None] = {}
        for on in window:
            try:
                check_booking(cp, step.position, on)
                verdicts[on] = None
            except DomainError as refused:
                verdicts[on] = refused
        passing = [on for on in window if verdicts[on] is None]
        for on in window:
            later = [p for p in passing if p >= on]
            # earliest_booking_date agrees with check_booking, day by day
            assert earliest_booking_date(cp, step.position, on) == (later[0] if later else None)
            refused = verdicts[on]
            if not isinstance(refused, BookingRefused):
                continue
            if refused.earliest is None:
                assert later == [], refused  # no date from ``on`` onwards would do
                continue
            # booking exactly on the named date passes, and no booking between the refused date and it does
            assert on < refused.earliest <= cp.expires_on
            assert verdicts[refused.earliest] is None, (refused, verdicts[refused.earliest])
            assert later[0] == refused.earliest, refused
            if step.min_days_between_sessions == 0:
                # without gaps inside the step the allowed dates form one interval: nothing earlier passes at all
                assert passing[0] == refused.earliest
        # what check_booking allows, reserve books
        for on in passing[:3]:
            booked, _ = reserve(cp, step.position, "appt-new", on, PURCHASED)
            assert (
                step_balance(booked, step.position).reserved == step_balance(cp, step.position).reserved + 1
            )
