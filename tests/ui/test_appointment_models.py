"""The appointment table models, without a window: Qt's model tester, then what each cell says."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services.appointments import AppointmentView
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui.models.appointments import BoardRole, ClientMatchesModel, DayBoardModel

LONDON = ZoneInfo("Europe/London")
SHAH = StaffMember("st-shah", "Dr Amira Shah", Role.PRACTITIONER)
BENNETT = StaffMember("st-bennett", "Nurse Chloe Bennett", Role.PRACTITIONER)
WHITFIELD = StaffMember("st-whitfield", "Dr James Whitfield", Role.PRACTITIONER)


def _appointment(
    id: str,
    who: StaffMember,
    hour: int,
    client: str,
    treatment: str,
    *,
    package: str | None = None,
    step: int | None = None,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
) -> AppointmentView:
    return AppointmentView(
        id=id,
        client_id=f"cl-{client}",
        client_name=client,
        treatment_id="tr",
        treatment_name=treatment,
        practitioner_id=who.id,
        practitioner_name=who.name,
        starts_at=dt.datetime(2026, 11, 24, hour, 30, tzinfo=dt.UTC),
        duration_minutes=30,
        status=status,
        client_package_id="cp" if package else None,
        step_position=step,
        package_name=package,
        notes="",
    )


DAY = [
    _appointment("a3", SHAH, 14, "Isla Chen", "Botox treatment", package="Botox starter", step=2),
    _appointment("a1", SHAH, 9, "Tom Turner", "Mole removal"),
    _appointment("a2", WHITFIELD, 10, "Grace Clark", "Skin consultation", status=AppointmentStatus.NO_SHOW),
]


def test_the_day_board_passes_qts_model_tester(qtmodeltester) -> None:
    model = DayBoardModel(LONDON)
    model.set_day([SHAH, BENNETT], DAY)
    qtmodeltester.check(model)
    model.set_day([SHAH], [])
    qtmodeltester.check(model)


def test_the_board_has_a_column_per_practitioner_by_time() -> None:
    model = DayBoardModel(LONDON)
    model.set_day([SHAH, BENNETT], DAY)

    # Listed practitioners keep their column even when free; anyone else booked that day gets one too.
    assert model.practitioner_names() == ["Dr Amira Shah", "Nurse Chloe Bennett", "Dr James Whitfield"]
    assert model.columnCount() == 3 and model.rowCount() == 2
    header = model.headerData(0, Qt.Orientation.Horizontal)
    assert header == "Dr Amira Shah  ·  2"
    assert (
        model.headerData(2, Qt.Orientation.Horizontal) == "Dr James Whitfield  ·  0"
    )  # a no-show holds no time

    first, second = model.index(0, 0), model.index(1, 0)
    assert model.appointment_id(first) == "a1" and model.appointment_id(second) == "a3"
    assert first.data() == "09:30 · Tom Turner · Mole removal · Booked"
    assert second.data(BoardRole.TIME) == "14:30–15:00"
    assert second.data(BoardRole.BADGE) == "Botox starter · step 2"
    assert model.index(0, 2).data(BoardRole.STATUS) == "No-show"

    free = model.index(0, 1)
    assert model.appointment_id(free) is None and free.data() is None
    assert model.flags(free) == Qt.ItemFlag.NoItemFlags
    assert model.flags(first) & Qt.ItemFlag.ItemIsSelectable
    assert model.index_of("a3") == second
    assert not model.index_of("nope").isValid()
    assert model.practitioner_id(1) == BENNETT.id


def test_client_matches_pass_the_model_tester_and_read_as_a_list(qtmodeltester) -> None:
    model = ClientMatchesModel()
    model.set_matches(
        [
            ClientSummary(
                "c1", "Arthur", "Cooper", "arthur@example.com", "07700900021", dt.date(1960, 5, 22)
            ),
            ClientSummary("c2", "Arthur", "Evans", None, None, None),
        ]
    )
    qtmodeltester.check(model)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Name",
        "Phone",
        "Born",
        "Email",
    ]
    assert [model.index(0, c).data() for c in range(4)] == [
        "Arthur Cooper",
        "07700 900021",
        "22 May 1960",
        "arthur@example.com",
    ]
    assert [model.index(1, c).data() for c in range(4)] == ["Arthur Evans", "", "", ""]
    assert model.client(1).id == "c2" and model.client(2) is None
    model.set_matches([])
    qtmodeltester.check(model)
    assert model.rowCount() == 0
