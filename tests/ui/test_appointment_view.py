"""The appointment as the practitioner sees it before treating: sessions left on the covering package, the
step-gap check, attend, cancel (with its warnings about later bookings), no-show and check out."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from staffing import front_desk

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.checkout import complete_sale, quote_basket
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui.desk import CheckoutRequest
from aestheticc_pos.ui.topics import APPOINTMENTS, PACKAGES
from aestheticc_pos.ui.views.appointment import AppointmentView
from aestheticc_pos.ui.views.appointment_facts import GAPS_RESPECTED


def _sell_botox_starter(desk, client_id: str) -> None:
    items = [BasketItem(ItemKind.PACKAGE, "pk-botox-starter")]
    total = quote_basket(desk.services, client_id=client_id, items=items).net
    complete_sale(
        desk.services,
        client_id=client_id,
        items=items,
        payments=[Payment("card", total)],
        staff_id=desk.staff_id,
    )


def _book(desk, client_id: str, treatment_id: str, day: int) -> str:
    """Booked through the service (the booking form has its own tests), at 19:00 when every practitioner is free."""
    shah = next(m for m in appointments_service.practitioners(desk.services) if m.name == "Dr Amira Shah")
    booked = appointments_service.book_appointment(
        desk.services,
        client_id=client_id,
        treatment_id=treatment_id,
        practitioner_id=shah.id,
        starts_at=dt.datetime(2026, 11, day, 19, 0, tzinfo=desk.settings.tz),
        staff_id=desk.staff_id,
    )
    return booked.appointment.id


def _view(qtbot, desk, appointment_id: str) -> AppointmentView:
    view = AppointmentView(desk)
    qtbot.addWidget(view)
    view.resize(1166, 720)
    view.show()
    _open(qtbot, view, appointment_id)
    return view


def _open(qtbot, view: AppointmentView, appointment_id: str) -> None:
    with qtbot.waitSignal(view.loaded):
        view.show_appointment(appointment_id)


def _counts(view: AppointmentView, position: int) -> tuple[str, ...]:
    [progress] = view.packages.progress
    return tuple(label.text() for label in progress.counts[position])


def test_the_practitioner_sees_the_sessions_left_and_attending_redeems_one(qtbot, demo_desk) -> None:
    client = clients_service.add_client(
        demo_desk.services, staff_id=front_desk(demo_desk.services), first_name="Nadia", last_name="Okafor"
    )
    memberships_service.start_membership(
        demo_desk.services, client_id=client.id, tier_id="tier-platinum", staff_id=demo_desk.staff_id
    )  # benefits from sign-up
    _sell_botox_starter(demo_desk, client.id)
    consultation = _book(demo_desk, client.id, "tr-consult", 24)

    view = _view(qtbot, demo_desk, consultation)

    assert view.title.text() == "Botox consultation"
    assert view.status_badge.text() == "Booked"
    assert view.subtitle.text() == "Tuesday 24 Nov 2026  ·  19:00–19:30  ·  30 min"
    assert view.facts.client_button.text() == "Nadia Okafor"
    assert view.facts.practitioner.text() == "Dr Amira Shah"
    assert view.facts.paid_by.text() == "Botox starter · step 1"
    assert view.facts.membership_badge.isVisible()
    assert view.facts.membership_badge.text() == "Platinum member · Direct Debit not set up yet"
    assert view.facts.membership_badge.property("tone") == "okBadge"  # the discount applies already
    assert view.packages.progress[0].name.text() == "Botox starter"
    assert view.packages.progress[0].expiry.text() == "Expires 24 Mar 2027"
    assert _counts(view, 1) == ("0", "1", "0")  # used / booked / remaining
    assert _counts(view, 2) == ("0", "0", "1")
    assert _counts(view, 3) == ("0", "0", "1")
    assert view.packages.gaps.text().endswith(GAPS_RESPECTED)
    assert view.attend_button.isEnabled() and view.cancel_button.isEnabled()
    assert not view.no_show_button.isEnabled()  # 19:00 has not come yet
    assert view.hint.text() == "No-show is available once the appointment time has passed."

    heard: list[frozenset[str]] = []
    demo_desk.changed.connect(heard.append)
    qtbot.mouseClick(view.attend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.status_badge.text() == "Attended", timeout=5000)
    assert {APPOINTMENTS, PACKAGES} <= heard[0]  # the commit said what it wrote: other screens refresh
    assert _counts(view, 1) == ("1", "0", "0")
    assert (
        view.result.text() == "Nadia Okafor attended Botox consultation. A session of Botox starter was used."
    )
    assert not view.attend_button.isEnabled() and not view.cancel_button.isEnabled()

    with qtbot.waitSignal(demo_desk.start_checkout) as checkout:
        qtbot.mouseClick(view.checkout_button, Qt.MouseButton.LeftButton)
    # The package paid for the consultation at Attend: checkout opens for the client without it.
    assert checkout.args == [CheckoutRequest(client.id)]


def test_cancelling_warns_about_later_bookings_and_a_no_show_is_marked_once_the_time_has_passed(
    qtbot, demo_desk
) -> None:
    client_id = clients_service.add_client(
        demo_desk.services, staff_id=front_desk(demo_desk.services), first_name="Ivy", last_name="Marsh"
    ).id
    _sell_botox_starter(demo_desk, client_id)
    consultation = _book(demo_desk, client_id, "tr-consult", 25)
    treatment = _book(demo_desk, client_id, "tr-botox", 27)

    view = _view(qtbot, demo_desk, treatment)
    assert view.title.text() == "Botox treatment (up to 3 areas)"
    assert _counts(view, 1) == ("0", "1", "0") and _counts(view, 2) == ("0", "1", "0")
    assert view.packages.gaps.text().endswith(GAPS_RESPECTED)
    assert not view.attend_button.isEnabled()  # Friday's appointment is attended on Friday
    assert view.hint.text() == "Attend is available on the day of the appointment."

    # Cancel the consultation, in time: its session comes back, and the treatment now breaks the gap rule.
    _open(qtbot, view, consultation)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert view.confirm_card.isVisible()
    assert view.confirm_text.text().startswith("Cancel ")
    assert view.keep_button.hasFocus()  # Enter on the question keeps the appointment
    qtbot.mouseClick(view.confirm_button, Qt.MouseButton.LeftButton)
    # The badge can follow the refresh a moment before the use case's sentence arrives: wait for both
    qtbot.waitUntil(
        lambda: view.status_badge.text() == "Cancelled" and bool(view.result.text()), timeout=5000
    )
    assert _counts(view, 1) == ("0", "0", "1")
    lines = view.result.text().splitlines()
    assert lines[0].startswith("Cancelled: ") and lines[0].endswith(
        "The Botox starter session was given back."
    )
    assert "now break its minimum gaps" in lines[1]
    assert lines[2].startswith("•  ") and "27 Nov 2026" in lines[2]
    assert not view.confirm_card.isVisible()
    assert not view.packages.gaps.isVisible()  # a cancelled booking has no gaps to respect

    _open(qtbot, view, treatment)
    assert view.packages.gaps.property("tone") == "dangerText"
    assert GAPS_RESPECTED not in view.packages.gaps.text() and view.packages.gaps.text()

    # A client who did not come: once their time has passed, No-show records it.
    first_today = appointments_service.appointments_on(demo_desk.services, dt.date(2026, 11, 24))[0]
    demo_desk.services.clock.set(first_today.starts_at + dt.timedelta(minutes=20))
    _open(qtbot, view, first_today.id)
    assert view.no_show_button.isEnabled()
    qtbot.mouseClick(view.no_show_button, Qt.MouseButton.LeftButton)
    assert view.confirm_button.text() == "Yes, mark as no-show"
    qtbot.mouseClick(view.keep_button, Qt.MouseButton.LeftButton)  # changed their mind: nothing happens
    assert not view.confirm_card.isVisible() and view.status_badge.text() == "Booked"
    qtbot.mouseClick(view.no_show_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.status_badge.text() == "No-show", timeout=5000)
    assert view.result.text().startswith(f"Marked as a no-show: {first_today.client_name}")
