"""The Sync screen's data and a manager's retry / discard of work GoCardless refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.services import catalogue, sync_status
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import MembershipRow, OutboxRow, ProcessedEventRow, SyncStateRow
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.engine import LAST_SYNC_KEY
from aestheticc_pos.sync.gateway import PermanentGatewayError


@pytest.fixture
def member(services, manager) -> svc.MembershipView:
    tier = catalogue.add_tier(services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20")
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Amy", last_name="Jones", email="amy@example.com"
    )
    return svc.start_membership(services, client_id=client.id, tier_id=tier.id, staff_id=manager)


def _refuse_first(
    services, sentence: str = "GoCardless refused the client's details: email is invalid."
) -> str:
    """What the engine does when GoCardless refuses the first queued row for good."""
    with services.uow() as uow:
        row = uow.session.scalars(select(OutboxRow).order_by(OutboxRow.seq).limit(1)).one()
        row.attempts = 1
        outbox.mark_failed(row, PermanentGatewayError(sentence), services.now())
        uow.commit()
        return row.id


def test_the_engine_and_the_screen_read_the_same_last_sync_key() -> None:
    assert sync_status.LAST_SYNC_KEY == LAST_SYNC_KEY


def test_a_sign_up_offline_is_queued_and_nothing_needs_attention(services, member) -> None:
    overview = sync_status.sync_overview(services)

    assert overview.queued == 3  # customer → billing request → flow
    assert overview.attention == ()
    assert overview.last_successful_sync is None
    assert sync_status.queued_count(services) == (3, 0)


def test_refused_work_is_shown_with_its_client_what_why_and_what_waits_behind_it(services, member) -> None:
    _refuse_first(services)

    overview = sync_status.sync_overview(services)

    (item,) = overview.attention
    assert item.client_name == "Amy Jones"
    assert item.what == "add the client to GoCardless"
    assert "email is invalid" in item.error
    assert item.held_back == 2  # the billing request and the flow wait for the customer
    assert overview.queued == 2
    assert sync_status.queued_count(services) == (2, 1)


def test_a_manager_retries_refused_work_and_it_is_due_at_once(services, manager, member) -> None:
    outbox_id = _refuse_first(services)

    sync_status.retry_item(services, outbox_id=outbox_id, staff_id=manager)

    with services.uow(read_only=True) as uow:
        row = uow.session.scalars(select(OutboxRow).where(OutboxRow.id == outbox_id)).one()
        assert (row.status, row.next_attempt_at, row.last_error) == ("pending", None, None)
        assert [r.id for r in outbox.due_rows(uow.session, services.now(), 10)] == [outbox_id]
        assert audit_entries(uow.session)[-1].action == "sync.retried"
    assert sync_status.sync_overview(services).attention == ()


def test_a_receptionist_may_not_retry_or_discard(services, receptionist, member) -> None:
    outbox_id = _refuse_first(services)

    with pytest.raises(NotPermitted):
        sync_status.retry_item(services, outbox_id=outbox_id, staff_id=receptionist)
    with pytest.raises(NotPermitted):
        sync_status.discard_item(services, outbox_id=outbox_id, staff_id=receptionist, reason="duplicate")


def test_discarding_needs_a_reason_and_takes_the_work_waiting_behind_it(services, manager, member) -> None:
    outbox_id = _refuse_first(services)

    with pytest.raises(InvalidInput):
        sync_status.discard_item(services, outbox_id=outbox_id, staff_id=manager, reason="  ")
    count = sync_status.discard_item(
        services, outbox_id=outbox_id, staff_id=manager, reason="Client changed their mind"
    )

    assert count == 3
    with services.uow(read_only=True) as uow:
        statuses = uow.session.scalars(select(OutboxRow.status)).all()
        entry = audit_entries(uow.session)[-1]
    assert statuses == ["discarded"] * 3
    assert (entry.action, entry.reason, entry.details["count"]) == (
        "sync.discarded",
        "Client changed their mind",
        3,
    )
    overview = sync_status.sync_overview(services)
    assert (overview.queued, overview.attention) == (0, ())


def test_only_refused_work_can_be_retried(services, manager, member) -> None:
    with services.uow(read_only=True) as uow:
        pending = uow.session.scalars(select(OutboxRow.id).order_by(OutboxRow.seq).limit(1)).one()
    with pytest.raises(RuleViolation):
        sync_status.retry_item(services, outbox_id=pending, staff_id=manager)


def test_recent_events_read_as_sentences_with_the_member_and_what_was_done(services, member) -> None:
    with services.uow() as uow:
        uow.session.add_all(
            [
                ProcessedEventRow(
                    event_id="EV1",
                    resource_type="payments",
                    action="confirmed",
                    processed_at=services.now() - dt.timedelta(minutes=5),
                    outcome="applied",
                    membership_id=member.id,
                    note="Paid through 23 Dec 2026.",
                ),
                ProcessedEventRow(
                    event_id="EV2",
                    resource_type="creditors",
                    action="updated",
                    processed_at=services.now(),
                    outcome="ignored",
                ),
            ]
        )
        uow.session.add(SyncStateRow(key=LAST_SYNC_KEY, value=services.now().isoformat()))
        uow.commit()

    overview = sync_status.sync_overview(services)

    assert [(e.what, e.client_name, e.outcome) for e in overview.recent] == [
        ("Creditor updated", None, "ignored"),
        ("Payment collected", "Amy Jones", "applied"),
    ]
    assert overview.last_successful_sync == services.now()


def test_a_member_whose_mandate_was_lost_needs_a_new_link_and_gets_one_once(
    services, manager, member
) -> None:
    with services.uow() as uow:
        for row in uow.session.scalars(select(OutboxRow)):
            row.status = "done"
        m = uow.session.get(MembershipRow, member.id)
        m.gc_customer_id, m.gc_billing_request_id, m.gc_mandate_id = "CU1", "BRQ1", "MD1"
        m.gc_mandate_status, m.status = "cancelled", "active"
        uow.commit()

    (link,) = sync_status.sync_overview(services).links_to_send
    assert (link.client_name, link.reason) == ("Amy Jones", "Their Direct Debit is cancelled.")

    svc.send_new_mandate_link(services, membership_id=member.id, staff_id=manager)

    with services.uow(read_only=True) as uow:
        queued = uow.session.execute(
            select(OutboxRow.kind, OutboxRow.payload)
            .where(OutboxRow.status != "done")
            .order_by(OutboxRow.seq)
        ).all()
    assert [kind for kind, _payload in queued] == ["create_billing_request", "create_flow"]
    assert queued[0].payload["links"] == {"customer": "CU1"}  # the client's customer, not a second one
    assert sync_status.sync_overview(services).links_to_send == ()
    with pytest.raises(RuleViolation, match="already being prepared"):
        svc.send_new_mandate_link(services, membership_id=member.id, staff_id=manager)


def test_a_link_that_expired_unused_is_offered_again(services, manager, member) -> None:
    with services.uow() as uow:
        for row in uow.session.scalars(select(OutboxRow)):
            row.status = "done"
        m = uow.session.get(MembershipRow, member.id)
        m.gc_customer_id, m.gc_billing_request_id, m.gc_authorisation_url = "CU1", "BRQ1", None
        uow.commit()

    (link,) = sync_status.sync_overview(services).links_to_send
    assert "expired or was cancelled" in link.reason


def test_no_new_link_while_the_direct_debit_is_in_place(services, manager, member) -> None:
    with services.uow() as uow:
        for row in uow.session.scalars(select(OutboxRow)):
            row.status = "done"
        m = uow.session.get(MembershipRow, member.id)
        m.gc_mandate_id, m.gc_mandate_status, m.status = "MD1", "active", "active"
        uow.commit()

    with pytest.raises(RuleViolation, match="in place"):
        svc.send_new_mandate_link(services, membership_id=member.id, staff_id=manager)
