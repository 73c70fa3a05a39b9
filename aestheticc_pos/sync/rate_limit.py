"""Keeping under a share of GoCardless's rate limit (DESIGN.md §5, NOTES.md §8).

The engine keeps under ``share`` of the limit with a token bucket refilled as real time passes, read from a
monotonic timer (``time.monotonic`` unless a test gives its own), never from the engine's clock: a clock that
stands still (training, a demo) or jumps (the computer's time corrected) must not stop or flood the sync. The
limit is the gateway's last known one when it exposes it (``gateway.rate_limit``: an int, or the client's
``{"ratelimit-limit": n, …}`` mapping), otherwise ``requests_per_minute`` (1000, GoCardless's standard). When the
bucket is empty the drain or pull stops early and says so; the next one continues. A 429 empties the bucket
for as long as GoCardless said to wait.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping

from aestheticc_pos.sync.gateway import PaymentGateway

DEFAULT_REQUESTS_PER_MINUTE = 1000  # GoCardless's standard allowance per token (NOTES.md §8)


class TokenBucket:
    """At most ``per_minute`` requests a minute on average, with bursts of up to a minute's worth. Times are
    seconds on a monotonic timer."""

    def __init__(self, per_minute: float, now: float) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = self.per_minute
        self._at = now

    def set_rate(self, per_minute: float) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = min(self.tokens, self.per_minute)

    def take(self, now: float) -> bool:
        elapsed = max(now - self._at, 0.0)
        self._at = max(now, self._at)
        self.tokens = min(self.per_minute, self.tokens + elapsed * self.per_minute / 60)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def empty_until(self, when: float) -> None:
        """No request before ``when`` (a rate-limit reset)."""
        self.tokens = 0.0
        self._at = max(self._at, when)


class RateLimit:
    """The engine's share of the gateway's limit (module doc). Not thread-safe: the engine serialises calls."""

    def __init__(
        self,
        gateway: PaymentGateway,
        *,
        share: float,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("rate_share must be above 0 and at most 1")
        self._gateway = gateway
        self._share = share
        self._default = requests_per_minute
        self._monotonic = monotonic
        self._bucket = TokenBucket(self._limit() * share, monotonic())

    def take(self) -> bool:
        """One request may go now (False: wait; the bucket refills with time)."""
        return self._bucket.take(self._monotonic())

    def learn(self) -> None:
        """Follow the limit the gateway last reported (after every answered request)."""
        self._bucket.set_rate(self._limit() * self._share)

    def wait(self, how_long: dt.timedelta) -> None:
        """GoCardless said no request for ``how_long`` (a 429 until its reset)."""
        self._bucket.empty_until(self._monotonic() + max(how_long.total_seconds(), 0.0))

    def _limit(self) -> float:
        known = getattr(self._gateway, "rate_limit", None)
        if isinstance(known, Mapping):
            known = known.get("ratelimit-limit")
        try:
            value = float(known) if known is not None else 0.0
        except (TypeError, ValueError):
            value = 0.0
        return value if value > 0 else float(self._default)
