"""The Audit screen, as a manager meets it: the log newest first, filters, and a check whose result has its own
space (nothing moves); the table model fetches only the pages shown. Only managers see the screen."""

from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, Qt

from aestheticc_pos.services import audit as audit_service
from aestheticc_pos.services import clinic as clinic_service
from aestheticc_pos.services.audit import AuditRow
from aestheticc_pos.settings import DATABASE_FILE, load_settings
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.main_window import MainWindow
from aestheticc_pos.ui.views.audit import LOADING, AuditLogModel, AuditView, details_text

WAIT = 10_000
LONDON = ZoneInfo("Europe/London")


class RecordingLoader:
    """A fake page loader: entries made up from their numbers; records which pages were asked for."""

    def __init__(self, gone: frozenset[int] = frozenset()) -> None:
        self.calls: list[list[int]] = []
        self.gone = gone

    def __call__(self, seqs: list[int]) -> dict[int, AuditRow]:
        self.calls.append(list(seqs))
        return {seq: _row(seq) for seq in seqs if seq not in self.gone}


def _row(seq: int) -> AuditRow:
    return AuditRow(
        seq=seq,
        at=dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC) + dt.timedelta(minutes=seq),
        staff_id="s1",
        staff_name="Sophie Laurent",
        action="sale.refunded",
        record_type="sale",
        record_id=f"sale-{seq}",
        reason="Reaction to the peel" if seq % 2 else None,
        details={"amount_pence": seq * 100, "till": "A"},
    )


# --- The model, without a window -------------------------------------------------------------------------------


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_the_model_passes_qts_model_tester(qtmodeltester, qtlog, force_py: bool) -> None:
    model = AuditLogModel(RecordingLoader(gone=frozenset({7})), tz=LONDON)
    model.set_seqs(range(500, 0, -1))
    qtmodeltester.check(model, force_py=force_py)
    model.set_seqs([])
    model.set_seqs([3, 2, 1])
    assert [r.message for r in qtlog.records if "FAIL" in r.message] == []


def test_only_the_pages_shown_are_fetched_and_rows_read_as_staff_read_them() -> None:
    loader = RecordingLoader()
    model = AuditLogModel(loader, page_size=50, tz=LONDON)
    model.set_seqs(range(100_000, 0, -1))

    cells = [model.data(model.index(0, column)) for column in range(model.columnCount())]
    model.data(model.index(120, 0))

    assert cells == [
        "8 Sep 2026 21:10",  # 100,000 minutes after 1 Jul 09:30 UTC, in London's summer time
        "Sophie Laurent",
        "sale.refunded",
        "sale sale-100000",
        "",
        "amount: £100,000.00, till: A",
    ]
    assert [len(call) for call in loader.calls] == [50, 50]
    assert loader.calls[1][0] == 100_000 - 100 and model.cached_rows == 100


def test_a_page_on_its_way_shows_an_ellipsis_then_its_rows(qtbot) -> None:
    waiting: list = []
    model = AuditLogModel(
        RecordingLoader(), run=lambda work, done, _failed: waiting.append((work, done)), tz=LONDON
    )
    model.set_seqs([2, 1])

    assert model.data(model.index(0, 0)) == LOADING
    work, done = waiting.pop()
    with qtbot.waitSignal(model.dataChanged):
        done(work())
    assert model.data(model.index(1, 2)) == "sale.refunded"


# --- The screen --------------------------------------------------------------------------------------------------


@pytest.fixture
def view(qtbot, demo_desk: Desk, switch_staff) -> AuditView:
    switch_staff(demo_desk, "Sophie Laurent")  # the demo clinic's manager
    clinic_service.update_clinic_settings(demo_desk.services, demo_desk.staff_id, grace_days=10)  # audited
    view = AuditView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1300, 760)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and view.action.count() > 1, timeout=WAIT)
    return view


def test_a_manager_sees_the_log_newest_first_and_filters_it(qtbot, view: AuditView) -> None:
    everything = view.model.rowCount()
    newest, oldest = view.model.seq(0), view.model.seq(everything - 1)
    assert newest > oldest
    assert view.status.text() == f"{everything:,} entries, newest first."
    qtbot.waitUntil(lambda: view.model.data(view.model.index(0, 0)) != LOADING, timeout=WAIT)

    view.action.setCurrentIndex(view.action.findData("settings.changed"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=WAIT)
    assert view.status.text() == "1 entry matches the search, newest first."
    qtbot.waitUntil(lambda: view.model.data(view.model.index(0, 2)) == "settings.changed", timeout=WAIT)
    assert view.model.data(view.model.index(0, 1)) == "Sophie Laurent"
    view.action.setCurrentIndex(0)
    view.record_type.setCurrentIndex(view.record_type.findData("staff"))
    staff_entries = audit_service.find_audit_entries(
        view.desk.services, view.desk.staff_id, record_type="staff"
    )
    assert 5 <= len(staff_entries) < everything  # the demo's five staff, and anything else it audits
    qtbot.waitUntil(
        lambda: [view.model.seq(r) for r in range(view.model.rowCount())] == staff_entries, timeout=WAIT
    )

    view.from_day.setDate(QDate(2030, 1, 1))
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=WAIT)
    view.clear_filters()
    qtbot.waitUntil(lambda: view.model.rowCount() == everything, timeout=WAIT)


def test_the_check_says_the_log_is_intact_in_its_own_space(qtbot, view: AuditView) -> None:
    table_at = view.table.geometry()

    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: view.check is not None, timeout=WAIT)
    assert view.result.text().startswith("Audit log intact: ")
    assert ", last on " in view.result.text()
    assert view.table.geometry() == table_at  # nothing moved under the mouse
    assert view.verify_button.isEnabled()


def test_the_check_says_where_the_newest_entries_were_removed(qtbot, view: AuditView) -> None:
    database = load_settings().data_dir / DATABASE_FILE
    with sqlite3.connect(database) as connection:
        (last,) = connection.execute("SELECT max(seq) FROM audit_log").fetchone()
        connection.execute("DELETE FROM audit_log WHERE seq > ?", (last - 2,))
    table_at = view.table.geometry()

    view.verify()

    qtbot.waitUntil(lambda: view.check is not None, timeout=WAIT)
    assert not view.check.intact
    lines = view.result.text().splitlines()
    assert lines[0].startswith("Audit log broken in 1 place")
    assert (
        lines[1]
        == f"• Entries {last - 1:,} to {last:,} are missing from the end of the log: the newest entries were removed."
    )
    assert "#a4262c" in view.result.styleSheet()
    assert view.table.geometry() == table_at


def test_a_wheel_over_a_filter_without_focus_changes_nothing(qtbot, view: AuditView) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view.table.setFocus()
    before = view.action.currentIndex()
    wheel = QWheelEvent(
        QPointF(5, 5),
        QPointF(view.action.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.action, wheel)
    assert view.action.currentIndex() == before


def test_a_receptionist_is_told_the_log_is_for_managers(qtbot, demo_desk: Desk) -> None:
    view = AuditView(demo_desk)  # Rita Evans, receptionist
    qtbot.addWidget(view)
    view.refresh()
    view.verify()

    assert view.status.text() == "Only a manager can see the audit log."
    assert not view.verify_button.isEnabled() and view.model.rowCount() == 0


def test_the_audit_screen_is_in_the_side_bar_for_managers_only(qtbot, demo_desk: Desk, switch_staff) -> None:
    window = MainWindow(demo_desk.services)
    qtbot.addWidget(window)
    window.desk.settings = demo_desk.settings
    switch_staff(window.desk, "Rita Evans")
    window._fill_nav()
    assert "Audit" not in [window.nav.item(i).text() for i in range(window.nav.count())]

    switch_staff(window.desk, "Sophie Laurent")
    window._fill_nav()
    assert "Audit" in [window.nav.item(i).text() for i in range(window.nav.count())]
    view = window.open_screen("audit")
    assert isinstance(view, AuditView)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=WAIT)


def test_details_read_as_money_and_words() -> None:
    assert details_text({"net_pence": 2400, "channel": "pos"}) == "channel: pos, net: £24.00"
    assert details_text({"amount_pence": -1250, "currency": "EUR", "was_locked": 1}) == (
        "amount: −€12.50, was locked: 1"
    )
    assert details_text({}) == ""
