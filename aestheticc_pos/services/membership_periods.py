"""A membership's monthly periods: what is collected, being collected and accounted for, what the owed ones cost,
and recording them paid at the desk.

The facts every part of membership billing starts from (``membership_billing``, the desk's arrears in
``memberships``, GoCardless's reports in ``membership_events``): the membership's payment rows
(``membership_payments.status``: ``pending`` (created or submitted at GoCardless), ``confirmed`` (collected by
Direct Debit), ``paid`` (at the till or the desk), ``failed`` (owed: for GoCardless's retry, whose new charge date
it then carries, or the desk), ``charged_back``, ``cancelled`` (never collected: the period is open again)) and the
one-off payments queued for it in the outbox. Periods are named by their start dates (``domain/billing.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain.billing import NEVER_COLLECTED, PaymentSource, PaymentStatus, Period
from aestheticc_pos.domain.memberships import Membership
from aestheticc_pos.domain.money import Money
from aestheticc_pos.store.outbox_repo import OPEN, jobs_of
from aestheticc_pos.store.tables import MembershipPaymentRow

RECORD_TYPE = "membership"  # a membership's outbox rows
COLLECTED = (PaymentStatus.CONFIRMED, PaymentStatus.PAID)
IN_FLIGHT = (PaymentStatus.PENDING,)
REOPENED = (PaymentStatus.CANCELLED,)  # never collected: the period is open again


@dataclass(frozen=True, slots=True)
class PeriodFacts:
    """What is known locally about a membership's periods, by their start dates."""

    collected: frozenset[dt.date]
    in_flight: frozenset[dt.date]  # a Direct Debit payment exists or is queued and has not failed
    accounted: frozenset[dt.date]  # collected, being collected, or owed after a failure


def period_facts(
    s: Session, membership_id: str, remote_status: Mapping[str, str] | None = None
) -> PeriodFacts:
    """The membership's periods collected, being collected, and accounted for, from its payment rows and the
    one-off payments queued for it. ``remote_status`` (payment id → status, as GoCardless reports it now)
    overrides what the till last heard of a payment: a cancellation may not have reached it yet."""
    collected: set[dt.date] = set()
    in_flight: set[dt.date] = set()
    accounted: set[dt.date] = set()
    rows = s.execute(
        select(
            MembershipPaymentRow.period_start, MembershipPaymentRow.status, MembershipPaymentRow.gc_payment_id
        ).where(MembershipPaymentRow.membership_id == membership_id)
    )
    for start, status, payment_id in rows:
        if remote_status and payment_id in remote_status and remote_status[payment_id] in NEVER_COLLECTED:
            status = PaymentStatus.CANCELLED
        if status in COLLECTED:
            collected.add(start)
        elif status in IN_FLIGHT:
            in_flight.add(start)
        if status not in REOPENED:
            accounted.add(start)
    for job in jobs_of(s, RECORD_TYPE, membership_id, ("create_payment",), statuses=OPEN):
        start = one_off_period_start(job.payload)
        if start is not None:
            in_flight.add(start)
            accounted.add(start)
    return PeriodFacts(frozenset(collected), frozenset(in_flight), frozenset(accounted))


def one_off_period_start(payload: Mapping[str, Any]) -> dt.date | None:
    """The period a one-off membership payment's payload (or GoCardless payment) is for, from its metadata."""
    metadata = payload.get("metadata")
    value = metadata.get("period_start") if isinstance(metadata, Mapping) else None
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def collected_through(s: Session, m: Membership) -> dt.date | None:
    """Where ``paid_through`` reaches over the periods collected so far."""
    return billing.paid_through_after(m.started_on, m.paid_through, period_facts(s, m.id).collected)


def arrears_amount(m: Membership, periods: Iterable[Period]) -> Money:
    """What the periods owed cost: the monthly price each, and the sign-up fee with a first period never paid."""
    total = Money.zero(m.tier.monthly_price.currency)
    for p in periods:
        total = total + (
            billing.first_payment_amount(m.tier) if p.start == m.started_on else m.tier.monthly_price
        )
    return total


def record_paid_at_desk_in(
    s: Session, m: Membership, periods: Iterable[Period], *, today: dt.date, new_id: Callable[[], str]
) -> None:
    """The member paid these periods at the desk: one row a month, so each period is paid exactly once. The
    caller moves the membership (``collected_through`` now reaches further) and commits."""
    for owed in periods:
        add_paid_period_in(
            s, m, owed, arrears_amount(m, [owed]), on=today, source=PaymentSource.DESK, new_id=new_id
        )
    s.flush()


def add_paid_period_in(
    s: Session,
    m: Membership,
    period: Period,
    amount: Money,
    *,
    on: dt.date,
    source: str,
    new_id: Callable[[], str],
    sale_id: str | None = None,
) -> None:
    """Record money collected at the desk or the till for one period of ``m`` (``source`` "desk" or "sale")."""
    s.add(
        MembershipPaymentRow(
            id=new_id(),
            membership_id=m.id,
            amount_pence=amount.pence,
            currency=amount.currency,
            charge_date=on,
            period_start=period.start,
            period_end=period.end,
            status=PaymentStatus.PAID,
            source=source,
            sale_id=sale_id,
        )
    )
