"""Scenarios over time: the clock walks day by day and the banks and GoCardless do what they would on each day.

The moves of one resource (a mandate activated, a payment failed, a refund paid) are that resource's, in its own
module; this walks them together. It runs under the store lock (the ``Simulator`` methods take it) and raises
``ScenarioError`` when a move is not possible from a resource's current status.
"""

from __future__ import annotations

from datetime import date, timedelta

from .api import Api
from .mandates import PENDING_MANDATE
from .working_days import add_working_days

SUBMIT_BEFORE_DAYS = 2  # working days before its charge date that a Direct Debit payment goes to the banks


def run_until(api: Api, target: date, auto_confirm: bool = False, confirm_after_days: int = 3) -> list[str]:
    """Walk the clock day by day to ``target``, creating subscription payments as GoCardless does: each
    ``Options.subscription_payment_lead_days`` working days before its charge date.

    With ``auto_confirm`` the pending mandates become active, and each pending payment is submitted
    ``SUBMIT_BEFORE_DAYS`` working days before its charge date and confirmed ``confirm_after_days`` days after
    it. Returns the ids of the payments created.
    """
    clock = api.store.clock
    day = clock.today()
    created: list[str] = []
    while True:
        if auto_confirm:
            for mandate in list(api.store.resources["mandates"].values()):
                if mandate["status"] in PENDING_MANDATE:
                    api.mandates.activate(mandate)
        for sub in list(api.store.resources["subscriptions"].values()):
            if sub["status"] == "active":
                created += api.subscriptions.create_due_payments(sub, day)
        if auto_confirm:
            for payment in list(api.store.resources["payments"].values()):
                charge = date.fromisoformat(payment["charge_date"])
                if (
                    payment["status"] == "pending_submission"
                    and add_working_days(charge, -SUBMIT_BEFORE_DAYS) <= day
                ):
                    api.payments.submit(payment)
                due = charge + timedelta(days=confirm_after_days)
                if payment["status"] == "submitted" and due <= day:
                    api.payments.confirm(payment)
        if day >= target:
            break
        day += timedelta(days=1)
        clock.set(day)
    return created
