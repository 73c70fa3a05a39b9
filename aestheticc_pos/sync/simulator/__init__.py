"""A local GoCardless API simulator (127.0.0.1 only) for tests and the app's training mode.

It speaks the subset of the API the POS uses, with GoCardless's envelopes, errors, idempotency
conflicts, cursor pagination, rate-limit headers and events (with ``resource_metadata``); it serves a
hosted "Authorise Direct Debit" page (with an instant first payment and its Direct Debit fallback,
``billing_request_flows.py``), "Pay by bank" pages for payment links (Instant Bank Pay billing requests) and
reusable billing request templates (``billing_request_templates.py``), keeps charge dates on England & Wales working
days (``working_days.py``), serves payouts and their items (``payouts.py``), has scenario controls (mandates
activated, failed, cancelled, expired, replaced, reinstated, blocked or consumed; payments confirmed, failed and
retried, charged back, chargebacks cancelled or settled, approvals refused; subscriptions refused; set-ups failed,
refused at the bank or left unfinished; refunds; expiring links; subscriptions over a controllable clock), a token
that can be revoked or made read-only, and fault injection. See ``Simulator``; training mode's practice turns are
``sync/practice.py``.
"""

from .clock import SimClock
from .common import ScenarioError
from .faults import ERROR_500, FAULTS, HTML_502, LOST_RESPONSE, RATE_LIMIT_429, RESET, TIMEOUT
from .server import Simulator
from .state import SimApiError

__all__ = [
    "ERROR_500",
    "FAULTS",
    "HTML_502",
    "LOST_RESPONSE",
    "RATE_LIMIT_429",
    "RESET",
    "TIMEOUT",
    "ScenarioError",
    "SimApiError",
    "SimClock",
    "Simulator",
]
