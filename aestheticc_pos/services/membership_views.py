"""What the screens read about memberships: ``MembershipView`` (the client record, the Memberships screen), the
``Arrears`` a member owes at the desk, and the reads that return them (``membership_of``, ``memberships_list``,
``arrears_of``). The desk's changes to a membership are ``services/memberships.py``'s; they return the same
views, built here inside their unit of work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.billing import PaymentStatus, Period
from aestheticc_pos.domain.errors import InvalidInput, NotFound
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.membership_periods import arrears_amount, period_facts
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import ClientRow, MembershipPaymentRow, MembershipRow

WAITING_FOR_CLIENT = "waiting for the client to authorise"
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
    retry_on: dt.date | None = None  # when GoCardless will try a failed payment again
    signup_fee: Money | None = None  # the tier's fee, collected with the first month (None: no fee)


@dataclass(frozen=True, slots=True)
class Arrears:
    """What a member in arrears owes today: ``periods`` (``months`` of them), from ``period_start`` to
    ``period_end``. Months already collected, or being collected by Direct Debit, are not owed."""

    amount: Money
    months: int
    period_start: dt.date
    period_end: dt.date
    periods: tuple[Period, ...] = ()


def membership_view_of(s: Session, m: Membership, today: dt.date) -> MembershipView:
    client = s.get(ClientRow, m.client_id)
    row = s.get(MembershipRow, m.id)
    if client is None or row is None:  # pragma: no cover - foreign keys hold them
        raise NotFound("That membership does not exist.")
    return membership_view(s, m, client, row, today)


def membership_view(
    s: Session, m: Membership, client: ClientRow, row: MembershipRow, today: dt.date
) -> MembershipView:
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
        retry_on=_retry_on(s, m, today),
        signup_fee=m.tier.signup_fee or None,
    )


def _retry_on(s: Session, m: Membership, today: dt.date) -> dt.date | None:
    """The charge date GoCardless set for its retry of a failed payment, once it has scheduled it (until then
    the payment still carries the date it failed on, which is past)."""
    if m.pending_retry_payment_id is None:
        return None
    row = s.execute(
        select(MembershipPaymentRow.charge_date, MembershipPaymentRow.status).where(
            MembershipPaymentRow.gc_payment_id == m.pending_retry_payment_id
        )
    ).first()
    if (
        row is None
        or row.status != PaymentStatus.FAILED
        or row.charge_date is None
        or row.charge_date < today
    ):
        return None
    return row.charge_date


def _direct_debit(m: Membership) -> str:
    if m.mandate_status is None:
        return WAITING_FOR_CLIENT
    return _MANDATE_WORDS.get(m.mandate_status, m.mandate_status)


def arrears_due(s: Session, m: Membership, today: dt.date) -> Arrears | None:
    """The months owed, from the first unpaid one to the one holding today (or the end date, if earlier)."""
    if m.past_due_since is None and m.status not in (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED):
        return None
    facts = period_facts(s, m.id)
    owed = billing.arrears_periods(
        m.started_on,
        m.paid_through,
        collected=facts.collected,
        in_flight=facts.in_flight,
        today=today,
        ends_on=m.ends_on,
    )
    if not owed:
        return None
    amount = arrears_amount(m, owed)
    return Arrears(amount, len(owed), owed[0].start, owed[-1].end, owed)


# --- What the screens read ----------------------------------------------------------------------------------


@use_case(Audience.ANY_STAFF)
def membership_of(services: Services, client_id: str) -> MembershipView | None:
    """The client's membership that has not ended, or None (raises ``NotFound`` for an unknown client)."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        repo.load_client(s, client_id)
        return membership_of_in(s, client_id, today)


def membership_of_in(s: Session, client_id: str, today: dt.date) -> MembershipView | None:
    """``membership_of`` inside the caller's unit of work (the client is known to exist)."""
    m = repo.current_membership_of(s, client_id)
    if m is None:
        return None
    view = membership_view_of(s, m, today)
    return None if view.status is MembershipStatus.ENDED else view


@use_case(Audience.ANY_STAFF)
def arrears_of(services: Services, membership_id: str) -> Arrears | None:
    """What the member must pay at the desk today to be back in good standing (None: nothing owed)."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        return arrears_due(s, ms.daily_review(repo.load_membership(s, membership_id), today), today)


@use_case(Audience.ANY_STAFF)
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
        views = [
            membership_view(s, repo.membership_from_row(row), client, row, today)
            for row, client in s.execute(query)
        ]
    if wanted is None:
        return [v for v in views if v.status is not MembershipStatus.ENDED]
    return [v for v in views if v.status is wanted]
