"""What GoCardless's refusals mean, in sentences for staff and details for the log (``sync/gocardless.py``).

Plain functions over the client's ``ApiError``: a refused access token (401) or a token that may only read
(403) in GoCardless's own words, the reasons of a validation error, the log detail of any error, and the
``RateLimit-Reset`` header of a 429.
"""

from __future__ import annotations

import datetime as dt
import email.utils

from gocardless_pro import errors

TOKEN_REASONS = {
    "access_token_not_found": "is not one GoCardless knows: it may have been mistyped or deleted",
    "access_token_not_active": "has been revoked in GoCardless",
    "access_token_revoked": "has been revoked in GoCardless",
    "unauthorized": "was not accepted",
}


def refused_token(environment: str, exc: errors.ApiError) -> str:
    """What staff read when GoCardless refused the token (401) or what it may do (403), from the API's reason."""
    reason = str((exc.errors or [{}])[0].get("reason") or "")
    if isinstance(exc, errors.PermissionsError):
        return (
            f"The {environment} GoCardless access token may only read, so the till cannot send its work "
            f"(GoCardless: {exc.message or 'insufficient permissions'}). A manager should create a read-write "
            "access token in GoCardless and enter it in Settings; queued work waits until then."
        )
    why = TOKEN_REASONS.get(reason, "was not accepted")
    return (
        f"The {environment} GoCardless access token {why} (GoCardless: {exc.message or reason}). A manager "
        "should enter a current token in Settings; queued work waits until then."
    )


def reasons(exc: errors.ApiError) -> str:
    parts = []
    for item in exc.errors or []:
        message = item.get("message") or item.get("reason") or ""
        parts.append(f"{item['field']} {message}" if item.get("field") else message)
    parts = [p for p in parts if p]
    return "; ".join(parts) or exc.message or "no reason given"


def api_detail(exc: errors.ApiError) -> str:
    reasons = ",".join(str(item.get("reason")) for item in exc.errors or [])
    return f"HTTP {exc.code} {exc.type} [{reasons}] request_id={exc.request_id}"


def parse_reset(value: str | None) -> dt.datetime | None:
    """RateLimit-Reset is an HTTP-date; accept ISO-8601 too."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
