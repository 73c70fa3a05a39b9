"""Who acts in a test: every change at the till is made by a staff member allowed to make it (DESIGN.md §7)."""

from __future__ import annotations

from sqlalchemy import select

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import StaffRow


def front_desk(services: Services) -> str:
    """A receptionist, else a manager, of the clinic; a manager is added when it has no staff yet."""
    return _someone(services, (Role.RECEPTIONIST, Role.MANAGER))


def a_manager(services: Services) -> str:
    """A manager of the clinic; one is added when it has no staff yet."""
    return _someone(services, (Role.MANAGER,))


def _someone(services: Services, roles: tuple[Role, ...]) -> str:
    with services.uow(read_only=True) as uow:
        rows = uow.session.execute(select(StaffRow.id, StaffRow.role).where(StaffRow.active)).all()
    for role in roles:
        found = [staff_id for staff_id, row_role in rows if row_role == role.value]
        if found:
            return sorted(found)[0]
    return first_manager(services)


def first_manager(services: Services) -> str:
    """The clinic's first manager, Mia Manager (PIN 123456): the one every test clinic starts with."""
    return staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="123456", by_staff_id=None
    ).id
