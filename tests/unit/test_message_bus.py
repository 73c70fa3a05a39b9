"""The message bus (services/handlers.py): every domain message has handlers, and the bus hands each message to
them in order until one recognises it; the sync reaches the services through it alone. No database: the handlers
here are fakes that record their calls."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
from pathlib import Path
from typing import Any

import pytest

from aestheticc_pos.domain import messages
from aestheticc_pos.domain.messages import Handled, Message, RemotePayment
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services.handlers import HANDLERS, MessageBus

SYNC = Path(__file__).resolve().parents[2] / "aestheticc_pos" / "sync"
DAY = dt.date(2026, 11, 24)
PAYMENT = RemotePayment("PM1", status="confirmed", charge_date=DAY, amount_pence=4900, currency="GBP")


def _message_types() -> set[type[Message]]:
    """Every message of ``domain/messages.py`` (not the bases other messages share)."""
    return {
        kind
        for kind in vars(messages).values()
        if inspect.isclass(kind) and issubclass(kind, Message) and not kind.__subclasses__()
    }


SAMPLES: list[Message] = [
    messages.BillingRequestFulfilled(
        "BR1",
        DAY,
        mandate_id="MD1",
        payment_id="PM1",
        purchase=messages.PortalPurchase("PKG1", Money(9900), "Ada Lovelace"),
    ),
    messages.BillingRequestNotFinished("BR1", "cancelled", expired=True),
    messages.MandateActivated("MD1"),
    messages.MandateEnded("MD1", "cancelled", DAY),
    messages.MandateReplaced("MD1", "MD2"),
    messages.SubscriptionCreated("SB1"),
    messages.SubscriptionPaymentCreated("SB1", PAYMENT),
    messages.SubscriptionStopped("SB1", "finished"),
    messages.PaymentCreated(PAYMENT, "created", DAY),
    messages.PaymentConfirmed(PAYMENT, "confirmed", DAY),
    messages.ChargebackCancelled(PAYMENT, "chargeback_cancelled", DAY),
    messages.PaymentFailed(PAYMENT, "failed", DAY, will_retry=True),
    messages.PaymentRetryScheduled(PAYMENT, "resubmission_requested", DAY),
    messages.PaymentReversed(PAYMENT, "charged_back", DAY),
    messages.PaymentCancelled(PAYMENT, "cancelled", DAY),
    messages.PaymentProgressed(PAYMENT, "paid_out", DAY),
    messages.RefundPaid("RF1"),
    messages.RefundFailed("RF1", "funds_returned"),
    messages.PlanSubscription("OB1", DAY, (PAYMENT,), dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)),
    messages.SubscriptionSent("OB1", DAY),
]


class Recorder:
    """A fake handler: answers ``answer`` and remembers what it was given."""

    def __init__(self, answer: Handled | None) -> None:
        self.answer = answer
        self.calls: list[tuple[Any, Any, Message]] = []

    def __call__(self, uow: Any, services: Any, message: Message) -> Handled | None:
        self.calls.append((uow, services, message))
        return self.answer


def test_every_message_type_has_handlers() -> None:
    assert _message_types() == set(HANDLERS)
    for kind, handlers in HANDLERS.items():
        assert handlers, f"{kind.__name__} has no handler"
        for handler in handlers:
            assert list(inspect.signature(handler).parameters)[:3] == ["uow", "services", "message"], handler


def test_the_samples_cover_every_message_type() -> None:
    assert {type(m) for m in SAMPLES} == _message_types()


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_the_bus_hands_each_message_to_its_handler_with_the_callers_unit_of_work(message: Message) -> None:
    uow, services = object(), object()
    mine, others = Recorder(Handled("mine")), Recorder(Handled("not mine"))
    routes = {kind: (others,) for kind in _message_types()} | {type(message): (mine,)}
    bus = MessageBus(services, routes)  # type: ignore[arg-type]

    assert bus.handle(uow, message) == Handled("mine")  # type: ignore[arg-type]
    assert mine.calls == [(uow, services, message)]
    assert others.calls == []


def test_handlers_are_tried_in_order_until_one_recognises_the_record() -> None:
    message = messages.PaymentConfirmed(PAYMENT, "confirmed", DAY)
    not_a_link, membership, never = (
        Recorder(None),
        Recorder(Handled("Payment collected.")),
        Recorder(Handled()),
    )
    routes = {messages.PaymentConfirmed: (not_a_link, membership, never)}
    bus = MessageBus(object(), routes)  # type: ignore[arg-type]

    assert bus.handle(object(), message).note == "Payment collected."  # type: ignore[arg-type]
    assert len(not_a_link.calls) == len(membership.calls) == 1
    assert never.calls == []


def test_a_message_nobody_takes_is_an_error() -> None:
    nobody = MessageBus(object(), {messages.RefundPaid: (Recorder(None),)})  # type: ignore[arg-type]
    with pytest.raises(LookupError):
        nobody.handle(object(), messages.RefundPaid("RF1"))  # type: ignore[arg-type]
    with pytest.raises(LookupError):
        nobody.handle(object(), messages.MandateActivated("MD1"))  # type: ignore[arg-type]


def test_the_sync_never_imports_the_services() -> None:
    """DESIGN.md §1: the sync hands domain messages to the bus ``app.py`` gives it."""
    for path in sorted(SYNC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n.startswith("aestheticc_pos.services") for n in names), (
                f"{path.name} imports {names}"
            )
