"""The catalogue screen as the manager uses it: treatments, packages with steps, tiers; and a receptionist's view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.services import catalogue
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.package_form import PackageForm
from aestheticc_pos.ui.dialogs.tier_form import TierForm
from aestheticc_pos.ui.dialogs.treatment_form import TreatmentForm
from aestheticc_pos.ui.views.catalogue import MANAGER_ONLY, CataloguePage, CatalogueView

WAIT = 5000


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, desk: Desk):
    """Let every service call the test started call back before the desk goes away."""
    yield
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, demo_desk: Desk) -> CatalogueView:
    _sign_in(demo_desk, "Sophie Laurent")
    return _open(qtbot, demo_desk)


def _open(qtbot, desk: Desk) -> CatalogueView:
    view = CatalogueView(desk)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.treatments.model.rowCount() > 0, timeout=WAIT)
    return view


def _rows(page: CataloguePage) -> list[list[str]]:
    model = page.model
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())
    ]


def _row_named(page: CataloguePage, name: str) -> list[str] | None:
    return next((row for row in _rows(page) if row[0] == name), None)


def _select(page: CataloguePage, name: str) -> None:
    names = [row[0] for row in _rows(page)]
    page.table.selectRow(names.index(name))


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_price_of_abc_is_refused_beside_the_field_then_the_fixed_treatment_is_listed(qtbot, view) -> None:
    _click(qtbot, view.treatments.add_button)
    form = view.form
    assert isinstance(form, TreatmentForm) and form.isVisible()
    qtbot.keyClicks(form.name, "Jawline filler (2 ml)")
    qtbot.keyClicks(form.price, "abc")
    form.duration.setValue(45)
    _click(qtbot, form.save_button)

    error = form.errors["price"]
    qtbot.waitUntil(error.isVisible, timeout=WAIT)  # the service checks every field at once
    assert "“abc” is not an amount of money" in error.text()
    assert form.isVisible() and form.name.text() == "Jawline filler (2 ml)"  # nothing typed is lost

    form.price.clear()
    qtbot.keyClicks(form.price, "120.00")
    assert not error.isVisible()  # the sentence goes once the field is corrected
    _click(qtbot, form.save_button)

    qtbot.waitUntil(lambda: _row_named(view.treatments, "Jawline filler (2 ml)") is not None, timeout=WAIT)
    assert not form.isVisible()
    row = _row_named(view.treatments, "Jawline filler (2 ml)")
    assert row[1:4] == ["£120.00", "20%", "45 min"]
    assert view.treatments.selected().name == "Jawline filler (2 ml)"


def test_a_package_needs_steps_then_is_saved_with_two_steps_and_their_delays(qtbot, view) -> None:
    view.tabs.setCurrentWidget(view.packages)
    _click(qtbot, view.packages.add_button)
    form = view.form
    assert isinstance(form, PackageForm)
    qtbot.keyClicks(form.name, "Glow course")
    qtbot.keyClicks(form.price, "450.00")
    form.validity.setValue(180)
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.errors["steps"].isVisible(), timeout=WAIT)
    assert form.errors["steps"].text() == "A package needs at least one treatment step."
    assert form.name.text() == "Glow course"

    _click(qtbot, form.steps.add_button)
    _click(qtbot, form.steps.add_button)
    first, second = form.steps.rows
    first.treatment.setCurrentIndex(first.treatment.findText("HydraFacial"))
    first.sessions.setValue(3)
    first.between.setValue(21)
    second.treatment.setCurrentIndex(second.treatment.findText("Skin consultation"))
    assert not first.after.isEnabled() and second.after.isEnabled()  # the first step has no delay before it

    _click(qtbot, second.up)  # the consultation comes first
    assert [s.treatment_id for s in form.steps.steps()] == ["tr-consult-skin", "tr-hydrafacial"]
    form.steps.rows[1].after.setValue(7)
    assert "4 sessions in all" in form.steps.summary.text()
    _click(qtbot, form.save_button)

    qtbot.waitUntil(lambda: _row_named(view.packages, "Glow course") is not None, timeout=WAIT)
    row = _row_named(view.packages, "Glow course")
    assert row[1:4] == [
        "£450.00",
        "180 days",
        "Skin consultation ×1 → 7 days → HydraFacial ×3, 21 days apart",
    ]
    [saved] = [p for p in catalogue.list_packages(view.desk.services) if p.name == "Glow course"]
    assert [
        (s.treatment_id, s.sessions, s.min_days_after_previous, s.min_days_between_sessions)
        for s in saved.steps
    ] == [("tr-consult-skin", 1, 0, 0), ("tr-hydrafacial", 3, 7, 21)]


def test_editing_a_tiers_discount(qtbot, view) -> None:
    view.tabs.setCurrentWidget(view.tiers)
    _select(view.tiers, "Gold")
    _click(qtbot, view.tiers.edit_button)
    form = view.form
    assert isinstance(form, TierForm)
    assert (form.monthly_price.text(), form.discount.text()) == ("49.00", "20")
    form.discount.clear()
    qtbot.keyClicks(form.discount, "25")
    _click(qtbot, form.save_button)

    qtbot.waitUntil(lambda: _row_named(view.tiers, "Gold")[3] == "25%", timeout=WAIT)
    assert catalogue.get_tier(view.desk.services, "tier-gold").discount_bp == 2500
    assert view.tiers.selected().id == "tier-gold"


def test_a_new_tier_with_a_sign_up_fee_after_a_refused_fee(qtbot, view) -> None:
    view.tabs.setCurrentWidget(view.tiers)
    assert _row_named(view.tiers, "Gold")[2] == "None"  # no fee
    _click(qtbot, view.tiers.add_button)
    form = view.form
    assert isinstance(form, TierForm) and form.signup_fee.text() == ""
    qtbot.keyClicks(form.name, "Diamond")
    qtbot.keyClicks(form.monthly_price, "99.00")
    qtbot.keyClicks(form.signup_fee, "twenty")
    qtbot.keyClicks(form.discount, "35")
    _click(qtbot, form.save_button)

    error = form.errors["signup_fee"]
    qtbot.waitUntil(error.isVisible, timeout=WAIT)  # the service checks every field at once
    assert "“twenty” is not an amount of money" in error.text()
    assert form.isVisible() and form.name.text() == "Diamond"  # nothing typed is lost
    form.signup_fee.clear()
    qtbot.keyClicks(form.signup_fee, "25.00")
    assert not error.isVisible()
    _click(qtbot, form.save_button)

    qtbot.waitUntil(lambda: _row_named(view.tiers, "Diamond") is not None, timeout=WAIT)
    assert _row_named(view.tiers, "Diamond")[1:4] == ["£99.00", "£25.00", "35%"]
    [saved] = [t for t in catalogue.list_tiers(view.desk.services) if t.name == "Diamond"]
    assert saved.signup_fee.pence == 2500

    _click(qtbot, view.tiers.edit_button)  # the new tier is selected: take the fee away again
    form = view.form
    assert form.signup_fee.text() == "25.00"
    form.signup_fee.clear()
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: _row_named(view.tiers, "Diamond")[2] == "None", timeout=WAIT)
    assert not catalogue.get_tier(view.desk.services, saved.id).signup_fee


def test_taking_a_treatment_off_sale_and_offering_it_again(qtbot, view) -> None:
    page = view.treatments
    _select(page, "Dermaplaning")
    assert page.toggle_button.text() == "Stop offering"
    _click(qtbot, page.toggle_button)
    qtbot.waitUntil(lambda: _row_named(page, "Dermaplaning") is None, timeout=WAIT)
    assert page.empty.text() == "1 treatment no longer offered, not shown."

    page.show_inactive.setChecked(True)
    assert _row_named(page, "Dermaplaning")[-1] == "No longer offered"
    _select(page, "Dermaplaning")
    assert page.toggle_button.text() == "Offer again"
    _click(qtbot, page.toggle_button)
    qtbot.waitUntil(lambda: _row_named(page, "Dermaplaning")[-1] == "", timeout=WAIT)
    assert catalogue.get_treatment(view.desk.services, "tr-dermaplane").active


def test_a_receptionist_sees_the_catalogue_but_cannot_change_it(qtbot, demo_desk: Desk) -> None:
    view = _open(qtbot, demo_desk)  # Rita Evans, receptionist

    assert view.notice.isVisible() and view.notice.text() == MANAGER_ONLY
    assert not view.treatments.add_button.isVisible()
    assert _row_named(view.treatments, "HydraFacial") is not None
    assert view.add(catalogue.CatalogueKind.TREATMENT) is None
    assert view.status.text() == MANAGER_ONLY

    form = TreatmentForm(demo_desk, parent=view)  # were a form opened anyway, the service refuses
    form.show()
    qtbot.keyClicks(form.name, "Cheap filler")
    qtbot.keyClicks(form.price, "10.00")
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.status.isVisible(), timeout=WAIT)
    assert form.status.text() == MANAGER_ONLY
    assert all(t.name != "Cheap filler" for t in catalogue.list_treatments(demo_desk.services))

    _sign_in(demo_desk, "Sophie Laurent")  # the manager takes over the till
    assert not view.notice.isVisible() and view.treatments.add_button.isVisible()


def _sign_in(desk: Desk, name: str) -> None:
    """Another member of the demo staff takes over the till (as ``conftest.sign_in``)."""
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.name == name))


def test_a_manager_publishes_the_catalogue_to_the_booking_portal_folder(qtbot, view, tmp_path) -> None:
    messages: list[str] = []
    view.desk.message.connect(messages.append)
    assert view.publish_button.isEnabled()

    view.publish(tmp_path / "portal")

    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT)
    assert messages[0].startswith("Published ") and str(tmp_path / "portal") in messages[0]
    assert (tmp_path / "portal" / "catalogue.json").exists()
    assert (tmp_path / "portal" / "index.html").exists()
    assert view.publish_button.text() == "Publish to booking portal…"


def test_a_receptionist_cannot_publish_the_catalogue(qtbot, demo_desk, tmp_path) -> None:
    view = _open(qtbot, demo_desk)  # Rita Evans, receptionist
    assert not view.publish_button.isEnabled()

    view.publish(tmp_path / "portal")

    assert view.status.text() == MANAGER_ONLY
    assert not (tmp_path / "portal").exists()
