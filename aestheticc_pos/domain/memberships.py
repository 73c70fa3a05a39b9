"""Client memberships: status, Direct Debit references, paid-through date and the discount (DESIGN.md §3).

Only these functions move a membership. Each takes a ``Membership`` and returns a new one; an impossible move
raises ``RuleViolation`` with a sentence for staff. Two kinds of caller use them:

- the desk (sign up, pause, resume, give notice, end, change tier, pay arrears): a refusal is shown to staff;
- the sync engine, applying GoCardless events (NOTES.md §6). An event states a fact that already happened, so the
  event functions (``mandate_*``, ``payment_*``) refuse only what no event sequence can produce, and they accept
  events about a membership that has since ended: money collected after the end is still money collected.

``paid_through`` is the last day of the unbroken run of paid periods from the start (``domain/billing.py``
computes it from the periods collected); it moves only for money actually collected.

What ``mandate_lost`` does: GoCardless cancels a lost mandate's subscription, so nothing more will be collected.
The member keeps what they paid for: an ``active`` membership stays ``active`` until ``paid_through``; from the day
after, ``apply_grace`` makes it ``past_due`` (since that day) and, once the tier's grace period is over,
``suspended``. A member already behind, or a pending one whose set-up failed, becomes ``past_due`` at once (since
the first unpaid day), so a sign-up tier's discount lasts only the grace period. A ``cancelling`` membership simply
ends on its date; a ``paused`` one is checked again when resumed. Either way the clinic sends a new mandate link
(``needs_new_mandate``), and the next collected payment brings the membership back to ``active``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from aestheticc_pos.domain.benefits import MemberDiscount
from aestheticc_pos.domain.billing import next_period
from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money

MAX_SUBSCRIPTION_AMENDMENTS = 10  # GoCardless allows at most 10 amount changes per subscription

# Mandate statuses after which GoCardless collects nothing more on the mandate (NOTES.md §4 and §6).
LOST_MANDATE_STATUSES = frozenset({"cancelled", "failed", "expired", "blocked", "consumed"})


class MembershipStatus(enum.StrEnum):
    PENDING_MANDATE = (
        "pending_mandate"  # signed up; Direct Debit not set up or first payment not collected yet
    )
    ACTIVE = "active"
    PAST_DUE = "past_due"  # a payment failed or was charged back; benefits continue for the grace period
    SUSPENDED = "suspended"  # past due beyond the grace period: no benefits until the arrears are paid
    PAUSED = "paused"
    CANCELLING = "cancelling"  # notice given: benefits until ``ends_on`` (inclusive)
    ENDED = "ended"


_IN_ARREARS = (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED)


@dataclass(frozen=True, slots=True)
class Membership:
    """A client's membership. ``tier`` is a snapshot taken at sign-up or at the last tier change."""

    id: str
    client_id: str
    tier: Tier
    status: MembershipStatus
    started_on: dt.date
    paid_through: dt.date | None = None
    past_due_since: dt.date | None = None
    ends_on: dt.date | None = None
    first_payment_collected: bool = False
    customer_id: str | None = None
    billing_request_id: str | None = None
    mandate_id: str | None = None
    mandate_status: str | None = None  # GoCardless's mandate status, as last reported
    subscription_id: str | None = None
    subscription_amendments: int = 0  # amount changes requested on ``subscription_id``
    pending_retry_payment_id: str | None = None  # a failed payment GoCardless will retry


class BillingAction(enum.StrEnum):
    """What a tier change asks of GoCardless."""

    NONE = "none"  # no subscription yet (create it at the new price) or the price did not change
    AMEND = "amend"  # amend the subscription's amount
    REPLACE = "replace"  # cancel the subscription and create a new one: the amendment limit is reached


@dataclass(frozen=True, slots=True)
class BillingChange:
    """The billing side of a tier change: it applies from the next collection, ``effective_from``.

    ``subscription_id`` is the subscription to amend, or to cancel when replacing it (None with NONE).
    """

    action: BillingAction
    subscription_id: str | None
    new_amount: Money
    effective_from: dt.date


# --- Desk actions -------------------------------------------------------------------------------------------


def sign_up(tier: Tier, *, membership_id: str, client_id: str, on: dt.date) -> Membership:
    """A new membership, waiting for its Direct Debit (it can be signed up offline)."""
    if not tier.active:
        raise RuleViolation(f"The {tier.name} membership is no longer offered. Choose another tier.")
    return Membership(
        id=membership_id,
        client_id=client_id,
        tier=tier,
        status=MembershipStatus.PENDING_MANDATE,
        started_on=on,
    )


def change_tier(m: Membership, new_tier: Tier, on: dt.date) -> tuple[Membership, BillingChange]:
    """Move to ``new_tier``: the discount changes at once, billing from the next collection."""
    _refuse_if_ended(m, "change its tier")
    if m.status in _IN_ARREARS:
        raise RuleViolation("This membership has unpaid arrears. Take the payment before changing the tier.")
    if m.status is MembershipStatus.CANCELLING:
        raise RuleViolation(
            "Notice has been given on this membership. Withdraw the notice to change the tier."
        )
    if not new_tier.active:
        raise RuleViolation(f"The {new_tier.name} membership is no longer offered. Choose another tier.")
    if new_tier.id == m.tier.id:
        raise RuleViolation(f"This client is already a {m.tier.name} member.")
    if new_tier.monthly_price.currency != m.tier.monthly_price.currency:
        raise InvalidInput("The new tier is priced in another currency.", field="tier")

    effective_from = max(next_period(m.started_on, m.paid_through)[0], on)
    changed = replace(m, tier=new_tier)
    if m.subscription_id is None or new_tier.monthly_price == m.tier.monthly_price:
        action = BillingAction.NONE
    elif m.subscription_amendments >= MAX_SUBSCRIPTION_AMENDMENTS:
        action = BillingAction.REPLACE
        changed = replace(changed, subscription_id=None, subscription_amendments=0)
    else:
        action = BillingAction.AMEND
        changed = replace(changed, subscription_amendments=m.subscription_amendments + 1)
    subscription = None if action is BillingAction.NONE else m.subscription_id
    return changed, BillingChange(action, subscription, new_tier.monthly_price, effective_from)


def pause(m: Membership) -> Membership:
    """Pause an active membership: no collections and no discount until it is resumed."""
    if m.status is not MembershipStatus.ACTIVE:
        raise RuleViolation(f"Only an active membership can be paused; this one is {_describe(m.status)}.")
    return replace(m, status=MembershipStatus.PAUSED)


def resume(m: Membership) -> Membership:
    """Resume a paused membership (past due again if a payment failed while it was paused)."""
    if m.status is not MembershipStatus.PAUSED:
        raise RuleViolation(f"This membership is {_describe(m.status)}, not paused.")
    status = MembershipStatus.PAST_DUE if m.past_due_since is not None else MembershipStatus.ACTIVE
    return replace(m, status=status)


def give_notice(m: Membership, ends_on: dt.date, today: dt.date) -> Membership:
    """The member gives notice: benefits continue until ``ends_on`` (inclusive), then it ends.

    Giving notice again moves the end date. A membership in arrears keeps its status (and its arrears) and
    still ends on ``ends_on``.
    """
    _refuse_if_ended(m, "give notice")
    if m.status is MembershipStatus.PENDING_MANDATE:
        raise RuleViolation("This membership has not started yet. End it now instead of giving notice.")
    if m.status is MembershipStatus.PAUSED:
        raise RuleViolation("This membership is paused. Resume it before giving notice, or end it now.")
    if ends_on < today:
        raise InvalidInput("The last day of a membership cannot be in the past.", field="ends_on")
    status = MembershipStatus.CANCELLING if m.status is MembershipStatus.ACTIVE else m.status
    return replace(m, status=status, ends_on=ends_on)


def withdraw_notice(m: Membership) -> Membership:
    """The member changed their mind before the end date (a membership in arrears keeps its status)."""
    if m.status is MembershipStatus.ENDED or m.ends_on is None:
        raise RuleViolation("No notice has been given on this membership.")
    status = MembershipStatus.ACTIVE if m.status is MembershipStatus.CANCELLING else m.status
    return replace(m, status=status, ends_on=None)


def end(m: Membership, on: dt.date) -> Membership:
    """End the membership now (the subscription must be cancelled with GoCardless)."""
    _refuse_if_ended(m, "end it")
    return replace(m, status=MembershipStatus.ENDED, ends_on=on)


def desk_payment_of_arrears(
    m: Membership, paid_through: dt.date | None, on: dt.date
) -> tuple[Membership, str | None]:
    """The member paid every period they owed at the desk on ``on``; ``paid_through`` is where the periods
    now collected reach (``billing.paid_through_after``; a later period still being collected by Direct Debit
    may leave it before ``on``).

    Returns the membership back in good standing and the id of the GoCardless retry that must now be
    cancelled so the member is not charged twice (None when no retry is pending). A paused or ended
    membership with arrears can pay them too; it keeps its status.
    """
    if m.past_due_since is None and m.status not in _IN_ARREARS:
        raise RuleViolation("There are no arrears to pay on this membership.")
    status = _good_standing(m) if m.status in _IN_ARREARS else m.status
    if paid_through is not None and m.paid_through is not None:
        paid_through = max(paid_through, m.paid_through)
    paid = replace(
        m,
        status=status,
        paid_through=paid_through or m.paid_through,
        past_due_since=None,
        first_payment_collected=True,
        pending_retry_payment_id=None,
    )
    return paid, m.pending_retry_payment_id


# --- GoCardless events (NOTES.md §6) -------------------------------------------------------------------------


def mandate_requested(
    m: Membership, *, billing_request_id: str, customer_id: str | None = None
) -> Membership:
    """A billing request (the mandate set-up link) was created for this membership."""
    _refuse_if_ended(m, "set up a Direct Debit")
    return replace(m, billing_request_id=billing_request_id, customer_id=customer_id or m.customer_id)


def mandate_set_up(m: Membership, mandate_id: str, *, customer_id: str | None = None) -> Membership:
    """The billing request was fulfilled: the client authorised ``mandate_id`` (it may replace a lost one).

    The status does not change: a pending membership waits for the mandate to become active (benefits from
    sign-up) or for the first payment (benefits from the first payment).
    """
    return replace(
        m,
        mandate_id=mandate_id,
        mandate_status="pending_submission",
        customer_id=customer_id or m.customer_id,
    )


def mandate_activated(m: Membership, mandate_id: str | None = None) -> Membership:
    """The mandate is active (or reinstated). A membership whose benefits start at sign-up becomes active.

    An event about a mandate this membership no longer uses changes nothing.
    """
    if _about_other_mandate(m, mandate_id):
        return m
    if m.mandate_id is None and mandate_id is None:
        raise RuleViolation("No Direct Debit has been set up for this membership yet.")
    activated = replace(m, mandate_id=m.mandate_id or mandate_id, mandate_status="active")
    if m.status is MembershipStatus.PENDING_MANDATE and m.tier.benefits_start is BenefitsStart.SIGN_UP:
        activated = replace(activated, status=MembershipStatus.ACTIVE)
    return activated


def mandate_lost(
    m: Membership, on: dt.date, *, mandate_id: str | None = None, mandate_status: str = "cancelled"
) -> Membership:
    """The mandate was cancelled, failed, expired, blocked or consumed: nothing more will be collected.

    GoCardless also cancels its subscriptions and will not retry its payments. An active or pending member
    already behind on ``on`` is past due from the first unpaid day; otherwise the status is kept and
    ``apply_grace`` takes over when ``paid_through`` passes (see the module docstring). An event about a
    mandate this membership no longer uses changes nothing.
    """
    if mandate_status not in LOST_MANDATE_STATUSES:
        raise InvalidInput(f"“{mandate_status}” is not a lost mandate status.", field="mandate_status")
    if _about_other_mandate(m, mandate_id):
        return m
    lost = replace(
        m,
        mandate_status=mandate_status,
        subscription_id=None,
        subscription_amendments=0,
        pending_retry_payment_id=None,
    )
    return _lapse_without_mandate(lost, on)


def subscription_created(m: Membership, subscription_id: str) -> Membership:
    """GoCardless created the monthly subscription (at the tier's current price)."""
    return replace(m, subscription_id=subscription_id, subscription_amendments=0)


def subscription_stopped(m: Membership, subscription_id: str) -> Membership:
    """The subscription was cancelled, finished or refused by the client: it collects nothing more.

    Only the membership's current subscription matters (a tier change's old one is already replaced); the
    membership is then not being billed until a new one is set up (the daily review lists it). An ended
    membership keeps the reference: it is billed no more anyway.
    """
    if m.subscription_id != subscription_id or m.status is MembershipStatus.ENDED:
        return m
    return replace(m, subscription_id=None, subscription_amendments=0)


def payment_confirmed(
    m: Membership,
    paid_through: dt.date | None,
    on: dt.date,
    *,
    payment_id: str | None = None,
    period_start: dt.date | None = None,
) -> Membership:
    """A payment was confirmed on ``on`` (also: a chargeback was cancelled); the periods collected now reach
    ``paid_through`` (``billing.paid_through_after``; None when an earlier period is still unpaid).

    A pending membership becomes active (or cancelling, if notice was given): money was collected, whichever
    period it paid. A past-due or suspended one returns to good standing once paid past ``on``; a late payment
    of an older period that still leaves the member behind only moves ``paid_through``.
    """
    if (paid_through is not None and paid_through < m.started_on) or (
        period_start is not None and period_start < m.started_on
    ):
        raise InvalidInput("A payment cannot cover a period before the membership started.", field="period")
    if m.paid_through is not None:
        paid_through = m.paid_through if paid_through is None else max(m.paid_through, paid_through)
    paid = replace(m, paid_through=paid_through, first_payment_collected=True)
    if payment_id is not None and payment_id == m.pending_retry_payment_id:
        paid = replace(paid, pending_retry_payment_id=None)
    paid_up = paid_through is not None and paid_through >= on
    if paid_up and (m.status is MembershipStatus.PENDING_MANDATE or m.status in _IN_ARREARS):
        return replace(paid, status=_good_standing(m), past_due_since=None)
    if paid_up:
        return replace(paid, past_due_since=None)
    if m.status is MembershipStatus.PENDING_MANDATE and m.past_due_since is None:
        return replace(paid, status=_good_standing(m))
    return paid


def payment_failed(
    m: Membership, on: dt.date, will_retry: bool, retry_payment_id: str | None = None
) -> Membership:
    """A collection failed on ``on``: the membership is past due (since the earliest failure).

    A suspended membership stays suspended; a paused or ended one keeps its status with the arrears recorded.
    """
    if will_retry and retry_payment_id is None:
        raise InvalidInput("A payment GoCardless will retry needs its payment id.", field="retry_payment_id")
    failed = replace(m, pending_retry_payment_id=retry_payment_id if will_retry else None)
    return _past_due(failed, on)


def payment_charged_back(m: Membership, period_start: dt.date, on: dt.date) -> Membership:
    """The payment for the period starting ``period_start`` was charged back: that period is unpaid again."""
    unpaid_from = period_start - dt.timedelta(days=1)
    paid_through = m.paid_through if m.paid_through is None else min(m.paid_through, unpaid_from)
    if paid_through is not None and paid_through < m.started_on:
        paid_through = None
    return _past_due(replace(m, paid_through=paid_through), on)


# --- The daily check -----------------------------------------------------------------------------------------


def daily_review(m: Membership, today: dt.date) -> Membership:
    """Apply everything the calendar decides: arrears, the grace period, the end of a notice period."""
    return cancelling_reached_end(apply_grace(m, today), today)


def apply_grace(m: Membership, today: dt.date) -> Membership:
    """Past due beyond the tier's grace period: suspended. Unchanged when that has not happened (yet).

    Also makes past due an active or pending membership whose mandate was lost, once ``paid_through`` has
    passed (see the module docstring).
    """
    m = _lapse_without_mandate(m, today)
    if m.status is MembershipStatus.PAST_DUE and not within_grace(m, today):
        return replace(m, status=MembershipStatus.SUSPENDED)
    return m


def cancelling_reached_end(m: Membership, today: dt.date) -> Membership:
    """A membership with an end date ends the day after it. Unchanged before then."""
    if m.status is MembershipStatus.ENDED or m.ends_on is None or today <= m.ends_on:
        return m
    return replace(m, status=MembershipStatus.ENDED)


# --- Questions ------------------------------------------------------------------------------------------------


def discount_applies(m: Membership, on: dt.date) -> bool:
    """Whether the member discount applies on ``on`` (DESIGN.md §3 "Memberships")."""
    if on < m.started_on:
        return False
    match m.status:
        case MembershipStatus.ACTIVE:
            return True
        case MembershipStatus.CANCELLING:
            return m.ends_on is None or on <= m.ends_on
        case MembershipStatus.PAST_DUE:
            # Being in arrears never grants benefits that had not started (first payment never collected).
            return benefits_started(m) and within_grace(m, on)
        case MembershipStatus.PENDING_MANDATE:
            return benefits_started(m)
        case _:
            return False


def member_discount(m: Membership, on: dt.date) -> MemberDiscount | None:
    """The discount to hand to ``pricing.quote`` for ``on``, or None when it does not apply."""
    if not discount_applies(m, on):
        return None
    return MemberDiscount(
        membership_id=m.id,
        tier_name=m.tier.name,
        discount_bp=m.tier.discount_bp,
        covers_treatments=m.tier.covers_treatments,
        covers_products=m.tier.covers_products,
        covers_packages=m.tier.covers_packages,
    )


def benefits_started(m: Membership) -> bool:
    """Sign-up tiers give benefits at once; first-payment tiers once a payment was collected."""
    return m.tier.benefits_start is BenefitsStart.SIGN_UP or m.first_payment_collected


def within_grace(m: Membership, on: dt.date) -> bool:
    """Whether ``on`` is inside the grace period of a past-due membership (the last grace day included)."""
    if m.past_due_since is None:
        return True
    return on <= m.past_due_since + dt.timedelta(days=m.tier.grace_days)


def needs_new_mandate(m: Membership) -> bool:
    """The Direct Debit was lost (cancelled, failed, expired…): send the member a new mandate link."""
    return m.mandate_status in LOST_MANDATE_STATUSES


# --- Helpers -------------------------------------------------------------------------------------------------


def _lapse_without_mandate(m: Membership, today: dt.date) -> Membership:
    """With no mandate to collect on, an active or pending membership is past due from its first unpaid day.

    That is a lost mandate, or an active membership whose Direct Debit was never set up (its first month was
    paid at the till and the client never authorised the link): nothing collects the next month.
    """
    no_mandate = needs_new_mandate(m) or (m.status is MembershipStatus.ACTIVE and m.mandate_id is None)
    lapsed = (
        m.status in (MembershipStatus.ACTIVE, MembershipStatus.PENDING_MANDATE)
        and no_mandate
        and _first_unpaid_day(m) <= today
    )
    return _past_due(m, _first_unpaid_day(m)) if lapsed else m


def _past_due(m: Membership, since: dt.date) -> Membership:
    """Record arrears since ``since`` (the earliest wins); move to past due where that makes sense."""
    earliest = since if m.past_due_since is None else min(m.past_due_since, since)
    status = m.status
    if status in (MembershipStatus.ACTIVE, MembershipStatus.CANCELLING, MembershipStatus.PENDING_MANDATE):
        status = MembershipStatus.PAST_DUE
    return replace(m, status=status, past_due_since=earliest)


def _good_standing(m: Membership) -> MembershipStatus:
    """Where a membership returns once paid up: cancelling if notice was given, otherwise active."""
    return MembershipStatus.CANCELLING if m.ends_on is not None else MembershipStatus.ACTIVE


def _first_unpaid_day(m: Membership) -> dt.date:
    return m.started_on if m.paid_through is None else m.paid_through + dt.timedelta(days=1)


def _about_other_mandate(m: Membership, mandate_id: str | None) -> bool:
    return mandate_id is not None and m.mandate_id is not None and mandate_id != m.mandate_id


def _refuse_if_ended(m: Membership, what: str) -> None:
    if m.status is MembershipStatus.ENDED:
        raise RuleViolation(
            f"This membership has ended, so you cannot {what}. Sign the client up again instead."
        )


def _describe(status: MembershipStatus) -> str:
    return {
        MembershipStatus.PENDING_MANDATE: "waiting for its Direct Debit",
        MembershipStatus.ACTIVE: "active",
        MembershipStatus.PAST_DUE: "past due",
        MembershipStatus.SUSPENDED: "suspended",
        MembershipStatus.PAUSED: "paused",
        MembershipStatus.CANCELLING: "cancelling",
        MembershipStatus.ENDED: "ended",
    }[status]
