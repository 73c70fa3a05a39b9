"""The main window: first start (welcome) → staff login → the desk, with a side bar of screens, a message
for sentences (errors and confirmations) that floats over the top of the page, and a status bar with who is
signed in and the sync state.

Nothing moves under the mouse: the message is an overlay (``MessageOverlay``), never a row of the layout, so a
page keeps its place when a sentence shows or goes. Signing out clears it, and the sign-in screen starts
afresh: nothing of the last person's work is left on it.

It holds no database session and calls no network: every screen asks services through ``Desk.run``.

A screen is built the first time it is opened, and its module imported then (``LaterView``): the window opens
with the sign-in screen only. Today, where everyone lands, is imported just after the window's first paint, while
staff choose their name; the first start's welcome only on a first start.
Before another screen is opened, the one showing is asked whether it may be left (``may_leave``, when it has
one): a screen with changes not saved asks Save / Discard / Cancel first, and the window waits for the answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import backups as backups_service
from aestheticc_pos.services import clinic as clinic_service
from aestheticc_pos.services import close_of_day as close_of_day_service
from aestheticc_pos.services.context import ClinicSettings, Services
from aestheticc_pos.services.demo import DEMO_MANAGER_PIN, DEMO_PIN
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.ui.desk import CheckoutRequest, Desk
from aestheticc_pos.ui.sync_bridge import status_text
from aestheticc_pos.ui.topics import SETTINGS
from aestheticc_pos.ui.views.login import LoginView
from aestheticc_pos.ui.widgets.message_overlay import FollowGeometry, MessageOverlay

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
VIEWS = "aestheticc_pos.ui.views"
MESSAGE_SECONDS = 12
MESSAGE_MARGIN = 12  # px between the message and the edges of the page it floats over
CLOSE_OF_DAY_KEY = "F12"
BACKUP_CHECK_MINUTES = 60


@dataclass(frozen=True, slots=True)
class Screen:
    key: str
    title: str
    shortcut: str | None  # None: not in the side bar (opened from another screen); "": in it, with no key
    action: Action | None  # what the role must be allowed to do to see it
    make: Callable[[Desk], QWidget]


class LaterView:
    """Makes a screen's view from ``aestheticc_pos.ui.views.<module>``, importing that module only when the
    screen is first opened (Reports brings QtCharts, Sync the simulator's practice turns, Checkout the receipt
    printing): none of it is loaded before the window is on screen."""

    def __init__(self, module: str, name: str, *arguments: object) -> None:
        self.module, self.name, self.arguments = f"{VIEWS}.{module}", name, arguments

    def view_class(self) -> type[QWidget]:
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, desk: Desk) -> QWidget:
        return self.view_class()(desk, *self.arguments)

    def __repr__(self) -> str:
        return f"LaterView({self.module}.{self.name})"


LANDING = LaterView("today", "TodayView")
WELCOME = LaterView("welcome", "WelcomeView")


def screens(app_settings: AppSettings | None = None) -> list[Screen]:
    """The desk's screens: side-bar ones in order, then those opened from another screen."""
    return [
        Screen("today", "Today", "F1", None, LANDING),
        Screen("clients", "Clients", "F2", Action.VIEW_CLIENTS, LaterView("clients", "ClientsView")),
        Screen("checkout", "Checkout", "F3", Action.TAKE_PAYMENTS, LaterView("checkout", "CheckoutView")),
        Screen(
            "memberships",
            "Memberships",
            "F4",
            Action.MANAGE_MEMBERSHIPS,
            LaterView("memberships", "MembershipsView"),
        ),
        Screen(
            "catalogue", "Catalogue", "F5", Action.EDIT_CATALOGUE, LaterView("catalogue", "CatalogueView")
        ),
        Screen("reports", "Reports", "F6", Action.VIEW_REPORTS, LaterView("reports", "ReportsView")),
        Screen(
            "settings",
            "Settings",
            "F7",
            Action.EDIT_SETTINGS,
            LaterView("settings", "SettingsView", app_settings),
        ),
        Screen("sync", "Sync", "F8", Action.TAKE_PAYMENTS, LaterView("sync", "SyncView")),
        Screen("payments", "Payments", "F9", Action.TAKE_PAYMENTS, LaterView("payments", "PaymentsView")),
        Screen("audit", "Audit", "F10", Action.VIEW_AUDIT_LOG, LaterView("audit", "AuditView")),
        Screen("sales", "Sales", "F11", Action.TAKE_PAYMENTS, LaterView("sales", "SalesView")),
        Screen(
            "close_of_day",
            "Close of day",
            CLOSE_OF_DAY_KEY,
            Action.CASH_UP,
            LaterView("close_of_day", "CloseOfDayView"),
        ),
        Screen("staff", "Staff", "", Action.MANAGE_STAFF, LaterView("staff", "StaffView")),
        Screen("appointment", "Appointment", None, None, LaterView("appointment", "AppointmentView")),
    ]


class MainWindow(QMainWindow):
    painted = Signal()  # once, just after the window's first paint: the background work starts then

    def __init__(
        self,
        services: Services,
        *,
        training: bool = False,
        app_settings: AppSettings | None = None,
        sync: SyncConnection | None = None,
    ) -> None:
        super().__init__()
        self.app_settings = app_settings
        self.desk = Desk(services, training=training, parent=self)
        self.sync = self.desk.connect_sync(sync)
        self.setWindowTitle("Aestheticc POS — training" if training else "Aestheticc POS")
        self.resize(1366, 768)
        self.setWindowIcon(QIcon(str(RESOURCES / "icons" / "app.svg")))
        style = RESOURCES / "style.qss"
        if style.exists():
            self.setStyleSheet(style.read_text(encoding="utf-8"))

        self.pages = QStackedWidget()
        self._welcome: QWidget | None = None  # built on a first start only
        self.login = LoginView(self.desk)
        self.workspace = self._build_workspace()
        for page in (self.login, self.workspace):
            self.pages.addWidget(page)

        root = QWidget()
        column = QVBoxLayout(root)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        if training:
            banner = QLabel(
                "Training mode: a practice clinic, fresh each time training starts, and a simulated GoCardless. "
                f"Nothing here is real; the practice manager's PIN is {DEMO_MANAGER_PIN}, everyone else's "
                f"{DEMO_PIN}."
            )
            banner.setObjectName("banner")
            column.addWidget(banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(root)
        self.message_bar = MessageOverlay(root)  # floats over the page: never a row of the layout
        self._message_place = FollowGeometry(self._place_message, self)
        for watched in (self.pages, self.workspace):
            watched.installEventFilter(self._message_place)
        self.pages.currentChanged.connect(lambda _i: self._place_message())

        self.staff_label = QLabel("Not signed in")
        self.sync_label = QPushButton(status_text(self.sync.state, 0, 0))
        self.sync_label.setObjectName("link")
        self.sync_label.setToolTip(self.sync.state.sentence)
        self.sync_label.clicked.connect(lambda: self.open_screen("sync"))
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("link")
        self.sign_out_button.clicked.connect(self.sign_out)
        self.sign_out_button.hide()
        self.statusBar().addWidget(self.staff_label)
        self.statusBar().addPermanentWidget(self.sync_label)
        self.statusBar().addPermanentWidget(self.sign_out_button)

        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message_bar.hide)
        self.desk.message.connect(self.show_message)
        self.desk.changed.connect(self._on_changed)
        self.desk.open_appointment.connect(self.show_appointment)
        self.desk.start_checkout.connect(self.start_checkout)
        self.desk.open_client.connect(self.show_client)
        self.sync.state_changed.connect(lambda _state: self._show_sync())
        self.sync.counts_changed.connect(lambda *_: self._show_sync())
        self._painted = False
        self.painted.connect(self.sync.start)  # its first cycle reads the keyring: once the window shows
        self.painted.connect(LANDING.view_class)  # Today's module, loaded while staff choose their name
        self.login.signed_in.connect(self._signed_in)
        self.desk.run(lambda: clinic_service.is_set_up(services), self._first_page)
        self._backup_timer = QTimer(self)
        self._backup_timer.timeout.connect(self._scheduled_backup)
        self._first_backup = QTimer(self)  # once the desk has settled after start
        self._first_backup.setSingleShot(True)
        self._first_backup.timeout.connect(self._scheduled_backup)
        if app_settings is not None and app_settings.is_sqlite:
            self._backup_timer.start(BACKUP_CHECK_MINUTES * 60 * 1000)
            self._first_backup.start(30_000)

    # --- pages ---------------------------------------------------------------------------------------------

    @property
    def welcome(self) -> QWidget:
        """The first start's page (the clinic and its manager, or the demo), made when it is first needed."""
        if self._welcome is None:
            self._welcome = WELCOME(self.desk)
            self._welcome.ready.connect(self._show_login)  # type: ignore[attr-defined]
            self.pages.addWidget(self._welcome)
        return self._welcome

    def _first_page(self, set_up: bool) -> None:
        if set_up:
            self._show_login()
        else:
            self.pages.setCurrentWidget(self.welcome)

    def _show_login(self) -> None:
        self._load_settings()
        self.login.reload()
        self.pages.setCurrentWidget(self.login)

    def _signed_in(self, member: StaffMember) -> None:
        self.desk.sign_in(member)
        self.staff_label.setText(f"Signed in: {member.name} ({member.role.value})")
        self.sign_out_button.show()
        self._fill_nav()
        self.pages.setCurrentWidget(self.workspace)
        self.show_message(f"Welcome, {member.name}.")
        if self.desk.may(Action.CASH_UP):  # asked again each morning until they are settled
            services, staff_id = self.desk.services, member.id
            self.desk.run(
                lambda: close_of_day_service.visits_to_settle(services, staff_id, from_earlier_days=True),
                lambda visits: self._remind_to_settle(member, len(visits)),
            )

    def _remind_to_settle(self, member: StaffMember, count: int) -> None:
        if count and self.desk.staff is member:
            visits = (
                f"{count} visit{'s' if count > 1 else ''} of an earlier day {'are' if count > 1 else 'is'}"
            )
            self.show_message(
                f"Welcome, {member.name}. {visits} still booked: mark each attended, no-show or cancelled "
                f"on Close of day ({CLOSE_OF_DAY_KEY})."
            )

    def sign_out(self) -> None:
        """Back to the sign-in screen, with nothing of this person's work on it."""
        self.hide_message()
        self.desk.sign_in(None)
        self.staff_label.setText("Not signed in")
        self.sign_out_button.hide()
        self._history.clear()
        self._show_login()

    # --- the workspace -------------------------------------------------------------------------------------

    def _build_workspace(self) -> QWidget:
        workspace = QWidget()
        row = QHBoxLayout(workspace)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(210)
        self.nav.setIconSize(QSize(22, 22))
        self.nav.currentRowChanged.connect(self._open_row)
        self.stack = QStackedWidget()
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.views: dict[str, QWidget] = {}
        self._visible: list[Screen] = []
        self._hidden: dict[str, Screen] = {}
        self._shortcuts: list[QShortcut] = []
        self._history: list[str] = []
        return workspace

    def _fill_nav(self) -> None:
        self.nav.blockSignals(True)
        self.nav.clear()
        allowed = [s for s in screens(self.app_settings) if s.action is None or self.desk.may(s.action)]
        self._visible = [s for s in allowed if s.shortcut is not None]
        self._hidden = {s.key: s for s in allowed if s.shortcut is None}
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcuts = []
        for screen in self._visible:
            item = QListWidgetItem(QIcon(str(RESOURCES / "icons" / f"{screen.key}.svg")), screen.title)
            item.setToolTip(f"{screen.title} ({screen.shortcut})" if screen.shortcut else screen.title)
            self.nav.addItem(item)
            if not screen.shortcut:
                continue
            shortcut = QShortcut(QKeySequence(screen.shortcut), self)
            shortcut.activated.connect(lambda key=screen.key: self.open_screen(key))
            self._shortcuts.append(shortcut)
        self.nav.blockSignals(False)
        self.nav.setCurrentRow(0)
        self._open_row(0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self._visible):
            self.open_screen(self._visible[row].key)

    def may_leave(self, then: Callable[[], None]) -> bool:
        """Whether the screen showing may be left now. A screen with a ``may_leave(then)`` may ask first (changes
        not saved) and answer False: it calls ``then`` once it may be left, and nothing if staff stay."""
        leave = getattr(self.stack.currentWidget(), "may_leave", None)
        if not callable(leave) or leave(then):
            return True
        self._select_row(self.current_screen())  # the side bar stays on the screen still showing
        return False

    def open_screen(self, key: str, *, refresh: bool = True, remember: bool = True) -> QWidget | None:
        """Show a screen (building it the first time); side-bar screens also select their row.

        ``None`` when this person may not open it, or when the screen showing asked before being left: the
        screen is opened once that is answered (Save or Discard), or not at all (Cancel)."""
        screen = next((s for s in self._visible if s.key == key), None) or self._hidden.get(key)
        if screen is None:
            return None
        current = self.current_screen()
        if current not in (None, key) and not self.may_leave(
            lambda: self.open_screen(key, refresh=refresh, remember=remember)
        ):
            return None
        view = self.views.get(key)
        if view is None:
            view = screen.make(self.desk)
            self.views[key] = view
            self.stack.addWidget(view)
            back = getattr(view, "back", None)
            if back is not None:
                back.connect(self.go_back)
        if remember and current is not None and current != key:
            self._history.append(current)
        self.stack.setCurrentWidget(view)
        self._select_row(key)
        reload = getattr(view, "refresh", None)
        if refresh and callable(reload):
            reload()
        return view

    def _select_row(self, key: str | None) -> None:
        row = next((i for i, s in enumerate(self._visible) if s.key == key), -1)
        if row >= 0 and self.nav.currentRow() != row:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)

    def current_screen(self) -> str | None:
        current = self.stack.currentWidget()
        return next((key for key, view in self.views.items() if view is current), None)

    def go_back(self) -> None:
        """Return to the screen shown before this one (Today when there is none)."""
        if not self.may_leave(self.go_back):
            return
        key = self._history.pop() if self._history else "today"
        self.open_screen(key, remember=False)

    def start_checkout(self, request: CheckoutRequest) -> None:
        if not self._may_leave_for("checkout", lambda: self.start_checkout(request)):
            return
        view = self.open_screen("checkout")
        if view is not None:
            view.start_request(request)  # type: ignore[attr-defined]
        else:
            self.show_message("Only staff who take payments can open checkout.")

    def show_client(self, client_id: str) -> None:
        if not self._may_leave_for("clients", lambda: self.show_client(client_id)):
            return
        view = self.open_screen("clients", refresh=False)
        if view is not None:
            view.show_client(client_id)  # type: ignore[attr-defined]

    def show_appointment(self, appointment_id: str) -> None:
        if not self._may_leave_for("appointment", lambda: self.show_appointment(appointment_id)):
            return
        view = self.open_screen("appointment", refresh=False)
        if view is not None:
            view.show_appointment(appointment_id)  # type: ignore[attr-defined]

    def _may_leave_for(self, key: str, then: Callable[[], None]) -> bool:
        """Asked before opening ``key`` to do something on it: ``then`` does it all again once answered."""
        return self.current_screen() in (None, key) or self.may_leave(then)

    def _scheduled_backup(self) -> None:
        """The daily backup of the embedded database (DESIGN.md §4), off the GUI thread."""
        if self.app_settings is None:
            return
        services, app_settings = self.desk.services, self.app_settings
        self.desk.run(
            lambda: backups_service.back_up_if_due(services, app_settings),
            on_error=lambda sentence: self.show_message(
                f"The automatic backup could not be taken. {sentence}"
            ),
        )

    def _show_sync(self) -> None:
        self.sync_label.setText(status_text(self.sync.state, self.sync.queued, self.sync.attention))
        self.sync_label.setToolTip(self.sync.state.sentence)

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.painted.emit)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.sync.stop()
        self._backup_timer.stop()  # a closed window starts no more work
        self._first_backup.stop()
        super().closeEvent(event)

    # --- messages and settings -----------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """Float ``text`` over the top of the page for a while (a click or Esc puts it away)."""
        self.message_bar.setText(text)
        self.message_bar.show()
        self._place_message()
        self.message_bar.raise_()
        self._message_timer.start(MESSAGE_SECONDS * 1000)

    def hide_message(self) -> None:
        self._message_timer.stop()
        self.message_bar.hide()
        self.message_bar.clear()

    def _place_message(self) -> None:
        """Lay the message over the top of the page shown (right of the side bar on the desk)."""
        if not self.message_bar.isVisible():
            return
        area = self.stack if self.pages.currentWidget() is self.workspace else self.pages
        root = self.centralWidget()
        top_left = area.mapTo(root, area.rect().topLeft())
        width = max(area.width() - 2 * MESSAGE_MARGIN, 200)
        height = min(self.message_bar.heightForWidth(width), max(area.height() // 3, 48))
        self.message_bar.setGeometry(
            top_left.x() + MESSAGE_MARGIN, top_left.y() + MESSAGE_MARGIN // 2, width, max(height, 40)
        )

    def _on_changed(self, what: frozenset[str]) -> None:
        if SETTINGS in what:
            self._load_settings()

    def _load_settings(self) -> None:
        services = self.desk.services
        self.desk.run(services.settings, self._apply_settings)

    def _apply_settings(self, settings: ClinicSettings) -> None:
        self.desk.settings = settings
        title = f"Aestheticc POS — {settings.name}" if settings.name else "Aestheticc POS"
        self.setWindowTitle(f"{title} — training" if self.desk.training else title)
        self.login.title.setText(
            f"{settings.name}: who is signing in?" if settings.name else "Who is signing in?"
        )

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape and self.message_bar.isVisible():
            self.hide_message()
            return
        super().keyPressEvent(event)
