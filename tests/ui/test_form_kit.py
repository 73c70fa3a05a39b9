"""The form kit as staff meet it: every refusal at once, top to bottom; a package valid for 0 days is refused,
not quietly made 365; a £0 package asks first; closing with changes asks; a new client opens at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from staffing import front_desk
from test_settings_leaving import settle, wheel

from aestheticc_pos.services import catalogue
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.ui.dialogs.client_form import ClientFormDialog
from aestheticc_pos.ui.dialogs.package_form import PackageForm
from aestheticc_pos.ui.dialogs.tier_form import TierForm
from aestheticc_pos.ui.views.clients import ClientsView

WAIT = 10_000


def _manager(desk) -> None:
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.name == "Sophie Laurent"))


def _open(qtbot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


def _save(qtbot, form) -> None:
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)


def _shown_errors(form) -> dict[str, str]:
    return {name: label.text() for name, label in form.errors.items() if not label.isHidden()}


def test_every_wrong_client_detail_is_said_at_once_and_the_topmost_takes_the_focus(qtbot, desk) -> None:
    receptionist = front_desk(desk.services)
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.id == receptionist))
    form = _open(qtbot, ClientFormDialog(desk))
    qtbot.keyClicks(form.last_name, "Osei")
    qtbot.keyClicks(form.phone, "0770")
    qtbot.keyClicks(form.email, "amara.example.com")
    qtbot.keyClicks(form.date_of_birth, "31/02/1990")

    _save(qtbot, form)

    assert _shown_errors(form) == {
        "first_name": "Please type the client's first name.",
        "phone": "“0770” does not look like a phone number.",
        "email": "“amara.example.com” does not look like an email address.",
        "date_of_birth": "Date of birth: “31/02/1990” is not a date (type it like 24/11/2026).",
    }
    assert form.focusWidget() is form.first_name  # the topmost refused field
    assert not desk.runner.busy  # refused before anything was sent
    assert clients_service.search_client_ids(desk.services, "osei") == []
    settle(qtbot, desk)


def test_the_service_says_every_refusal_of_a_tier_at_once(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    form = _open(qtbot, TierForm(demo_desk))
    qtbot.keyClicks(form.monthly_price, "abc")
    qtbot.keyClicks(form.discount, "120")

    _save(qtbot, form)

    qtbot.waitUntil(lambda: form.save_button.isEnabled() and bool(_shown_errors(form)), timeout=WAIT)
    errors = _shown_errors(form)
    assert list(errors) == ["name", "monthly_price", "discount"]  # top to bottom
    assert errors["name"] == "A membership tier needs a name."
    assert errors["monthly_price"].startswith("The monthly price:")
    assert "100%" in errors["discount"]
    assert form.focusWidget() is form.name
    settle(qtbot, demo_desk)


def test_tier_sentences_wrap_inside_the_dialog(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    form = _open(qtbot, TierForm(demo_desk))
    qtbot.keyClicks(form.monthly_price, "forty-nine pounds and ninety-nine pence, every month")
    _save(qtbot, form)
    label = form.errors["monthly_price"]
    qtbot.waitUntil(lambda: not label.isHidden() and form.save_button.isEnabled(), timeout=WAIT)
    assert label.wordWrap()
    assert label.geometry().right() <= form.contentsRect().right()
    assert label.height() >= label.heightForWidth(label.width())  # no line of it cut off
    settle(qtbot, demo_desk)


def test_a_package_valid_for_0_days_is_refused_not_made_365(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    treatments = catalogue.list_treatments(demo_desk.services)
    form = _open(qtbot, PackageForm(demo_desk, treatments))
    qtbot.keyClicks(form.name, "Glow course")
    qtbot.keyClicks(form.price, "450.00")
    form.validity.lineEdit().selectAll()
    qtbot.keyClicks(form.validity.lineEdit(), "0")
    form.steps.add_step(treatments[0].id)
    qtbot.keyClick(form.validity.lineEdit(), Qt.Key.Key_Tab)  # leaving the field keeps the 0

    assert form.validity.value() == 0
    _save(qtbot, form)

    error = form.errors["validity_days"]
    qtbot.waitUntil(lambda: not error.isHidden(), timeout=WAIT)
    assert error.text().startswith("A package must be valid for at least 1 day (you typed 0)")
    assert "Glow course" not in [p.name for p in catalogue.list_packages(demo_desk.services)]
    settle(qtbot, demo_desk)


def test_a_package_at_0_pounds_asks_first(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    treatments = catalogue.list_treatments(demo_desk.services)
    form = _open(qtbot, PackageForm(demo_desk, treatments))
    qtbot.keyClicks(form.name, "Free taster")
    qtbot.keyClicks(form.price, "0")
    form.steps.add_step(treatments[0].id, sessions=2)

    _save(qtbot, form)
    box = form.question_box
    assert box is not None and box.isVisible()
    assert "£0.00" in box.text() and "its 2 sessions for nothing" in box.text()
    qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Go back"), Qt.MouseButton.LeftButton)
    assert form.isVisible() and not demo_desk.runner.busy

    _save(qtbot, form)
    with qtbot.waitSignal(form.saved, timeout=WAIT):
        qtbot.mouseClick(
            next(b for b in form.question_box.buttons() if b.text() == "Add package"),
            Qt.MouseButton.LeftButton,
        )
    assert "Free taster" in [p.name for p in catalogue.list_packages(demo_desk.services)]
    settle(qtbot, demo_desk)


def test_closing_a_form_with_changes_asks_and_cancel_keeps_it(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    form = _open(qtbot, TierForm(demo_desk))
    form.reject()  # nothing typed: it just closes
    assert not form.isVisible()

    form = _open(qtbot, TierForm(demo_desk))
    qtbot.keyClicks(form.name, "Diamond")
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    box = form.question_box
    assert box is not None and box.isVisible() and box.text() == "Save your changes to this form?"
    qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Cancel"), Qt.MouseButton.LeftButton)
    assert form.isVisible() and form.name.text() == "Diamond"

    qtbot.mouseClick(form.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(
        next(b for b in form.question_box.buttons() if b.text() == "Discard"), Qt.MouseButton.LeftButton
    )
    assert not form.isVisible() and form.result() == QDialog.DialogCode.Rejected
    settle(qtbot, demo_desk)


def test_the_wheel_over_a_forms_choice_leaves_it(qtbot, demo_desk) -> None:
    _manager(demo_desk)
    form = _open(qtbot, TierForm(demo_desk))
    chosen = form.benefits_start.currentIndex()
    wheel(form.benefits_start, notches=-1 if chosen == 0 else 1)
    wheel(form.grace_days, notches=1)
    assert form.benefits_start.currentIndex() == chosen
    assert form.grace_days.value() == demo_desk.settings.grace_days
    assert not form.has_changes()
    settle(qtbot, demo_desk)


def test_adding_a_client_opens_the_new_clients_record_not_the_last_one(qtbot, demo_desk) -> None:
    view = ClientsView(demo_desk)
    demo_desk.open_client.connect(view.show_client)  # as the main window does
    qtbot.addWidget(view)
    view.resize(1156, 728)
    view.show()
    earlier = clients_service.search_client_ids(demo_desk.services, "")[0]
    view.show_client(earlier)
    qtbot.waitUntil(lambda: view.record.record is not None, timeout=WAIT)

    view.new_client()
    form = view.form
    qtbot.keyClicks(form.first_name, "Amara")
    qtbot.keyClicks(form.last_name, "Osei")
    with qtbot.waitSignal(form.saved, timeout=WAIT) as saved:
        _save(qtbot, form)

    added = saved.args[0]
    assert view.pages.currentWidget() is view.record_page
    assert view.record.client_id == added.id != earlier
    qtbot.waitUntil(
        lambda: view.record.record is not None and view.record.record.client.id == added.id, timeout=WAIT
    )
    settle(qtbot, demo_desk)
