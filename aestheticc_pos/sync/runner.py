"""Runs the sync engine in the background: its own thread, its own database sessions, plain callbacks.

    runner = SyncRunner(connect, today=services.today, now=clock.now, on_state=print, interval=60)
    runner.start()      # a cycle at once, then one every ``interval`` seconds
    runner.sync_now()   # staff pressed "Sync now": the next cycle starts at once
    runner.stop()       # at exit: waits for the cycle in progress (the network calls have timeouts)

After every cycle ``on_state`` receives a ``SyncState``: online (GoCardless answered), offline (it could not be
reached: the till goes on and the work waits), or the token was refused. ``on_state`` is called on the runner's
thread; ``ui/sync_bridge.py`` turns it into a Qt signal. Nothing here blocks the caller, and an unexpected
error in a cycle is logged and reported as a state; it never ends the thread.

Online or offline is what the gateway answered during the cycle, observed by ``ObservedGateway`` (any answer
from GoCardless means online, even a refusal; only connection problems, timeouts and 5xx mean offline).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aestheticc_pos.sync.engine import CycleReport, SyncEngine
from aestheticc_pos.sync.gateway import GatewayError, RateLimited, TransientGatewayError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60.0  # seconds between cycles


class SyncStatus(enum.StrEnum):
    NOT_CONFIGURED = "not_configured"  # no token for the chosen environment
    NO_KEYRING = "no_keyring"  # this computer has nowhere safe to keep the token
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    TOKEN_REFUSED = "token_refused"
    FAILED = "failed"  # a cycle raised something unexpected (logged)


@dataclass(frozen=True, slots=True)
class SyncState:
    status: SyncStatus
    sentence: str
    at: dt.datetime
    report: CycleReport | None = None


SENTENCES = {
    SyncStatus.NOT_CONFIGURED: "GoCardless is not set up on this till: a manager can enter the access token in "
    "Settings. Memberships are still signed up; their Direct Debit work waits.",
    SyncStatus.STARTING: "Connecting to GoCardless…",
    SyncStatus.ONLINE: "Online: up to date with GoCardless.",
    SyncStatus.OFFLINE: "Offline: GoCardless cannot be reached. The till works as usual; the Direct Debit work "
    "is sent when the network is back.",
    SyncStatus.TOKEN_REFUSED: "GoCardless refused the access token: a manager should enter it again in Settings. "
    "Nothing is lost; the work waits.",
    SyncStatus.FAILED: "The sync stopped on an unexpected error and will try again shortly; if it keeps "
    "happening, call support.",
}


class ObservedGateway:
    """A gateway that remembers how GoCardless answered since ``reset``: ``answered`` (any reply, even a
    refusal) and ``unreachable`` (a connection problem, timeout or 5xx). Everything else passes through."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self.answered = False
        self.unreachable = False

    def reset(self) -> None:
        self.answered = False
        self.unreachable = False

    def __repr__(self) -> str:
        return f"ObservedGateway({self._gateway!r})"

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._gateway, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def observed(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attribute(*args, **kwargs)
            except RateLimited:
                self.answered = True
                raise
            except TransientGatewayError:
                self.unreachable = True
                raise
            except GatewayError:  # refused: permanent or authentication, GoCardless did answer
                self.answered = True
                raise
            self.answered = True
            return result

        return observed


Connected = tuple[SyncEngine, ObservedGateway]


class SyncRunner:
    """``connect`` is called on the runner's thread until it gives an engine (reading the keyring may be slow):
    it returns the engine and its observed gateway, or the ``SyncState`` to show instead (no token, no
    keyring), and is asked again at the next cycle."""

    def __init__(
        self,
        connect: Callable[[], Connected | SyncState],
        *,
        today: Callable[[], dt.date],
        now: Callable[[], dt.datetime],
        on_state: Callable[[SyncState], None],
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._connect = connect
        self._connected: Connected | None = None
        self._today = today
        self._now = now
        self._on_state = on_state
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = SyncState(SyncStatus.STARTING, SENTENCES[SyncStatus.STARTING], now())
        self.cycles = 0
        self._reconnect = False
        self._asked = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="gocardless-sync", daemon=True)
        self._thread.start()

    def sync_now(self) -> None:
        """Run a cycle now (also after a refused token: staff asked, so it is tried once more)."""
        self._asked = True
        self._wake.set()

    def reconnect(self) -> None:
        """Connect again before the next cycle (the token or the environment changed), and start it now."""
        self._reconnect = True
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> SyncState:
        """One cycle on the caller's thread (the loop's body)."""
        try:
            if self._reconnect:
                self._reconnect = False
                self._connected = None
            if self._connected is None:
                connected = self._connect()
                if isinstance(connected, SyncState):
                    self.state = connected
                    return connected
                self._connected = connected
                self._asked = True  # a new connection (a new token, perhaps): try it
            if self.state.status is SyncStatus.TOKEN_REFUSED and not self._asked:
                # The same token would be refused again: nothing is sent until a manager enters a new one
                # (``reconnect``) or someone asks for a sync.
                return self.state
            self._asked = False
            engine, gateway = self._connected
            gateway.reset()
            report = engine.run_cycle(self._today())
        except Exception:  # noqa: BLE001 - logged with its traceback; the thread must live on
            log.exception("A sync cycle failed")
            state = SyncState(SyncStatus.FAILED, SENTENCES[SyncStatus.FAILED], self._now())
        else:
            state = _state_after(report, gateway, self._now())
        self.state = state
        self.cycles += 1
        return state

    def _loop(self) -> None:
        while not self._stop.is_set():
            state = self.run_once()
            try:
                self._on_state(state)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the sync
                log.exception("A sync state listener failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def _state_after(report: CycleReport, gateway: ObservedGateway, now: dt.datetime) -> SyncState:
    refused = report.first_drain.authentication_failed or (
        report.pull is not None and report.pull.authentication_failed
    )
    if refused:
        status = SyncStatus.TOKEN_REFUSED
    elif gateway.unreachable and not gateway.answered:
        status = SyncStatus.OFFLINE
    else:
        status = SyncStatus.ONLINE
    sentence = SENTENCES[status]
    if refused:  # GoCardless's own reason, in a sentence that says what to do
        sentence = next(
            (
                r.stopped
                for r in (report.first_drain, report.pull)
                if r and r.authentication_failed and r.stopped
            ),
            sentence,
        )
    if status is SyncStatus.ONLINE and not report.ok:
        stopped = next(
            (r.stopped for r in (report.first_drain, report.pull, report.second_drain) if r and r.stopped),
            None,
        )
        sentence = f"Online. {stopped}" if stopped else sentence
    return SyncState(status, sentence, now, report)


def unavailable_state(status: SyncStatus, sentence: str | None, now: dt.datetime) -> SyncState:
    """The state to show when no runner can start (no token, no keyring)."""
    return SyncState(status, sentence or SENTENCES.get(status, ""), now)
