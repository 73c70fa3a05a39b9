"""The ``Simulator`` object tests and training mode use: a local GoCardless API, its controls and its clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from .api import Api
from .clock import SimClock
from .common import Options
from .faults import FaultPlan
from .handler import Handler, RateLimiter, Server
from .scenarios import run_until
from .state import Store, public

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Simulator:
    """A local GoCardless API on 127.0.0.1 with scenario controls and fault injection.

    >>> with Simulator() as sim:
    ...     client = gocardless_pro.Client(access_token="sim-token", base_url=sim.base_url)
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        access_token: str | None = None,
        clock: SimClock | None = None,
        rate_limit: int = 1000,
        timeout_fault_seconds: float = 3.0,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError("the simulator only listens on the loopback interface")
        self.host, self.port = host, port
        self.access_token = access_token
        self.revoked_tokens: set[str] = set()
        self.read_only = False
        self.clock = clock or SimClock()
        self.store = Store(self.clock)
        self.options = Options()
        self.faults = FaultPlan()
        self.timeout_fault_seconds = timeout_fault_seconds
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path with query, idempotency key)
        self._log_lock = threading.Lock()
        self.limiter = RateLimiter(rate_limit)
        self.stopping = threading.Event()  # set while stopping: a TIMEOUT fault stops waiting
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.api = Api(self.store, self.options, lambda: self.base_url)

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._server is not None:
            return self
        handler = type("SimHandler", (Handler,), {"sim": self})
        self.stopping.clear()
        self._server = Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="gc-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def rate_limit(self) -> int:
        return self.limiter.limit

    @rate_limit.setter
    def rate_limit(self, value: int) -> None:
        self.limiter.limit = value

    def record_request(self, method: str, path: str, key: str | None) -> None:
        """Note a request the server received (any thread): ``requests`` lists them in order."""
        with self._log_lock:
            self.requests.append((method, path, key))

    # ----- inspection --------------------------------------------------------------------------
    def get(self, kind: str, ident: str) -> dict[str, Any]:
        with self.store.lock:
            return public(self.api.fresh(kind, [self.store.get(kind, ident)])[0])

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return [public(r) for r in self.api.fresh(kind, list(self.store.resources[kind].values()))]

    def events(self, resource_type: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        return self.store.events(resource_type, action)

    def count(self, kind: str) -> int:
        """How many resources of ``kind`` were created (through the API, the hosted page or scenarios)."""
        with self.store.lock:
            return self.store.created[kind]

    @property
    def counts(self) -> dict[str, int]:
        with self.store.lock:
            return dict(self.store.created)

    # ----- faults ------------------------------------------------------------------------------
    def inject(
        self,
        fault: str,
        times: int = 1,
        path_prefix: str | None = None,
        method: str | None = None,
        reset_after: float | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``times`` API requests (optionally only those matching).

        ``reset_after`` (RATE_LIMIT_429 only): the 429's RateLimit-Reset is that many seconds from now instead of
        the end of the minute window, so a test can check that a client waits only that long.
        """
        self.faults.add(fault, times, path_prefix, method, reset_after)

    def clear_faults(self) -> None:
        self.faults.clear()

    # ----- the access token --------------------------------------------------------------------
    def revoke_token(self, token: str) -> None:
        """Someone revoked ``token`` in the GoCardless dashboard: every request with it is refused (401)."""
        self.revoked_tokens.add(token)

    def set_read_only(self, read_only: bool = True) -> None:
        """The token may read but not write (a read-only token): creates and actions are refused (403)."""
        self.read_only = read_only

    # ----- payer and scenarios -----------------------------------------------------------------
    def authorise(
        self,
        flow_id: str,
        mandate_status: str | None = None,
        payment_status: str | None = None,
        instant_available: bool | None = None,
        **form: str,
    ) -> dict[str, Any]:
        """Same as the payer submitting the hosted page; returns the billing request.

        ``payment_status`` is how far an instant payment goes on its own (see
        ``Options.instant_payment_status_on_authorise``); ``instant_available`` whether the payer's bank can pay
        instantly (None: ``Options.instant_payments_available``). Raises ``SimApiError`` when the payer cannot
        finish (an expired link, a request no longer pending, a bank that cannot pay and no fallback).
        """
        with self.store.lock:
            flow = self.store.get("billing_request_flows", flow_id)
            br = self.api.flows.authorise(flow, form, mandate_status, payment_status, instant_available)
            return public(br)

    def visit_template(self, template_id: str) -> dict[str, Any]:
        """Same as a visitor opening a template's link: returns the new flow (its billing request is new too)."""
        with self.store.lock:
            template = self.store.get("billing_request_templates", template_id)
            return public(self.api.templates.visit(template))

    def expire_billing_request(self, billing_request_id: str) -> None:
        """The link lapsed unpaid: its pages say "Link expired" and GoCardless cancels the request."""
        self._run("billing_requests", billing_request_id, self.api.billing_requests.expire)

    def expire_flow(self, flow_id: str) -> None:
        """Only this link lapses; the billing request stays pending, so a new flow can be sent for it."""
        self._run("billing_request_flows", flow_id, self.api.flows.expire)

    def queue_refund(self, refund_id: str) -> None:
        """The refund waits for GoCardless's next batch (pending_submission)."""
        self._run("refunds", refund_id, self.api.refunds.queue)

    def submit_refund(self, refund_id: str) -> None:
        """The refund was sent to the banks (submitted)."""
        self._run("refunds", refund_id, self.api.refunds.submit)

    def pay_refund(self, refund_id: str) -> None:
        self._run("refunds", refund_id, self.api.refunds.pay)

    def fail_refund(self, refund_id: str) -> None:
        self._run("refunds", refund_id, self.api.refunds.fail)

    def _run(self, kind: str, ident: str, move: Callable[..., Any], *args: Any) -> Any:
        """``move`` (a resource's method) applied to the resource ``kind``/``ident``, under the store lock."""
        with self.store.lock:
            return move(self.store.get(kind, ident), *args)

    def submit_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.submit)

    def activate_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.activate)

    def fail_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.fail)

    def cancel_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.cancel)

    def expire_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.expire)

    def submit_payment(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.submit)

    def confirm_payment(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.confirm)

    def fail_payment(self, payment_id: str, will_retry: bool = False) -> None:
        self._run("payments", payment_id, self.api.payments.fail, will_retry)

    def charge_back(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.charge_back)

    def pay_out(self, payment_id: str) -> str:
        """Returns the (simulated) payout id now linked from the payment."""
        return self._run("payments", payment_id, self.api.payments.pay_out)

    def late_failure(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.late_failure)

    def resubmit_payment(self, payment_id: str, charge_date: str | date | None = None) -> None:
        """GoCardless retries a failed payment whose failure said it would (Success+): see
        ``Payments.resubmit``."""
        when = date.fromisoformat(charge_date) if isinstance(charge_date, str) else charge_date
        self._run("payments", payment_id, self.api.payments.resubmit, when)

    # ----- less common turns (GoCardless's event actions the till handles) ----------------------
    def replace_mandate(self, mandate_id: str) -> str:
        """The creditor moved to a new scheme identifier: returns the new mandate (``Mandates.replace``)."""
        return self._run("mandates", mandate_id, self.api.mandates.replace)["id"]

    def reinstate_mandate(self, mandate_id: str) -> None:
        """The payer's bank undoes a cancellation or expiry (``Mandates.reinstate``)."""
        self._run("mandates", mandate_id, self.api.mandates.reinstate)

    def block_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.block)

    def consume_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, self.api.mandates.consume)

    def require_approval(self, mandate_id: str, required: bool = True) -> None:
        """New payments and subscriptions on the mandate wait for the payer's approval."""
        self._run("mandates", mandate_id, self.api.mandates.require_approval, required)

    def approve_payment(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.approve)

    def deny_payment_approval(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.deny_approval)

    def approve_subscription(self, subscription_id: str) -> None:
        self._run("subscriptions", subscription_id, self.api.subscriptions.approve)

    def deny_subscription_approval(self, subscription_id: str) -> None:
        self._run("subscriptions", subscription_id, self.api.subscriptions.deny_approval)

    def cancel_chargeback(self, payment_id: str) -> None:
        self._run("payments", payment_id, self.api.payments.cancel_chargeback)

    def settle_chargeback(self, payment_id: str) -> str:
        """Returns the payout the chargeback was debited from."""
        return self._run("payments", payment_id, self.api.payments.settle_chargeback)

    def fail_billing_request(self, billing_request_id: str) -> None:
        self._run("billing_requests", billing_request_id, self.api.billing_requests.fail)

    def exit_flow(self, flow_id: str) -> None:
        """The payer left the hosted page unfinished."""
        self._run("billing_request_flows", flow_id, self.api.flows.exit)

    def deny_bank_authorisation(self, flow_id: str) -> None:
        """The payer refused the instant payment at their bank."""
        self._run("billing_request_flows", flow_id, self.api.flows.deny_bank_authorisation)

    # ----- time --------------------------------------------------------------------------------
    def set_clock(self, when: str | date | datetime) -> datetime:
        if isinstance(when, str):
            when = datetime.fromisoformat(when) if "T" in when else date.fromisoformat(when)
        self.clock.set(when)
        return self.clock.now()

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
        """Move the clock forward without running the subscription schedule (see ``advance_to``)."""
        return self.clock.advance(days=days, hours=hours, seconds=seconds)

    def advance_to(
        self, when: str | date, auto_confirm: bool = False, confirm_after_days: int = 3
    ) -> list[str]:
        """Walk day by day to ``when``, creating subscription payments ahead of their charge dates.

        Returns the ids of the payments created. See ``scenarios.run_until``.
        """
        target = date.fromisoformat(when) if isinstance(when, str) else when
        with self.store.lock:
            return run_until(self.api, target, auto_confirm, confirm_after_days)
