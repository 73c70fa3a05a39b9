"""Run service calls off the GUI thread and get the result back as a signal on the GUI thread.

    runner.run(lambda: clients.search_clients(services, text), on_done=self.show_rows)

``on_done`` and ``on_error`` are called on the GUI thread. A ``DomainError`` is a sentence for staff and is
handed to ``on_error`` (default: the runner's ``failed`` signal, which the main window shows in its message
bar). Any other exception is logged with its traceback and reported as a generic sentence, so the window
never shows a traceback and never freezes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from aestheticc_pos.domain.errors import DomainError

log = logging.getLogger(__name__)
T = TypeVar("T")

UNEXPECTED = (
    "Something went wrong and the action was not completed. Try again; if it keeps happening, call support."
)


class _Relay(QObject):
    """Lives on the GUI thread; its signals carry a worker's outcome back there (queued connection)."""

    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._work = work
        self._relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:  # on a pool thread
        try:
            result = self._work()
        except DomainError as error:
            self._relay.failed.emit(error)
        except Exception as error:  # noqa: BLE001 - reported as a sentence, logged with the traceback
            log.exception("Background task failed")
            self._relay.failed.emit(error)
        else:
            self._relay.done.emit(result)


class TaskRunner(QObject):
    """Runs work on a thread pool. ``busy_changed(bool)`` lets the window show progress."""

    failed = Signal(str)  # a sentence for staff, for failures nobody else handled
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool(self)
        self._pool.setMaxThreadCount(max(2, self._pool.maxThreadCount()))
        self._running = 0
        self._relays: set[_Relay] = set()

    def run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        relay = _Relay()  # created here, so it belongs to the GUI thread
        self._relays.add(relay)

        def finished() -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            self._running -= 1
            if self._running == 0:
                self.busy_changed.emit(False)

        def done(result: T) -> None:
            try:
                if on_done is not None:
                    on_done(result)
            finally:
                finished()

        def failed(error: Exception) -> None:
            try:
                message = str(error) if isinstance(error, DomainError) else UNEXPECTED
                (on_error or self.failed.emit)(message)
            finally:
                finished()

        relay.done.connect(done)
        relay.failed.connect(failed)
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)
        self._pool.start(_Job(work, relay))

    @property
    def busy(self) -> bool:
        return self._running > 0

    def wait_for_done(self, msecs: int = 10_000) -> bool:
        """Block until the pool is idle (tests and shutdown); results still arrive through the event loop."""
        return self._pool.waitForDone(msecs)
