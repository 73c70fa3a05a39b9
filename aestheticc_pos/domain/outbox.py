"""The outbox: the kinds of GoCardless work the till queues, and the life of one piece of work (DESIGN.md §5).

A row is **pending** when it may be sent (from its next attempt time), or **waiting_for_prerequisite** while the
row it depends on is not done. The engine takes a pending row (**in_flight**) and records the outcome: **done**,
back to **pending** to be tried again later (or at the next start, after a crash mid-send), or **failed** for
good (a manager may send it again). Work nobody needs any more is **discarded**: a manager gave up on it, or the
till set it aside. Done and discarded work no longer holds back the rest of its record.

Work never sent (unsent, no attempt started) may still be rewritten or withdrawn by the services.
"""

from __future__ import annotations

import enum

from aestheticc_pos.domain.errors import RuleViolation


class OutboxKind(enum.StrEnum):
    """One method of the payment gateway each (``sync/gateway.py``)."""

    CREATE_CUSTOMER = "create_customer"
    CREATE_BILLING_REQUEST = "create_billing_request"
    CREATE_FLOW = "create_flow"
    CREATE_SUBSCRIPTION = "create_subscription"
    UPDATE_SUBSCRIPTION = "update_subscription"
    PAUSE_SUBSCRIPTION = "pause_subscription"
    RESUME_SUBSCRIPTION = "resume_subscription"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    CREATE_PAYMENT = "create_payment"
    CANCEL_PAYMENT = "cancel_payment"
    CREATE_REFUND = "create_refund"
    CREATE_PAYMENT_REQUEST = "create_payment_request"  # a payment link's billing request
    CREATE_PAYMENT_LINK_FLOW = "create_payment_link_flow"  # a payment link's hosted page
    CANCEL_BILLING_REQUEST = "cancel_billing_request"
    CREATE_BILLING_REQUEST_TEMPLATE = "create_billing_request_template"  # a package's public link
    UPDATE_BILLING_REQUEST_TEMPLATE = "update_billing_request_template"


class OutboxStatus(enum.StrEnum):
    # In the order of the outbox table's CHECK constraint (migration 0001), which the models repeat.
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    WAITING_FOR_PREREQUISITE = "waiting_for_prerequisite"
    FAILED = "failed"
    DISCARDED = "discarded"


# Never taken for sending.
UNSENT = (OutboxStatus.PENDING, OutboxStatus.WAITING_FOR_PREREQUISITE)
# Queued and not yet answered.
OPEN = (*UNSENT, OutboxStatus.IN_FLIGHT)
# Finished: it no longer holds back the rest of its record.
FINISHED = (OutboxStatus.DONE, OutboxStatus.DISCARDED)

_MOVES: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    OutboxStatus.PENDING: frozenset(
        {OutboxStatus.IN_FLIGHT, OutboxStatus.FAILED, OutboxStatus.DISCARDED}
    ),  # failed: the till cannot send that kind at all
    OutboxStatus.WAITING_FOR_PREREQUISITE: frozenset({OutboxStatus.PENDING, OutboxStatus.DISCARDED}),
    OutboxStatus.IN_FLIGHT: frozenset(
        {OutboxStatus.DONE, OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.DISCARDED}
    ),
    OutboxStatus.FAILED: frozenset({OutboxStatus.PENDING, OutboxStatus.DISCARDED}),  # a manager's decision
    OutboxStatus.DONE: frozenset(),
    OutboxStatus.DISCARDED: frozenset(),
}

_WORDS = {
    OutboxStatus.PENDING: "waiting to be sent",
    OutboxStatus.WAITING_FOR_PREREQUISITE: "waiting for earlier work",
    OutboxStatus.IN_FLIGHT: "being sent",
    OutboxStatus.DONE: "sent already",
    OutboxStatus.FAILED: "refused by GoCardless",
    OutboxStatus.DISCARDED: "set aside already",
}

_BECOMING = {
    OutboxStatus.PENDING: "sent again",
    OutboxStatus.WAITING_FOR_PREREQUISITE: "put back to wait",
    OutboxStatus.IN_FLIGHT: "sent",
    OutboxStatus.DONE: "recorded as sent",
    OutboxStatus.FAILED: "recorded as refused",
    OutboxStatus.DISCARDED: "set aside",
}


def queued(*, waits_for_prerequisite: bool) -> OutboxStatus:
    """The status of new work: waiting when it depends on earlier work, else pending."""
    return OutboxStatus.WAITING_FOR_PREREQUISITE if waits_for_prerequisite else OutboxStatus.PENDING


def can_move(status: OutboxStatus, to: OutboxStatus) -> bool:
    return to in _MOVES[status]


def move(status: OutboxStatus, to: OutboxStatus) -> OutboxStatus:
    """``to``, when work in ``status`` may go there; refused otherwise (work sent is never sent again)."""
    if not can_move(status, to):
        raise RuleViolation(f"This GoCardless work is {_WORDS[status]}, so it cannot be {_BECOMING[to]}.")
    return to


def discard(status: OutboxStatus) -> OutboxStatus:
    """Give up on work that is not finished."""
    return move(status, OutboxStatus.DISCARDED)


def is_unsent(status: OutboxStatus, attempts: int) -> bool:
    """Never sent: queued, and no attempt ever started (so it may be rewritten or withdrawn)."""
    return status in UNSENT and not attempts
