"""The team, kept by a manager: edit, a leaver, a PIN reset chosen anew at sign-in; all audited, and the clinic
always keeps a manager."""

from __future__ import annotations

import datetime as dt

import pytest
from catalogue_fixtures import add_client, save_demo_catalogue

from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.audit_repo import audit_entries


def _staff_audit(services: Services) -> list[tuple[str, str, dict[str, object]]]:
    with services.uow(read_only=True) as uow:
        entries = audit_entries(uow.session, record_type="staff")
    return [(e.action, e.record_id, dict(e.details)) for e in entries if e.action != "staff.added"]


def test_a_manager_renames_and_changes_a_role_and_the_log_keeps_no_name(
    services: Services, manager: str, receptionist: str
) -> None:
    edited = team.edit_staff(
        services, staff_id=receptionist, name="  Rita   Evans-Reid ", role="practitioner", by_staff_id=manager
    )
    assert (edited.name, edited.role) == ("Rita Evans-Reid", Role.PRACTITIONER)
    assert [(m.name, m.role) for m in team.team(services, manager)] == [
        ("Mia Manager", Role.MANAGER),
        ("Rita Evans-Reid", Role.PRACTITIONER),
    ]
    assert _staff_audit(services) == [
        ("staff.edited", receptionist, {"from_role": "receptionist", "to_role": "practitioner", "renamed": 1})
    ]
    team.edit_staff(
        services, staff_id=receptionist, name="Rita Evans-Reid", role=Role.PRACTITIONER, by_staff_id=manager
    )
    assert len(_staff_audit(services)) == 1  # nothing changed: nothing written


def test_the_last_manager_keeps_the_role_and_cannot_leave(
    services: Services, manager: str, receptionist: str
) -> None:
    with pytest.raises(RuleViolation, match="needs a manager"):
        team.edit_staff(
            services, staff_id=manager, name="Mia Manager", role="receptionist", by_staff_id=manager
        )
    with pytest.raises(RuleViolation, match="yourself"):
        team.mark_as_left(services, staff_id=manager, by_staff_id=manager)

    second = staff_service.add_staff(
        services, name="Max Owner", role=Role.MANAGER, pin="864200", by_staff_id=manager
    ).id
    team.edit_staff(services, staff_id=manager, name="Mia Manager", role="receptionist", by_staff_id=second)
    with pytest.raises(RuleViolation, match="needs a manager"):
        team.edit_staff(services, staff_id=second, name="Max Owner", role="practitioner", by_staff_id=second)


def test_a_leaver_is_kept_but_cannot_sign_in_or_be_listed(
    services: Services, manager: str, receptionist: str
) -> None:
    team.mark_as_left(services, staff_id=receptionist, by_staff_id=manager)

    assert [m.name for m in staff_service.list_staff(services)] == ["Mia Manager"]
    with pytest.raises(NotFound):
        staff_service.log_in(services, receptionist, "1234")
    everyone = team.team(services, manager, include_left=True)
    assert [(m.name, m.active, m.left_at is not None) for m in everyone] == [
        ("Mia Manager", True, False),
        ("Rita Reception", False, True),
    ]
    assert _staff_audit(services) == [("staff.left", receptionist, {"role": "receptionist"})]


def test_a_practitioner_with_bookings_ahead_is_refused_until_they_are_moved(
    services: Services, manager: str, receptionist: str, practitioner: str, clock
) -> None:
    catalogue = save_demo_catalogue(services)
    client = add_client(services)
    for days in (10, 3):
        appointments_service.book_appointment(
            services,
            client_id=client,
            treatment_id=catalogue.consultation.id,
            practitioner_id=practitioner,
            starts_at=clock.now() + dt.timedelta(days=days),
            staff_id=receptionist,
        )
    with pytest.raises(RuleViolation) as refused:
        team.mark_as_left(services, staff_id=practitioner, by_staff_id=manager)
    assert str(refused.value).startswith("Dr Priya Patel still has 2 booked appointments, the first on ")
    assert str(refused.value).endswith("Move them to someone else or cancel them first.")
    assert [m.id for m in staff_service.list_staff(services, role=Role.PRACTITIONER)] == [practitioner]


def test_a_reset_pin_stops_working_and_a_new_one_is_chosen_at_sign_in(
    services: Services, manager: str, receptionist: str
) -> None:
    with pytest.raises(NotPermitted, match="has not been reset"):
        team.choose_new_pin(services, receptionist, "5678")

    reset = team.reset_pin(services, staff_id=receptionist, by_staff_id=manager)
    assert (
        reset.pin_reset
        and next(m for m in staff_service.list_staff(services) if m.id == receptionist).pin_reset
    )
    with pytest.raises(NotPermitted, match="choose a new one"):
        staff_service.log_in(services, receptionist, "1234")  # the old PIN no longer signs in
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        team.choose_new_pin(services, receptionist, "12")

    signed_in = team.choose_new_pin(services, receptionist, "5678")
    assert (signed_in.id, signed_in.pin_reset) == (receptionist, False)
    assert staff_service.log_in(services, receptionist, "5678").id == receptionist
    with pytest.raises(NotPermitted, match="has not been reset"):
        team.choose_new_pin(services, receptionist, "9999")  # once only
    assert [a for a, _, _ in _staff_audit(services)] == ["staff.pin_reset", "staff.pin_chosen"]


def test_only_a_manager_keeps_the_team(services: Services, receptionist: str, practitioner: str) -> None:
    for attempt in (
        lambda: team.team(services, receptionist),
        lambda: team.reset_pin(services, staff_id=practitioner, by_staff_id=receptionist),
        lambda: team.mark_as_left(services, staff_id=practitioner, by_staff_id=receptionist),
        lambda: team.edit_staff(
            services, staff_id=practitioner, name="X", role="manager", by_staff_id=practitioner
        ),
    ):
        with pytest.raises(NotPermitted, match="Only a manager"):
            attempt()
