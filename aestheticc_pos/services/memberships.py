"""Memberships at the desk: sign up, change tier, notice, pause, end, arrears paid at the desk, the daily review.

Only ``domain/memberships.py`` moves a membership. These use cases load it (locked, with the calendar's rules
applied as of today, so staff act on what the screen shows), call the domain, save it and queue the GoCardless
work in the outbox **in the same transaction** (DESIGN.md §5). Nothing here touches the network: a till that is
offline all day signs members up as usual, and the sync engine sends the work later. A sign-up is also sold
at checkout: ``start_membership_in`` does it inside the sale's unit of work, and ``member_discount_on_joining``
prices the rest of that basket.

Outbox rows: record_type "membership", record_id the membership's id, idempotency key
``membership-<id>-<kind>-v<n>`` (``n`` counts that kind for the membership). Payloads:

- ``create_customer``: given_name, family_name, email and phone_number (those on file), metadata.
- ``create_billing_request`` (after the customer): ``mandate_request`` {scheme, currency}, metadata, and
  ``links.customer`` when the client already has a GoCardless customer; otherwise the engine adds it from the
  remote id of the customer it depends on.
- ``create_flow`` (after the billing request): ``prefilled_customer``; the engine adds ``links.billing_request``.
- ``create_subscription``: amount, currency, interval_unit, day_of_month, start_date, name, metadata,
  ``links.mandate``.
- ``update_subscription`` / ``pause_subscription`` / ``resume_subscription`` / ``cancel_subscription``:
  ``subscription_id`` names the subscription; when it is None, it is the one whose id is the remote id of the
  row this one depends on. The other keys are request parameters (``amount``), except ``ends_on`` on
  ``cancel_subscription``: the subscription must collect nothing charged after that day, so the engine cancels
  it at once when its next charge date is later, and otherwise once that payment has been collected.
- ``cancel_payment``: ``payment_id`` (a failed payment's pending retry).

Work never sent (pending or waiting, no attempt yet) is withdrawn rather than undone: withdrawing notice
deletes the unsent cancellation, resuming deletes an unsent pause, ending deletes unsent set-up and subscription
work, and a tier change rewrites the amount of an unsent ``create_subscription``. Once sent, the opposite
request is queued instead.

The first subscription is the engine's to queue, once the mandate is set up, at the membership's tier price
(a later tier change rewrites or amends it, above). It must queue none for a membership that is paused or
ended, and give one under notice an ``end_date``: pausing, ending and notice queue nothing for it here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.benefits import MemberDiscount
from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.checkout import amount_text
from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.memberships import BillingAction, BillingChange, Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import ClientRow, MembershipPaymentRow, MembershipRow, OutboxRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "membership"
WAITING_FOR_CLIENT = "waiting for the client to authorise"

# Direct Debit schemes by currency (NOTES.md §3): Bacs for pounds, SEPA for euros.
_SCHEMES = {
    "GBP": "bacs",
    "EUR": "sepa_core",
    "SEK": "autogiro",
    "DKK": "betalingsservice",
    "AUD": "becs",
    "NZD": "becs_nz",
    "CAD": "pad",
    "USD": "ach",
}
_UNSENT = ("pending", "waiting_for_prerequisite")
_SET_UP_KINDS = ("create_customer", "create_billing_request", "create_flow")
_WITHDRAWN_AT_END = (
    "create_customer",
    "create_billing_request",
    "create_flow",
    "create_subscription",
    "update_subscription",
    "pause_subscription",
    "resume_subscription",
)
_MANDATE_WORDS = {
    "pending_customer_approval": "waiting for the client's approval",
    "pending_submission": "authorised, being set up with the bank",
    "submitted": "being set up with the bank",
    "active": "active",
    "reinstated": "active",
    "suspended_by_payer": "suspended by the client",
    "cancelled": "cancelled: send the client a new link",
    "failed": "failed: send the client a new link",
    "expired": "expired: send the client a new link",
    "blocked": "blocked: send the client a new link",
    "consumed": "no longer usable: send the client a new link",
}


@dataclass(frozen=True, slots=True)
class MembershipView:
    """A membership as the client record and the Memberships screen show it, as of ``today``.

    ``status``, ``past_due_since`` and ``discount_in_force`` already apply the calendar (grace period, end of
    notice) for today, even before the daily review has saved it. ``direct_debit`` is a phrase for staff.
    """

    id: str
    client_id: str
    client_name: str
    tier_id: str
    tier_name: str
    monthly_price: Money
    discount_bp: int
    status: MembershipStatus
    started_on: dt.date
    paid_through: dt.date | None
    past_due_since: dt.date | None
    ends_on: dt.date | None
    discount_in_force: bool
    direct_debit: str
    mandate_status: str | None
    authorisation_url: str | None
    needs_new_mandate: bool
    today: dt.date


@dataclass(frozen=True, slots=True)
class Arrears:
    """What a member in arrears owes today: ``months`` monthly periods, ``period_start`` to ``period_end``."""

    amount: Money
    months: int
    period_start: dt.date
    period_end: dt.date


# --- Desk actions -------------------------------------------------------------------------------------------


def start_membership(services: Services, *, client_id: str, tier_id: str, staff_id: str) -> MembershipView:
    """Sign a client up to a tier: pending until they authorise the Direct Debit link queued here.

    Refused when the client already has a membership that has not ended.
    """
    with services.uow() as uow:
        m = start_membership_in(uow, services, client_id=client_id, tier_id=tier_id, staff_id=staff_id)
        view = _view_of(uow.session, m, m.started_on)  # started today
        uow.commit()
    return view


def start_membership_in(
    uow: UnitOfWork, services: Services, *, client_id: str, tier_id: str, staff_id: str
) -> Membership:
    """``start_membership`` inside the caller's unit of work, which commits it (checkout sells a membership
    in the same transaction as the sale, so a refused payment starts nothing).

    Writes the ``pending_mandate`` membership, queues create_customer (unless the client already has a
    GoCardless customer) → create_billing_request → create_flow, and audits "membership.started". Refused when
    ``staff_id`` may not manage memberships, the tier is no longer offered, or the client already has a
    membership that has not ended.
    """
    s = uow.session
    require_staff(s, staff_id, Action.MANAGE_MEMBERSHIPS)
    today = services.today(read_clinic_settings(s))
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
    _queue_mandate_set_up(s, m, client.first_name, client.last_name, client.email, client.phone)
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


def change_tier(services: Services, *, membership_id: str, tier_id: str, staff_id: str) -> MembershipView:
    """Move a member to another tier: the discount changes at once, the Direct Debit amount from the next
    collection (amend the subscription; past GoCardless's 10 amendments, replace it)."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed, billing = ms.change_tier(m, catalogue_repo.load_tier(s, tier_id), today)
        _queue_billing_change(s, changed, billing)
        return changed, {
            "from_tier_id": m.tier.id,
            "to_tier_id": changed.tier.id,
            "billing": billing.action.value,
            "effective_from": billing.effective_from.isoformat(),
        }

    return _desk_change(services, membership_id, staff_id, "membership.tier_changed", change)


def give_notice(
    services: Services, *, membership_id: str, ends_on: str | dt.date, staff_id: str
) -> MembershipView:
    """The member gives notice: benefits until ``ends_on`` (inclusive), and the subscription is cancelled so
    nothing is collected after it. Giving notice again moves the date."""
    last_day = inputs.date(ends_on, what="The last day of the membership")

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.give_notice(m, last_day, today)
        _queue_cancellation(s, changed, last_day)
        return changed, {"ends_on": last_day.isoformat()}

    return _desk_change(services, membership_id, staff_id, "membership.notice_given", change)


def withdraw_notice(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """The member changed their mind: the membership carries on and so does its Direct Debit."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.withdraw_notice(m)
        cancel = _notice_cancellation(s, m.id)
        if cancel is not None and not _withdraw_unsent(s, cancel.id):
            # Already sent: that subscription is (being) cancelled, so set up a new one from the next collection.
            changed = replace(changed, subscription_id=None, subscription_amendments=0)
            effective_from = max(ms.next_period(m.started_on, m.paid_through)[0], today)
            _queue(
                s,
                m.id,
                "create_subscription",
                _subscription_params(changed, effective_from),
                depends_on=cancel.id,
            )
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.notice_withdrawn", change)


def pause(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Pause an active membership: no collections and no discount until it is resumed."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.pause(m)
        subscription_id, after = _subscription_target(s, changed)
        if subscription_id is not None or after is not None:
            _queue(s, m.id, "pause_subscription", {"subscription_id": subscription_id}, depends_on=after)
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.paused", change)


def resume(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Resume a paused membership (past due again if a payment failed while it was paused)."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        changed = ms.resume(m)
        paused = _outstanding_pause(s, m.id)
        if paused is not None and not _withdraw_unsent(s, paused.id):
            subscription_id = changed.subscription_id or paused.payload.get("subscription_id")
            _queue(s, m.id, "resume_subscription", {"subscription_id": subscription_id}, depends_on=paused.id)
        return changed, {}

    return _desk_change(services, membership_id, staff_id, "membership.resumed", change)


def end_membership(
    services: Services, *, membership_id: str, staff_id: str, reason: str | None = None
) -> MembershipView:
    """End the membership today: no more discount, and its subscription is cancelled (unsent work withdrawn).

    The mandate stays: the client may still pay other things by Direct Debit.
    """

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        ended = ms.end(m, today)
        # Cancellations stay: after a tier change, the old subscription is only named in one of them.
        for job in reversed(_jobs(s, m.id, _WITHDRAWN_AT_END, statuses=_UNSENT)):
            _withdraw_unsent(s, job.id)
        _queue_cancellation(s, ended, today)
        return ended, {}

    return _desk_change(services, membership_id, staff_id, "membership.ended", change, reason=reason)


def send_new_mandate_link(services: Services, *, membership_id: str, staff_id: str) -> MembershipView:
    """Prepare a new Direct Debit link for a member whose mandate was lost, or whose link expired or was
    cancelled before they used it: a new billing request and hosted flow are queued (for the client's existing
    GoCardless customer), and the old link is no longer shown."""

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        if m.status is MembershipStatus.ENDED:
            raise RuleViolation("That membership has ended: sign the client up again instead.")
        if _jobs(s, m.id, _SET_UP_KINDS, statuses=(*_UNSENT, "in_flight", "failed")):
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
        _queue_mandate_set_up(s, m, client.first_name, client.last_name, client.email, client.phone)
        return m, {}

    return _desk_change(services, membership_id, staff_id, "membership.new_link", change)


def arrears_of(services: Services, membership_id: str) -> Arrears | None:
    """What the member must pay at the desk today to be back in good standing (None: nothing owed)."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        return _arrears(ms.daily_review(repo.load_membership(s, membership_id), today), today)


def record_desk_payment_of_arrears(
    services: Services, *, membership_id: str, amount: str | Money, staff_id: str
) -> MembershipView:
    """The member pays their arrears at the desk (exactly what ``arrears_of`` says; audited).

    Writes the payment for the unpaid months, puts the membership back in good standing and, when GoCardless
    was going to retry the failed payment, queues its cancellation so nobody is charged twice.
    """

    def change(s: Session, m: Membership, today: dt.date) -> tuple[Membership, dict[str, str | int]]:
        due = _arrears(m, today)
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
        changed, retry_payment_id = ms.desk_payment_of_arrears(m, due.period_end, today)
        s.add(
            MembershipPaymentRow(
                id=services.new_id(),
                membership_id=m.id,
                amount_pence=paid.pence,
                currency=paid.currency,
                charge_date=today,
                period_start=due.period_start,
                period_end=due.period_end,
                status="paid",
                source="desk",
            )
        )
        if retry_payment_id is not None:
            _queue(s, m.id, "cancel_payment", {"payment_id": retry_payment_id})
        return changed, {
            "amount_pence": paid.pence,
            "period_start": due.period_start.isoformat(),
            "period_end": due.period_end.isoformat(),
            "cancelled_payment_id": retry_payment_id or "",
        }

    return _desk_change(
        services, membership_id, staff_id, "membership.arrears_paid", change, action=Action.TAKE_PAYMENTS
    )


def queue_first_subscription_in(
    uow: UnitOfWork, membership_id: str, *, mandate_next_charge_date: dt.date | None, today: dt.date
) -> str | None:
    """Queue the membership's first ``create_subscription`` now that its mandate is set up (the sync engine
    calls it after a ``billing_requests fulfilled`` event); the caller commits. Returns the outbox id, or None
    when nothing was queued.

    The subscription collects the tier's monthly price on the membership's period day, from the first period
    start on or after the mandate's ``next_possible_charge_date`` (``mandate_next_charge_date``; when unknown,
    ``today`` + 7 days). A membership under notice gets an ``end_date`` the day after its last day (GoCardless
    creates no payment on or after ``end_date``), and none at all when no period starts before it ends.

    Idempotent: nothing is queued for a membership that has a subscription, already has a
    ``create_subscription`` queued (not yet done or failed), is paused or ended, or has no mandate.
    """
    s = uow.session
    row = s.get(MembershipRow, membership_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("That membership does not exist.")
    m = ms.daily_review(repo.membership_from_row(row), today)
    if (
        m.mandate_id is None
        or m.subscription_id is not None
        or m.status in (MembershipStatus.PAUSED, MembershipStatus.ENDED)
        or _latest_job(s, m.id, "create_subscription", statuses=(*_UNSENT, "in_flight")) is not None
    ):
        return None
    earliest = mandate_next_charge_date or today + dt.timedelta(days=7)
    params = _subscription_params(m, max(earliest, today))
    if m.ends_on is not None:
        if dt.date.fromisoformat(params["start_date"]) > m.ends_on:
            return None
        params["end_date"] = (m.ends_on + dt.timedelta(days=1)).isoformat()
    return _queue(s, m.id, "create_subscription", params)


# --- The daily review and what screens read -----------------------------------------------------------------


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


def membership_of(services: Services, client_id: str) -> MembershipView | None:
    """The client's membership that has not ended, or None (raises ``NotFound`` for an unknown client)."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        repo.load_client(s, client_id)
        m = repo.current_membership_of(s, client_id)
        if m is None:
            return None
        view = _view_of(s, m, today)
        return None if view.status is MembershipStatus.ENDED else view


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
    """The member discount a client who joins ``tier`` on ``on`` has that same day, or None, for pricing the
    rest of a basket that signs them up (checkout).

    It is the discount of the membership ``start_membership_in`` would write: ``pending_mandate``, so the
    tier's discount when its benefits start at sign-up and none when they start at the first payment. Refused
    like ``start_membership`` when the client already has a membership that has not ended, or the tier is no
    longer offered. Writes nothing; the discount names no membership yet (``membership_id`` is empty).
    """
    client = repo.load_client(session, client_id)
    _refuse_a_second_membership(session, client, on)
    joining = ms.sign_up(tier, membership_id="", client_id=client.id, on=on)
    return ms.member_discount(joining, on)


def memberships_list(
    services: Services, status: MembershipStatus | str | None = None
) -> list[MembershipView]:
    """The Memberships screen: every membership that has not ended (``status`` None), or those whose status
    today is ``status`` ("active", "past_due", "suspended", "ended"…), by client surname."""
    wanted = None
    if status is not None:
        try:
            wanted = MembershipStatus(str(getattr(status, "value", status)).strip().lower())
        except ValueError:
            raise InvalidInput(f"“{status}” is not a membership status.", field="status") from None
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        query = (
            select(MembershipRow, ClientRow)
            .join(ClientRow, ClientRow.id == MembershipRow.client_id)
            .order_by(
                ClientRow.search_name_reversed, ClientRow.id, MembershipRow.started_on, MembershipRow.id
            )
        )
        if wanted is not MembershipStatus.ENDED:
            query = query.where(MembershipRow.status != MembershipStatus.ENDED.value)
        views = [_view(repo.membership_from_row(row), client, row, today) for row, client in s.execute(query)]
    if wanted is None:
        return [v for v in views if v.status is not MembershipStatus.ENDED]
    return [v for v in views if v.status is wanted]


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
        view = _view_of(s, changed, today)
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


def _view_of(s: Session, m: Membership, today: dt.date) -> MembershipView:
    client = s.get(ClientRow, m.client_id)
    row = s.get(MembershipRow, m.id)
    if client is None or row is None:  # pragma: no cover - foreign keys hold them
        raise NotFound("That membership does not exist.")
    return _view(m, client, row, today)


def _view(m: Membership, client: ClientRow, row: MembershipRow, today: dt.date) -> MembershipView:
    reviewed = ms.daily_review(m, today)
    return MembershipView(
        id=m.id,
        client_id=m.client_id,
        client_name=f"{client.first_name} {client.last_name}",
        tier_id=m.tier.id,
        tier_name=m.tier.name,
        monthly_price=m.tier.monthly_price,
        discount_bp=m.tier.discount_bp,
        status=reviewed.status,
        started_on=m.started_on,
        paid_through=m.paid_through,
        past_due_since=reviewed.past_due_since,
        ends_on=m.ends_on,
        discount_in_force=ms.member_discount(reviewed, today) is not None,
        direct_debit=_direct_debit(m),
        mandate_status=m.mandate_status,
        authorisation_url=row.gc_authorisation_url,
        needs_new_mandate=ms.needs_new_mandate(m),
        today=today,
    )


def _direct_debit(m: Membership) -> str:
    if m.mandate_status is None:
        return WAITING_FOR_CLIENT
    return _MANDATE_WORDS.get(m.mandate_status, m.mandate_status)


def _arrears(m: Membership, today: dt.date) -> Arrears | None:
    """The unpaid months from the first unpaid day to the one holding today (or the end date, if earlier)."""
    if m.past_due_since is None and m.status not in (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED):
        return None
    last_day = today if m.ends_on is None else min(today, m.ends_on)
    start, end = ms.next_period(m.started_on, m.paid_through)
    months = 1
    while end < last_day:
        end = ms.next_period(m.started_on, end)[1]
        months += 1
    return Arrears(m.tier.monthly_price * months, months, start, end)


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


# --- Helpers: the GoCardless work ---------------------------------------------------------------------------


def _queue_mandate_set_up(
    s: Session, m: Membership, given_name: str, family_name: str, email: str | None, phone: str | None
) -> None:
    """Customer → billing request (mandate only: Bacs and SEPA need that, NOTES.md §3) → hosted flow."""
    currency = m.tier.monthly_price.currency
    if currency not in _SCHEMES:
        raise RuleViolation(f"Direct Debit memberships cannot be collected in {currency}.")
    customer: dict[str, Any] = {"given_name": given_name, "family_name": family_name}
    if email:
        customer["email"] = email
    if phone:
        customer["phone_number"] = phone
    metadata = {"membership_id": m.id}
    request: dict[str, Any] = {
        "mandate_request": {"scheme": _SCHEMES[currency], "currency": currency},
        "metadata": metadata,
    }
    after = None
    if m.customer_id is not None:
        request["links"] = {"customer": m.customer_id}
    else:
        after = _queue(s, m.id, "create_customer", {**customer, "metadata": metadata})
    after = _queue(s, m.id, "create_billing_request", request, depends_on=after)
    _queue(s, m.id, "create_flow", {"prefilled_customer": customer}, depends_on=after)


def _queue_billing_change(s: Session, m: Membership, billing: BillingChange) -> None:
    """Amend or replace the subscription for a tier change; with no subscription yet, reprice the queued one.

    A ``create_subscription`` never sent gets the new amount written into it. One already sent (or being
    sent) is amended once GoCardless has created it: the update depends on it.
    """
    amount = billing.new_amount.pence
    if billing.action is BillingAction.AMEND:
        _queue(s, m.id, "update_subscription", {"subscription_id": billing.subscription_id, "amount": amount})
    elif billing.action is BillingAction.REPLACE:
        last_day = billing.effective_from - dt.timedelta(days=1)
        cancel = _queue(
            s,
            m.id,
            "cancel_subscription",
            {"subscription_id": billing.subscription_id, "ends_on": last_day.isoformat()},
        )
        _queue(
            s, m.id, "create_subscription", _subscription_params(m, billing.effective_from), depends_on=cancel
        )
    else:
        create = _latest_job(s, m.id, "create_subscription", statuses=(*_UNSENT, "in_flight"))
        if (
            create is None
            or create.payload.get("amount") == amount
            or _rewrite_unsent(s, create.id, amount=amount)
        ):
            return
        _queue(
            s, m.id, "update_subscription", {"subscription_id": None, "amount": amount}, depends_on=create.id
        )


def _queue_cancellation(s: Session, m: Membership, last_day: dt.date) -> None:
    """Cancel the membership's subscription so it collects nothing after ``last_day`` (an unsent cancellation
    just gets the new date)."""
    cancel = _notice_cancellation(s, m.id)
    if cancel is not None:
        _rewrite_unsent(s, cancel.id, ends_on=last_day.isoformat())  # once sent, the first date stands
        return
    subscription_id, after = _subscription_target(s, m)
    if subscription_id is not None or after is not None:
        _queue(
            s,
            m.id,
            "cancel_subscription",
            {"subscription_id": subscription_id, "ends_on": last_day.isoformat()},
            depends_on=after,
        )


def _subscription_params(m: Membership, effective_from: dt.date) -> dict[str, Any]:
    """A monthly subscription at the tier's price, collecting on the membership's period days from the first
    period starting on or after ``effective_from``."""
    start, end = ms.next_period(m.started_on, m.paid_through)
    while start < effective_from:
        start, end = ms.next_period(m.started_on, end)
    price = m.tier.monthly_price
    return {
        "amount": price.pence,
        "currency": price.currency,
        "interval_unit": "monthly",
        "day_of_month": ms.subscription_day_of_month(m.started_on),
        "start_date": start.isoformat(),
        "name": f"{m.tier.name} membership",
        "metadata": {"membership_id": m.id},
        "links": {"mandate": m.mandate_id},
    }


def _subscription_target(s: Session, m: Membership) -> tuple[str | None, str | None]:
    """(subscription id, outbox id to wait for): the live subscription, or the one a queued create will make."""
    if m.subscription_id is not None:
        return m.subscription_id, None
    create = _latest_job(s, m.id, "create_subscription", statuses=(*_UNSENT, "in_flight"))
    return None, (None if create is None else create.id)


def _notice_cancellation(s: Session, membership_id: str) -> OutboxRow | None:
    """The cancellation queued by notice or by ending (not failed), if any.

    A tier change's cancellation of the old subscription is not one: a new subscription's creation depends on it.
    """
    for job in reversed(_jobs(s, membership_id, ("cancel_subscription",))):
        if job.status == "failed":
            continue
        replaced = s.scalar(
            select(OutboxRow.id).where(
                OutboxRow.depends_on == job.id, OutboxRow.kind == "create_subscription"
            )
        )
        return None if replaced is not None else job
    return None


def _outstanding_pause(s: Session, membership_id: str) -> OutboxRow | None:
    """The last pause request (not failed), unless a resume was requested after it."""
    for job in reversed(_jobs(s, membership_id, ("pause_subscription", "resume_subscription"))):
        if job.status != "failed":
            return job if job.kind == "pause_subscription" else None
    return None


def _queue(
    s: Session, membership_id: str, kind: str, payload: dict[str, Any], *, depends_on: str | None = None
) -> str:
    return enqueue(
        s, kind=kind, record_type=RECORD_TYPE, record_id=membership_id, payload=payload, depends_on=depends_on
    )


def _jobs(
    s: Session, membership_id: str, kinds: tuple[str, ...], *, statuses: tuple[str, ...] | None = None
) -> list[OutboxRow]:
    """The membership's outbox rows of these kinds, oldest first."""
    query = select(OutboxRow).where(
        OutboxRow.record_type == RECORD_TYPE, OutboxRow.record_id == membership_id, OutboxRow.kind.in_(kinds)
    )
    if statuses is not None:
        query = query.where(OutboxRow.status.in_(statuses))
    return list(s.scalars(query.order_by(OutboxRow.seq)))


def _latest_job(s: Session, membership_id: str, kind: str, *, statuses: tuple[str, ...]) -> OutboxRow | None:
    jobs = _jobs(s, membership_id, (kind,), statuses=statuses)
    return jobs[-1] if jobs else None


def _lock_unsent(s: Session, job_id: str) -> OutboxRow | None:
    """The outbox row, locked, if it was never sent; None once the engine has taken it."""
    job = s.scalars(
        select(OutboxRow)
        .where(OutboxRow.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    return job if job is not None and job.status in _UNSENT and job.attempts == 0 else None


def _rewrite_unsent(s: Session, job_id: str, **changes: Any) -> bool:
    """Change the payload of work never sent; False when it was sent already (nothing changed)."""
    job = _lock_unsent(s, job_id)
    if job is None:
        return False
    job.payload = {**job.payload, **changes}
    s.flush()
    return True


def _withdraw_unsent(s: Session, job_id: str) -> bool:
    """Delete work never sent, with the work waiting for it; False when it was sent already."""
    job = _lock_unsent(s, job_id)
    if job is None:
        return False
    for dependent in s.scalars(select(OutboxRow.id).where(OutboxRow.depends_on == job_id)).all():
        if not _withdraw_unsent(s, dependent):  # pragma: no cover - work waiting for unsent work is unsent
            return False
    s.delete(job)
    s.flush()
    return True
