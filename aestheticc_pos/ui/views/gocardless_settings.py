"""The GoCardless part of Settings (manager): which environment this till uses and its access token.

The token is handed straight to the OS keyring through the till's ``SyncConnection`` and the field is cleared:
it is never shown again, never written to the database, a file or a log. Where the computer has no keyring the
card says so and offers nothing to type into. In training mode the simulated GoCardless needs no token.

"Practise in training mode" opens a second copy of the app on the training database with the simulator.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton

from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.till_settings import (
    choose_gocardless_environment,
    remove_gocardless_token,
    save_gocardless_token,
    token_problem,
)
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.sync.runner import SyncState, SyncStatus
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Card

ENVIRONMENT_CHOICES = (
    ("live", "Live — real Direct Debits"),
    ("sandbox", "Sandbox — GoCardless's test environment"),
)
KEPT_SAFE = "The token is kept in this computer's password store (keyring), never in the database or a file."
TRAINING = (
    "Training mode uses the simulated GoCardless on this computer: no token is needed and no money moves."
)


class GoCardlessCard(Card):
    def __init__(self, desk: Desk, app_settings: AppSettings | None) -> None:
        super().__init__("GoCardless Direct Debit")
        self.desk = desk
        self.app_settings = app_settings
        box = self.box
        self.state = QLabel("")
        self.state.setWordWrap(True)
        box.addWidget(self.state)

        self.environment = QComboBox()
        for value, caption in ENVIRONMENT_CHOICES:
            self.environment.addItem(caption, value)
        self.environment.activated.connect(lambda _index: self.change_environment())
        box.addWidget(self.environment)

        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Paste the access token from GoCardless (Developers → Access tokens)")
        self.token.returnPressed.connect(self.save_token)
        box.addWidget(self.token)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save token")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save_token)
        self.remove_button = QPushButton("Remove token")
        self.remove_button.clicked.connect(self.remove_token)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.note = QLabel(KEPT_SAFE)
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)
        box.addWidget(self.note)
        self.feedback = QLabel("")
        self.feedback.setWordWrap(True)
        self.feedback.hide()
        box.addWidget(self.feedback)
        self.training_button = QPushButton("Practise in training mode")
        self.training_button.setToolTip(
            "Opens a separate practice copy of the app with a simulated GoCardless; nothing there is real"
        )
        self.training_button.clicked.connect(self.open_training)
        box.addWidget(self.training_button)

        self.keyring_ok = True
        self.keyring_sentence = ""
        if desk.sync is not None:
            desk.sync.state_changed.connect(self._on_state)  # bound methods: dropped when the card goes
        desk.staff_changed.connect(self._on_staff)
        self.apply_role()
        self.refresh()

    def _on_state(self, _state: object) -> None:
        self.show_state()

    def _on_staff(self, _member: object) -> None:
        self.apply_role()

    @property
    def connection(self):  # type: ignore[no-untyped-def]
        return None if self.desk.sync is None else self.desk.sync.connection

    # --- loading -------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        connection = self.connection
        if connection is None or connection.training:
            self.show_state()
            return
        index = self.environment.findData(connection.environment)
        self.environment.setCurrentIndex(max(index, 0))
        self.desk.run(connection.keyring, self._keyring_known, lambda _s: None)

    def _keyring_known(self, result: tuple[bool, str]) -> None:
        self.keyring_ok, self.keyring_sentence = result
        self.show_state()

    def show_state(self) -> None:
        connection = self.connection
        training = connection is not None and connection.training
        self.training_button.setVisible(not self.desk.training)
        if training:
            self.state.setText(TRAINING)
        elif connection is None:
            self.state.setText("GoCardless is not available on this till.")
        elif not self.keyring_ok:
            self.state.setText(self.keyring_sentence)
        else:
            state: SyncState = connection.state
            self.state.setText(_state_words(state, connection.environment))
        for widget in (self.environment, self.token, self.save_button, self.remove_button, self.note):
            widget.setVisible(not training and connection is not None and self.keyring_ok)
        self.apply_role()

    def apply_role(self) -> None:
        manager = self.desk.may(Action.MANAGE_GOCARDLESS)
        for widget in (self.environment, self.token, self.save_button, self.remove_button):
            widget.setEnabled(manager)

    # --- actions -------------------------------------------------------------------------------------------

    def save_token(self) -> None:
        connection = self.connection
        if connection is None or not self.desk.may(Action.MANAGE_GOCARDLESS):
            return
        token = self.token.text().strip()
        problem = token_problem(token)
        if problem:
            self._say(problem, error=True)
            return
        self.token.clear()  # it lives in the keyring from now on, not on the screen
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(environment: str) -> None:
            self._say(f"Token saved for the {environment} environment. Connecting to GoCardless…")

        self.desk.run(
            lambda: save_gocardless_token(services, connection, token, staff_id),
            done,
            lambda sentence: self._say(sentence, error=True),
        )

    def remove_token(self) -> None:
        connection = self.connection
        if connection is None or not self.desk.may(Action.MANAGE_GOCARDLESS):
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(environment: str) -> None:
            self._say(f"The {environment} token is removed from this computer.")

        self.desk.run(
            lambda: remove_gocardless_token(services, connection, staff_id),
            done,
            lambda sentence: self._say(sentence, error=True),
        )

    def change_environment(self) -> None:
        connection = self.connection
        environment = self.environment.currentData()
        if connection is None or environment == connection.environment:
            return
        if not self.desk.may(Action.MANAGE_GOCARDLESS):
            self.environment.setCurrentIndex(self.environment.findData(connection.environment))
            return
        services, staff_id = self.desk.services, self.desk.staff_id
        data_dir = None if self.app_settings is None else self.app_settings.data_dir

        def done(_changed: bool) -> None:
            self._say(f"This till now syncs with the GoCardless {environment} environment.")
            self.show_state()

        def refused(sentence: str) -> None:
            self.environment.setCurrentIndex(self.environment.findData(connection.environment))
            self._say(sentence, error=True)

        self.desk.run(
            lambda: choose_gocardless_environment(services, connection, data_dir, environment, staff_id),
            done,
            refused,
        )

    def open_training(self) -> None:
        started = QProcess.startDetached(sys.executable, ["-m", "aestheticc_pos", "--training"])
        ok = started[0] if isinstance(started, tuple) else bool(started)
        if ok:
            self._say("Training mode is opening in a separate window.")
        else:
            self._say("Training mode could not be opened; start it with ./run --training.", error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet("color: #b3261e;" if error else "color: #2e7d5b;")
        self.feedback.show()


def _state_words(state: SyncState, environment: str) -> str:
    if state.status is SyncStatus.NOT_CONFIGURED:
        return f"No access token for the {environment} environment yet: paste one below to start syncing."
    if state.status is SyncStatus.ONLINE:
        return f"Connected to GoCardless ({environment})."
    return state.sentence
