"""A controllable clock for the simulator.

It runs with real time by default (so ``created_at`` values keep increasing), but can be set,
advanced or frozen by tests. ``now()`` never goes backwards unless ``set()`` is called explicitly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta


def _as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, 9, 0, tzinfo=UTC)


class SimClock:
    def __init__(self, start: datetime | date | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._base = _as_utc(start) if start is not None else datetime.now(UTC)
        self._mono = time.monotonic()
        self._frozen = frozen

    def now(self) -> datetime:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + timedelta(seconds=time.monotonic() - self._mono)

    def today(self) -> date:
        return self.now().date()

    def set(self, value: datetime | date) -> None:
        """Jump to ``value`` (a date means 09:00 UTC that day)."""
        with self._lock:
            self._base = _as_utc(value)
            self._mono = time.monotonic()

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
        delta = timedelta(days=days, hours=hours, seconds=seconds)
        self.set(self.now() + delta)
        return self.now()

    def freeze(self) -> None:
        now = self.now()
        with self._lock:
            self._base, self._frozen = now, True

    def unfreeze(self) -> None:
        with self._lock:
            self._mono, self._frozen = time.monotonic(), False

    @staticmethod
    def iso(value: datetime) -> str:
        """GoCardless timestamp format: ISO-8601 UTC with milliseconds and a ``Z``."""
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
