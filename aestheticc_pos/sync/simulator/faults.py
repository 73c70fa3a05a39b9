"""Fault injection: a queue of faults that the server applies to matching requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass

TIMEOUT = "timeout"  # sleep longer than the client timeout, then drop the connection unprocessed
RESET = "reset"  # close the socket without a response (request not processed)
HTML_502 = "html_502"  # an HTML 502 page from a "proxy" (request not processed)
ERROR_500 = "error_500"  # a JSON GoCardless internal error (request not processed)
RATE_LIMIT_429 = "rate_limit_429"  # 429 rate_limit_exceeded with RateLimit-* headers
LOST_RESPONSE = "lost_response"  # process and commit the request, then drop the connection

FAULTS = frozenset({TIMEOUT, RESET, HTML_502, ERROR_500, RATE_LIMIT_429, LOST_RESPONSE})


@dataclass
class Fault:
    name: str
    times: int
    path_prefix: str | None = None
    method: str | None = None
    reset_after: float | None = None  # RATE_LIMIT_429 only: RateLimit-Reset is this many seconds from now

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class FaultPlan:
    """Thread-safe list of pending faults; the first matching one is consumed per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.applied: list[tuple[str, str, str]] = []  # (fault, method, path)

    def add(
        self,
        name: str,
        times: int = 1,
        path_prefix: str | None = None,
        method: str | None = None,
        reset_after: float | None = None,
    ) -> Fault:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; expected one of {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if reset_after is not None and (name != RATE_LIMIT_429 or reset_after < 0):
            raise ValueError("reset_after is a number of seconds (0 or more) for rate_limit_429 only")
        fault = Fault(name, times, path_prefix, method, reset_after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        if path.startswith(("/_sim", "/flow/", "/template/")):
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    self.applied.append((fault.name, method, path))
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
