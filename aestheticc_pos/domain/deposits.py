"""Deposits taken when booking: where a deposit is in its life (DESIGN.md §3 "Checkout documents").

A deposit is **requested** when the booking asks for it by payment link, and **paid** when GoCardless confirms
the link's payment. At checkout it is **credited** against the sale, once. When the booking is cancelled an
unpaid deposit is **cancelled** (its link too); a paid one is refunded (**refund_pending**, then **refunded**)
or, cancelled late or missed, **kept** when the clinic's policy says so (``LateDeposit``). A link paid after
the booking was cancelled is refunded whatever the policy.

What staff do (``credit``, ``refund``, ``keep``, ``cancel_unpaid``) is refused with a sentence when the
deposit's status does not allow it. What GoCardless reports (``link_paid``, ``link_closed``, ``refunded``)
is never refused: a report that does not apply leaves the deposit as it is, and the function returns None.
"""

from __future__ import annotations

import enum

from aestheticc_pos.domain.errors import RuleViolation


class DepositStatus(enum.StrEnum):
    REQUESTED = "requested"
    PAID = "paid"
    CREDITED = "credited"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    KEPT = "kept"
    CANCELLED = "cancelled"


class LateDeposit(enum.StrEnum):
    """What a late cancellation or a no-show does to a paid deposit (a clinic setting)."""

    KEEP = "keep"
    REFUND = "refund"


STATUS_WORDS = {
    DepositStatus.REQUESTED: "Deposit requested",
    DepositStatus.PAID: "Deposit paid",
    DepositStatus.CREDITED: "Deposit used at checkout",
    DepositStatus.REFUND_PENDING: "Deposit being refunded",
    DepositStatus.REFUNDED: "Deposit refunded",
    DepositStatus.KEPT: "Deposit kept (late cancellation or no-show)",
    DepositStatus.CANCELLED: "Deposit not paid; link cancelled",
}

# What the appointment shows of its deposit (its ``deposit_status``), where that is not the status itself.
_ON_APPOINTMENT = {
    DepositStatus.REFUND_PENDING: "refund pending",
    DepositStatus.CANCELLED: "not paid",
}

# Statuses in which a (new) link may still bring the money in.
_AWAITING_PAYMENT = (DepositStatus.REQUESTED, DepositStatus.CANCELLED)


def on_appointment(status: DepositStatus) -> str:
    """The appointment's words for its deposit: "requested", "paid", "not paid", "refund pending", …"""
    return _ON_APPOINTMENT.get(status, status.value)


# --- What staff do ------------------------------------------------------------------------------------------


def credit(status: DepositStatus) -> DepositStatus:
    """Take a paid deposit off a sale, once."""
    if status is DepositStatus.CREDITED:
        raise RuleViolation("That deposit was used at an earlier checkout already.")
    if status is not DepositStatus.PAID:
        raise RuleViolation(f"That deposit cannot be used: {STATUS_WORDS[status]}.")
    return DepositStatus.CREDITED


def refund(status: DepositStatus) -> DepositStatus:
    """Give a paid deposit back to the client through GoCardless."""
    if status is not DepositStatus.PAID:
        raise RuleViolation(f"That deposit cannot be refunded: {STATUS_WORDS[status]}.")
    return DepositStatus.REFUND_PENDING


def keep(status: DepositStatus) -> DepositStatus:
    """Keep a paid deposit (a late cancellation or a no-show, when the clinic's policy says so)."""
    if status is not DepositStatus.PAID:
        raise RuleViolation(f"That deposit cannot be kept: {STATUS_WORDS[status]}.")
    return DepositStatus.KEPT


def cancel_unpaid(status: DepositStatus) -> DepositStatus:
    """The booking was cancelled before the deposit was paid: nothing more is asked."""
    if status is not DepositStatus.REQUESTED:
        raise RuleViolation(f"That deposit cannot be cancelled: {STATUS_WORDS[status]}.")
    return DepositStatus.CANCELLED


def on_booking_cancelled(status: DepositStatus, *, late: bool, policy: LateDeposit) -> DepositStatus | None:
    """Where cancelling the booking (``late``: a late cancellation or a no-show) takes its deposit: an unpaid
    one is cancelled, a paid one refunded or, late, kept if ``policy`` says so. None: nothing to do."""
    if status is DepositStatus.REQUESTED:
        return cancel_unpaid(status)
    if status is not DepositStatus.PAID:
        return None
    if late and policy is LateDeposit.KEEP:
        return keep(status)
    return refund(status)


def link_replaced(status: DepositStatus) -> DepositStatus | None:
    """Staff sent the deposit's link again: an unpaid deposit waits for the new link (None: it does not)."""
    return DepositStatus.REQUESTED if status in _AWAITING_PAYMENT else None


# --- What GoCardless reports --------------------------------------------------------------------------------


def link_paid(status: DepositStatus) -> DepositStatus | None:
    """The deposit's link was paid (even after its booking cancelled it: the money is in and must be handled)."""
    return DepositStatus.PAID if status in _AWAITING_PAYMENT else None


def link_closed(status: DepositStatus) -> DepositStatus | None:
    """The deposit's link was cancelled or lapsed unpaid."""
    return DepositStatus.CANCELLED if status is DepositStatus.REQUESTED else None


def refunded(status: DepositStatus) -> DepositStatus | None:
    """GoCardless paid the deposit back to the client (None: recorded already)."""
    return None if status is DepositStatus.REFUNDED else DepositStatus.REFUNDED
