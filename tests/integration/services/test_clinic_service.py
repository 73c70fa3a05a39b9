"""The clinic's settings and its first start on an empty database."""

from __future__ import annotations

import pytest

from aestheticc_pos.domain.appointments import NoShowPolicy
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.audit_repo import audit_entries


@pytest.fixture
def empty(uow_factory, clock) -> Services:
    """Services over a migrated database with no settings and no staff (the first start)."""
    return Services(uow=uow_factory, clock=clock)


def _set_up(services: Services, **overrides: str):
    values = dict(
        name="Glow Clinic",
        address="2 Milsom Street, Bath",
        vat_number="GB 123 4567 89",
        time_zone="Europe/London",
        manager_name="Mia  Manager",
        manager_pin="432100",
    )
    values.update(overrides)
    return clinic.set_up_clinic(services, **values)


def test_set_up_on_an_empty_database_then_refused_the_second_time(empty) -> None:
    assert not clinic.is_set_up(empty)

    manager = _set_up(empty)

    assert (manager.name, manager.role) == ("Mia Manager", Role.MANAGER)
    assert clinic.is_set_up(empty)
    settings = clinic.clinic_settings(empty)
    assert (settings.name, settings.vat_number, settings.time_zone) == (
        "Glow Clinic",
        "GB123456789",
        "Europe/London",
    )
    assert staff_service.log_in(empty, manager.id, "432100") == manager
    with empty.uow(read_only=True) as uow:
        [entry] = audit_entries(uow.session, record_type="settings")
    assert (entry.action, entry.staff_id) == ("clinic.set_up", manager.id)

    with pytest.raises(RuleViolation, match="already set up"):
        _set_up(empty, name="Another Clinic", manager_name="Someone Else")
    assert clinic.clinic_settings(empty).name == "Glow Clinic"
    assert [m.name for m in staff_service.list_staff(empty)] == ["Mia Manager"]


def test_set_up_refuses_bad_input_and_writes_nothing(empty) -> None:
    with pytest.raises(InvalidInput, match="not a time zone"):
        _set_up(empty, time_zone="Mars/Olympus")
    with pytest.raises(InvalidInput, match="A manager's PIN is 6 to 8 digits"):
        _set_up(empty, manager_pin="1234")
    with pytest.raises(InvalidInput, match="needs a name"):
        _set_up(empty, name="  ")
    with pytest.raises(InvalidInput, match="not a VAT number"):
        _set_up(empty, vat_number="GB-12!")
    assert not clinic.is_set_up(empty)
    assert staff_service.list_staff(empty) == []


def test_a_named_clinic_without_a_manager_is_not_set_up(services) -> None:
    assert clinic.clinic_settings(services).name == "Test Clinic"
    assert not clinic.is_set_up(services)


def test_a_manager_updates_settings_from_typed_values(services, manager) -> None:
    assert clinic.is_set_up(services)
    updated = clinic.update_clinic_settings(
        services,
        manager,
        phone="01225 123456",
        late_cancel_hours="48",
        no_show_policy="return",
        till_prefix="b",
    )
    assert (updated.phone, updated.late_cancel_hours, updated.no_show_policy, updated.till_prefix) == (
        "01225 123456",
        48,
        NoShowPolicy.RETURN,
        "B",
    )
    assert clinic.clinic_settings(services) == updated
    with services.uow(read_only=True) as uow:
        [entry] = audit_entries(uow.session, record_type="settings")
    assert entry.action == "settings.changed"
    assert dict(entry.details) == {
        "phone": "01225 123456",
        "late_cancel_hours": "48",
        "no_show_policy": "return",
        "till_prefix": "B",
    }


def test_settings_need_a_manager_and_valid_values(services, manager, receptionist) -> None:
    before = clinic.clinic_settings(services)
    with pytest.raises(NotPermitted, match="Only a manager can change the settings"):
        clinic.update_clinic_settings(services, receptionist, name="Receptionist's Clinic")
    with pytest.raises(InvalidInput, match="must be a whole number"):
        clinic.update_clinic_settings(services, manager, late_cancel_hours="abc")
    with pytest.raises(InvalidInput, match="not a time zone"):
        clinic.update_clinic_settings(services, manager, time_zone="Europe/Atlantis")
    with pytest.raises(InvalidInput, match="needs a name"):
        clinic.update_clinic_settings(services, manager, name=" ")
    with pytest.raises(InvalidInput, match="cannot be changed"):
        clinic.update_clinic_settings(services, manager, currency="EUR")
    with pytest.raises(InvalidInput, match="not a deposit policy"):
        clinic.update_clinic_settings(services, manager, late_deposit="sometimes")
    with pytest.raises(InvalidInput, match="not a no-show policy"):
        clinic.update_clinic_settings(services, manager, no_show_policy="shrug")
    with pytest.raises(TypeError):
        clinic.update_clinic_settings(services, manager, colour="pink")
    assert clinic.clinic_settings(services) == before
