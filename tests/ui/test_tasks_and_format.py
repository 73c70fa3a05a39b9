from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.tasks import UNEXPECTED, TaskRunner


def test_money_dates_and_percentages_are_written_the_clinic_way() -> None:
    assert fmt.money(Money(123456)) == "£1,234.56"
    assert fmt.money(Money(-1250)) == "−£12.50"
    assert fmt.money(Money(5, "SEK")) == "0.05 SEK"
    assert fmt.date(dt.date(2026, 11, 24)) == "24 Nov 2026"
    assert fmt.long_date(dt.date(2026, 11, 24)) == "Tuesday 24 Nov 2026"
    assert fmt.time(dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC), ZoneInfo("Europe/London")) == "09:30"
    assert fmt.percent(2000) == "20%" and fmt.percent(1250) == "12.5%"
    assert fmt.editable_amount(Money(120000)) == "1200.00"  # as typed in a field: no symbol, no commas
    assert fmt.editable_percent(2000) == "20" and fmt.editable_percent(1250) == "12.5"


def test_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(qtbot) -> None:
    runner = TaskRunner()
    gui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback"] = threading.get_ident()

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda busy: busy is False, timeout=5000):
        runner.run(work, on_done=done)
    assert seen["value"] == 42
    assert seen["worker"] != gui_thread
    assert seen["callback"] == gui_thread


def test_a_domain_error_is_its_sentence_and_a_crash_is_a_generic_sentence(qtbot) -> None:
    runner = TaskRunner()
    errors: list[str] = []

    def refuse() -> None:
        raise RuleViolation("Only a manager can refund a sale.")

    def crash() -> None:
        raise ZeroDivisionError("internal detail")

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda busy: busy is False, timeout=5000):
        runner.run(refuse, on_error=errors.append)
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.run(crash)
    assert errors == ["Only a manager can refund a sale."]
    assert blocker.args == [UNEXPECTED]


def test_signals_do_not_leak_references_to_true(qtbot) -> None:
    """PySide6 6.12.0 dropped a reference to True on every emit and aborted Python 3.11 after a few thousand:
    a till emits that many in a morning. pyproject.toml keeps it out; this catches a future release."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        said = Signal(str)

    probe = Probe()
    heard: list[str] = []
    probe.said.connect(heard.append)
    before = sys.getrefcount(True)
    for _ in range(5000):
        probe.said.emit("x")
    assert len(heard) == 5000
    assert sys.getrefcount(True) >= before - 10
