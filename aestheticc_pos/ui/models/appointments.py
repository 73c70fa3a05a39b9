"""Table models of the front desk's appointments: the day board (one column per practitioner) and the client
matches of the booking form.

Both hold ids in display order and look rows up by id. A clinic's day is tens of appointments and a client
search a page of fifty, each fetched in one background call, so the rows are kept rather than fetched per cell.
Models live on the GUI thread and never call a service: the view fetches, the model shows.
"""

from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.services.appointments import AppointmentView
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.models.clients import phone_text

_Index = QModelIndex | QPersistentModelIndex

STATUS_WORDS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.ATTENDED: "Attended",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.LATE_CANCELLED: "Cancelled late",
    AppointmentStatus.NO_SHOW: "No-show",
}
# Appointments that no longer hold the practitioner's time.
ENDED_WITHOUT_VISIT = (
    AppointmentStatus.CANCELLED,
    AppointmentStatus.LATE_CANCELLED,
    AppointmentStatus.NO_SHOW,
)


def package_badge(appointment: AppointmentView) -> str:
    """ "Botox starter · step 2", or "" when the appointment is paid at checkout."""
    if appointment.package_name is None:
        return ""
    if appointment.step_position is None:
        return appointment.package_name
    return f"{appointment.package_name} · step {appointment.step_position}"


class BoardRole(enum.IntEnum):
    """What the board's cells carry beside their display text (the card delegate paints from these)."""

    ID = Qt.ItemDataRole.UserRole + 1
    APPOINTMENT = Qt.ItemDataRole.UserRole + 2
    TIME = Qt.ItemDataRole.UserRole + 3
    CLIENT = Qt.ItemDataRole.UserRole + 4
    TREATMENT = Qt.ItemDataRole.UserRole + 5
    BADGE = Qt.ItemDataRole.UserRole + 6
    STATUS = Qt.ItemDataRole.UserRole + 7


class DayBoardModel(QAbstractTableModel):
    """A day's appointments: one column per practitioner, each column by start time; empty cells pad the
    shorter columns and cannot be selected."""

    def __init__(self, tz: ZoneInfo, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tz = tz
        self._columns: list[tuple[str, str]] = []  # (practitioner id, name)
        self._ids: list[list[str]] = []  # per column, appointment ids by start time
        self._appointments: dict[str, AppointmentView] = {}

    def set_day(
        self,
        practitioners: list[StaffMember],
        appointments: list[AppointmentView],
        tz: ZoneInfo | None = None,
    ) -> None:
        """Show ``appointments``: a column for each of ``practitioners`` (in that order, even when free), then
        one for anyone else booked that day (by name)."""
        self.beginResetModel()
        if tz is not None:
            self._tz = tz
        columns = [(p.id, p.name) for p in practitioners]
        known = {pid for pid, _ in columns}
        others = sorted(
            {
                (a.practitioner_id, a.practitioner_name)
                for a in appointments
                if a.practitioner_id not in known
            },
            key=lambda c: (c[1], c[0]),
        )
        self._columns = columns + others
        ordered = sorted(appointments, key=lambda a: (a.starts_at, a.client_name, a.id))
        self._ids = [[a.id for a in ordered if a.practitioner_id == pid] for pid, _ in self._columns]
        self._appointments = {a.id: a for a in ordered}
        self.endResetModel()

    # --- lookups for the view ----------------------------------------------------------------------------------

    def appointment(self, index: _Index) -> AppointmentView | None:
        appointment_id = self.appointment_id(index)
        return None if appointment_id is None else self._appointments[appointment_id]

    def appointment_id(self, index: _Index) -> str | None:
        if not index.isValid() or index.column() >= len(self._ids):
            return None
        column = self._ids[index.column()]
        return column[index.row()] if index.row() < len(column) else None

    def index_of(self, appointment_id: str) -> QModelIndex:
        for column, ids in enumerate(self._ids):
            if appointment_id in ids:
                return self.index(ids.index(appointment_id), column)
        return QModelIndex()

    def practitioner_id(self, column: int) -> str | None:
        return self._columns[column][0] if 0 <= column < len(self._columns) else None

    def practitioner_names(self) -> list[str]:
        return [name for _, name in self._columns]

    def appointments(self) -> list[AppointmentView]:
        """Every appointment shown, by start time."""
        return list(self._appointments.values())

    # --- QAbstractTableModel -----------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        if parent.isValid():
            return 0
        return max((len(ids) for ids in self._ids), default=0)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if self.appointment_id(index) is None:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        a = self.appointment(index)
        if a is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            parts = [
                fmt.time(a.starts_at, self._tz),
                a.client_name,
                a.treatment_name,
                package_badge(a),
                STATUS_WORDS[a.status],
            ]
            return " · ".join(p for p in parts if p)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [
                f"{time_span(a, self._tz)}  {a.client_name}",
                a.treatment_name,
                package_badge(a) or "Paid at checkout",
                STATUS_WORDS[a.status],
            ]
            return "\n".join(lines)
        if role == BoardRole.ID:
            return a.id
        if role == BoardRole.APPOINTMENT:
            return a
        if role == BoardRole.TIME:
            return time_span(a, self._tz)
        if role == BoardRole.CLIENT:
            return a.client_name
        if role == BoardRole.TREATMENT:
            return a.treatment_name
        if role == BoardRole.BADGE:
            return package_badge(a)
        if role == BoardRole.STATUS:
            return STATUS_WORDS[a.status]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            count = sum(
                1 for i in self._ids[section] if self._appointments[i].status not in ENDED_WITHOUT_VISIT
            )
            return f"{self._columns[section][1]}  ·  {count}"
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None


class ClientMatchesModel(QAbstractTableModel):
    """The clients matching what the receptionist typed: name, phone, date of birth, email."""

    HEADERS = ("Name", "Phone", "Born", "Email")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids: list[str] = []
        self._clients: dict[str, ClientSummary] = {}

    def set_matches(self, clients: list[ClientSummary]) -> None:
        self.beginResetModel()
        self._ids = [c.id for c in clients]
        self._clients = {c.id: c for c in clients}
        self.endResetModel()

    def client(self, row: int) -> ClientSummary | None:
        return self._clients[self._ids[row]] if 0 <= row < len(self._ids) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        client = self.client(index.row()) if index.isValid() else None
        if client is None:
            return None
        if role == Qt.ItemDataRole.UserRole:
            return client.id
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        return (
            client.full_name,
            phone_text(client.phone),
            fmt.date(client.date_of_birth),
            client.email or "",
        )[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None


def time_span(appointment: AppointmentView, tz: ZoneInfo) -> str:
    """ "09:30–10:00" in the clinic's time zone."""
    ends_at = appointment.starts_at + dt.timedelta(minutes=appointment.duration_minutes)
    return f"{fmt.time(appointment.starts_at, tz)}–{fmt.time(ends_at, tz)}"
