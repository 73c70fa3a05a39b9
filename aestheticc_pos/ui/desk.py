"""What every screen of the front desk shares: the services, the background runner, who is signed in,
and a "what changed" signal so screens refresh after an action elsewhere (STYLE.md: Anki's ``OpChanges``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from aestheticc_pos.domain.staff import Action, Role, can
from aestheticc_pos.services.context import ClinicSettings, Services
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.ui.sync_bridge import SyncBridge
from aestheticc_pos.ui.tasks import TaskRunner
from aestheticc_pos.ui.topics import topics_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What ``Desk.start_checkout`` carries: open checkout for a client, from an appointment if any."""

    client_id: str | None
    appointment_id: str | None = None
    treatment_id: str | None = None


class Desk(QObject):
    """Owned by the main window; handed to every view and dialog. Lives on the GUI thread."""

    staff_changed = Signal(object)  # StaffMember | None
    changed = Signal(frozenset)  # of the names in ``topics.py``
    message = Signal(str)  # a sentence for the message bar (errors and confirmations)
    open_client = Signal(str)  # client id: show the client record
    open_appointment = Signal(str)  # appointment id: show the appointment
    start_checkout = Signal(object)  # a CheckoutRequest: open checkout prefilled
    _committed = Signal(frozenset)  # tables a commit wrote, from whichever thread committed it

    def __init__(self, services: Services, *, training: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.training = training
        self.runner = TaskRunner(self)
        self.runner.failed.connect(self.message)
        self.staff: StaffMember | None = None
        self.settings: ClinicSettings = ClinicSettings()
        self.sync: SyncBridge | None = None  # see ``connect_sync``
        # Every commit says what it wrote; screens refresh from that, not from each action remembering to.
        self._touched: frozenset[str] = frozenset()
        self._announce = QTimer(self)
        self._announce.setSingleShot(True)
        self._announce.setInterval(0)
        self._announce.timeout.connect(self._announce_touched)
        self._committed.connect(self._tables_written)
        watch = getattr(services.uow, "on_commit", None)
        if watch is not None:
            watch(self._from_commit)

    def connect_sync(self, connection: SyncConnection | None) -> SyncBridge:
        """Bridge the sync runner to the screens (``None``: sync is not set up). What the sync writes reaches
        the screens as every commit does (``changed``); a change to the queue recounts it."""
        bridge = SyncBridge(self.services, self.runner, connection, parent=self)
        self.changed.connect(bridge.desk_changed)
        self.sync = bridge
        return bridge

    def run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Run a service call in the background; see ``TaskRunner.run``."""
        self.runner.run(work, on_done, on_error)

    def sign_in(self, member: StaffMember | None) -> None:
        self.staff = member
        self.staff_changed.emit(member)

    @property
    def staff_id(self) -> str:
        if self.staff is None:
            raise RuntimeError("no one is signed in")
        return self.staff.id

    def may(self, action: Action) -> bool:
        return self.staff is not None and can(self.staff.role, action)

    @property
    def is_manager(self) -> bool:
        return self.staff is not None and self.staff.role is Role.MANAGER

    def _from_commit(self, tables: frozenset[str]) -> None:
        if shiboken6.isValid(self):  # a desk closed with its window hears nothing more
            self._committed.emit(tables)  # queued to the GUI thread when a worker committed

    def _tables_written(self, tables: frozenset[str]) -> None:
        touched = topics_of(tables)
        if not touched:
            return
        # Commits that arrive together (a sync cycle applying many events) refresh the screens once.
        self._touched |= touched
        if not self._announce.isActive():
            self._announce.start()

    def _announce_touched(self) -> None:
        touched, self._touched = self._touched, frozenset()
        if touched:
            self.changed.emit(touched)
