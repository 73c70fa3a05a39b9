"""Keeping under a share of GoCardless's rate limit (DESIGN.md §5, NOTES.md §8).

The engine keeps under ``share`` of the limit with a token bucket refilled by the engine's clock: the limit is
the gateway's last known one when it exposes it (``gateway.rate_limit``: an int, or the client's
``{"ratelimit-limit": n, …}`` mapping), otherwise ``requests_per_minute`` (1000, GoCardless's standard). When the
bucket is empty the drain or pull stops early and says so; the next one continues. A 429 empties the bucket
until GoCardless's reset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from aestheticc_pos.sync.gateway import PaymentGateway

DEFAULT_REQUESTS_PER_MINUTE = 1000  # GoCardless's standard allowance per token (NOTES.md §8)


class TokenBucket:
    """At most ``per_minute`` requests a minute on average, with bursts of up to a minute's worth."""

    def __init__(self, per_minute: float, now: dt.datetime) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = self.per_minute
        self._at = now

    def set_rate(self, per_minute: float) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = min(self.tokens, self.per_minute)

    def take(self, now: dt.datetime) -> bool:
        elapsed = max((now - self._at).total_seconds(), 0.0)
        self._at = max(now, self._at)
        self.tokens = min(self.per_minute, self.tokens + elapsed * self.per_minute / 60)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def empty_until(self, when: dt.datetime) -> None:
        """No request before ``when`` (a rate-limit reset)."""
        self.tokens = 0.0
        self._at = max(self._at, when)


class RateLimit:
    """The engine's share of the gateway's limit (module doc). Not thread-safe: the engine serialises calls."""

    def __init__(
        self,
        gateway: PaymentGateway,
        now: dt.datetime,
        *,
        share: float,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("rate_share must be above 0 and at most 1")
        self._gateway = gateway
        self._share = share
        self._default = requests_per_minute
        self._bucket = TokenBucket(self._limit() * share, now)

    def take(self, now: dt.datetime) -> bool:
        """One request may go now (False: wait; the bucket refills with time)."""
        return self._bucket.take(now)

    def learn(self) -> None:
        """Follow the limit the gateway last reported (after every answered request)."""
        self._bucket.set_rate(self._limit() * self._share)

    def empty_until(self, when: dt.datetime) -> None:
        """GoCardless said no request before ``when`` (a 429)."""
        self._bucket.empty_until(when)

    def _limit(self) -> float:
        known = getattr(self._gateway, "rate_limit", None)
        if isinstance(known, Mapping):
            known = known.get("ratelimit-limit")
        try:
            value = float(known) if known is not None else 0.0
        except (TypeError, ValueError):
            value = 0.0
        return value if value > 0 else float(self._default)
