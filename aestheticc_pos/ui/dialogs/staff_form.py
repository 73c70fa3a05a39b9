"""Add a member of staff (name, role, starting PIN) or change a name and role (the Staff screen, managers).

    StaffForm(desk)           # a new member of staff
    StaffForm(desk, member)   # edit that one: name and role; a PIN is reset from the Staff screen

It saves through ``services/staff.py`` and ``services/team.py`` (``forms.py`` says how refusals are shown).
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team as team_service
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.services.team import TeamMember
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Call, FormDialog, select

ROLE_NAMES = {
    Role.PRACTITIONER: "Practitioner: treats clients",
    Role.RECEPTIONIST: "Receptionist: books, sells and takes payments",
    Role.MANAGER: "Manager: everything, the team and the settings too",
}


class StaffForm(FormDialog):
    def __init__(self, desk: Desk, member: TeamMember | None = None, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"Edit {member.name}" if member else "Add a member of staff",
            save_text="Save changes" if member else "Add to the team",
            parent=parent,
        )
        self.member = member
        self.name = QLineEdit()
        self.name.setMaxLength(120)
        self.role = QComboBox()
        for role in (Role.PRACTITIONER, Role.RECEPTIONIST, Role.MANAGER):
            self.role.addItem(ROLE_NAMES[role], role)
        self.add_field("name", "Name", self.name)
        self.add_field("role", "Role", self.role)
        self.pin = QLineEdit()
        if member is None:
            self.pin.setEchoMode(QLineEdit.EchoMode.Password)
            self.pin.setMaxLength(8)
            self.pin.setMaximumWidth(200)
            self.pin.setPlaceholderText("4 to 8 digits")
            self.add_field(
                "pin",
                "Starting PIN",
                self.pin,
                hint="4 to 8 digits (a manager's 6 to 8). Tell it to them: they sign in with it at once.",
            )
        else:
            self.name.setText(member.name)
            select(self.role, member.role)
        self.finish_layout()
        self.name.setFocus()

    def prepare(self) -> Call:
        services, by = self.desk.services, self.desk.staff_id
        name, role = self.name.text(), self.role.currentData()
        if self.member is None:
            pin = self.pin.text()
            return lambda: staff_service.add_staff(services, name=name, role=role, pin=pin, by_staff_id=by)
        staff_id = self.member.id
        return lambda: team_service.edit_staff(
            services, staff_id=staff_id, name=name, role=role, by_staff_id=by
        )

    def saved_message(self, result: StaffMember) -> str:
        if self.member is not None:
            return f"{result.name} saved."
        return f"{result.name} can now sign in as a {result.role.value} with the PIN you gave."
