"""The sync runner's plain callbacks as Qt signals on the GUI thread (DESIGN.md §1).

``SyncBridge.state_changed(SyncState)`` fires after every sync cycle (and when the connection changes); it is
emitted from the runner's thread and delivered queued to receivers on the GUI thread. ``counts_changed(int,
int)`` carries the work queued and the work needing attention, read through the services after each cycle, so
the status bar always shows the truth of the database, not of the last cycle only.

What a sync cycle writes reaches the screens as every commit does (``UnitOfWorkFactory.on_commit``, through the
desk's ``changed``): the runner shares the till's unit-of-work factory. ``desk_changed`` is told of every change
and recounts the queue when the outbox was written, by a desk action or by the sync. ``Desk.connect_sync``
builds the bridge and wires it.

With no connection (tests, or a build without GoCardless) the bridge reports "not configured" and does nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from aestheticc_pos.services import sync_status
from aestheticc_pos.services.context import Services
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.sync.runner import SyncState, SyncStatus, unavailable_state
from aestheticc_pos.ui.tasks import TaskRunner
from aestheticc_pos.ui.topics import SYNC


class SyncBridge(QObject):
    state_changed = Signal(object)  # SyncState
    counts_changed = Signal(int, int)  # queued, needing attention

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        connection: SyncConnection | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.connection = connection
        self.queued = 0
        self.attention = 0
        self.state: SyncState = (
            connection.state
            if connection is not None
            else unavailable_state(SyncStatus.NOT_CONFIGURED, None, services.now())
        )
        self.state_changed.connect(self._on_state)
        if connection is not None:
            connection.add_listener(self.state_changed.emit)  # from the runner's thread: queued to ours

    @property
    def training(self) -> bool:
        return self.connection is not None and self.connection.training

    def start(self) -> None:
        if self.connection is not None:
            self.connection.start()
        self.refresh_counts()

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.stop()

    def sync_now(self) -> None:
        if self.connection is not None:
            self.connection.sync_now()

    def refresh_counts(self) -> None:
        services = self.services
        self.runner.run(lambda: sync_status.queued_count(services), self._show_counts, lambda _sentence: None)

    def _on_state(self, state: SyncState) -> None:
        self.state = state  # what the cycle wrote, the screens hear from its commits

    def _show_counts(self, counts: tuple[int, int]) -> None:
        self.queued, self.attention = counts
        self.counts_changed.emit(*counts)

    def desk_changed(self, what: frozenset[str]) -> None:
        if SYNC in what:  # the outbox was written: work queued, sent or set aside
            self.refresh_counts()


def status_text(state: SyncState, queued: int, attention: int) -> str:
    """The status bar's words: "Sync: online · 3 queued · 1 needs attention"."""
    words = {
        SyncStatus.NOT_CONFIGURED: "not set up",
        SyncStatus.NO_KEYRING: "no keyring",
        SyncStatus.STARTING: "connecting…",
        SyncStatus.ONLINE: "online",
        SyncStatus.OFFLINE: "offline",
        SyncStatus.TOKEN_REFUSED: "token refused",
        SyncStatus.FAILED: "stopped, retrying",
    }[state.status]
    parts = [f"Sync: {words}"]
    if queued:
        parts.append(f"{queued} queued")
    if attention:
        parts.append(f"{attention} need{'s' if attention == 1 else ''} attention")
    return " · ".join(parts)
