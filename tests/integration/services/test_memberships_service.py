"""Memberships at the desk: the membership and its GoCardless work are written in one transaction.

The sync engine is not here yet: ``_sync`` plays its part by applying GoCardless events through the domain,
and ``_mark`` moves an outbox row the way the engine would when it sends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.billing import Period
from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import catalogue, membership_views
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow, OutboxRow

TODAY = dt.date(2026, 11, 24)  # the services fixture's clock
FIRST_PERIOD_END = dt.date(2026, 12, 23)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    status: str
    key: str
    depends_on: str | None
    payload: dict[str, Any]


@pytest.fixture
def gold(services, manager) -> Tier:
    return catalogue.add_tier(services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20")


@pytest.fixture
def silver(services, manager) -> Tier:
    return catalogue.add_tier(
        services,
        staff_id=manager,
        name="Silver",
        monthly_price="29.00",
        discount="10",
        benefits_start="sign_up",
    )


@pytest.fixture
def ada(services) -> str:
    return clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="07700 900123",
    ).id


@pytest.fixture
def member(services, receptionist, ada, gold) -> str:
    """Ada, a Gold member since today: mandate MD1 active, subscription SB1, paid through 23 Dec."""
    membership_id = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist).id
    _sync(
        services,
        membership_id,
        lambda m: ms.mandate_set_up(m, "MD1"),
        lambda m: ms.mandate_activated(m),
        lambda m: ms.subscription_created(m, "SB1"),
        lambda m: ms.payment_confirmed(m, FIRST_PERIOD_END, TODAY),
    )
    for job in _outbox(services, membership_id):
        _mark(services, job.id, "done")
    return membership_id


def _outbox(services, membership_id: str) -> list[Job]:
    with services.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxRow)
            .where(OutboxRow.record_type == "membership", OutboxRow.record_id == membership_id)
            .order_by(OutboxRow.seq)
        )
        return [Job(r.id, r.kind, r.status, r.idempotency_key, r.depends_on, r.payload) for r in rows]


def _mark(services, job_id: str, status: str, attempts: int = 1) -> None:
    with services.uow() as uow:
        row = uow.session.scalars(select(OutboxRow).where(OutboxRow.id == job_id)).one()
        row.status, row.attempts = status, attempts
        uow.commit()


def _sync(services, membership_id: str, *events: Callable[[Membership], Membership]) -> None:
    with services.uow() as uow:
        m = repo.load_membership(uow.session, membership_id)
        for event in events:
            m = event(m)
        repo.save_membership(uow.session, m)
        uow.commit()


def _key(membership_id: str, kind: str, version: int = 1) -> str:
    return f"membership-{membership_id}-{kind}-v{version}"


# --- Signing up ---------------------------------------------------------------------------------------------


def test_sign_up_writes_the_membership_and_queues_the_mandate_set_up_in_order(
    services, receptionist, ada, gold
) -> None:
    view = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)

    assert (view.client_name, view.tier_name, view.monthly_price, view.discount_bp) == (
        "Ada Lovelace",
        "Gold",
        Money(4900),
        2000,
    )
    assert (view.status, view.started_on, view.paid_through) == (
        MembershipStatus.PENDING_MANDATE,
        TODAY,
        None,
    )
    assert not view.discount_in_force  # Gold's benefits start with the first collected payment
    assert view.direct_debit == "waiting for the client to authorise"
    assert view.authorisation_url is None

    customer, request, flow = _outbox(services, view.id)
    customer_fields = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "phone_number": "07700900123",
    }
    assert (customer.kind, customer.key, customer.status, customer.depends_on) == (
        "create_customer",
        _key(view.id, "create_customer"),
        "pending",
        None,
    )
    assert customer.payload == {**customer_fields, "metadata": {"membership_id": view.id}}
    assert (request.kind, request.key, request.status, request.depends_on) == (
        "create_billing_request",
        _key(view.id, "create_billing_request"),
        "waiting_for_prerequisite",
        customer.id,
    )
    # The first month is collected as the client authorises (instant bank payment, falling back to Direct Debit).
    assert request.payload == {
        "mandate_request": {"scheme": "bacs", "currency": "GBP", "metadata": {"membership_id": view.id}},
        "metadata": {"membership_id": view.id},
        "payment_request": {
            "amount": 4900,
            "currency": "GBP",
            "description": "Gold membership: first month, 24 Nov–23 Dec 2026",
            "scheme": "faster_payments",
            "metadata": {"membership_id": view.id, "period_start": "2026-11-24"},
        },
        "fallback_enabled": True,
    }
    assert (flow.kind, flow.key, flow.depends_on) == ("create_flow", _key(view.id, "create_flow"), request.id)
    assert flow.payload == {"prefilled_customer": customer_fields}
    assert membership_views.membership_of(services, ada) == view
    with services.uow(read_only=True) as uow:
        [entry] = audit_entries(uow.session, record_type="membership")
    assert (entry.action, entry.record_id, entry.details["tier_id"]) == (
        "membership.started",
        view.id,
        gold.id,
    )


def test_the_membership_and_its_outbox_rows_are_one_transaction(services, manager, receptionist, ada) -> None:
    with services.uow() as uow:  # a tier in a currency Direct Debit cannot collect: queuing fails late
        catalogue_repo.save_tier(uow.session, Tier("tier-yen", "Yen", Money(5000, "JPY"), 1000))
        uow.commit()

    with pytest.raises(RuleViolation, match="cannot be collected in JPY"):
        svc.start_membership(services, client_id=ada, tier_id="tier-yen", staff_id=receptionist)

    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(MembershipRow)).all() == []
        assert uow.session.scalars(select(OutboxRow)).all() == []
    assert membership_views.membership_of(services, ada) is None


def test_a_client_has_one_membership_at_a_time(services, receptionist, ada, gold, silver) -> None:
    first = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)
    with pytest.raises(RuleViolation, match="Ada Lovelace is already a Gold member"):
        svc.start_membership(services, client_id=ada, tier_id=silver.id, staff_id=receptionist)
    assert len(_outbox(services, first.id)) == 3

    svc.end_membership(services, membership_id=first.id, staff_id=receptionist)
    again = svc.start_membership(services, client_id=ada, tier_id=silver.id, staff_id=receptionist)
    assert again.id != first.id
    assert [j.key for j in _outbox(services, again.id)][0] == _key(again.id, "create_customer")


def test_a_returning_member_reuses_their_gocardless_customer(
    services, receptionist, ada, gold, member
) -> None:
    with services.uow() as uow:
        uow.session.get(MembershipRow, member).gc_customer_id = "CU123"
        uow.commit()
    svc.end_membership(services, membership_id=member, staff_id=receptionist)

    again = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)

    request, flow = _outbox(services, again.id)
    assert (request.kind, request.depends_on, request.status) == ("create_billing_request", None, "pending")
    assert request.payload["links"] == {"customer": "CU123"}
    assert flow.depends_on == request.id


def test_sign_up_refusals_are_sentences(services, practitioner, receptionist, ada, gold) -> None:
    with pytest.raises(NotPermitted, match="Only a manager or a receptionist"):
        svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=practitioner)
    with pytest.raises(NotFound, match="client is not on file"):
        svc.start_membership(services, client_id="nobody", tier_id=gold.id, staff_id=receptionist)
    with pytest.raises(NotFound, match="tier is not in the catalogue"):
        svc.start_membership(services, client_id=ada, tier_id="no-tier", staff_id=receptionist)
    with pytest.raises(NotFound, match="membership does not exist"):
        svc.pause(services, membership_id="no-membership", staff_id=receptionist)
    assert membership_views.memberships_list(services) == []


def test_a_sign_up_tier_gives_the_discount_at_once(services, receptionist, ada, silver) -> None:
    view = svc.start_membership(services, client_id=ada, tier_id=silver.id, staff_id=receptionist)
    assert view.discount_in_force
    with services.uow(read_only=True) as uow:
        discount = svc.member_discount_for(uow.session, ada, TODAY)
        assert (
            svc.member_discount_for(uow.session, ada, TODAY - dt.timedelta(days=1)) is None
        )  # before it started
    assert discount is not None
    assert (discount.membership_id, discount.reason, discount.covers_products) == (
        view.id,
        "Silver member 10%",
        False,
    )


# --- Tier changes -------------------------------------------------------------------------------------------


def test_tier_changes_amend_the_subscription_with_a_new_key_each_time(
    services, receptionist, member, gold, silver
) -> None:
    down = svc.change_tier(services, membership_id=member, tier_id=silver.id, staff_id=receptionist)
    assert (down.tier_name, down.discount_bp, down.discount_in_force) == ("Silver", 1000, True)  # at once
    up = svc.change_tier(services, membership_id=member, tier_id=gold.id, staff_id=receptionist)
    assert up.discount_bp == 2000

    first, second = [j for j in _outbox(services, member) if j.kind == "update_subscription"]
    assert (first.key, first.payload) == (
        _key(member, "update_subscription", 1),
        {"subscription_id": "SB1", "amount": 2900},
    )
    assert (second.key, second.payload) == (
        _key(member, "update_subscription", 2),
        {"subscription_id": "SB1", "amount": 4900},
    )
    with services.uow(read_only=True) as uow:
        assert repo.load_membership(uow.session, member).subscription_amendments == 2


def test_the_eleventh_change_replaces_the_subscription(services, receptionist, member, gold, silver) -> None:
    for n in range(10):
        svc.change_tier(
            services, membership_id=member, tier_id=(silver, gold)[n % 2].id, staff_id=receptionist
        )
    assert len([j for j in _outbox(services, member) if j.kind == "update_subscription"]) == 10

    svc.change_tier(services, membership_id=member, tier_id=silver.id, staff_id=receptionist)  # the 11th

    *_, cancel, create = _outbox(services, member)
    assert (cancel.kind, cancel.key, cancel.status) == (
        "cancel_subscription",
        _key(member, "cancel_subscription"),
        "pending",
    )
    assert cancel.payload == {"subscription_id": "SB1", "ends_on": "2026-12-23"}  # paid through 23 Dec
    assert (create.kind, create.key, create.depends_on) == (
        "create_subscription",
        _key(member, "create_subscription"),
        cancel.id,
    )
    # Its dates and amount are planned when it is sent (the mandate's next possible charge date then).
    assert create.payload == {"name": "Silver membership", "metadata": {"membership_id": member}}
    with services.uow(read_only=True) as uow:
        m = repo.load_membership(uow.session, member)
    assert (m.subscription_id, m.subscription_amendments) == (None, 0)

    # The 12th change, before the new subscription is sent: nothing more to queue (it is priced when sent).
    svc.change_tier(services, membership_id=member, tier_id=gold.id, staff_id=receptionist)
    *_, still_create = _outbox(services, member)
    assert still_create.id == create.id

    # Once it is being sent, the next change amends it after GoCardless has created it.
    _mark(services, create.id, "in_flight")
    svc.change_tier(services, membership_id=member, tier_id=silver.id, staff_id=receptionist)
    *_, update = _outbox(services, member)
    assert (update.kind, update.key, update.depends_on) == (
        "update_subscription",
        _key(member, "update_subscription", 11),
        create.id,
    )
    assert update.payload == {"subscription_id": None, "amount": 2900}


def test_a_change_before_any_subscription_queues_nothing(services, receptionist, ada, gold, silver) -> None:
    view = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)
    changed = svc.change_tier(services, membership_id=view.id, tier_id=silver.id, staff_id=receptionist)
    assert (changed.tier_name, changed.discount_in_force) == ("Silver", True)
    assert [j.kind for j in _outbox(services, view.id)] == [
        "create_customer",
        "create_billing_request",
        "create_flow",
    ]
    with pytest.raises(RuleViolation, match="already a Silver member"):
        svc.change_tier(services, membership_id=view.id, tier_id=silver.id, staff_id=receptionist)


# --- Notice, pause, end ---------------------------------------------------------------------------------------


def test_notice_cancels_the_subscription_after_the_last_day_and_can_be_withdrawn(
    services, receptionist, member
) -> None:
    view = svc.give_notice(services, membership_id=member, ends_on="23/12/2026", staff_id=receptionist)
    assert (view.status, view.ends_on, view.discount_in_force) == (
        MembershipStatus.CANCELLING,
        FIRST_PERIOD_END,
        True,
    )
    *_, cancel = _outbox(services, member)
    assert (cancel.kind, cancel.key, cancel.payload) == (
        "cancel_subscription",
        _key(member, "cancel_subscription"),
        {"subscription_id": "SB1", "ends_on": "2026-12-23"},
    )

    svc.give_notice(services, membership_id=member, ends_on=dt.date(2027, 1, 23), staff_id=receptionist)
    *_, moved = _outbox(services, member)
    assert (moved.id, moved.payload["ends_on"]) == (cancel.id, "2027-01-23")  # the unsent request, re-dated

    back = svc.withdraw_notice(services, membership_id=member, staff_id=receptionist)
    assert (back.status, back.ends_on) == (MembershipStatus.ACTIVE, None)
    assert [j.kind for j in _outbox(services, member) if j.status != "done"] == []  # never sent: withdrawn


def test_withdrawing_notice_after_the_cancellation_was_sent_sets_up_a_new_subscription(
    services, receptionist, member
) -> None:
    svc.give_notice(services, membership_id=member, ends_on=FIRST_PERIOD_END, staff_id=receptionist)
    *_, cancel = _outbox(services, member)
    _mark(services, cancel.id, "done")

    svc.withdraw_notice(services, membership_id=member, staff_id=receptionist)

    *_, create = _outbox(services, member)
    assert (create.kind, create.depends_on, create.payload) == (
        "create_subscription",
        cancel.id,
        {"name": "Gold membership", "metadata": {"membership_id": member}},
    )
    with pytest.raises(InvalidInput, match="cannot be in the past"):
        svc.give_notice(services, membership_id=member, ends_on="2026-11-01", staff_id=receptionist)
    with pytest.raises(InvalidInput, match="is not a date"):
        svc.give_notice(services, membership_id=member, ends_on="soon", staff_id=receptionist)


def test_pause_and_resume(services, receptionist, member) -> None:
    paused = svc.pause(services, membership_id=member, staff_id=receptionist)
    assert (paused.status, paused.discount_in_force) == (MembershipStatus.PAUSED, False)
    *_, pause = _outbox(services, member)
    assert (pause.kind, pause.key, pause.payload) == (
        "pause_subscription",
        _key(member, "pause_subscription"),
        {"subscription_id": "SB1"},
    )
    assert svc.resume(services, membership_id=member, staff_id=receptionist).status is MembershipStatus.ACTIVE
    assert [
        j.kind for j in _outbox(services, member) if j.status != "done"
    ] == []  # the unsent pause, withdrawn

    svc.pause(services, membership_id=member, staff_id=receptionist)
    *_, sent_pause = _outbox(services, member)
    _mark(services, sent_pause.id, "done")
    svc.resume(services, membership_id=member, staff_id=receptionist)
    *_, resume = _outbox(services, member)
    assert (resume.kind, resume.key, resume.depends_on, resume.payload) == (
        "resume_subscription",
        _key(member, "resume_subscription"),
        sent_pause.id,
        {"subscription_id": "SB1"},
    )
    with pytest.raises(RuleViolation, match="not paused"):
        svc.resume(services, membership_id=member, staff_id=receptionist)


def test_ending_a_pending_membership_withdraws_its_unsent_set_up(services, receptionist, ada, gold) -> None:
    view = svc.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)
    customer, *_ = _outbox(services, view.id)
    _mark(services, customer.id, "done")

    ended = svc.end_membership(
        services, membership_id=view.id, staff_id=receptionist, reason="Changed her mind"
    )

    assert (ended.status, ended.ends_on, ended.discount_in_force) == (MembershipStatus.ENDED, TODAY, False)
    assert [j.kind for j in _outbox(services, view.id)] == ["create_customer"]
    assert membership_views.membership_of(services, ada) is None
    with pytest.raises(RuleViolation, match="has ended"):
        svc.give_notice(services, membership_id=view.id, ends_on=TODAY, staff_id=receptionist)


def test_ending_an_active_membership_cancels_its_subscription_today(services, receptionist, member) -> None:
    svc.end_membership(services, membership_id=member, staff_id=receptionist)
    *_, cancel = _outbox(services, member)
    assert (cancel.kind, cancel.payload) == (
        "cancel_subscription",
        {"subscription_id": "SB1", "ends_on": "2026-11-24"},
    )


# --- Arrears ---------------------------------------------------------------------------------------------------


def _failed_december(services, clock, member: str) -> None:
    """The 24 Dec collection failed and GoCardless will retry it (payment PM2); today is 26 Dec."""
    _sync(services, member, lambda m: ms.payment_failed(m, dt.date(2026, 12, 24), True, "PM2"))
    clock.set(dt.datetime(2026, 12, 26, 10, 0, tzinfo=dt.UTC))


def test_a_desk_payment_of_arrears_cancels_the_pending_retry(services, clock, receptionist, member) -> None:
    _failed_december(services, clock, member)
    due = membership_views.arrears_of(services, member)
    december = Period(dt.date(2026, 12, 24), dt.date(2027, 1, 23))
    assert due == membership_views.Arrears(Money(4900), 1, december.start, december.end, (december,))

    view = svc.record_desk_payment_of_arrears(
        services, membership_id=member, amount="49.00", staff_id=receptionist
    )

    assert (view.status, view.paid_through, view.past_due_since) == (
        MembershipStatus.ACTIVE,
        dt.date(2027, 1, 23),
        None,
    )
    *_, cancel = _outbox(services, member)
    assert (cancel.kind, cancel.key, cancel.status, cancel.payload) == (
        "cancel_payment",
        _key(member, "cancel_payment"),
        "pending",
        {"payment_id": "PM2"},
    )
    with services.uow(read_only=True) as uow:
        [payment] = uow.session.execute(
            select(
                MembershipPaymentRow.source,
                MembershipPaymentRow.amount_pence,
                MembershipPaymentRow.period_start,
                MembershipPaymentRow.period_end,
                MembershipPaymentRow.gc_payment_id,
            )
        ).all()
        [entry] = [
            e
            for e in audit_entries(uow.session, record_type="membership")
            if e.action == "membership.arrears_paid"
        ]
        assert repo.load_membership(uow.session, member).pending_retry_payment_id is None
    assert tuple(payment) == ("desk", 4900, dt.date(2026, 12, 24), dt.date(2027, 1, 23), None)
    assert (entry.staff_id, entry.details["cancelled_payment_id"], entry.details["amount_pence"]) == (
        receptionist,
        "PM2",
        4900,
    )
    assert membership_views.arrears_of(services, member) is None


def test_a_wrong_amount_of_arrears_is_refused_and_nothing_is_written(
    services, clock, receptionist, member
) -> None:
    _failed_december(services, clock, member)
    before = _outbox(services, member)
    with pytest.raises(InvalidInput, match=r"The arrears are £49.00 \(1 month, 24 Dec 2026 to 23 Jan 2027\)"):
        svc.record_desk_payment_of_arrears(services, membership_id=member, amount="40", staff_id=receptionist)
    with pytest.raises(InvalidInput, match="“abc” is not an amount of money"):
        svc.record_desk_payment_of_arrears(
            services, membership_id=member, amount="abc", staff_id=receptionist
        )
    assert _outbox(services, member) == before
    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(MembershipPaymentRow)).all() == []
    assert (
        membership_views.membership_of(services, repo_client(services, member)).status
        is MembershipStatus.PAST_DUE
    )


def test_no_arrears_no_desk_payment(services, receptionist, member) -> None:
    with pytest.raises(RuleViolation, match="no arrears"):
        svc.record_desk_payment_of_arrears(
            services, membership_id=member, amount=Money(4900), staff_id=receptionist
        )


# --- The daily review and the lists ---------------------------------------------------------------------------------


def test_daily_review_suspends_after_grace_and_ends_after_notice(
    services, clock, manager, receptionist, member, silver
) -> None:
    grace = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Grace", last_name="Hopper"
    )
    leaving = svc.start_membership(services, client_id=grace.id, tier_id=silver.id, staff_id=receptionist).id
    _sync(services, leaving, lambda m: ms.mandate_set_up(m, "MD2"), lambda m: ms.mandate_activated(m))
    svc.give_notice(services, membership_id=leaving, ends_on="2026-12-31", staff_id=receptionist)
    _failed_december(services, clock, member)
    assert svc.daily_review(services) == 0  # 26 Dec: Ada within her 7 days of grace, Grace until 31 Dec

    clock.set(dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.UTC))
    assert [(v.client_name, v.status) for v in membership_views.memberships_list(services)] == [
        (
            "Ada Lovelace",
            MembershipStatus.SUSPENDED,
        ),  # the screen shows today's status before the review runs
    ]
    assert svc.daily_review(services) == 2
    assert svc.daily_review(services) == 0

    with services.uow(read_only=True) as uow:
        assert repo.load_membership(uow.session, member).status is MembershipStatus.SUSPENDED
        assert repo.load_membership(uow.session, leaving).status is MembershipStatus.ENDED
        assert svc.member_discount_for(uow.session, repo_client(services, member), services.today()) is None
    assert [v.client_name for v in membership_views.memberships_list(services, "ended")] == ["Grace Hopper"]
    assert [
        v.client_name for v in membership_views.memberships_list(services, MembershipStatus.SUSPENDED)
    ] == ["Ada Lovelace"]
    assert membership_views.memberships_list(services, "active") == []
    with pytest.raises(InvalidInput, match="not a membership status"):
        membership_views.memberships_list(services, "sleepy")


def test_memberships_list_shows_the_direct_debit_state(services, receptionist, ada, member, silver) -> None:
    bea = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Bea", last_name="Arthur"
    )
    svc.start_membership(services, client_id=bea.id, tier_id=silver.id, staff_id=receptionist)
    rows = membership_views.memberships_list(services)
    assert [(v.client_name, v.status, v.direct_debit) for v in rows] == [
        ("Bea Arthur", MembershipStatus.PENDING_MANDATE, "waiting for the client to authorise"),
        ("Ada Lovelace", MembershipStatus.ACTIVE, "active"),
    ]
    assert [v.client_name for v in membership_views.memberships_list(services, "pending_mandate")] == [
        "Bea Arthur"
    ]


def repo_client(services, membership_id: str) -> str:
    with services.uow(read_only=True) as uow:
        return repo.load_membership(uow.session, membership_id).client_id
