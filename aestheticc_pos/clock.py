"""The clock port: services and the sync ask it for "now", so tests can fix or move time without patching globals.

``app.py`` hands every part the same ``SystemClock``; tests hand them a ``FixedClock``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until told to move (tests, demo data, training scenarios)."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        self._at += dt.timedelta(**delta)


def local_today(clock: Clock, tz: ZoneInfo) -> dt.date:
    """The clinic's date right now, in its own time zone."""
    return clock.now().astimezone(tz).date()
