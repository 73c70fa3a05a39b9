"""How a membership is billed through GoCardless: the first month, the monthly subscription, one-off payments.

The rules are ``domain/billing.py``'s; this module gathers the facts they need from the database and queues the
work in the outbox (DESIGN.md §3 "Periods and the first month", §5):

- **The first month** is paid at the till (a line of the sale: ``record_first_month_at_till_in``), or with the
  Direct Debit set-up: the billing request carries a ``payment_request`` beside its ``mandate_request``
  (``first_payment_request``: instant bank payment, GBP, with ``fallback_enabled`` so a bank that cannot pay
  instantly pays it by Direct Debit on the new mandate). Where neither can happen, the plan below collects it
  as a one-off Direct Debit payment.
- **The subscription** is queued as soon as the mandate is known (``queue_first_subscription_in``, in the same
  transaction as the event that made it known), with no dates. Its start date is computed when it is *sent*
  (``prepare_subscription_in``, run for the sync's ``PlanSubscription`` with the mandate's current
  ``next_possible_charge_date`` and the mandate's payments as GoCardless reports them), so a send that is
  retried days later, or a replacement after a tier change, is never refused for a stale date. Periods between
  what was paid and the subscription's first charge are queued as one-off payments then.
- **The review** (``memberships_not_billed``): memberships that should be billed and are not (a usable mandate,
  no live subscription, no subscription being sent), with ``start_billing`` to put one right.

What is already collected or being collected, period by period, is ``membership_periods``'s to say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.billing import NEVER_COLLECTED, PaymentSource, PaymentStatus, Period
from aestheticc_pos.domain.checkout import amount_text
from aestheticc_pos.domain.errors import NotFound, RuleViolation
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.messages import RemotePayment
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxStatus
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.membership_periods import (
    RECORD_TYPE,
    add_paid_period_in,
    collected_through,
    one_off_period_start,
    period_facts,
)
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import OPEN, discard, enqueue, jobs_of, latest_job, withdraw_unsent
from aestheticc_pos.store.outbox_repo import job as outbox_job
from aestheticc_pos.store.tables import ClientRow, MembershipPaymentRow, MembershipRow, new_id

INSTANT_CURRENCIES = {
    "GBP": "faster_payments"
}  # instant bank payment with a Direct Debit set-up (NOTES.md §11)
NOTHING_TO_BILL = (
    "Not sent: every month this membership still runs is already paid or being collected, so it needs no "
    "monthly collection."
)


@dataclass(frozen=True, slots=True)
class SignUpTerms:
    """How a client joining ``tier_name`` today is billed, for the sign-up dialog and the till.

    ``first_payment`` (the first month, ``first_period``, plus ``signup_fee``) is taken as the client authorises
    the Direct Debit when ``instant`` (instant bank payment), otherwise by Direct Debit as soon as the mandate
    allows; then ``monthly`` is collected on the same day each month from ``second_period_start``.
    """

    tier_name: str
    monthly: Money
    signup_fee: Money
    first_payment: Money
    first_period: Period
    second_period_start: dt.date
    instant: bool

    @property
    def sentence(self) -> str:
        what = f"the first month, {billing.period_text(self.first_period)}"
        if self.signup_fee:
            what += f", and the {amount_text(self.signup_fee)} sign-up fee"
        when = (
            "when they authorise the Direct Debit (by instant bank payment)"
            if self.instant
            else "by Direct Debit as soon as their bank allows"
        )
        return (
            f"The client pays {amount_text(self.first_payment)} ({what}) {when}, then "
            f"{amount_text(self.monthly)} a month by Direct Debit from {format_date(self.second_period_start)}."
        )


@dataclass(frozen=True, slots=True)
class NotBilled:
    """A membership that should be billed by Direct Debit and is not (the Sync screen's review)."""

    membership_id: str
    client_name: str
    tier_name: str
    reason: str


# --- The first month ---------------------------------------------------------------------------------------


@use_case(Audience.ANY_STAFF)
def sign_up_terms(services: Services, tier_id: str) -> SignUpTerms:
    """How a client who joins ``tier_id`` today from the Memberships screen is billed (read only)."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        today = services.today(settings)
        tier = catalogue_repo.load_tier(s, tier_id)
    return SignUpTerms(
        tier_name=tier.name,
        monthly=tier.monthly_price,
        signup_fee=tier.signup_fee,
        first_payment=billing.first_payment_amount(tier),
        first_period=billing.period(today, 0),
        second_period_start=billing.period(today, 1).start,
        instant=settings.instant_first_payment and tier.monthly_price.currency in INSTANT_CURRENCIES,
    )


def first_payment_request(s: Session, m: Membership, settings: ClinicSettings) -> dict[str, Any] | None:
    """The ``payment_request`` collecting the first month (and the sign-up fee) when the client authorises the
    Direct Debit, or None: the clinic turned it off, the currency has no instant bank payment, or the first
    period is already paid or being collected."""
    scheme = INSTANT_CURRENCIES.get(m.tier.monthly_price.currency)
    if not settings.instant_first_payment or scheme is None:
        return None
    if m.started_on in period_facts(s, m.id).accounted:
        return None
    amount = billing.first_payment_amount(m.tier)
    return {
        "amount": amount.pence,
        "currency": amount.currency,
        "description": first_payment_description(m),
        "scheme": scheme,
        "metadata": {"membership_id": m.id, "period_start": m.started_on.isoformat()},
    }


def first_payment_description(m: Membership) -> str:
    """ "Gold membership: first month, 4 Jan–3 Feb 2027, and sign-up fee" (what the client's bank shows)."""
    first = billing.period(m.started_on, 0)
    fee = ", and sign-up fee" if m.tier.signup_fee else ""
    return f"{m.tier.name} membership: first month, {billing.period_text(first)}{fee}"[:140]


def record_first_month_at_till_in(s: Session, m: Membership, *, sale_id: str, today: dt.date) -> Membership:
    """The sale paid the first month (and the sign-up fee): the period is collected, the member is in good
    standing, and nothing will collect it again. Returns the membership to save; the caller commits."""
    first = billing.period(m.started_on, 0)
    amount = billing.first_payment_amount(m.tier)
    add_paid_period_in(
        s, m, first, amount, on=today, source=PaymentSource.SALE, new_id=new_id, sale_id=sale_id
    )
    s.flush()
    paid_through = collected_through(s, m)
    assert paid_through is not None  # the first period was just collected
    return ms.payment_confirmed(m, paid_through, today)


def record_first_payment_in(s: Session, m: Membership, payment_id: str) -> MembershipPaymentRow:
    """The Direct Debit set-up's first payment (its ``payment_request_payment``) pays the first period: its row,
    pending until GoCardless confirms it. Idempotent."""
    existing = s.scalars(
        select(MembershipPaymentRow).where(MembershipPaymentRow.gc_payment_id == payment_id)
    ).one_or_none()
    if existing is not None:
        return existing
    first = billing.period(m.started_on, 0)
    amount = billing.first_payment_amount(m.tier)
    row = MembershipPaymentRow(
        id=new_id(),
        membership_id=m.id,
        gc_payment_id=payment_id,
        amount_pence=amount.pence,
        currency=amount.currency,
        charge_date=None,
        period_start=first.start,
        period_end=first.end,
        status=PaymentStatus.PENDING,
        source=PaymentSource.DIRECT_DEBIT,
    )
    s.add(row)
    s.flush()
    return row


# --- The subscription --------------------------------------------------------------------------------------


def queue_first_subscription_in(s: Session, membership_id: str, today: dt.date) -> str | None:
    """Queue the membership's monthly subscription now that its mandate is known; the caller commits. Its dates
    and amount are worked out when it is sent (``prepare_subscription_in``). Returns the outbox id, or None when
    nothing was queued: the membership has a subscription or one being sent, is paused or ended, has no usable
    mandate, or will end before another month starts."""
    row = s.get(MembershipRow, membership_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("That membership does not exist.")
    m = ms.daily_review(repo.membership_from_row(row), today)
    if not _should_be_billed(m) or latest_job(s, RECORD_TYPE, m.id, "create_subscription", statuses=OPEN):
        return None
    if _plan(s, m, earliest=today, today=today).subscription_start is None:
        return None
    return enqueue(
        s,
        kind="create_subscription",
        record_type=RECORD_TYPE,
        record_id=m.id,
        payload=subscription_placeholder(m),
    )


def subscription_placeholder(m: Membership) -> dict[str, Any]:
    """A ``create_subscription`` payload before it is sent: only what never changes (the rest is planned then)."""
    return {"name": f"{m.tier.name} membership"[:255], "metadata": {"membership_id": m.id}}


def prepare_subscription_in(
    s: Session,
    outbox_id: str,
    *,
    earliest_charge: dt.date,
    remote_payments: Iterable[RemotePayment],
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Plan a ``create_subscription`` that is about to be sent; the caller commits.

    ``earliest_charge`` is the mandate's ``next_possible_charge_date`` now; ``remote_payments`` are the
    mandate's payments as GoCardless lists them (those of this membership count as accounted for, whatever the
    till has heard of them). Queues a one-off payment for each period between what is accounted for and the
    subscription's first charge, rewrites the row's payload with the subscription to send and returns it; or
    returns None when the membership needs no subscription (paused, ended, no usable mandate, or every month
    left is already accounted for).
    """
    job = outbox_job(s, outbox_id, lock=True)
    row = s.get(MembershipRow, job.record_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("That membership does not exist.")
    today = now.astimezone(read_clinic_settings(s).tz).date()
    m = ms.daily_review(repo.membership_from_row(row), today)
    if not _should_be_billed(m):
        return None
    payments = list(remote_payments)
    remote = _remote_accounted(s, m, payments)
    statuses = {p.payment_id: str(p.status) for p in payments if p.payment_id}
    accounted = period_facts(s, m.id, statuses).accounted | remote
    plan = _plan(s, m, accounted=accounted, earliest=max(earliest_charge, today), today=today)
    for one_off in plan.one_offs:
        queue_one_off_in(s, m, one_off)
    if plan.subscription_start is None:
        return None
    price = m.tier.monthly_price
    payload: dict[str, Any] = {
        **subscription_placeholder(m),
        "amount": price.pence,
        "currency": price.currency,
        "interval_unit": "monthly",
        "day_of_month": billing.subscription_day_of_month(m.started_on),
        "start_date": plan.subscription_start.isoformat(),
        "links": {"mandate": m.mandate_id},
    }
    if plan.subscription_end is not None:
        payload["end_date"] = plan.subscription_end.isoformat()
    job.payload = payload
    s.flush()
    return payload


def subscription_sent_in(s: Session, outbox_id: str, *, start_date: dt.date | None) -> int:
    """After a ``create_subscription`` was sent: GoCardless may have returned one made by an earlier attempt
    with the same key (its response was lost) that starts earlier than this attempt planned. Its first periods
    are then collected by it, so the one-off payments queued for them are withdrawn. Returns how many."""
    job = outbox_job(s, outbox_id)
    planned = job.payload.get("start_date")
    if start_date is None or not isinstance(planned, str) or start_date >= dt.date.fromisoformat(planned):
        return 0
    withdrawn = 0
    for one_off in jobs_of(s, RECORD_TYPE, job.record_id, ("create_payment",), statuses=OPEN):
        start = one_off_period_start(one_off.payload)
        if start is not None and start >= start_date and withdraw_unsent(s, one_off.id):
            withdrawn += 1
    return withdrawn


def queue_one_off_in(s: Session, m: Membership, p: Period, *, depends_on: str | None = None) -> str:
    """A one-off Direct Debit payment for period ``p`` on the membership's mandate, as soon as it allows (the
    first period also carries the sign-up fee)."""
    amount = billing.first_payment_amount(m.tier) if p.start == m.started_on else m.tier.monthly_price
    label = "first month" if p.start == m.started_on else "month"
    fee = " and sign-up fee" if p.start == m.started_on and m.tier.signup_fee else ""
    return enqueue(
        s,
        kind="create_payment",
        record_type=RECORD_TYPE,
        record_id=m.id,
        payload={
            "amount": amount.pence,
            "currency": amount.currency,
            "description": f"{m.tier.name} membership: {label} {billing.period_text(p)}{fee}"[:140],
            "metadata": {"membership_id": m.id, "period_start": p.start.isoformat()},
        },
        depends_on=depends_on,
    )


# --- The review --------------------------------------------------------------------------------------------


@use_case(Audience.ANY_STAFF)
def memberships_not_billed(services: Services) -> list[NotBilled]:
    """Memberships that should be billed and are not: a usable mandate, no live subscription and none being
    sent (it was refused, discarded, cancelled at GoCardless, or never queued), and months still to collect."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        rows = s.execute(
            select(MembershipRow, ClientRow)
            .join(ClientRow, ClientRow.id == MembershipRow.client_id)
            .where(
                MembershipRow.gc_mandate_id.is_not(None),
                MembershipRow.gc_subscription_id.is_(None),
                MembershipRow.status.not_in((MembershipStatus.PAUSED.value, MembershipStatus.ENDED.value)),
            )
            .order_by(ClientRow.search_name_reversed, ClientRow.id)
        ).all()
        found = []
        for row, client in rows:
            m = ms.daily_review(repo.membership_from_row(row), today)
            if not _should_be_billed(m):
                continue
            if latest_job(s, RECORD_TYPE, m.id, "create_subscription", statuses=OPEN) is not None:
                continue
            if _plan(s, m, earliest=today, today=today).subscription_start is None:
                continue
            found.append(
                NotBilled(m.id, f"{client.first_name} {client.last_name}", m.tier.name, _why_not_billed(s, m))
            )
        return found


@use_case(Action.RESOLVE_SYNC)
def start_billing(services: Services, *, membership_id: str, staff_id: str) -> str:
    """Put right a membership that is not being billed: a new monthly collection is queued (its dates worked
    out when it is sent, months in between collected as one-off payments), and refused earlier attempts are
    set aside. Manager only; audited. Returns the outbox id."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.RESOLVE_SYNC)
        today = services.today(read_clinic_settings(s))
        row = s.get(MembershipRow, membership_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound("That membership does not exist.")
        m = ms.daily_review(repo.membership_from_row(row), today)
        if m.subscription_id is not None:
            raise RuleViolation("This membership already has a monthly collection at GoCardless.")
        if not _should_be_billed(m):
            raise RuleViolation(_why_cannot_bill(m))
        if latest_job(s, RECORD_TYPE, m.id, "create_subscription", statuses=OPEN) is not None:
            raise RuleViolation("A monthly collection is already being sent for this member (see Sync).")
        now = services.now()
        for refused in jobs_of(
            s, RECORD_TYPE, m.id, ("create_subscription",), statuses=(OutboxStatus.FAILED,)
        ):
            discard(s, refused, "Set aside: a manager started the monthly collection again.", now)
        outbox_id = enqueue(
            s,
            kind="create_subscription",
            record_type=RECORD_TYPE,
            record_id=m.id,
            payload=subscription_placeholder(m),
        )
        append_audit(
            s,
            at=now,
            staff_id=staff_id,
            action="membership.billing_started",
            record_type=RECORD_TYPE,
            record_id=m.id,
            details={"outbox_id": outbox_id},
        )
        uow.commit()
    return outbox_id


# --- Helpers -----------------------------------------------------------------------------------------------


def _should_be_billed(m: Membership) -> bool:
    return (
        m.status not in (MembershipStatus.PAUSED, MembershipStatus.ENDED)
        and m.mandate_id is not None
        and not ms.needs_new_mandate(m)
        and m.subscription_id is None
    )


def _plan(
    s: Session,
    m: Membership,
    *,
    earliest: dt.date,
    today: dt.date,
    accounted: frozenset[dt.date] | None = None,
) -> billing.BillingPlan:
    """The plan from what the till knows (``accounted`` when the caller gathered more)."""
    return billing.plan_billing(
        m.started_on,
        accounted=period_facts(s, m.id).accounted if accounted is None else accounted,
        paid_through=m.paid_through,
        earliest_charge=earliest,
        ends_on=m.ends_on,
        owed_until=today if m.past_due_since is not None else None,
    )


def _remote_accounted(s: Session, m: Membership, payments: Iterable[RemotePayment]) -> frozenset[dt.date]:
    """The periods the mandate's payments at GoCardless collect for this membership (its subscriptions'
    payments by charge date, its one-off payments by their metadata), unless they were cancelled."""
    subscriptions = {m.subscription_id} | {
        job.remote_id
        for job in jobs_of(s, RECORD_TYPE, m.id, ("create_subscription",), statuses=(OutboxStatus.DONE,))
        if job.remote_id
    }
    starts = set()
    for payment in payments:
        if payment.status in NEVER_COLLECTED:
            continue
        if payment.period_start is not None and payment.membership_id == m.id:
            starts.add(payment.period_start)
        elif payment.subscription_id in subscriptions and payment.charge_date is not None:
            starts.add(billing.period_holding(m.started_on, payment.charge_date).start)
    return frozenset(starts)


def _why_not_billed(s: Session, m: Membership) -> str:
    last = latest_job(
        s, RECORD_TYPE, m.id, "create_subscription", statuses=(OutboxStatus.FAILED, OutboxStatus.DISCARDED)
    )
    if last is not None and last.status == OutboxStatus.FAILED:
        return f"GoCardless refused the monthly collection: {last.last_error or 'no reason given'}"
    if last is not None:
        return "The monthly collection was discarded on the Sync screen, so nothing collects the next months."
    return "The monthly collection stopped at GoCardless (cancelled or finished), so nothing collects the next months."


def _why_cannot_bill(m: Membership) -> str:
    if m.status in (MembershipStatus.PAUSED, MembershipStatus.ENDED):
        return f"This membership is {m.status.value.replace('_', ' ')}: there is nothing to collect."
    return "This member has no Direct Debit in place. Send them a new Direct Debit link first."
