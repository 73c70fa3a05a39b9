"""``memberships.repriced`` is kept by every write of a membership or its payments (``store/membership_repricing``).

Through the services as the clinic uses them: GoCardless's payment events applied by the message bus (the first
period with its sign-up fee, a later period billed at another price, a failure), a tier change at the desk, and a
statement run through a session (as the demo's failed payments are written). After each, the flag is what
``rebuild_repriced`` works out from the payments. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from members import billed, event, gold_and_silver, member
from sqlalchemy import delete, select, update

from aestheticc_pos.domain.messages import (
    PaymentCancelled,
    PaymentFailed,
    RemotePayment,
)
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.store.membership_repricing import rebuild_repriced
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow

TODAY = dt.date(2026, 11, 24)  # the services fixture's clock
NEXT_PERIOD = dt.date(2026, 12, 24)


@pytest.fixture
def tiers(services, manager) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return gold_and_silver(services, manager)


def _flags(services) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    with services.uow(read_only=True) as uow:
        return {i: bool(f) for i, f in uow.session.execute(select(MembershipRow.id, MembershipRow.repriced))}


def _rebuilt(services) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """The flags ``rebuild_repriced`` works out from the payments (in a transaction left uncommitted); the
    days from which each is billed at its own price again, kept by the writes, are what it works out too."""
    m = MembershipRow
    with services.uow() as uow:
        kept = dict(uow.session.execute(select(m.id, m.own_price_from)).all())
        rebuild_repriced(uow.session.connection())
        flags = {i: bool(f) for i, f in uow.session.execute(select(m.id, m.repriced))}
        assert dict(uow.session.execute(select(m.id, m.own_price_from)).all()) == kept
        uow.session.rollback()
        return flags


def _own_price_from(services) -> dict[str, dt.date | None]:  # type: ignore[no-untyped-def]
    with services.uow(read_only=True) as uow:
        return dict(uow.session.execute(select(MembershipRow.id, MembershipRow.own_price_from)).all())


def _payments(services, membership_id: str) -> list[tuple[dt.date, int, str]]:  # type: ignore[no-untyped-def]
    with services.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(
                MembershipPaymentRow.period_start,
                MembershipPaymentRow.amount_pence,
                MembershipPaymentRow.status,
            )
            .where(MembershipPaymentRow.membership_id == membership_id)
            .order_by(MembershipPaymentRow.period_start)
        )
        return [tuple(r) for r in rows]


def test_a_first_period_with_its_sign_up_fee_is_at_the_own_price(services, receptionist, tiers) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    billed(services, "ada", "PM-ada-1", 4900 + 2000, TODAY)  # £49 and the £20 fee
    billed(services, "ada", "PM-ada-2", 4900, NEXT_PERIOD)
    assert _payments(services, ada) == [(TODAY, 6900, "confirmed"), (NEXT_PERIOD, 4900, "confirmed")]
    assert _flags(services) == _rebuilt(services) == {ada: False}


def test_a_period_billed_at_another_price_flags_its_membership(services, receptionist, tiers) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["gold"], "bob")
    billed(services, "ada", "PM-ada-1", 6900, TODAY)
    billed(services, "bob", "PM-bob-1", 6900, TODAY)
    billed(services, "ada", "PM-ada-2", 3900, NEXT_PERIOD, confirm=False)  # pending: billed all the same
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}
    event(services, PaymentFailed(RemotePayment("PM-ada-2"), "failed", NEXT_PERIOD))  # still billed so
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}


def test_a_tier_change_flags_a_membership_billed_at_the_old_price(services, receptionist, tiers) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    eve = member(services, receptionist, tiers["gold"], "eve")  # changes before anything was billed
    billed(services, "ada", "PM-ada-1", 6900, TODAY)
    assert _flags(services) == {ada: False, eve: False}
    svc.change_tier(services, membership_id=ada, tier_id=tiers["silver"], staff_id=receptionist)
    svc.change_tier(services, membership_id=eve, tier_id=tiers["silver"], staff_id=receptionist)
    assert _flags(services) == _rebuilt(services) == {ada: True, eve: False}
    billed(services, "eve", "PM-eve-1", 2900, TODAY)  # billed at the new price: its own
    billed(services, "ada", "PM-ada-2", 2900, NEXT_PERIOD)
    assert _flags(services) == _rebuilt(services) == {ada: True, eve: False}


def test_a_statement_through_a_session_is_watched_too(services, receptionist, tiers) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["gold"], "bob")
    billed(services, "ada", "PM-ada-1", 6900, TODAY)
    billed(services, "bob", "PM-bob-1", 6900, TODAY)
    with services.uow() as uow:  # a refund of part of Ada's first month, written as one statement
        uow.session.execute(
            update(MembershipPaymentRow)
            .where(MembershipPaymentRow.membership_id == ada, MembershipPaymentRow.amount_pence == 6900)
            .values(amount_pence=5000)
        )
        uow.commit()
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}
    with services.uow() as uow:  # Bob's price written as a statement: his £49 payment is now another price
        uow.session.execute(
            update(MembershipRow).where(MembershipRow.id == bob).values(monthly_price_pence=5900)
        )
        uow.commit()
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: True}


def test_billed_at_its_own_price_again_from_the_first_period_after_the_last_at_another(
    services, receptionist, tiers
) -> None:
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["gold"], "bob")
    third, fourth = dt.date(2027, 1, 24), dt.date(2027, 2, 24)
    billed(services, "ada", "PM-ada-1", 6900, TODAY)  # Gold with its fee: its own price
    svc.change_tier(services, membership_id=ada, tier_id=tiers["silver"], staff_id=receptionist)
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}
    assert _own_price_from(services) == {ada: None, bob: None}  # nothing billed at Silver's price yet
    billed(services, "ada", "PM-ada-2", 2900, NEXT_PERIOD)
    billed(services, "ada", "PM-ada-3", 2900, third)
    for n, (amount, day) in enumerate(((6900, TODAY), (3900, NEXT_PERIOD), (3900, third), (4900, fourth))):
        billed(services, "bob", f"PM-bob-{n}", amount, day)  # two months at £39, then his own £49 again
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: True}
    assert _own_price_from(services) == {ada: NEXT_PERIOD, bob: fourth}
    event(services, PaymentCancelled(RemotePayment("PM-ada-2"), "cancelled", TODAY))  # never collected
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: True}
    assert _own_price_from(services) == {ada: third, bob: fourth}
    with services.uow() as uow:  # Ada's January payment deleted as a statement, Bob's February one by the ORM
        uow.session.execute(
            delete(MembershipPaymentRow).where(MembershipPaymentRow.gc_payment_id == "PM-ada-3")
        )
        bobs = select(MembershipPaymentRow).where(MembershipPaymentRow.gc_payment_id == "PM-bob-3")
        uow.session.delete(uow.session.scalars(bobs).one())
        uow.commit()
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: True}
    assert _own_price_from(services) == {ada: None, bob: None}
