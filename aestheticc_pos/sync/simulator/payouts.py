"""Payouts: the money GoCardless sends the clinic, and the items each is made of (a resource of ``api.Api``).

A payment paid out is credited to the day's open payout (one per currency and day, ``pending`` until its arrival
date, the next working day), less GoCardless's fee; a chargeback of a payment already paid out is debited from the
day's payout. ``GET /payouts/:id`` serves a payout and ``GET /payout_items?payout=PO…`` its items, whose amounts
are strings in full units ("45.00", "-45.00") as the API gives them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .common import CREDITOR_ID, no_fx
from .state import SimApiError, Store, public, validation
from .working_days import add_working_days

FEE_BASIS_POINTS = 100  # 1% …
FEE_FIXED = 20  # … plus 20p …
FEE_CAP = 400  # … at most £4 a payment


def fee(amount: int) -> int:
    """GoCardless's standard fee on a payment of ``amount`` (minor units)."""
    return min(FEE_CAP, (amount * FEE_BASIS_POINTS + 5_000) // 10_000 + FEE_FIXED)


def full_units(amount: int) -> str:
    """4500 → "45.00"; -4500 → "-45.00"."""
    return f"{Decimal(amount) / 100:.2f}"


class Payouts:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ===== what GoCardless does ==================================================================
    def credit(self, payment: dict[str, Any]) -> str:
        """``payment`` was paid out: its amount, less the fee, joins the day's payout. Returns the payout id."""
        charged = fee(payment["amount"])
        payout = self._open(payment["currency"])
        self._add(payout, "payment_paid_out", payment, payment["amount"] - charged)
        payout["deducted_fees"] += charged
        return payout["id"]

    def debit(self, payment: dict[str, Any], item_type: str = "payment_charged_back") -> str:
        """Money already paid out for ``payment`` is taken back from the day's payout. Returns the payout id."""
        payout = self._open(payment["currency"])
        self._add(payout, item_type, payment, -payment["amount"])
        return payout["id"]

    # ===== the API ===============================================================================
    def items(self, query: dict[str, str]) -> dict[str, Any]:
        """``GET /payout_items?payout=PO…``: the payout's items, oldest first (the cursor is an item's index)."""
        payout_id = query.get("payout")
        if not payout_id:
            raise validation("payout", "is required", "/payout")
        payout = self.store.get("payouts", payout_id)
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            raise validation("limit", "must be an integer", "/limit") from None
        if not 1 <= limit <= 500:
            raise validation("limit", "must be between 1 and 500", "/limit")
        items: list[dict[str, Any]] = payout["_items"]
        start = 0
        if query.get("after"):
            if not query["after"].isdigit():
                raise SimApiError(400, "invalid_api_usage", "Cursor is invalid", reason="invalid_cursor")
            start = int(query["after"]) + 1
        page = items[start : start + limit]
        end = start + len(page)
        return {
            "payout_items": [public(item) for item in page],
            "meta": {
                "cursors": {
                    "before": str(start - 1) if start > 0 else None,
                    "after": str(end - 1) if end < len(items) else None,
                },
                "limit": limit,
            },
        }

    # ===== helpers ===============================================================================
    def _open(self, currency: str) -> dict[str, Any]:
        today = self.store.clock.today()
        for payout in self.store.resources["payouts"].values():
            if payout["currency"] == currency and payout["_day"] == today and payout["status"] == "pending":
                return payout
        payout = self.store.add(
            "payouts",
            {
                "amount": 0,
                "arrival_date": add_working_days(today, 1).isoformat(),
                "currency": currency,
                "deducted_fees": 0,
                "fx": no_fx(),
                "metadata": {},
                "payout_type": "merchant",
                "reference": None,
                "status": "pending",
                "tax_currency": None,
                "links": {"creditor": CREDITOR_ID, "creditor_bank_account": "BA000SIMCLINIC"},
                "_day": today,
                "_items": [],
            },
        )
        payout["reference"] = "SIM-" + payout["id"][2:10]
        return payout

    @staticmethod
    def _add(payout: dict[str, Any], item_type: str, payment: dict[str, Any], amount: int) -> None:
        links = {"payment": payment["id"]}
        if payment["links"].get("mandate"):
            links["mandate"] = payment["links"]["mandate"]
        payout["_items"].append(
            {"amount": full_units(amount), "type": item_type, "taxes": [], "links": links}
        )
        payout["amount"] += amount
