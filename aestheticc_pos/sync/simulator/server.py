"""The HTTP side of the simulator and the ``Simulator`` object tests and training mode use."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from datetime import date, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import faults as F
from . import hosted, scenarios
from .clock import SimClock
from .faults import FaultPlan
from .resources import Api, Options
from .state import SimApiError, Store, public

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _RateLimiter:
    """A fixed one-minute window per simulator (the real allowance is per token)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window = time.time() // 60
        self._used = 0

    def hit(self) -> tuple[bool, int, float]:
        with self._lock:
            window = time.time() // 60
            if window != self._window:
                self._window, self._used = window, 0
            self._used += 1
            allowed = self._used <= self.limit
            return allowed, max(0, self.limit - self._used), (window + 1) * 60

    def headers(self, remaining: int | None = None) -> dict[str, str]:
        with self._lock:
            if remaining is None:
                remaining = max(0, self.limit - self._used)
            reset = (self._window + 1) * 60
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": formatdate(reset, usegmt=True),
        }


class _Handler(BaseHTTPRequestHandler):
    server_version = "GoCardlessSimulator/1.0"
    sim: Simulator  # set on the subclass made per simulator

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the base class
        return

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    # ----- plumbing ----------------------------------------------------------------------------
    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        if content_type == "text/html":
            content_type = "text/html; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: Any, remaining: int | None = None) -> None:
        headers = self.sim._limiter.headers(remaining)
        if status == 204 or payload is None:
            self.send_response(204)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _drop(self) -> None:
        """Close the socket with a TCP reset and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _dispatch(self, method: str) -> None:
        sim = self.sim
        split = urlsplit(self.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        key = self.headers.get("Idempotency-Key")
        with sim._log_lock:
            sim.requests.append((method, self.path, key))
        if path.startswith("/flow/"):
            return self._hosted(method, unquote(path[len("/flow/") :]), raw)
        if path.startswith("/template/"):
            return self._template(method, unquote(path[len("/template/") :]))
        if path.startswith("/_sim/"):
            return self._control(method, path[len("/_sim/") :], raw)

        fault = sim.faults.take(method, path)
        if fault == F.TIMEOUT:
            sim._stopping.wait(sim.timeout_fault_seconds)
            return self._drop()
        if fault == F.RESET:
            return self._drop()
        if fault == F.HTML_502:
            page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return self._send(502, page, "text/html")
        if fault == F.ERROR_500:
            err = SimApiError(500, "gocardless", "Uh-oh! Something went wrong.", reason="internal_error")
            return self._send_json(500, err.body())

        allowed, remaining, _ = sim._limiter.hit()
        if fault == F.RATE_LIMIT_429 or not allowed:
            err = SimApiError(429, "invalid_api_usage", "Rate limit exceeded", reason="rate_limit_exceeded")
            return self._send_json(429, err.body(), remaining=0)

        try:
            self._check_headers()
            body = self._json_body(raw)
            parts = [unquote(p) for p in path.strip("/").split("/") if p]
            with sim.store.lock:
                status, payload = sim.api.handle(method, parts, query, body, key)
        except SimApiError as err:
            status, payload = err.status, err.body()
        if fault == F.LOST_RESPONSE:
            return self._drop()
        self._send_json(status, payload, remaining)

    def _check_headers(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise SimApiError(401, "invalid_api_usage", "Authentication failed", reason="unauthorized")
        if self.sim.access_token is not None and auth[7:].strip() != self.sim.access_token:
            raise SimApiError(
                401, "invalid_api_usage", "Access token not found", reason="access_token_not_found"
            )
        version = self.headers.get("GoCardless-Version")
        if not version:
            raise SimApiError(
                400, "invalid_api_usage", "GoCardless-Version header missing", reason="missing_version_header"
            )
        if version != "2015-07-06":
            raise SimApiError(400, "invalid_api_usage", "Version not found", reason="version_not_found")

    @staticmethod
    def _json_body(raw: bytes) -> Any:
        text = raw.decode("utf-8", "replace").strip()
        if not text or text == "null":
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise SimApiError(
                400, "invalid_api_usage", "Invalid JSON body", reason="invalid_document_structure"
            ) from None

    # ----- hosted page -------------------------------------------------------------------------
    def _hosted(self, method: str, flow_id: str, raw: bytes) -> None:
        sim = self.sim
        with sim.store.lock:
            flow = sim.store.find("billing_request_flows", flow_id)
            if flow is None:
                return self._send(
                    404, hosted.message_page("Not found", "This link is not valid."), "text/html"
                )
            br = sim.store.get("billing_requests", flow["links"]["billing_request"])
            if sim.api.is_instant(br):
                return self._hosted_payment(method, flow, br, raw)
            if method == "GET":
                if br["status"] == "fulfilled":
                    return self._send(200, hosted.done_page(flow, br), "text/html")
                if br["status"] == "cancelled" or sim.api.flow_expired(flow):
                    return self._send(
                        410,
                        hosted.message_page("Link expired", "Ask the clinic for a new link."),
                        "text/html",
                    )
                sim.api.visit_flow(flow)
                customer = sim.store.find("customers", br["links"].get("customer"))
                return self._send(200, hosted.form_page(flow, br, customer), "text/html")
            if method != "POST":
                return self._send(405, hosted.message_page("Not allowed", "Use the form."), "text/html")
            form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            try:
                sim.api.authorise(flow, form)
            except SimApiError as err:
                status = 410 if "expired" in err.errors[0]["reason"] else 409
                return self._send(status, hosted.message_page("Cannot complete", err.message), "text/html")
            return self._send(200, hosted.done_page(flow, br), "text/html")

    def _hosted_payment(self, method: str, flow: dict[str, Any], br: dict[str, Any], raw: bytes) -> None:
        """The "Pay by bank" page of a payment-only billing request (called under the store lock)."""
        sim = self.sim
        store = sim.store

        def paid() -> None:
            payment = store.find("payments", br["links"].get("payment_request_payment"))
            return self._send(200, hosted.paid_page(flow, br, payment), "text/html")

        if br["status"] == "fulfilled":
            return paid()
        if br["status"] == "cancelled" or sim.api.flow_expired(flow):
            return self._send(
                410, hosted.message_page("Link expired", "Ask the clinic for a new link."), "text/html"
            )
        customer = store.find("customers", br["links"].get("customer"))
        if method == "GET":
            sim.api.visit_flow(flow)
            return self._send(200, hosted.payment_page(flow, br, customer), "text/html")
        if method != "POST":
            return self._send(405, hosted.message_page("Not allowed", "Use the form."), "text/html")
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        form = {k: v.strip() for k, v in form.items()}
        if customer is None:
            problem = None
            if not (form.get("given_name") or form.get("family_name")):
                problem = "Enter your name."
            elif "@" not in form.get("email", ""):
                problem = "Enter your email address."
            if problem:
                page = hosted.payment_page(flow, br, None, form, problem)
                return self._send(422, page, "text/html")
        try:
            sim.api.authorise(flow, form)
        except SimApiError as err:
            status = 410 if "expired" in err.errors[0]["reason"] else 409
            return self._send(status, hosted.message_page("Cannot complete", err.message), "text/html")
        return paid()

    def _template(self, method: str, template_id: str) -> None:
        """A template's permanent link: every visit makes a new billing request and flow, then goes to it."""
        sim = self.sim
        if method != "GET":
            return self._send(405, hosted.message_page("Not allowed", "Open the link."), "text/html")
        with sim.store.lock:
            template = sim.store.find("billing_request_templates", template_id)
            if template is None:
                return self._send(
                    404, hosted.message_page("Not found", "This link is not valid."), "text/html"
                )
            flow = sim.api.visit_template(template)
        # The flow's page is on this same loopback server.
        return self._send(
            303, b"", "text/html", {"Location": flow["authorisation_url"], "Cache-Control": "no-store"}
        )

    # ----- control endpoints -------------------------------------------------------------------
    _CONTROLS = frozenset(
        [
            "activate_mandate",
            "submit_mandate",
            "fail_mandate",
            "cancel_mandate",
            "expire_mandate",
            "confirm_payment",
            "submit_payment",
            "fail_payment",
            "charge_back",
            "pay_out",
            "late_failure",
            "expire_billing_request",
            "expire_flow",
            "pay_refund",
            "fail_refund",
            "visit_template",
            "authorise",
            "advance",
            "advance_to",
            "inject",
            "clear_faults",
            "set_clock",
        ]
    )

    def _control(self, method: str, name: str, raw: bytes) -> None:
        if method != "POST" or name not in self._CONTROLS:
            return self._send_json(404, {"error": "unknown control"})
        try:
            kwargs = json.loads(raw or b"{}") or {}
            result = getattr(self.sim, name)(**kwargs)
        except (TypeError, ValueError, SimApiError) as err:
            return self._send_json(400, {"error": str(err)})
        if isinstance(result, (date, datetime)):
            result = result.isoformat()
        self._send_json(200, {"result": result})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64


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
        self.clock = clock or SimClock()
        self.store = Store(self.clock)
        self.options = Options()
        self.faults = FaultPlan()
        self.timeout_fault_seconds = timeout_fault_seconds
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path with query, idempotency key)
        self._log_lock = threading.Lock()
        self._limiter = _RateLimiter(rate_limit)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.api = Api(self.store, self.options, lambda: self.base_url)

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._server is not None:
            return self
        handler = type("SimHandler", (_Handler,), {"sim": self})
        self._stopping.clear()
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="gc-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
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
        return self._limiter.limit

    @rate_limit.setter
    def rate_limit(self, value: int) -> None:
        self._limiter.limit = value

    # ----- inspection --------------------------------------------------------------------------
    def get(self, kind: str, ident: str) -> dict[str, Any]:
        return self.store.snapshot(kind, ident)

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return [public(r) for r in self.store.resources[kind].values()]

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
        self, fault: str, times: int = 1, path_prefix: str | None = None, method: str | None = None
    ) -> None:
        """Apply ``fault`` to the next ``times`` API requests (optionally only those matching)."""
        self.faults.add(fault, times, path_prefix, method)

    def clear_faults(self) -> None:
        self.faults.clear()

    # ----- payer and scenarios -----------------------------------------------------------------
    def authorise(
        self,
        flow_id: str,
        mandate_status: str | None = None,
        payment_status: str | None = None,
        **form: str,
    ) -> dict[str, Any]:
        """Same as the payer submitting the hosted page; returns the billing request.

        ``payment_status`` is how far a payment by bank goes on its own (see
        ``Options.instant_payment_status_on_authorise``).
        """
        with self.store.lock:
            flow = self.store.get("billing_request_flows", flow_id)
            br = self.api.authorise(flow, form, mandate_status, payment_status)
            return public(br)

    def visit_template(self, template_id: str) -> dict[str, Any]:
        """Same as a visitor opening a template's link: returns the new flow (its billing request is new too)."""
        with self.store.lock:
            template = self.store.get("billing_request_templates", template_id)
            return public(self.api.visit_template(template))

    def expire_billing_request(self, billing_request_id: str) -> None:
        """The link lapsed unpaid: its pages say "Link expired" and GoCardless cancels the request."""
        self._run("billing_requests", billing_request_id, scenarios.expire_billing_request)

    def expire_flow(self, flow_id: str) -> None:
        """Only this link lapses; the billing request stays pending, so a new flow can be sent for it."""
        self._run("billing_request_flows", flow_id, scenarios.expire_flow)

    def pay_refund(self, refund_id: str) -> None:
        self._run("refunds", refund_id, scenarios.pay_refund)

    def fail_refund(self, refund_id: str) -> None:
        self._run("refunds", refund_id, scenarios.fail_refund)

    def _run(self, kind: str, ident: str, fn: Any, *args: Any) -> Any:
        with self.store.lock:
            return fn(self.api, self.store.get(kind, ident), *args)

    def submit_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, scenarios.submit_mandate)

    def activate_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, scenarios.activate_mandate)

    def fail_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, scenarios.fail_mandate)

    def cancel_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, scenarios.cancel_mandate)

    def expire_mandate(self, mandate_id: str) -> None:
        self._run("mandates", mandate_id, scenarios.expire_mandate)

    def submit_payment(self, payment_id: str) -> None:
        self._run("payments", payment_id, scenarios.submit_payment)

    def confirm_payment(self, payment_id: str) -> None:
        self._run("payments", payment_id, scenarios.confirm_payment)

    def fail_payment(self, payment_id: str, will_retry: bool = False) -> None:
        self._run("payments", payment_id, scenarios.fail_payment, will_retry)

    def charge_back(self, payment_id: str) -> None:
        self._run("payments", payment_id, scenarios.charge_back)

    def pay_out(self, payment_id: str) -> str:
        """Returns the (simulated) payout id now linked from the payment."""
        return self._run("payments", payment_id, scenarios.pay_out)

    def late_failure(self, payment_id: str) -> None:
        self._run("payments", payment_id, scenarios.late_failure)

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
        """Walk day by day to ``when``, creating subscription payments on their charge dates.

        Returns the ids of the payments created. See ``scenarios.run_until``.
        """
        target = date.fromisoformat(when) if isinstance(when, str) else when
        with self.store.lock:
            return scenarios.run_until(self.api, target, auto_confirm, confirm_after_days)
