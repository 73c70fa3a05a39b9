"""The HTTP side of the simulator: the request handler (API, hosted pages, control endpoints) and rate limiter.

The handler serves a ``Host`` (``server.Simulator``, which builds the server and imports this module, never the
other way round).
"""

from __future__ import annotations

import json
import math
import socket
import struct
import threading
import time
from datetime import date, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from . import faults as F
from . import hosted
from .api import Api
from .billing_requests import is_payment_only
from .state import SimApiError, Store


class RateLimiter:
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

    def headers(self, remaining: int | None = None, reset_at: float | None = None) -> dict[str, str]:
        """The RateLimit-* headers; ``reset_at`` (epoch seconds) replaces the end of the minute window."""
        with self._lock:
            if remaining is None:
                remaining = max(0, self.limit - self._used)
            reset = (self._window + 1) * 60 if reset_at is None else reset_at
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(remaining),
            # An HTTP-date has whole seconds: round up, so a client that waits until then has waited long enough.
            "RateLimit-Reset": formatdate(math.ceil(reset), usegmt=True),
        }


class Host(Protocol):
    """What the handler uses of the simulator it serves. A control endpoint ``/_sim/<name>`` calls the host's
    method ``<name>`` (one of ``Handler._CONTROLS``) with the JSON body as keyword arguments."""

    api: Api
    store: Store
    faults: F.FaultPlan
    limiter: RateLimiter
    stopping: threading.Event  # set while the server stops: a TIMEOUT fault stops waiting
    access_token: str | None  # the only token accepted (None: any)
    revoked_tokens: set[str]  # answered 401 access_token_not_active
    read_only: bool  # the token may read but not write: writes are answered 403 insufficient_permissions
    timeout_fault_seconds: float

    def record_request(self, method: str, path: str, key: str | None) -> None: ...


class Handler(BaseHTTPRequestHandler):
    server_version = "GoCardlessSimulator/1.0"
    sim: Host  # set on the subclass made per simulator

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

    def _send_json(
        self, status: int, payload: Any, remaining: int | None = None, reset_at: float | None = None
    ) -> None:
        headers = self.sim.limiter.headers(remaining, reset_at)
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
        sim.record_request(method, self.path, key)
        if path.startswith("/flow/"):
            return self._hosted(method, unquote(path[len("/flow/") :]), raw)
        if path.startswith("/template/"):
            return self._template(method, unquote(path[len("/template/") :]))
        if path.startswith("/_sim/"):
            return self._control(method, path[len("/_sim/") :], raw)

        taken = sim.faults.take(method, path)
        fault = taken.name if taken else None
        if fault == F.TIMEOUT:
            sim.stopping.wait(sim.timeout_fault_seconds)
            return self._drop()
        if fault == F.RESET:
            return self._drop()
        if fault == F.HTML_502:
            page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return self._send(502, page, "text/html")
        if fault == F.ERROR_500:
            err = SimApiError(500, "gocardless", "Uh-oh! Something went wrong.", reason="internal_error")
            return self._send_json(500, err.body())

        allowed, remaining, _ = sim.limiter.hit()
        if fault == F.RATE_LIMIT_429 or not allowed:
            err = SimApiError(429, "invalid_api_usage", "Rate limit exceeded", reason="rate_limit_exceeded")
            reset_after = taken.reset_after if taken else None
            reset_at = None if reset_after is None else time.time() + reset_after
            return self._send_json(429, err.body(), remaining=0, reset_at=reset_at)

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
        token = auth[7:].strip()
        if token in self.sim.revoked_tokens:
            raise SimApiError(
                401, "invalid_api_usage", "Access token not active", reason="access_token_not_active"
            )
        if self.sim.access_token is not None and token != self.sim.access_token:
            raise SimApiError(
                401, "invalid_api_usage", "Access token not found", reason="access_token_not_found"
            )
        if self.sim.read_only and self.command in ("POST", "PUT", "DELETE"):
            raise SimApiError(
                403, "invalid_api_usage", "Insufficient permissions", reason="insufficient_permissions"
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
            if is_payment_only(br):
                return self._hosted_payment(method, flow, br, raw)
            if method == "GET":
                if br["status"] == "fulfilled":
                    return self._send(200, hosted.done_page(flow, br), "text/html")
                if br["status"] == "cancelled" or sim.api.flows.expired(flow):
                    return self._send(
                        410,
                        hosted.message_page("Link expired", "Ask the clinic for a new link."),
                        "text/html",
                    )
                sim.api.flows.visit(flow)
                customer = sim.store.find("customers", br["links"].get("customer"))
                return self._send(200, hosted.form_page(flow, br, customer), "text/html")
            if method != "POST":
                return self._send(405, hosted.message_page("Not allowed", "Use the form."), "text/html")
            form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            try:
                sim.api.flows.authorise(flow, form)
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
        if br["status"] == "cancelled" or sim.api.flows.expired(flow):
            return self._send(
                410, hosted.message_page("Link expired", "Ask the clinic for a new link."), "text/html"
            )
        customer = store.find("customers", br["links"].get("customer"))
        if method == "GET":
            sim.api.flows.visit(flow)
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
            sim.api.flows.authorise(flow, form)
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
            flow = sim.api.templates.visit(template)
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
            "resubmit_payment",
            "expire_billing_request",
            "expire_flow",
            "queue_refund",
            "submit_refund",
            "pay_refund",
            "fail_refund",
            "visit_template",
            "replace_mandate",
            "reinstate_mandate",
            "block_mandate",
            "consume_mandate",
            "require_approval",
            "approve_payment",
            "deny_payment_approval",
            "approve_subscription",
            "deny_subscription_approval",
            "cancel_chargeback",
            "settle_chargeback",
            "fail_billing_request",
            "exit_flow",
            "deny_bank_authorisation",
            "authorise",
            "advance",
            "advance_to",
            "inject",
            "clear_faults",
            "revoke_token",
            "set_read_only",
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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64
