"""Memberships at the desk: sign up, change tier, notice, pause, end, arrears paid at the desk, the daily review.

Only ``domain/memberships.py`` moves a membership. These use cases load it (locked, with the calendar's rules
applied as of today, so staff act on what the screen shows), call the domain, save it and queue the GoCardless
work in the outbox **in the same transaction** (DESIGN.md §5). Nothing here touches the network: a till that is
offline all day signs members up as usual, and the sync engine sends the work later. A sign-up is also sold
at checkout: ``start_membership_in`` does it inside the sale's unit of work, and ``member_discount_on_joining``
prices the rest of that basket.

What a screen reads (and the view each change returns) is ``membership_views``'s; the GoCardless work a change
queues, and its payloads, is ``membership_outbox``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.benefits import MemberDiscount
from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.checkout import amount_text
from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.membership_outbox import (
    notice_cancellation,
    outstanding_pause,
    queue_billing_change,
    queue_cancellation,
    queue_job,
    queue_mandate_set_up,
    set_up_in_progress,
    subscription_target,
    withdraw_unsent_at_end,
)
from aestheticc_pos.services.membership_periods import RECORD_TYPE, collected_through, record_paid_at_desk_in
from aestheticc_pos.services.membership_views import (
    MembershipView,
    arrears_due,
    membership_view_of,
)
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import withdraw_unsent
from aestheticc_pos.store.tables import ClientRow, MembershipRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

# --- Desk actions -------------------------------------------------------------------------------------------


@use_case(Action.MANAGE_MEMBERSHIPS)
def start_membership(services: Services, *, client_id: str, tier_id: str, staff_id: str) -> MembershipView:
    """Sign a client up to a tier: pending until they authorise the Direct Debit link queued here.

    Refused when the client already has a membership that has not ended.
    """
    with services.uow() as uow:
        m = start_membership_in(uow, services, client_id=client_id, tier_id=tier_id, staff_id=staff_id)
        view = membership_view_of(uow.session, m, m.started_on)  # started today
        uow.commit()
    return view


def start_membership_in(
    uow: UnitOfWork,
    services: Services,
    *,
    client_id: str,
    tier_id: str,
    staff_id: str,
    first_month_sale_id: str | None = None,
) -> Membership:
    """``start_membership`` inside the caller's unit of work, which commits it (checkout sells a membership
    in the same transaction as the sale, so a refused payment starts nothing).

    Writes the membership, queues create_customer (unless the client already has a GoCardless customer) →
    create_billing_request → create_flow, and audits "membership.started". With ``first_month_sale_id`` the
    sale paid the first month (and the sign-up fee): the membership is active and its Direct Debit set-up
    asks for the mandate only; otherwise it is ``pending_mandate`` and the set-up also asks for the first
    month where it can. Refused when ``staff_id`` may not manage memberships, the tier is no longer offered,
    or the client already has a membership that has not ended.
    """
    s = uow.session
    require_staff(s, staff_id, Action.MANAGE_MEMBERSHIPS)
    settings = read_clinic_settings(s)
    today = services.today(settings)
    s.get(ClientRow, client_id, with_for_update=True)  # one sign-up at a time per client
    client = repo.load_client(s, client_id)
    tier = catalogue_repo.load_tier(s, tier_id)
    ended = _refuse_a_second_membership(s, client, today)
    if ended is not None:
        repo.save_membership(s, ended)
    m = ms.sign_up(tier, membership_id=services.new_id(), client_id=client.id, on=today)
    m = replace(m, customer_id=_known_customer_id(s, client.id))
    repo.save_membership(s, m)
    s.flush()
    if first_month_sale_id is not None:
        m = billing_service.record_first_month_at_till_in(s, m, sale_id=first_month_sale_id, today=today)
        repo.save_membership(s, m)
        s.flush()
    queue_mandate_set_up(s, m, client, settings)
    _audit(
        services,
        s,
        staff_id,
        "membership.started",
        m.id,
        tier_id=tier.id,
        monthly_price_pence=tier.monthly_price.pence,
        discount_bp=tier.discount_bp,
    )
    return m


@use_case(Action.MANAGE_MEMBERSHIPS)
def change_tier(services: Services, *, membership_id: str, tier_id: str, staff_id: str) -> MembershipView:
    """Move a member to another tier: the discount changes at once, the Direct Debit amount from the next
    collection (amend the subscription; past GoCardless's 10 amendments, replace it)."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed, billing_change = ms.change_tier(m, catalogue_repo.load_tier(s, tier_id), today)
        queue_billing_change(s, changed, billing_change)
        return changed, {
            "from_tier_id": m.tier.id,
            "to_tier_id": changed.tier.id,
            "billing": billing_change.action.value,
            "effective_from": billing_change.effective_from.isoformat(),
        }

    return _desk_change(services, membership_id, staff_id, "membership.tier_changed", change)


@use_case(Action.MANAGE_MEMBERSHIPS)
def give_notice(
    services: Services, *, membership_id: str, ends_on: str | dt.date, staff_id: str
) -> MembershipView:
    """The member gives notice: benefits until ``ends_on`` (inclusive), and the subscription is cancelled so
    nothing is collected after it. Giving notice again moves the date."""
    last_day = inputs.date(ends_on, what="The last day of the membership")

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.give_notice(m, last_day, today)
        queue_cancellation(s, changed, last_day)
        return changed, {"ends_on": last_day.isoformat()}

    return _desk_change(services, membership_id, staff_id, "membership.notice_given", change)


@use_case(Action.MANAGE_MEMBERSHIPS)
def withdraw_notice(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """The member changed their mind: the membership carries on and so does its Direct Debit."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.withdraw_notice(m)
        cancel = notice_cancellation(s, m.id)
        if cancel is not None and not withdraw_unsent(s, cancel.id):
            # Already sent: that subscription is (being) cancelled, so a new one takes over from the month after
            # its last payment (planned when it is sent, the months in between collected as one-off payments).
            changed = replace(changed, subscription_id=None, subscription_amendments=0)
            queue_job(
                s,
                m.id,
                "create_subscription",
                billing_service.subscription_placeholder(changed),
                depends_on=cancel.id,
            )
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.notice_withdrawn", change)


@use_case(Action.MANAGE_MEMBERSHIPS)
def pause(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Pause an active membership: no collections and no discount until it is resumed."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.pause(m)
        subscription_id, after = subscription_target(s, changed)
        if subscription_id is not None or after is not None:
            queue_job(s, m.id, "pause_subscription", {"subscription_id": subscription_id}, depends_on=after)
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.paused", change)


@use_case(Action.MANAGE_MEMBERSHIPS)
def resume(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Resume a paused membership (past due again if a payment failed while it was paused)."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.resume(m)
        paused = outstanding_pause(s, m.id)
        if paused is not None and not withdraw_unsent(s, paused.id):
            subscription_id = changed.subscription_id or paused.payload.get("subscription_id")
            queue_job(
                s, m.id, "resume_subscription", {"subscription_id": subscription_id}, depends_on=paused.id
            )
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.resumed", change)


@use_case(Action.MANAGE_MEMBERSHIPS)
def end_membership(
    services: Services, *, membership_id: str, staff_id: str, reason: str | None = None
) -> MembershipView:
    """End the membership today: no more discount, and its subscription is cancelled (unsent work withdrawn).

    The mandate stays: the client may still pay other things by Direct Debit.
    """

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        ended = ms.end(m, today)
        withdraw_unsent_at_end(s, m.id, today)
        queue_cancellation(s, ended, today)
        return ended, {}

    return _desk_change(services, membership_id, staff_id, "membership.ended", change, reason=reason)


@use_case(Action.MANAGE_MEMBERSHIPS)
def send_new_mandate_link(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Prepare a new Direct Debit link for a member whose mandate was lost, or whose link expired or was
    cancelled before they used it: a new billing request and hosted flow are queued (for the client's existing
    GoCardless customer), and the old link is no longer shown."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        if m.status is MembershipStatus.ENDED:
            raise RuleViolation("That membership has ended: sign the client up again instead.")
        if set_up_in_progress(s, m.id):
            raise RuleViolation(
                "A Direct Debit link is already being prepared for this member; it appears once the till has "
                "reached GoCardless (see the Sync screen)."
            )
        if m.mandate_id is not None and not ms.needs_new_mandate(m):
            raise RuleViolation("This member's Direct Debit is in place: no new link is needed.")
        row = s.get(MembershipRow, m.id)
        if row is not None:
            row.gc_authorisation_url = None
        client = repo.load_client(s, m.client_id)
        queue_mandate_set_up(s, m, client, read_clinic_settings(s))
        return m, {}

    return _desk_change(services, membership_id, staff_id, "membership.new_link", change)


@use_case(Action.TAKE_PAYMENTS)
def record_desk_payment_of_arrears(
    services: Services, *, membership_id: str, amount: str | Money, staff_id: str
) -> MembershipView:
    """The member pays their arrears at the desk (exactly what ``arrears_of`` says; audited).

    Writes the payment for the unpaid months, puts the membership back in good standing and, when GoCardless
    was going to retry the failed payment, queues its cancellation so nobody is charged twice.
    """

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        due = arrears_due(s, m, today)
        if due is None:
            raise RuleViolation("There are no arrears to pay on this membership.")
        paid = inputs.money(amount, what="The amount paid", currency=due.amount.currency)
        if paid != due.amount:
            months = "1 month" if due.months == 1 else f"{due.months} months"
            raise InvalidInput(
                f"The arrears are {amount_text(due.amount)} ({months}, {format_date(due.period_start)} to "
                f"{format_date(due.period_end)}). Take exactly that amount.",
                field="amount",
            )
        record_paid_at_desk_in(s, m, due.periods, today=today, new_id=services.new_id)
        paid_through = collected_through(s, m)
        changed, retry_payment_id = ms.desk_payment_of_arrears(m, paid_through, today)
        if retry_payment_id is not None:
            queue_job(s, m.id, "cancel_payment", {"payment_id": retry_payment_id})
        return changed, {
            "amount_pence": paid.pence,
            "period_start": due.period_start.isoformat(),
            "period_end": due.period_end.isoformat(),
            "cancelled_payment_id": retry_payment_id or "",
        }

    return _desk_change(
        services, membership_id, staff_id, "membership.arrears_paid", change, action=Action.TAKE_PAYMENTS
    )


# --- The daily review and the discount at the till -----------------------------------------------------------------


@use_case(Audience.TILL)
def daily_review(services: Services) -> int:
    """Apply the calendar to every membership (grace over → suspended, notice over → ended, a lost mandate
    past its paid-through date → past due). Returns how many changed. Safe to run any number of times."""
    with services.uow() as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        rows = s.scalars(
            select(MembershipRow)
            .where(MembershipRow.status != MembershipStatus.ENDED.value)
            .with_for_update()
        ).all()
        changed = 0
        for row in rows:
            m = repo.membership_from_row(row)
            reviewed = ms.daily_review(m, today)
            if reviewed != m:
                repo.save_membership(s, reviewed)
                changed += 1
        uow.commit()
    return changed


def member_discount_for(session: Session, client_id: str, on: dt.date) -> MemberDiscount | None:
    """The member discount a client gets on ``on``, or None, for ``pricing.quote``.

    A plain function over a session so that checkout calls it inside its own unit of work. The calendar's
    rules are applied as of ``on`` even when the daily review has not run yet (a grace period that ran out
    this morning gives no discount).
    """
    m = repo.current_membership_of(session, client_id)
    return None if m is None else ms.member_discount(ms.daily_review(m, on), on)


def member_discount_on_joining(
    session: Session, client_id: str, tier: Tier, on: dt.date
) -> MemberDiscount | None:
    """The member discount a client who joins ``tier`` at the till on ``on`` has that same day, or None, for
    pricing the rest of a basket that signs them up (checkout).

    It is the discount of the membership ``start_membership_in`` writes for a sale: its first month is paid by
    that sale, so the tier's benefits have started however they start. Refused like ``start_membership`` when
    the client already has a membership that has not ended, or the tier is no longer offered. Writes nothing;
    the discount names no membership yet (``membership_id`` is empty).
    """
    client = repo.load_client(session, client_id)
    _refuse_a_second_membership(session, client, on)
    joining = ms.sign_up(tier, membership_id="", client_id=client.id, on=on)
    paid = ms.payment_confirmed(joining, billing.period(on, 0).end, on)
    return ms.member_discount(paid, on)


# --- Helpers: one desk change -------------------------------------------------------------------------------

_Change = Callable[[Session, Membership, dt.date], tuple[Membership, dict[str, str | int]]]


def _desk_change(
    services: Services,
    membership_id: str,
    staff_id: str,
    audit_action: str,
    change: _Change,
    *,
    action: Action = Action.MANAGE_MEMBERSHIPS,
    reason: str | None = None,
) -> MembershipView:
    """Lock the membership, apply today's calendar, make the change, save, audit, commit; return the view."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, action)
        today = services.today(read_clinic_settings(s))
        row = s.get(MembershipRow, membership_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound("That membership does not exist.")
        m = ms.daily_review(repo.membership_from_row(row), today)
        changed, details = change(s, m, today)
        repo.save_membership(s, changed)
        s.flush()
        _audit(services, s, staff_id, audit_action, changed.id, reason=reason, **details)
        view = membership_view_of(s, changed, today)
        uow.commit()
    return view


def _audit(
    services: Services,
    s: Session,
    staff_id: str,
    action: str,
    membership_id: str,
    *,
    reason: str | None = None,
    **details: str | int,
) -> None:
    append_audit(
        s,
        at=services.now(),
        staff_id=staff_id,
        action=action,
        record_type=RECORD_TYPE,
        record_id=membership_id,
        reason=reason,
        details=details,
    )


def _refuse_a_second_membership(s: Session, client: Client, today: dt.date) -> Membership | None:
    """Raise when the client has a membership that has not ended as of ``today``. Returns their last one when
    the calendar ended it today and it is not saved as ended yet (the caller saves it), else None."""
    existing = repo.current_membership_of(s, client.id)
    if existing is None:
        return None
    reviewed = ms.daily_review(existing, today)
    if reviewed.status is not MembershipStatus.ENDED:
        raise RuleViolation(
            f"{client.full_name} is already a {existing.tier.name} member. "
            "Change the tier, or end that membership first."
        )
    return reviewed


def _known_customer_id(s: Session, client_id: str) -> str | None:
    """The GoCardless customer of the client's earlier membership, so a returning member is not created twice."""
    return s.scalar(
        select(MembershipRow.gc_customer_id)
        .where(MembershipRow.client_id == client_id, MembershipRow.gc_customer_id.is_not(None))
        .order_by(MembershipRow.created_at.desc())
        .limit(1)
    )
