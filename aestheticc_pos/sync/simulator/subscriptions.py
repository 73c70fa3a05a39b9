"""Subscriptions and their schedule of charge dates (a resource of ``api.Api``, see ``common``).

A subscription's charge dates follow its interval from ``start_date``; one that is not a working day is rolled
forward to the next working day, as GoCardless does. The payments themselves are created over time
(``create_due_payments``, called by ``scenarios.run_until`` for ``Simulator.advance_to``),
``Options.subscription_payment_lead_days`` working days ahead of them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .common import Options, amount_param, currency_param, date_param, metadata_param, require
from .mandates import Mandates
from .payments import Payments
from .state import SimApiError, Store, invalid_state, validation
from .working_days import add_working_days, next_working_day

MAX_AMENDMENTS = 10
MONTHS = [m.lower() for m in calendar.month_name]


def _month_day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == -1 else min(day, last))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def charge_dates(sub: dict[str, Any]) -> Iterator[date]:
    """All charge dates of a subscription, in order, each rolled to a working day (finite if count or end_date
    is set; end_date and start_date bound the scheduled days before rolling)."""
    start = date.fromisoformat(sub["start_date"])
    end = date.fromisoformat(sub["end_date"]) if sub.get("end_date") else None
    count = sub.get("count")
    interval = sub.get("interval") or 1
    unit = sub["interval_unit"]
    dom = sub.get("day_of_month")
    produced = 0
    k = 0
    while True:
        if unit == "weekly":
            current = start + timedelta(weeks=interval * k)
        elif unit == "monthly":
            y, m = _add_months(start.year, start.month, interval * k)
            current = _month_day(y, m, dom if dom else start.day)
        else:  # yearly
            month = MONTHS.index(sub["month"]) if sub.get("month") else start.month
            current = _month_day(start.year + interval * k, month, dom if dom else start.day)
        k += 1
        if current < start:
            continue
        if (end and current > end) or (count and produced >= count):
            return
        produced += 1
        yield next_working_day(current)
        if k > 12 * 100:
            return


class Subscriptions:
    def __init__(self, store: Store, options: Options, mandates: Mandates, payments: Payments) -> None:
        self.store = store
        self.options = options
        self.mandates = mandates
        self.payments = payments

    # ===== the API ===============================================================================
    def create(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/subscriptions"
        mandate = self.mandates.usable(p, pointer)
        amount = amount_param(p, pointer=pointer)
        currency = currency_param(p, pointer)
        unit = p.get("interval_unit")
        if unit not in ("weekly", "monthly", "yearly"):
            raise validation("interval_unit", "must be weekly, monthly or yearly", f"{pointer}/interval_unit")
        interval = p.get("interval") or 1
        dom = p.get("day_of_month")
        if dom is not None and (not isinstance(dom, int) or not (1 <= dom <= 28 or dom == -1)):
            raise validation("day_of_month", "must be between 1 and 28, or -1", f"{pointer}/day_of_month")
        if p.get("count") and p.get("end_date"):
            raise validation("count", "cannot be combined with end_date", f"{pointer}/count")
        earliest = self.mandates.next_charge_date(mandate)
        start = date_param(p["start_date"], "start_date") if p.get("start_date") else earliest
        if start < earliest:
            raise validation(
                "start_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest.isoformat()})",
                f"{pointer}/start_date",
            )
        sub = self.store.add(
            "subscriptions",
            {
                "amount": amount,
                "app_fee": None,
                "count": p.get("count"),
                "currency": currency,
                "day_of_month": dom,
                "earliest_charge_date_after_resume": None,
                "end_date": p.get("end_date"),
                "interval": interval,
                "interval_unit": unit,
                "metadata": metadata_param(p),
                "month": p.get("month"),
                "name": p.get("name"),
                "parent_plan_paused": False,
                "payment_reference": p.get("payment_reference"),
                "retry_if_possible": bool(p.get("retry_if_possible", False)),
                "start_date": start.isoformat(),
                # A mandate whose payments need the payer's approval (a second signatory) needs it for this too.
                "status": "pending_customer_approval"
                if mandate.get("payments_require_approval") is True
                else "active",
                "upcoming_payments": [],
                "links": {"mandate": mandate["id"]},
                "_amendments": 0,
                "_charged": 0,
            },
        )
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "created",
            {"subscription": sub["id"]},
            "api",
            "subscription_created",
            "Subscription created via the API.",
        )
        return sub

    def refresh_upcoming(self, sub: dict[str, Any]) -> None:
        upcoming = []
        if sub["status"] == "active":
            for i, when in enumerate(charge_dates(sub)):
                if i < sub["_charged"]:
                    continue
                upcoming.append({"charge_date": when.isoformat(), "amount": sub["amount"]})
                if len(upcoming) >= 10:
                    break
        sub["upcoming_payments"] = upcoming

    def amend(self, sub: dict[str, Any], p: dict[str, Any]) -> None:
        if sub["status"] in ("cancelled", "finished", "customer_approval_denied"):
            raise invalid_state("subscription_not_active", f"The subscription is {sub['status']}")
        for field in ("name", "payment_reference"):
            if field in p:
                sub[field] = p[field]
        if "amount" in p and p["amount"] != sub["amount"]:
            amount = amount_param(p, pointer="/subscriptions")
            if sub["_amendments"] >= MAX_AMENDMENTS:
                raise SimApiError(
                    422,
                    "validation_failed",
                    "The amount of a subscription can be changed at most 10 times",
                    reason="number_of_subscription_amendments_exceeded",
                )
            sub["_amendments"] += 1
            sub["amount"] = amount
            self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "amended",
            {"subscription": sub["id"]},
            "api",
            "subscription_amended",
            "This subscription has been amended.",
        )

    def action_pause(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] != "active":
            raise invalid_state("subscription_not_active", f"The subscription is {sub['status']}")
        sub["status"] = "paused"
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "paused",
            {"subscription": sub["id"]},
            "api",
            "subscription_paused",
            "This subscription has been paused.",
        )

    def action_resume(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] != "paused":
            raise invalid_state("subscription_not_paused", f"The subscription is {sub['status']}")
        sub["status"] = "active"
        # Charge dates missed while paused are skipped.
        today = self.store.clock.today()
        for i, when in enumerate(charge_dates(sub)):
            if when >= today:
                sub["_charged"] = max(sub["_charged"], i)
                break
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "resumed",
            {"subscription": sub["id"]},
            "api",
            "subscription_resumed",
            "This subscription has been resumed.",
        )

    def action_cancel(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] in ("cancelled", "finished"):
            raise invalid_state("cancellation_failed", f"The subscription is already {sub['status']}")
        self.end(sub, "api", "subscription_cancelled", "The subscription was cancelled.")

    def end(
        self, sub: dict[str, Any], origin: str, cause: str, description: str, parent_event: str | None = None
    ) -> None:
        """Cancel ``sub`` and its payments not yet submitted (submitted ones are with the banks already).
        ``parent_event``: the event that caused it (a lost mandate's), linked from each event this makes."""
        sub["status"] = "cancelled"
        sub["upcoming_payments"] = []
        links = {"subscription": sub["id"], **({"parent_event": parent_event} if parent_event else {})}
        self.store.emit("subscriptions", "cancelled", links, origin, cause, description)
        for payment in self.store.resources["payments"].values():
            if payment["links"].get("subscription") == sub["id"] and payment["status"] in (
                "pending_submission",
                "pending_customer_approval",
            ):
                self.payments.cancel(
                    payment, origin, cause, "The subscription was cancelled.", parent_event=parent_event
                )

    def mandate_ended(self, mandate: dict[str, Any], status: str, cause: str, parent_event: str) -> None:
        """The mandate's live subscriptions are cancelled, with their payments not yet submitted."""
        for sub in list(self.store.resources["subscriptions"].values()):
            if sub["links"]["mandate"] == mandate["id"] and sub["status"] in (
                "active",
                "paused",
                "pending_customer_approval",
            ):
                self.end(
                    sub,
                    "gocardless",
                    cause,
                    f"The subscription was cancelled because its mandate {status}.",
                    parent_event,
                )

    def mandate_replaced(self, mandate: dict[str, Any], new_mandate: dict[str, Any]) -> None:
        """The replaced mandate's subscriptions collect on the new one from now on."""
        for sub in self.store.resources["subscriptions"].values():
            if sub["links"]["mandate"] == mandate["id"]:
                sub["links"]["mandate"] = new_mandate["id"]

    # ===== what the payer does ===================================================================
    def approve(self, sub: dict[str, Any]) -> None:
        require(sub, {"pending_customer_approval"}, "approve")
        sub["status"] = "active"
        self.refresh_upcoming(sub)
        self._event(sub, "customer_approval_granted", "The customer granted approval for this subscription")

    def deny_approval(self, sub: dict[str, Any]) -> None:
        """The payer refused the subscription: it never collects anything."""
        require(sub, {"pending_customer_approval"}, "deny approval of")
        sub["status"] = "customer_approval_denied"
        sub["upcoming_payments"] = []
        self._event(sub, "customer_approval_denied", "The customer denied approval for this subscription")

    def _event(self, sub: dict[str, Any], action: str, description: str) -> None:
        self.store.emit("subscriptions", action, {"subscription": sub["id"]}, "customer", action, description)

    # ===== what GoCardless does over time ========================================================
    def create_due_payments(self, sub: dict[str, Any], day: date) -> list[str]:
        """The payments of ``sub`` whose creation day has come by ``day``; finishes ``sub`` after its last one.
        Returns their ids."""
        lead = self.options.subscription_payment_lead_days
        mandate = self.store.get("mandates", sub["links"]["mandate"])
        created = []
        for i, when in enumerate(charge_dates(sub)):
            if add_working_days(when, -lead) > day:
                break
            if i < sub["_charged"]:
                continue
            payment = self.payments.new(
                mandate,
                sub["amount"],
                sub["currency"],
                sub.get("name"),
                when,
                {},
                "gocardless",
                subscription=sub,
            )
            payment["reference"] = sub.get("payment_reference")
            sub["_charged"] = i + 1
            created.append(payment["id"])
            self.store.emit(
                "subscriptions",
                "payment_created",
                {"subscription": sub["id"], "payment": payment["id"]},
                "gocardless",
                "payment_created",
                "Payment created by a subscription.",
            )
        finite = sub.get("count") or sub.get("end_date")
        if finite and not list(charge_dates(sub))[sub["_charged"] :]:
            sub["status"] = "finished"
            self.store.emit(
                "subscriptions",
                "finished",
                {"subscription": sub["id"]},
                "gocardless",
                "subscription_finished",
                "The subscription has finished.",
            )
        self.refresh_upcoming(sub)
        return created
