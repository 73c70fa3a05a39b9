"""Adding and editing a client: refusals are sentences under their field, and nothing typed is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from staffing import front_desk

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.ui.dialogs.client_form import ClientFormDialog
from aestheticc_pos.ui.topics import CLIENTS


@pytest.fixture
def form(qtbot, desk):
    _sign_in_the_front_desk(desk)
    dialog = ClientFormDialog(desk)
    qtbot.addWidget(dialog)
    dialog.open()
    yield dialog
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=10_000)


def _sign_in_the_front_desk(desk) -> str:
    """Every client is added and edited by someone signed in."""
    staff_id = front_desk(desk.services)
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.id == staff_id))
    return staff_id


def _type(qtbot, form: ClientFormDialog, **fields: str) -> None:
    for name, text in fields.items():
        widget = form.fields[name]
        widget.clear()
        qtbot.keyClicks(widget, text)


def _save_and_wait_for_error(qtbot, form: ClientFormDialog, field: str) -> str:
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.errors[field].isVisible() and form.save_button.isEnabled(), timeout=5000)
    return form.errors[field].text()


def test_a_new_client_is_added_and_the_desk_is_told(qtbot, form, desk) -> None:
    _type(
        qtbot,
        form,
        first_name="Amara",
        last_name="Osei",
        phone="+44 7700 900777",
        email="Amara@Example.COM",
        date_of_birth="03/07/1991",
        notes="Prefers mornings.",
    )
    qtbot.mouseClick(form.marketing_consent, Qt.MouseButton.LeftButton)
    messages: list[str] = []
    desk.message.connect(messages.append)
    with qtbot.waitSignal(form.saved, timeout=5000) as saved, qtbot.waitSignal(desk.changed) as changed:
        qtbot.keyClick(form.email, Qt.Key.Key_Return)  # Enter saves
    client = saved.args[0]
    assert CLIENTS in changed.args[0]
    assert messages == ["Amara Osei added."]
    assert form.result() == QDialog.DialogCode.Accepted
    stored = clients_service.get_client(desk.services, client.id)
    assert (stored.phone, stored.email, stored.date_of_birth) == (
        "07700900777",
        "Amara@example.com",
        dt.date(1991, 7, 3),
    )
    assert stored.notes == "Prefers mornings." and stored.marketing_consent


def test_a_missing_first_name_is_said_under_it_and_it_takes_the_focus(qtbot, form) -> None:
    _type(qtbot, form, last_name="Osei", email="amara@example.com")
    assert _save_and_wait_for_error(qtbot, form, "first_name") == "Please type the client's first name."
    assert form.first_name.hasFocus()
    assert (form.last_name.text(), form.email.text()) == ("Osei", "amara@example.com")
    assert form.isVisible()


def test_a_bad_email_then_the_fix(qtbot, form, desk) -> None:
    _type(qtbot, form, first_name="Amara", last_name="Osei", email="amara.example.com")
    sentence = _save_and_wait_for_error(qtbot, form, "email")
    assert sentence == "“amara.example.com” does not look like an email address."
    assert not form.errors["first_name"].isVisible() and not form.status.isVisible()
    assert form.email.text() == "amara.example.com"

    _type(qtbot, form, email="amara@example.com")
    assert not form.errors["email"].isVisible()
    with qtbot.waitSignal(form.saved, timeout=5000):
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert clients_service.search_client_ids(desk.services, "amara osei")


def test_a_bad_phone_number_is_said_under_the_phone(qtbot, form) -> None:
    _type(qtbot, form, first_name="Amara", last_name="Osei", phone="0770")
    assert _save_and_wait_for_error(qtbot, form, "phone") == "“0770” does not look like a phone number."


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("31/02/1990", "Date of birth: “31/02/1990” is not a date (type it like 24/11/2026)."),
        ("01/12/2026", "A date of birth cannot be in the future."),
        ("1 Jan 1890", "That date of birth is more than 120 years ago. Check the year."),
    ],
)
def test_a_date_of_birth_that_cannot_be_right_is_said_under_it(
    qtbot, form, typed: str, sentence: str
) -> None:
    _type(qtbot, form, first_name="Amara", last_name="Osei", date_of_birth=typed)
    assert _save_and_wait_for_error(qtbot, form, "date_of_birth") == sentence
    assert form.date_of_birth.text() == typed


def test_editing_starts_from_what_is_on_file_and_keeps_the_rest(qtbot, desk) -> None:
    client = clients_service.add_client(
        desk.services,
        staff_id=_sign_in_the_front_desk(desk),
        first_name="Lena",
        last_name="Fischer",
        phone="07700900123",
        email="lena@example.com",
        date_of_birth=dt.date(1990, 5, 17),
        notes="Sensitive skin.",
    )
    form = ClientFormDialog(desk, client)
    qtbot.addWidget(form)
    form.open()
    assert form.windowTitle() == "Edit client"
    assert [
        form.fields[n].text() for n in ("first_name", "last_name", "phone", "email", "date_of_birth")
    ] == ["Lena", "Fischer", "07700 900123", "lena@example.com", "17/05/1990"]
    assert form.notes.toPlainText() == "Sensitive skin."
    _type(qtbot, form, last_name="Fischer-Wolf")
    messages: list[str] = []
    desk.message.connect(messages.append)
    with qtbot.waitSignal(form.saved, timeout=5000):
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert messages == ["Lena Fischer-Wolf's details saved."]
    stored = clients_service.get_client(desk.services, client.id)
    assert (stored.last_name, stored.notes, stored.date_of_birth) == (
        "Fischer-Wolf",
        "Sensitive skin.",
        dt.date(1990, 5, 17),
    )


def test_editing_a_client_erased_meanwhile_says_so_under_the_form(qtbot, demo_desk) -> None:
    services = demo_desk.services
    client = clients_service.get_client(
        services, clients_service.search_client_ids(services, "poppy scott")[0]
    )
    form = ClientFormDialog(demo_desk, client)
    qtbot.addWidget(form)
    form.open()
    manager = next(m for m in staff_service.list_staff(services) if m.name == "Sophie Laurent")
    clients_service.erase_client(services, client.id, staff_id=manager.id, reason="Asked to be forgotten")
    _type(qtbot, form, notes="Moved away.")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(form.status.isVisible, timeout=5000)
    assert form.status.text() == "That client is not on file (they may have been erased)."
    assert form.isVisible() and form.notes.toPlainText() == "Moved away."
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=5000)
