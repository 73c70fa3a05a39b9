"""Applying GoCardless events to memberships (sync/inbox.py, through the message bus) on a real, migrated SQLite
database."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.messages import FollowUp
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import clients as client_service
from aestheticc_pos.services import memberships as membership_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import ClinicSettings, Services, write_clinic_settings
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.migrate import upgrade_to_head
from aestheticc_pos.store.tables import MembershipPaymentRow, ProcessedEventRow, SyncStateRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.inbox import Applied, Outcome, apply_event, apply_events, replay_deferred

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # sign-up day: periods run 24th → 23rd


# --- Fixtures: a migrated database, services, and a membership the outbox drain has sent -----------------------


@pytest.fixture
def uow_factory(tmp_path: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade_to_head(url)
    engine = create_engine_for(url)
    yield UnitOfWorkFactory(engine)
    engine.dispose()


@pytest.fixture
def services(uow_factory: UnitOfWorkFactory) -> Services:
    services = Services(uow=uow_factory, clock=FixedClock(START))
    with services.uow() as uow:
        write_clinic_settings(
            uow.session,
            ClinicSettings(name="Test Clinic", address="1 High Street, Bath", vat_number="GB123456789"),
        )
        uow.commit()
    return services


@pytest.fixture
def manager(services: Services) -> str:
    return staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="123456", by_staff_id=None
    ).id


def _new_membership(services: Services, manager: str, prefix: str = "") -> str:
    """A first-payment tier membership for a new client, as the drain left it (customer, billing request)."""
    tier = Tier(
        id=services.new_id(),
        name="Glow",
        monthly_price=Money(4500, "GBP"),
        discount_bp=1000,
        benefits_start=BenefitsStart.FIRST_PAYMENT,
        grace_days=7,
    )
    with services.uow() as uow:
        catalogue_repo.save_tier(uow.session, tier)
        uow.commit()
    client = client_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    view = membership_service.start_membership(
        services, client_id=client.id, tier_id=tier.id, staff_id=manager
    )
    with services.uow() as uow:  # what the outbox drain recorded: the customer and the billing request
        m = repo.load_membership(uow.session, view.id)
        repo.save_membership(
            uow.session, replace(m, customer_id=f"{prefix}CU1", billing_request_id=f"{prefix}BR1")
        )
        uow.commit()
    return view.id


@pytest.fixture
def membership_id(services: Services, manager: str) -> str:
    return _new_membership(services, manager)


# --- Helpers ----------------------------------------------------------------------------------------------------

_counter = iter(range(1, 1_000_000))


def event(
    resource_type: str,
    action: str,
    at: str,
    links: dict[str, str],
    *,
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A GoCardless event as ``GET /events`` returns it; ``extra`` adds details, linked or resource_metadata."""
    details = {"origin": "gocardless", "cause": action, "description": "", **extra.pop("details", {})}
    return {
        "id": event_id or f"EV{next(_counter):06d}",
        "created_at": at,
        "resource_type": resource_type,
        "action": action,
        "links": links,
        "details": details,
        "metadata": {},
        "resource_metadata": extra.pop("resource_metadata", {}),
        **extra,
    }


def life(membership_id: str) -> list[dict[str, Any]]:
    """Set-up, a collected first month, and a second month whose payment failed (GoCardless will retry)."""
    on_sub = {"resource_metadata": {"membership_id": membership_id}}
    return [
        event(
            "billing_requests",
            "fulfilled",
            "2026-11-24T10:00:00.000Z",
            {"billing_request": "BR1", "mandate_request_mandate": "MD1", "customer": "CU1"},
        ),
        event("subscriptions", "created", "2026-11-24T11:00:00.000Z", {"subscription": "SB1"}, **on_sub),
        event(
            "subscriptions",
            "payment_created",
            "2026-11-25T06:00:00.000Z",
            {"subscription": "SB1", "payment": "PM1"},
            linked={
                "payments": [{"id": "PM1", "charge_date": "2026-11-30", "amount": 4500, "currency": "GBP"}]
            },
            **on_sub,
        ),
        event("mandates", "active", "2026-11-27T09:00:00.000Z", {"mandate": "MD1"}),
        event("payments", "confirmed", "2026-12-02T06:00:00.000Z", {"payment": "PM1"}),
        event(
            "subscriptions",
            "payment_created",
            "2026-12-20T06:00:00.000Z",
            {"subscription": "SB1", "payment": "PM2"},
            linked={
                "payments": [{"id": "PM2", "charge_date": "2026-12-24", "amount": 4500, "currency": "GBP"}]
            },
            **on_sub,
        ),
        event(
            "payments",
            "failed",
            "2026-12-29T06:00:00.000Z",
            {"payment": "PM2"},
            details={"cause": "insufficient_funds", "will_attempt_retry": True},
        ),
        event("payments", "resubmission_requested", "2026-12-30T06:00:00.000Z", {"payment": "PM2"}),
    ]


def day_of(e: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(e["created_at"][:10])


def bus(uow_factory: UnitOfWorkFactory) -> MessageBus:
    """The message bus as ``app.py`` builds it, over services on this database."""
    return MessageBus(Services(uow=uow_factory, clock=FixedClock(START)))


def apply(uow_factory: UnitOfWorkFactory, e: dict[str, Any], today: dt.date | None = None) -> Applied:
    with uow_factory() as uow:
        result = apply_event(uow, e, today or day_of(e), bus(uow_factory))
        uow.commit()
    return result


def load(uow_factory: UnitOfWorkFactory, membership_id: str) -> Membership:
    with uow_factory(read_only=True) as uow:
        return repo.load_membership(uow.session, membership_id)


def payments(uow_factory: UnitOfWorkFactory) -> list[tuple[Any, ...]]:
    with uow_factory(read_only=True) as uow:
        rows = uow.session.scalars(select(MembershipPaymentRow).order_by(MembershipPaymentRow.period_start))
        return [
            (r.gc_payment_id, r.period_start, r.period_end, r.status, r.source, r.amount_pence) for r in rows
        ]


def parked(uow_factory: UnitOfWorkFactory) -> list[str]:
    with uow_factory(read_only=True) as uow:
        return list(uow.session.scalars(select(SyncStateRow.key).where(SyncStateRow.key.like("parked:%"))))


# --- A membership's life ----------------------------------------------------------------------------------------


def test_a_full_life_set_up_collected_failed_then_suspended(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    fulfilled, sub_created, created1, active, confirmed1, created2, failed2, retry2 = life(membership_id)

    result = apply(uow_factory, fulfilled)
    assert result.outcome is Outcome.APPLIED
    assert result.membership_id == membership_id
    assert result.follow_up is FollowUp.CREATE_SUBSCRIPTION
    assert result.note is not None and "monthly collection is queued" in result.note
    m = load(uow_factory, membership_id)
    assert (m.mandate_id, m.mandate_status, m.customer_id) == ("MD1", "pending_submission", "CU1")

    assert apply(uow_factory, sub_created).outcome is Outcome.APPLIED
    assert apply(uow_factory, created1).outcome is Outcome.APPLIED
    assert payments(uow_factory) == [
        ("PM1", dt.date(2026, 11, 24), dt.date(2026, 12, 23), "pending", "direct_debit", 4500)
    ]
    apply(uow_factory, active)
    m = load(uow_factory, membership_id)
    assert (m.subscription_id, m.mandate_status, m.status) == (
        "SB1",
        "active",
        MembershipStatus.PENDING_MANDATE,
    )

    apply(uow_factory, confirmed1)
    m = load(uow_factory, membership_id)
    assert m.status is MembershipStatus.ACTIVE
    assert m.paid_through == dt.date(2026, 12, 23)
    assert m.first_payment_collected
    assert payments(uow_factory)[0][3] == "confirmed"

    apply(uow_factory, created2)
    failed = apply(uow_factory, failed2)
    assert failed.outcome is Outcome.APPLIED
    m = load(uow_factory, membership_id)
    assert m.status is MembershipStatus.PAST_DUE
    assert m.past_due_since == dt.date(2026, 12, 29)
    assert m.pending_retry_payment_id == "PM2"
    assert payments(uow_factory)[1] == (
        "PM2",
        dt.date(2026, 12, 24),
        dt.date(2027, 1, 23),
        "failed",
        "direct_debit",
        4500,
    )
    retry = apply(uow_factory, retry2)
    assert retry.note is not None and "retry" in retry.note

    # The grace period (7 days) ends on 5 Jan: the daily review suspends the member the day after.
    assert (
        ms.daily_review(load(uow_factory, membership_id), dt.date(2027, 1, 5)).status
        is MembershipStatus.PAST_DUE
    )
    assert (
        ms.daily_review(load(uow_factory, membership_id), dt.date(2027, 1, 6)).status
        is MembershipStatus.SUSPENDED
    )

    # The retry succeeds: back to active, the retry is no longer pending.
    apply(uow_factory, event("payments", "confirmed", "2027-01-03T06:00:00.000Z", {"payment": "PM2"}))
    m = load(uow_factory, membership_id)
    assert (m.status, m.paid_through, m.past_due_since) == (
        MembershipStatus.ACTIVE,
        dt.date(2027, 1, 23),
        None,
    )
    assert m.pending_retry_payment_id is None


def test_a_charge_back_reverses_paid_through(uow_factory: UnitOfWorkFactory, membership_id: str) -> None:
    for e in life(membership_id)[:5]:
        apply(uow_factory, e)
    assert load(uow_factory, membership_id).paid_through == dt.date(2026, 12, 23)

    result = apply(
        uow_factory, event("payments", "charged_back", "2026-12-10T06:00:00.000Z", {"payment": "PM1"})
    )
    assert result.outcome is Outcome.APPLIED
    m = load(uow_factory, membership_id)
    assert m.paid_through is None  # the only paid period was taken back
    assert (m.status, m.past_due_since) == (MembershipStatus.PAST_DUE, dt.date(2026, 12, 10))
    assert payments(uow_factory)[0][3] == "charged_back"

    apply(
        uow_factory, event("payments", "chargeback_cancelled", "2026-12-12T06:00:00.000Z", {"payment": "PM1"})
    )
    m = load(uow_factory, membership_id)
    assert (m.status, m.paid_through, m.past_due_since) == (
        MembershipStatus.ACTIVE,
        dt.date(2026, 12, 23),
        None,
    )


def test_a_lost_mandate_asks_for_a_new_link_and_a_replaced_one_is_followed(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    for e in life(membership_id)[:5]:
        apply(uow_factory, e)
    apply(
        uow_factory,
        event("mandates", "replaced", "2026-12-05T06:00:00.000Z", {"mandate": "MD1", "new_mandate": "MD2"}),
    )
    assert load(uow_factory, membership_id).mandate_id == "MD2"

    lost = apply(uow_factory, event("mandates", "cancelled", "2026-12-06T06:00:00.000Z", {"mandate": "MD2"}))
    assert lost.follow_up is FollowUp.SEND_NEW_LINK
    m = load(uow_factory, membership_id)
    assert ms.needs_new_mandate(m)
    assert m.subscription_id is None
    assert m.status is MembershipStatus.ACTIVE  # paid up to 23 Dec: keeps what was paid for


def test_an_unfinished_set_up_offers_a_new_link(uow_factory: UnitOfWorkFactory, membership_id: str) -> None:
    result = apply(
        uow_factory,
        event("billing_requests", "cancelled", "2026-11-25T06:00:00.000Z", {"billing_request": "BR1"}),
    )
    assert result.outcome is Outcome.APPLIED
    assert result.follow_up is FollowUp.SEND_NEW_LINK
    assert result.note is not None and "new link" in result.note


def test_a_cancelled_retry_clears_the_pending_retry(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    for e in life(membership_id):
        apply(uow_factory, e)
    apply(uow_factory, event("payments", "cancelled", "2026-12-31T06:00:00.000Z", {"payment": "PM2"}))
    assert load(uow_factory, membership_id).pending_retry_payment_id is None
    assert payments(uow_factory)[1][3] == "cancelled"


# --- Duplicates, order, and what we do not understand ------------------------------------------------------------


def test_a_duplicated_event_is_applied_once(uow_factory: UnitOfWorkFactory, membership_id: str) -> None:
    events = life(membership_id)
    for e in events[:5]:
        apply(uow_factory, e)
    again = apply(uow_factory, events[4])  # payment confirmed, a second time
    assert again == Applied(events[4]["id"], Outcome.DUPLICATE)

    results = apply_events(uow_factory, [*events, *events], dt.date(2026, 12, 31), bus(uow_factory))
    assert [r.outcome for r in results].count(Outcome.APPLIED) == 3  # only the last three were new
    assert payments(uow_factory)[1][0] == "PM2"
    assert len(payments(uow_factory)) == 2


def _final_state(uow_factory: UnitOfWorkFactory, membership_id: str) -> tuple[Any, ...]:
    return load(uow_factory, membership_id), payments(uow_factory), parked(uow_factory)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_events_out_of_order_end_in_the_same_state(services: Services, manager: str, seed: int) -> None:
    uow_factory = services.uow
    today = dt.date(2026, 12, 31)
    first = _new_membership(services, manager)
    in_order = life(first)
    for e in in_order:
        apply(uow_factory, e, today)
    expected, expected_payments, _ = _final_state(uow_factory, first)
    assert expected.status is MembershipStatus.PAST_DUE

    # The same life for a second client (its own GoCardless ids), delivered shuffled, one event at a time.
    second = _new_membership(services, manager, prefix="X")
    shuffled = [prefixed(e) for e in life(second)]
    random.Random(seed).shuffle(shuffled)
    for e in shuffled:
        apply(uow_factory, e, today)

    got = load(uow_factory, second)
    same_ids = {
        "customer_id": "CU1",
        "billing_request_id": "BR1",
        "mandate_id": "MD1",
        "subscription_id": "SB1",
    }
    assert replace(got, id=first, client_id=expected.client_id, tier=expected.tier, **same_ids) == replace(
        expected, pending_retry_payment_id="XPM2"
    )
    assert [p for p in payments(uow_factory) if p[0].startswith("X")] == [
        ("X" + p[0], *p[1:]) for p in expected_payments
    ]
    assert parked(uow_factory) == []


def prefixed(e: dict[str, Any]) -> dict[str, Any]:
    """The event with every GoCardless id prefixed by X (a different customer's resources)."""
    links = {k: f"X{v}" for k, v in e["links"].items()}
    linked = {"payments": [{**p, "id": f"X{p['id']}"} for p in e.get("linked", {}).get("payments", [])]}
    return {**e, "id": f"X{e['id']}", "links": links, "linked": linked}


def test_a_payment_confirmed_before_it_was_created_waits_for_it(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    fulfilled, sub_created, created1, active, confirmed1, *_ = life(membership_id)
    deferred = apply(uow_factory, confirmed1, dt.date(2026, 12, 2))
    assert deferred.outcome is Outcome.DEFERRED
    assert parked(uow_factory) == [f"parked:{confirmed1['id']}"]
    early_active = apply(uow_factory, active, dt.date(2026, 12, 2))
    assert early_active.outcome is Outcome.DEFERRED

    set_up = apply(uow_factory, fulfilled, dt.date(2026, 12, 2))
    assert [r.event_id for r in set_up.replayed] == [active["id"]]
    apply(uow_factory, sub_created, dt.date(2026, 12, 2))
    made = apply(uow_factory, created1, dt.date(2026, 12, 2))
    assert [r.event_id for r in made.replayed] == [confirmed1["id"]]
    m = load(uow_factory, membership_id)
    assert (m.status, m.paid_through, m.mandate_status) == (
        MembershipStatus.ACTIVE,
        dt.date(2026, 12, 23),
        "active",
    )
    assert parked(uow_factory) == []


def test_apply_events_sorts_by_created_at_and_reports_replays(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    events = life(membership_id)
    results = apply_events(uow_factory, list(reversed(events)), dt.date(2026, 12, 2), bus(uow_factory))
    assert [r.event_id for r in results] == [e["id"] for e in events]
    assert all(r.outcome is Outcome.APPLIED for r in results)


@pytest.mark.parametrize(
    "odd",
    [
        {"id": "EVX1", "resource_type": "payments", "action": "teleported", "links": {"payment": "PM1"}},
        {"id": "EVX2", "resource_type": "payouts", "action": "paid", "links": {"payout": "PO1"}},
        {"id": "EVX3", "resource_type": "mandates", "action": "active"},  # no links, no details
        {"id": "EVX4", "resource_type": "mandates", "action": "active", "links": None, "details": None},
        {"id": "EVX5", "action": "confirmed", "links": {"payment": "PM1"}},  # no resource type
        {
            "id": "EVX6",
            "resource_type": "billing_requests",
            "action": "fulfilled",
            "links": {"billing_request": "BR1"},
        },
        {
            "id": "EVX7",
            "resource_type": "subscriptions",
            "action": "cancelled",
            "links": {"subscription": "SB9"},
        },
        {"id": "EVX8", "resource_type": "payments", "action": "created", "links": {"payment": "PM9"}},
        {"id": "EVX9", "resource_type": "refunds", "action": "paid", "created_at": "not a date"},
    ],
)
def test_what_we_do_not_understand_is_recorded_and_ignored(
    uow_factory: UnitOfWorkFactory, membership_id: str, odd: dict[str, Any]
) -> None:
    before = load(uow_factory, membership_id)
    result = apply(uow_factory, odd, dt.date(2026, 12, 1))
    assert result.outcome is Outcome.IGNORED
    assert result.note
    assert load(uow_factory, membership_id) == before
    with uow_factory(read_only=True) as uow:
        assert uow.session.get(ProcessedEventRow, odd["id"]) is not None
    assert apply(uow_factory, odd, dt.date(2026, 12, 1)).outcome is Outcome.DUPLICATE


def test_an_event_without_an_id_is_ignored(uow_factory: UnitOfWorkFactory) -> None:
    assert apply(uow_factory, {"resource_type": "payments"}, dt.date(2026, 12, 1)).outcome is Outcome.IGNORED


def test_an_event_the_domain_refuses_is_ignored_with_its_reason(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    for e in life(membership_id)[:3]:
        apply(uow_factory, e)
    with uow_factory() as uow:  # a payment row that claims to pay before the membership started
        row = uow.session.scalars(select(MembershipPaymentRow)).one()
        row.period_start, row.period_end = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
        uow.commit()
    result = apply(
        uow_factory, event("payments", "confirmed", "2026-12-02T06:00:00.000Z", {"payment": "PM1"})
    )
    assert result.outcome is Outcome.IGNORED
    assert result.note is not None and "before the membership started" in result.note
    assert payments(uow_factory)[0][3] == "pending"  # nothing half-written


def test_replay_deferred_applies_what_the_drain_made_known_and_drops_old_events(
    uow_factory: UnitOfWorkFactory, membership_id: str
) -> None:
    created = event(
        "subscriptions",
        "payment_created",
        "2026-11-25T06:00:00.000Z",
        {"subscription": "SB1", "payment": "PM1"},
    )
    stranger = event("payments", "confirmed", "2026-11-25T06:00:00.000Z", {"payment": "PM-NOT-OURS"})
    assert apply(uow_factory, created).outcome is Outcome.DEFERRED
    assert apply(uow_factory, stranger).outcome is Outcome.DEFERRED

    with uow_factory() as uow:  # the outbox drain created the subscription and recorded its id
        m = repo.load_membership(uow.session, membership_id)
        repo.save_membership(uow.session, replace(m, subscription_id="SB1"))
        assert replay_deferred(uow, dt.date(2026, 11, 26), bus(uow_factory))[0].event_id == created["id"]
        uow.commit()
    assert [p[0] for p in payments(uow_factory)] == ["PM1"]
    assert parked(uow_factory) == [f"parked:{stranger['id']}"]

    with uow_factory() as uow:  # a month and more later, nobody claimed it
        assert replay_deferred(uow, dt.date(2027, 1, 15), bus(uow_factory)) == []
        uow.commit()
    assert parked(uow_factory) == []
