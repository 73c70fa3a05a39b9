"""Settings → Email: the clinic's mail server saved with its password in the keyring (never shown again), a test
email that reaches a real SMTP server on 127.0.0.1, refusals under their field, and a clear sentence where the
computer has no password store."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from smtp_mailbox import PASSWORD, USER, running_mailbox
from staffing import first_manager

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.keyring_store import NO_KEYRING_FOR_MAIL, MemoryPasswords
from aestheticc_pos.mailer import Security
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui.views.email_settings import KEPT_SAFE, NOT_SET_UP, EmailSettingsCard
from aestheticc_pos.ui.views.settings import SettingsView


def _manager_desk(desk) -> str:
    manager = first_manager(desk.services)
    desk.sign_in(StaffMember(manager, "Mia Manager", Role.MANAGER))
    return manager


def _card(qtbot, desk, passwords) -> EmailSettingsCard:
    card = EmailSettingsCard(desk, passwords)
    qtbot.addWidget(card)
    card.show()
    qtbot.waitUntil(lambda: card.setup is not None, timeout=5000)
    return card


def test_saving_keeps_the_password_in_the_keyring_and_a_test_email_arrives(qtbot, desk) -> None:
    manager = _manager_desk(desk)
    passwords = MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL)
    card = _card(qtbot, desk, passwords)
    assert card.state.text() == NOT_SET_UP and card.keyring_note.text() == KEPT_SAFE

    with running_mailbox() as (box, port):
        card.host.setText("127.0.0.1")
        card.security.setCurrentIndex(card.security.findData(Security.NONE.value))
        assert card.port.value() == 25  # the usual port of the security chosen
        card.port.setValue(port)
        card.user.setText(USER)
        card.password.setText(PASSWORD)
        card.sender.setText("Glow Clinic <hello@glow.example>")
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "saved" in card.feedback.text(), timeout=5000)
        assert passwords.passwords == {f"{USER}@127.0.0.1:{port}": PASSWORD}
        assert card.password.text() == ""  # never shown again
        qtbot.waitUntil(lambda: "Kept safely" in card.password.placeholderText(), timeout=5000)
        assert (
            card.state.text()
            == f"Emails go through 127.0.0.1:{port} (no encryption) from Glow Clinic <hello@glow.example>."
        )
        server = email_service.mail_server(desk.services, manager)
        assert (server.host, server.port, server.security, server.user) == (
            "127.0.0.1",
            port,
            Security.NONE,
            USER,
        )

        card.test_to.setText("owner@glow.example")
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "was sent to owner@glow.example" in card.feedback.text(), timeout=10_000)
        [message] = box.received
        assert (message["To"], message["From"]) == ("owner@glow.example", "Glow Clinic <hello@glow.example>")
        assert message["Subject"].startswith("Test email from")

        card.port.setValue(1)  # nothing listens there
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "saved" in card.feedback.text() and card.port.value() == 1, timeout=5000)
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "cannot be reached" in card.feedback.text(), timeout=30_000)
        assert card.feedback.objectName() == "error"


def test_a_refusal_is_shown_under_its_field(qtbot, desk) -> None:
    _manager_desk(desk)
    card = _card(qtbot, desk, MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL))
    card.host.setText("smtp glow example")
    card.sender.setText("hello@glow.example")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.fields.errors["host"].isVisible(), timeout=5000)
    assert "mail server's name only" in card.fields.errors["host"].text()
    assert card.host.text() == "smtp glow example"  # nothing typed is lost


def test_without_a_keyring_the_card_says_so_and_takes_no_password(qtbot, desk) -> None:
    _manager_desk(desk)
    card = _card(qtbot, desk, MemoryPasswords(available=False, no_keyring=NO_KEYRING_FOR_MAIL))
    assert card.keyring_note.text() == NO_KEYRING_FOR_MAIL
    assert not card.password.isEnabled() and card.save_button.isEnabled()


def test_only_a_manager_may_change_it_and_it_is_on_the_settings_screen(qtbot, desk) -> None:
    manager = _manager_desk(desk)
    receptionist = staff_service.add_staff(
        desk.services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager
    )
    view = SettingsView(desk)
    qtbot.addWidget(view)
    assert isinstance(view.email_card, EmailSettingsCard)
    desk.sign_in(receptionist)
    card = view.email_card
    assert card.host.isReadOnly() and not card.save_button.isEnabled() and not card.test_button.isEnabled()


def test_a_card_gone_before_its_answer_comes_back_is_left_alone(qtbot, desk) -> None:
    """Settings closed (or staff signed out) while the mail set-up is being read: the answer finds no card, and
    nothing is raised; a later change of staff does not reach it either."""
    manager = _manager_desk(desk)
    card = EmailSettingsCard(desk, MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL))
    with qtbot.waitSignal(desk.runner.busy_changed, check_params_cb=lambda busy: not busy, timeout=5000):
        card.refresh()  # the answer is on its way
        shiboken6.delete(card)
    assert not shiboken6.isValid(card)
    desk.sign_in(StaffMember(manager, "Mia Manager", Role.MANAGER))  # the card's connection went with it
    qtbot.wait(50)
