"""The clinic itself: its settings, and the first start on an empty database (DESIGN.md §7: settings need a manager).

The first start asks for the clinic's name and its first manager; ``set_up_clinic`` writes both in one
transaction, so a crash half-way leaves an empty database and the first-start screen comes back.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aestheticc_pos.domain.appointments import NoShowPolicy
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.staff import Action, Role
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import (
    DEFAULT_TIME_ZONE,
    ClinicSettings,
    Services,
    check_clinic_settings,
    read_clinic_settings,
    write_clinic_settings,
)
from aestheticc_pos.services.staff import StaffMember, new_pin_hash, require_staff
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import StaffRow

# Settings staff can change after set-up. The currency is fixed at set-up: prices and memberships are in it.
_TEXT_FIELDS = {
    "name": 120,
    "address": 500,
    "vat_number": 20,
    "phone": 40,
    "email": 254,
    "time_zone": 64,
    "till_prefix": 4,
}
_NUMBER_FIELDS = {"late_cancel_hours": 168, "grace_days": 60}
_VAT_NUMBER = re.compile(r"[A-Z0-9]{5,20}")


@use_case(Audience.ANY_STAFF)
def clinic_settings(services: Services) -> ClinicSettings:
    """The clinic's settings as every till shares them."""
    return services.settings()


@use_case(Action.EDIT_SETTINGS)
def update_clinic_settings(services: Services, staff_id: str, **fields: Any) -> ClinicSettings:
    """Change some of the clinic's settings (manager only; audited). Fields not given keep their value.

    ``fields`` are ``ClinicSettings`` field names; numbers may be typed ("48"), the no-show policy is
    "forfeit" or "return". The clinic's name cannot be emptied, and the currency cannot change.
    """
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.EDIT_SETTINGS)
        current = read_clinic_settings(s)
        unknown = set(fields) - {f.name for f in dataclasses.fields(ClinicSettings)}
        if unknown:
            raise TypeError(f"unknown clinic settings: {sorted(unknown)}")
        if "currency" in fields and fields["currency"] != current.currency:
            raise InvalidInput(
                f"The clinic's currency is {current.currency} and cannot be changed: prices and memberships are in it.",
                field="currency",
            )
        updated = dataclasses.replace(current, **{k: _setting(k, v) for k, v in fields.items()})
        if not updated.name:
            raise InvalidInput("The clinic needs a name.", field="name")
        check_clinic_settings(updated)
        changed = {
            name: str(getattr(getattr(updated, name), "value", getattr(updated, name)))
            for name in fields
            if getattr(updated, name) != getattr(current, name)
        }
        if changed:
            write_clinic_settings(s, updated)
            append_audit(
                s,
                at=services.now(),
                staff_id=staff_id,
                action="settings.changed",
                record_type="settings",
                record_id="clinic",
                details=changed,
            )
            uow.commit()
    return updated


@use_case(Audience.TILL)
def is_set_up(services: Services) -> bool:
    """Whether the clinic has a name and a manager (otherwise the app shows the first-start screen)."""
    with services.uow(read_only=True) as uow:
        has_manager = uow.session.scalar(
            select(StaffRow.id).where(StaffRow.role == Role.MANAGER.value, StaffRow.active).limit(1)
        )
        return read_clinic_settings(uow.session).is_set_up and has_manager is not None


@use_case(Audience.TILL)
def set_up_clinic(
    services: Services,
    *,
    name: str,
    address: str,
    vat_number: str = "",
    time_zone: str = DEFAULT_TIME_ZONE,
    manager_name: str,
    manager_pin: str,
) -> StaffMember:
    """Name the clinic and add its first manager, on an empty database. Returns the manager.

    Refused once the clinic has a name or any staff: from then on a manager changes the settings and the team.
    """
    settings = ClinicSettings(
        name=_setting("name", name),
        address=_setting("address", address),
        vat_number=_setting("vat_number", vat_number),
        time_zone=_setting("time_zone", time_zone),
    )
    if not settings.name:
        raise InvalidInput("The clinic needs a name.", field="name")
    check_clinic_settings(settings)
    manager = StaffMember(id=services.new_id(), name=_staff_name(manager_name), role=Role.MANAGER)
    pin_hash, salt = new_pin_hash(manager_pin, Role.MANAGER)
    refusal = RuleViolation("This clinic is already set up. Sign in as a manager to change its settings.")
    with services.uow() as uow:
        s = uow.session
        if read_clinic_settings(s).is_set_up or s.scalar(select(StaffRow.id).limit(1)) is not None:
            raise refusal
        write_clinic_settings(s, settings)
        s.add(
            StaffRow(
                id=manager.id, name=manager.name, role=Role.MANAGER.value, pin_hash=pin_hash, pin_salt=salt
            )
        )
        try:
            s.flush()
        except IntegrityError:  # another till finished the set-up at the same moment (PostgreSQL)
            raise refusal from None
        append_audit(
            s,
            at=services.now(),
            staff_id=manager.id,
            action="clinic.set_up",
            record_type="settings",
            record_id="clinic",
            details={"manager_id": manager.id, "time_zone": settings.time_zone},
        )
        try:
            uow.commit()
        except IntegrityError:
            raise refusal from None
    return manager


def _setting(name: str, value: Any) -> Any:
    """A setting as typed, read into the value ``ClinicSettings`` holds (a sentence when it cannot be)."""
    if name in _NUMBER_FIELDS:
        what = {
            "late_cancel_hours": "Late cancellation (hours before)",
            "grace_days": "The grace period in days",
        }
        return inputs.whole_number(value, what=what[name], maximum=_NUMBER_FIELDS[name])
    if name == "no_show_policy":
        try:
            return NoShowPolicy(str(getattr(value, "value", value)).strip().lower())
        except ValueError:
            raise InvalidInput(
                f"“{value}” is not a no-show policy: choose forfeit or return.", field="no_show_policy"
            ) from None
    if name == "currency":
        return value
    if name == "instant_first_payment":
        if not isinstance(value, bool):
            raise InvalidInput("Choose whether the first month is paid as the client authorises.", field=name)
        return value
    if name == "late_deposit":
        choice = str(value).strip().lower()
        if choice not in ("keep", "refund"):
            raise InvalidInput(
                f"“{value}” is not a deposit policy: choose keep or refund.", field="late_deposit"
            )
        return choice
    text = " ".join(
        inputs.text(
            value, what=_LABELS.get(name, name), required=False, max_length=_TEXT_FIELDS[name]
        ).split()
    )
    if name == "vat_number":
        text = text.replace(" ", "").upper()
        if text and not _VAT_NUMBER.fullmatch(text):
            raise InvalidInput(f"“{value}” is not a VAT number (e.g. GB123456789).", field="vat_number")
    if name == "till_prefix":
        text = text.upper()
    return text


_LABELS = {
    "name": "The clinic's name",
    "address": "The address",
    "vat_number": "The VAT number",
    "phone": "The phone number",
    "email": "The email address",
    "time_zone": "The time zone",
    "till_prefix": "The till prefix",
}


def _staff_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput("Type the manager's name.", field="manager_name")
    if len(name) > 120:
        raise InvalidInput("The manager's name is too long (120 characters at most).", field="manager_name")
    return name
