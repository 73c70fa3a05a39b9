"""Payment links: what a link is for, and where it is in its life (DESIGN.md §3 "Checkout documents").

A link is **preparing** while its GoCardless work waits to be sent, and **open** once GoCardless has made its
page (``page_made``: the sync engine's move). It is **authorised** when the payer approved the payment in their
bank and **paid** when GoCardless confirmed it. It ends **cancelled** (by staff, or at GoCardless), **expired**
(it lapsed unused) or **failed** (the payment failed); staff can send such a link again, as a new link. A link
paid for something settled meanwhile (an invoice paid at the desk or voided) is given back: **refund_pending**,
then **refunded**.

Two kinds of move:

- what staff do (``cancel``, ``require_resendable``) is refused with a sentence when the link is not in a state
  that allows it;
- what GoCardless reports (``authorised``, ``payment_confirmed``, ``payment_failed``, ``closed``, ``refunded``)
  is never refused: a report that does not apply to the link's status (it came late, or twice) leaves the link
  as it is, and the function says so by returning None.
"""

from __future__ import annotations

import enum

from aestheticc_pos.domain.errors import RuleViolation


class LinkPurpose(enum.StrEnum):
    """What paying the link completes."""

    BASKET = "basket"  # a sale of the basket priced when the link was made
    INVOICE = "invoice"  # an issued invoice
    DEPOSIT = "deposit"  # a booking's deposit
    PORTAL = "portal"  # a package bought from the booking portal's public link


class LinkStatus(enum.StrEnum):
    PREPARING = "preparing"
    OPEN = "open"
    AUTHORISED = "authorised"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


# Sent (or being sent) and not yet approved by the payer: staff may cancel it.
OPEN_STATUSES = (LinkStatus.PREPARING, LinkStatus.OPEN)
# Neither paid nor closed: the payer may still pay it.
LIVE_STATUSES = (*OPEN_STATUSES, LinkStatus.AUTHORISED)
# Closed without money: staff may send it again.
CLOSED_STATUSES = (LinkStatus.CANCELLED, LinkStatus.EXPIRED, LinkStatus.FAILED)

STATUS_WORDS = {
    LinkStatus.PREPARING: "Being prepared",
    LinkStatus.OPEN: "Sent, not paid yet",
    LinkStatus.AUTHORISED: "Approved by the payer",
    LinkStatus.PAID: "Paid",
    LinkStatus.CANCELLED: "Cancelled",
    LinkStatus.EXPIRED: "Expired unused",
    LinkStatus.FAILED: "Payment failed",
    LinkStatus.REFUND_PENDING: "Paid twice: being refunded",
    LinkStatus.REFUNDED: "Refunded to the client",
}


# --- What staff do ------------------------------------------------------------------------------------------


def can_cancel(status: LinkStatus) -> bool:
    return status in OPEN_STATUSES


def can_resend(status: LinkStatus) -> bool:
    return status in CLOSED_STATUSES


def cancel(status: LinkStatus) -> LinkStatus:
    """Staff stop a link nobody has paid or approved yet."""
    if not can_cancel(status):
        raise RuleViolation(f"This link is {STATUS_WORDS[status].lower()}: it cannot be cancelled now.")
    return LinkStatus.CANCELLED


def require_resendable(status: LinkStatus) -> None:
    """Only a link that closed without money is sent again (as a new link)."""
    if not can_resend(status):
        raise RuleViolation("Only a cancelled, expired or failed link can be sent again.")


def refund(status: LinkStatus) -> LinkStatus:
    """Give back a paid link's money (what it paid for was settled another way meanwhile)."""
    if status is not LinkStatus.PAID:
        raise RuleViolation(f"This link is {STATUS_WORDS[status].lower()}: there is no payment to refund.")
    return LinkStatus.REFUND_PENDING


# --- What GoCardless reports --------------------------------------------------------------------------------


def page_made(status: LinkStatus) -> LinkStatus | None:
    """GoCardless made the link's page: a link still being prepared is open."""
    return LinkStatus.OPEN if status is LinkStatus.PREPARING else None


def authorised(status: LinkStatus) -> LinkStatus | None:
    """The payer approved the payment in their bank."""
    return LinkStatus.AUTHORISED if status in OPEN_STATUSES else None


def payment_confirmed(status: LinkStatus) -> LinkStatus | None:
    """The money arrived: the link is paid, whatever it was waiting for (None: recorded already)."""
    return None if status is LinkStatus.PAID else LinkStatus.PAID


def payment_failed(status: LinkStatus) -> LinkStatus | None:
    """The payment failed; a paid link stays paid."""
    return None if status is LinkStatus.PAID else LinkStatus.FAILED


def closed(status: LinkStatus, *, expired: bool) -> LinkStatus | None:
    """GoCardless cancelled the link's billing request, or it lapsed (``expired``), before it was paid."""
    if status not in LIVE_STATUSES:
        return None
    return LinkStatus.EXPIRED if expired else LinkStatus.CANCELLED


def refunded(status: LinkStatus) -> LinkStatus | None:
    """GoCardless paid the link's refund back to the client (None: recorded already)."""
    return None if status is LinkStatus.REFUNDED else LinkStatus.REFUNDED
