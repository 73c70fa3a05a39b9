"""``memberships.repriced`` is kept by every write of a membership or its payments (``store/membership_repricing``).

Through the services as the clinic uses them: GoCardless's payment events applied by the message bus (the first
period with its sign-up fee, a later period billed at another price, a failure), a tier change at the desk, and a
statement run through a session (as the demo's failed payments are written). After each, the flag is what
``rebuild_repriced`` works out from the payments. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from staffing import front_desk

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.messages import PaymentConfirmed, PaymentCreated, PaymentFailed, RemotePayment
from aestheticc_pos.services import catalogue
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.membership_repricing import rebuild_repriced
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow

TODAY = dt.date(2026, 11, 24)  # the services fixture's clock
NEXT_PERIOD = dt.date(2026, 12, 24)


@pytest.fixture
def tiers(services, manager) -> dict[str, str]:  # type: ignore[no-untyped-def]
    gold = catalogue.add_tier(
        services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20", signup_fee="20.00"
    )
    silver = catalogue.add_tier(
        services, staff_id=manager, name="Silver", monthly_price="29.00", discount="10"
    )
    return {"gold": gold.id, "silver": silver.id}


def _member(services, receptionist, tier_id: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """A member since today, mandate active, subscription ``SB-<name>``."""
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name=name, last_name="Test"
    )
    membership_id = svc.start_membership(
        services, client_id=client.id, tier_id=tier_id, staff_id=receptionist
    ).id
    with services.uow() as uow:
        m = repo.load_membership(uow.session, membership_id)
        m = ms.subscription_created(ms.mandate_activated(ms.mandate_set_up(m, f"MD-{name}")), f"SB-{name}")
        repo.save_membership(uow.session, m)
        uow.commit()
    return membership_id


def _event(services, message) -> None:  # type: ignore[no-untyped-def]
    with services.uow() as uow:
        MessageBus(services).handle(uow, message)
        uow.commit()


def _billed(
    services, name: str, payment_id: str, amount: int, period_start: dt.date, *, confirm=True
) -> None:  # type: ignore[no-untyped-def]
    """GoCardless created (and collected) a subscription payment of ``amount`` for the period from
    ``period_start``."""
    payment = RemotePayment(payment_id, charge_date=period_start, amount_pence=amount, currency="GBP")
    _event(services, PaymentCreated(payment, "pending_submission", TODAY, subscription_id=f"SB-{name}"))
    if confirm:
        _event(services, PaymentConfirmed(payment, "confirmed", TODAY))


def _flags(services) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    with services.uow(read_only=True) as uow:
        return {i: bool(f) for i, f in uow.session.execute(select(MembershipRow.id, MembershipRow.repriced))}


def _rebuilt(services) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """The flags ``rebuild_repriced`` works out from the payments (in a transaction left uncommitted)."""
    with services.uow() as uow:
        rebuild_repriced(uow.session.connection())
        flags = {i: bool(f) for i, f in uow.session.execute(select(MembershipRow.id, MembershipRow.repriced))}
        uow.session.rollback()
        return flags


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
    ada = _member(services, receptionist, tiers["gold"], "ada")
    _billed(services, "ada", "PM-ada-1", 4900 + 2000, TODAY)  # £49 and the £20 fee
    _billed(services, "ada", "PM-ada-2", 4900, NEXT_PERIOD)
    assert _payments(services, ada) == [(TODAY, 6900, "confirmed"), (NEXT_PERIOD, 4900, "confirmed")]
    assert _flags(services) == _rebuilt(services) == {ada: False}


def test_a_period_billed_at_another_price_flags_its_membership(services, receptionist, tiers) -> None:
    ada = _member(services, receptionist, tiers["gold"], "ada")
    bob = _member(services, receptionist, tiers["gold"], "bob")
    _billed(services, "ada", "PM-ada-1", 6900, TODAY)
    _billed(services, "bob", "PM-bob-1", 6900, TODAY)
    _billed(services, "ada", "PM-ada-2", 3900, NEXT_PERIOD, confirm=False)  # pending: billed all the same
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}
    _event(services, PaymentFailed(RemotePayment("PM-ada-2"), "failed", NEXT_PERIOD))  # still billed so
    assert _flags(services) == _rebuilt(services) == {ada: True, bob: False}


def test_a_tier_change_flags_a_membership_billed_at_the_old_price(services, receptionist, tiers) -> None:
    ada = _member(services, receptionist, tiers["gold"], "ada")
    eve = _member(services, receptionist, tiers["gold"], "eve")  # changes before anything was billed
    _billed(services, "ada", "PM-ada-1", 6900, TODAY)
    assert _flags(services) == {ada: False, eve: False}
    svc.change_tier(services, membership_id=ada, tier_id=tiers["silver"], staff_id=receptionist)
    svc.change_tier(services, membership_id=eve, tier_id=tiers["silver"], staff_id=receptionist)
    assert _flags(services) == _rebuilt(services) == {ada: True, eve: False}
    _billed(services, "eve", "PM-eve-1", 2900, TODAY)  # billed at the new price: its own
    _billed(services, "ada", "PM-ada-2", 2900, NEXT_PERIOD)
    assert _flags(services) == _rebuilt(services) == {ada: True, eve: False}


def test_a_statement_through_a_session_is_watched_too(services, receptionist, tiers) -> None:
    ada = _member(services, receptionist, tiers["gold"], "ada")
    bob = _member(services, receptionist, tiers["gold"], "bob")
    _billed(services, "ada", "PM-ada-1", 6900, TODAY)
    _billed(services, "bob", "PM-bob-1", 6900, TODAY)
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
