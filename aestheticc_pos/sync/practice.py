"""Training mode's practice turns: staff make GoCardless report what they will one day meet at the desk.

In training mode the till talks to the simulator on this computer (``app.py`` starts it). ``PracticeTurns`` lets
the Sync screen make the simulated banks, payers and GoCardless do one thing to a practice member: the bank moves
the Direct Debit to a new mandate, a chargeback and its cancellation, a payment or a subscription the client
refuses, a set-up left unfinished… At the next sync the till applies what GoCardless reports, as it would for
real. Nothing here exists outside training mode, and nothing leaves this computer.

``members()`` lists the practice members who have something at GoCardless; ``run(turn, membership_id)``
applies one of ``TURNS`` and returns a sentence saying what happened. A turn that cannot happen to that member
now (no payment collected yet to charge back, a set-up already finished) raises ``RuleViolation`` saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.store.tables import ClientRow, MembershipRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.simulator import ScenarioError, SimApiError, Simulator


@dataclass(frozen=True, slots=True)
class Turn:
    key: str
    label: str  # what staff choose from


TURNS = (
    Turn("replace_mandate", "The bank moves the Direct Debit to a new mandate"),
    Turn("reinstate_mandate", "The client's bank reinstates a cancelled Direct Debit"),
    Turn("cancel_mandate", "The client cancels the Direct Debit at their bank"),
    Turn("block_mandate", "GoCardless blocks the Direct Debit (block list)"),
    Turn("consume_mandate", "The Direct Debit is used up (a one-payment mandate)"),
    Turn("charge_back", "The client claims the last payment back (chargeback)"),
    Turn("cancel_chargeback", "The client's bank cancels the chargeback"),
    Turn("settle_chargeback", "GoCardless takes the chargeback out of a payout"),
    Turn("deny_payment_approval", "A second signatory refuses the next payment"),
    Turn("deny_subscription_approval", "A second signatory refuses the monthly subscription"),
    Turn("fail_billing_request", "GoCardless cannot complete the Direct Debit set-up"),
    Turn("deny_bank_authorisation", "The client refuses the first payment in their banking app"),
    Turn("exit_flow", "The client leaves the Direct Debit page without finishing"),
)


@dataclass(frozen=True, slots=True)
class PracticeMember:
    membership_id: str
    client_name: str


class PracticeTurns:
    """The practice turns over the training simulator (module doc). Calls block briefly; run them off the GUI
    thread."""

    def __init__(self, uow_factory: UnitOfWorkFactory, simulator: Simulator) -> None:
        self._uow = uow_factory
        self._sim = simulator
        self._moves: dict[str, Callable[[_Member], str]] = {
            "replace_mandate": self._replace,
            "reinstate_mandate": self._reinstate,
            "cancel_mandate": lambda m: self._on_mandate(m, self._sim.cancel_mandate, "cancelled it"),
            "block_mandate": lambda m: self._on_mandate(m, self._sim.block_mandate, "blocked it"),
            "consume_mandate": lambda m: self._on_mandate(m, self._sim.consume_mandate, "used it up"),
            "charge_back": self._charge_back,
            "cancel_chargeback": self._cancel_chargeback,
            "settle_chargeback": self._settle_chargeback,
            "deny_payment_approval": self._deny_payment,
            "deny_subscription_approval": self._deny_subscription,
            "fail_billing_request": self._fail_set_up,
            "deny_bank_authorisation": self._deny_at_bank,
            "exit_flow": self._exit_flow,
        }

    def members(self) -> list[PracticeMember]:
        """Practice members whose Direct Debit set-up the simulated GoCardless has, by name."""
        with self._uow(read_only=True) as uow:
            rows = uow.session.execute(
                select(
                    MembershipRow.id,
                    MembershipRow.gc_billing_request_id,
                    ClientRow.first_name,
                    ClientRow.last_name,
                )
                .join(ClientRow, ClientRow.id == MembershipRow.client_id)
                .where(MembershipRow.gc_billing_request_id.is_not(None))
                .order_by(ClientRow.last_name, ClientRow.first_name, MembershipRow.id)
            ).all()
        known = {r["id"] for r in self._sim.all("billing_requests")}
        return [
            PracticeMember(r.id, f"{r.first_name} {r.last_name}")
            for r in rows
            if r.gc_billing_request_id in known
        ]

    def run(self, turn: str, membership_id: str) -> str:
        """Make ``turn`` happen to the member; a sentence says what happened and what to do next."""
        move = self._moves.get(turn)
        if move is None:
            raise RuleViolation("Choose something to practise from the list.")
        with self._uow(read_only=True) as uow:
            row = uow.session.get(MembershipRow, membership_id)
            if row is None:
                raise RuleViolation("That practice member no longer exists.")
            member = _Member(
                row.gc_mandate_id, row.gc_subscription_id, row.gc_billing_request_id, row.gc_flow_id
            )
        try:
            return move(member) + " Press Sync now to see what the till does."
        except ScenarioError as refused:
            raise RuleViolation(f"That cannot happen to this member now ({refused}).") from None
        except SimApiError:
            raise RuleViolation(
                "The simulated GoCardless does not know this member's Direct Debit."
            ) from None

    # --- mandates ----------------------------------------------------------------------------------------

    def _on_mandate(self, m: _Member, move: Callable[[str], None], what: str) -> str:
        move(self._mandate(m))
        return f"The client's bank {what}."

    def _replace(self, m: _Member) -> str:
        new = self._sim.replace_mandate(self._mandate(m))
        return f"GoCardless moved the Direct Debit to the new mandate {new}."

    def _reinstate(self, m: _Member) -> str:
        self._sim.reinstate_mandate(self._mandate(m))
        return "The client's bank reinstated the Direct Debit."

    def _mandate(self, m: _Member) -> str:
        if m.mandate is None:
            raise RuleViolation(
                "This member has not set up their Direct Debit yet (or the till has not heard)."
            )
        return m.mandate

    # --- payments and the subscription -------------------------------------------------------------------

    def _charge_back(self, m: _Member) -> str:
        payment = self._payment(m, ("confirmed", "paid_out"), "no collected payment to claim back")
        self._sim.charge_back(payment["id"])
        return f"The client claimed back the payment charged on {payment['charge_date']}."

    def _cancel_chargeback(self, m: _Member) -> str:
        payment = self._payment(m, ("charged_back",), "no payment has been charged back")
        self._sim.cancel_chargeback(payment["id"])
        return "The chargeback was cancelled: the money is the clinic's again."

    def _settle_chargeback(self, m: _Member) -> str:
        payment = self._payment(m, ("charged_back",), "no payment has been charged back")
        if not payment["links"].get("payout"):
            raise RuleViolation(
                "Only a chargeback of a payment already paid out is settled against a payout."
            )
        payout = self._sim.settle_chargeback(payment["id"])
        return f"GoCardless took the chargeback out of payout {payout}."

    def _deny_payment(self, m: _Member) -> str:
        waiting = self._payments(m, ("pending_customer_approval",))
        if not waiting:
            self._sim.require_approval(self._mandate(m))
            return (
                "From now on this client's payments wait for a second signatory. Once the next one is created, "
                "choose this again to refuse it."
            )
        self._sim.deny_payment_approval(waiting[-1]["id"])
        return f"The client refused the payment due on {waiting[-1]['charge_date']}."

    def _deny_subscription(self, m: _Member) -> str:
        sub = None if m.subscription is None else self._sim.get("subscriptions", m.subscription)
        if sub is None or sub["status"] != "pending_customer_approval":
            self._sim.require_approval(self._mandate(m))
            return (
                "From now on this client's subscriptions wait for a second signatory. Once a new one is "
                "created (Start billing), choose this again to refuse it."
            )
        self._sim.deny_subscription_approval(sub["id"])
        return "The client refused the monthly subscription."

    def _payment(self, m: _Member, statuses: tuple[str, ...], none: str) -> dict[str, Any]:
        found = self._payments(m, statuses)
        if not found:
            raise RuleViolation(f"This member has {none}.")
        return found[-1]

    def _payments(self, m: _Member, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        """The member's payments at GoCardless in one of ``statuses``, oldest first."""
        if m.mandate is None:
            return []
        return [
            p
            for p in self._sim.all("payments")
            if p["links"].get("mandate") == m.mandate and p["status"] in statuses
        ]

    # --- the set-up --------------------------------------------------------------------------------------

    def _fail_set_up(self, m: _Member) -> str:
        if m.billing_request is None:
            raise RuleViolation("This member has no Direct Debit set-up at GoCardless yet.")
        self._sim.fail_billing_request(m.billing_request)
        return "GoCardless could not complete the Direct Debit set-up; its link no longer works."

    def _deny_at_bank(self, m: _Member) -> str:
        self._sim.deny_bank_authorisation(self._flow(m))
        return "The client refused the first payment in their banking app."

    def _exit_flow(self, m: _Member) -> str:
        self._sim.exit_flow(self._flow(m))
        return "The client left the Direct Debit page without finishing."

    def _flow(self, m: _Member) -> str:
        if m.flow is None:
            raise RuleViolation("This member has no Direct Debit link yet.")
        return m.flow


@dataclass(frozen=True, slots=True)
class _Member:
    mandate: str | None
    subscription: str | None
    billing_request: str | None
    flow: str | None
