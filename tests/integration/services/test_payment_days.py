"""The membership payments' summary by charge day (``store/payment_days.py``) is kept by every write of a payment.

Through the paths the clinic's payments are written by: GoCardless's payment events applied by the message bus
(created, confirmed, failed, charged back, cancelled, a new charge date), a payment taken at the desk, a tier
change (the earlier payments stay with the tier they paid for), a statement run through a session, a delete,
and SQL on a bare connection that names no tier. After each, the summary holds, per key, what the payments'
own rows sum to (worked out here in Python from the rows) and what ``rebuild_payment_days`` sums again; the
first test also spells out the rows by hand. SQLite and PostgreSQL; on PostgreSQL two writers adding to the
same day and status never wait on each other.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from members import billed, event, gold_and_silver, member
from sqlalchemy import Engine, delete, insert, select, text, update

from aestheticc_pos.domain.messages import (
    PaymentCancelled,
    PaymentConfirmed,
    PaymentCreated,
    PaymentFailed,
    PaymentReversed,
    RemotePayment,
)
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.store.payment_days import rebuild_payment_days
from aestheticc_pos.store.tables import MembershipPaymentDayRow, MembershipPaymentRow, new_id

TODAY = dt.date(2026, 11, 24)  # the services fixture's clock
NEXT = dt.date(2026, 12, 24)


@pytest.fixture
def tiers(services, manager) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return gold_and_silver(services, manager)


Key = tuple[dt.date, str, str, str, str]


def _summary(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """The summary's rows summed over their writers, leaving out keys that came back to nothing."""
    d = MembershipPaymentDayRow
    totals: Counter = Counter()
    with services.uow(read_only=True) as uow:
        for day, source, status, tier, currency, n, amount in uow.session.execute(
            select(d.day, d.source, d.status, d.tier_name, d.currency, d.payments, d.amount_pence)
        ):
            totals[(day, source, status, tier, currency, "n")] += n
            totals[(day, source, status, tier, currency, "a")] += amount
    return _pairs(totals)


def _from_payments(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """What the payments' rows sum to, worked out here."""
    p = MembershipPaymentRow
    totals: Counter = Counter()
    with services.uow(read_only=True) as uow:
        for day, source, status, tier, currency, amount in uow.session.execute(
            select(p.charge_date, p.source, p.status, p.tier_name, p.currency, p.amount_pence)
        ):
            if day is not None:
                totals[(day, source, status, tier, currency, "n")] += 1
                totals[(day, source, status, tier, currency, "a")] += amount
    return _pairs(totals)


def _rebuilt(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """What ``rebuild_payment_days`` sums again (in a transaction left uncommitted)."""
    with services.uow() as uow:
        rebuild_payment_days(uow.session.connection())
        d = MembershipPaymentDayRow
        rows = uow.session.execute(
            select(d.day, d.source, d.status, d.tier_name, d.currency, d.payments, d.amount_pence)
        ).all()
        uow.session.rollback()
    return {tuple(r[:5]): (r[5], r[6]) for r in rows if r[5]}


def _pairs(totals: Counter) -> dict[Key, tuple[int, int]]:
    keys = {k[:5] for k in totals}
    return {k: (totals[(*k, "n")], totals[(*k, "a")]) for k in keys if totals[(*k, "n")]}


def _kept(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    summary = _summary(services)
    assert summary == _from_payments(services) == _rebuilt(services)
    return summary


def test_gocardless_events_move_a_payment_between_statuses_and_days(services, receptionist, tiers) -> None:
    member(services, receptionist, tiers["gold"], "ada")
    member(services, receptionist, tiers["gold"], "bob")
    first = billed(services, "ada", "PM-ada-1", 6900, TODAY, confirm=False)
    billed(services, "bob", "PM-bob-1", 6900, TODAY, confirm=False)
    dd = "direct_debit"
    assert _kept(services) == {(TODAY, dd, "pending", "Gold", "GBP"): (2, 13800)}
    event(services, PaymentConfirmed(first, "confirmed", TODAY))
    event(services, PaymentFailed(RemotePayment("PM-bob-1"), "failed", TODAY))
    assert _kept(services) == {
        (TODAY, dd, "confirmed", "Gold", "GBP"): (1, 6900),
        (TODAY, dd, "failed", "Gold", "GBP"): (1, 6900),
    }
    event(services, PaymentReversed(first, "charged_back", TODAY))
    later = billed(services, "ada", "PM-ada-2", 4900, NEXT, confirm=False)
    assert _kept(services) == {
        (TODAY, dd, "charged_back", "Gold", "GBP"): (1, 6900),
        (TODAY, dd, "failed", "Gold", "GBP"): (1, 6900),
        (NEXT, dd, "pending", "Gold", "GBP"): (1, 4900),
    }
    moved = RemotePayment(
        "PM-ada-2", charge_date=NEXT + dt.timedelta(days=3), amount_pence=4900, currency="GBP"
    )
    event(services, PaymentCreated(moved, "pending_submission", TODAY, subscription_id="SB-ada"))
    _kept(services)
    event(services, PaymentCancelled(later, "cancelled", TODAY))
    summary = _kept(services)
    assert sum(n for (day, *_), (n, _a) in summary.items() if day >= NEXT) == 1


def test_a_tier_change_leaves_earlier_payments_with_the_tier_they_paid_for(
    services, receptionist, tiers
) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    first = billed(services, "ada", "PM-ada-1", 6900, TODAY, confirm=False)
    event(services, PaymentConfirmed(first, "confirmed", TODAY))
    svc.change_tier(services, membership_id=ada, tier_id=tiers["silver"], staff_id=receptionist)
    second = billed(services, "ada", "PM-ada-2", 2900, NEXT, confirm=False)
    event(services, PaymentConfirmed(second, "confirmed", NEXT))
    summary = _kept(services)
    assert summary == {
        (TODAY, "direct_debit", "confirmed", "Gold", "GBP"): (1, 6900),
        (NEXT, "direct_debit", "confirmed", "Silver", "GBP"): (1, 2900),
    }


def test_the_desk_a_statement_a_delete_and_bare_sql_keep_it_too(services, receptionist, tiers) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["silver"], "bob")
    billed(services, "ada", "PM-ada-1", 6900, TODAY, confirm=False)
    with services.uow() as uow:  # a month paid at the desk, written as the ORM writes it, naming no tier
        uow.session.add(
            MembershipPaymentRow(
                id=new_id(),
                membership_id=bob,
                amount_pence=2900,
                currency="GBP",
                charge_date=TODAY,
                period_start=TODAY,
                period_end=NEXT - dt.timedelta(days=1),
                status="paid",
                source="desk",
            )
        )
        uow.commit()
    assert _kept(services)[(TODAY, "desk", "paid", "Silver", "GBP")] == (1, 2900)
    with services.uow() as uow:  # a statement through the session: part of Ada's first month given back
        uow.session.execute(
            update(MembershipPaymentRow)
            .where(MembershipPaymentRow.membership_id == ada)
            .values(amount_pence=5000, status="confirmed")
        )
        uow.commit()
    assert _kept(services)[(TODAY, "direct_debit", "confirmed", "Gold", "GBP")] == (1, 5000)
    with services.uow() as uow:  # SQL on the bare connection, with no tier and no charge date for one
        connection = uow.session.connection()
        for charge in (NEXT, None):
            connection.execute(
                insert(MembershipPaymentRow.__table__).values(
                    id=new_id(),
                    membership_id=ada,
                    amount_pence=4900,
                    currency="GBP",
                    charge_date=charge,
                    period_start=NEXT,
                    period_end=NEXT + dt.timedelta(days=30),
                    status="pending",
                    source="direct_debit",
                    created_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
                    updated_at=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
                )
            )
        uow.commit()
    with services.uow(read_only=True) as uow:  # the tier was filled in from the membership
        tiers_written = set(uow.session.scalars(select(MembershipPaymentRow.tier_name)))
    assert tiers_written == {"Gold", "Silver"}
    assert _kept(services)[(NEXT, "direct_debit", "pending", "Gold", "GBP")] == (1, 4900)
    with services.uow() as uow:  # a charge date given to the one without, then the desk payment deleted
        uow.session.execute(
            update(MembershipPaymentRow)
            .where(MembershipPaymentRow.charge_date.is_(None))
            .values(charge_date=NEXT)
        )
        row = uow.session.scalars(
            select(MembershipPaymentRow).where(MembershipPaymentRow.source == "desk")
        ).one()
        uow.session.delete(row)
        uow.commit()
    summary = _kept(services)
    assert summary[(NEXT, "direct_debit", "pending", "Gold", "GBP")] == (2, 9800)
    assert not any(key[1] == "desk" for key in summary)
    with services.uow() as uow:
        uow.session.execute(delete(MembershipPaymentRow).where(MembershipPaymentRow.membership_id == ada))
        uow.commit()
    assert _kept(services) == {}


def test_two_writers_on_postgresql_never_wait_on_each_other(
    services, receptionist, tiers, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    ada = member(services, receptionist, tiers["gold"], "ada")
    adding = text(
        "INSERT INTO membership_payments (id, membership_id, amount_pence, currency, charge_date, period_start,"
        " period_end, status, source, created_at, updated_at) VALUES (:id, :m, 4900, 'GBP', :day, :day, :end,"
        " 'confirmed', 'direct_debit', now(), now())"
    )
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        second.begin()
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        for connection in (first, second):  # the same day, source, status and tier
            connection.execute(adding, {"id": new_id(), "m": ada, "day": TODAY, "end": NEXT})
        second.commit()  # it did not wait for the first's lock (it would fail after 2 s)
        first.commit()
    assert _kept(services) == {(TODAY, "direct_debit", "confirmed", "Gold", "GBP"): (2, 9800)}
