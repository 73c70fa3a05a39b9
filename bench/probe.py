"""A process started by ``bench_start.py``: it opens a window and reports, then exits.

    probe.py bare      a bare PySide6 main window (the baseline)
    probe.py app       the app, as the ``aestheticc-pos`` command starts it (``cli.main``), over AESTHETICC_DATA_DIR
    probe.py clients   the app, signed in as the manager, with the Clients screen open and its rows shown

It prints ``painted`` at the first paint of a main window (the parent times the process from its start to that
line), and ``rss <peak resident MiB>`` for ``bare`` and ``clients`` (once the Clients list shows its rows).
The app's modes import its command line and what ``app.load_before_qt`` loads before Qt, in that order, as the
real command does: the probe needs Qt before the app starts (to see the first paint), and PySide6 reads the
source of every module imported after it (its ``__feature__`` import hook), keeping every line in memory.
"""

from __future__ import annotations

import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    mode = sys.argv[1]
    if mode != "bare":
        import aestheticc_pos.cli  # noqa: F401 - what the command imports first
        from aestheticc_pos.app import load_before_qt

        load_before_qt()  # what ``run_gui`` loads before it imports Qt

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    class FirstPaint(QObject):
        def __init__(self, then) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.then, self.seen = then, False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if not self.seen and event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
                self.seen = True
                print("painted", flush=True)
                QTimer.singleShot(0, lambda: self.then(watched))
            return False

    app = QApplication(sys.argv[:1])
    if mode == "bare":
        watcher = FirstPaint(lambda _w: (print(f"rss {peak_mib():.1f}", flush=True), os._exit(0)))
        app.installEventFilter(watcher)
        window = QMainWindow()
        window.resize(1366, 768)
        window.show()
        return app.exec()
    watcher = FirstPaint((lambda _w: os._exit(0)) if mode == "app" else (lambda w: open_clients(w, QTimer)))
    app.installEventFilter(watcher)
    from aestheticc_pos.cli import main as cli_main

    return cli_main([])


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_clients(window, timer) -> None:  # type: ignore[no-untyped-def]
    """Sign the manager in as the login screen does, open Clients, report once its rows are on screen."""
    from aestheticc_pos.services import staff as staff_service
    from aestheticc_pos.ui.models.clients import LOADING

    manager = next(m for m in staff_service.list_staff(window.desk.services) if m.role.value == "manager")
    window._signed_in(manager)
    view = window.open_screen("clients")
    deadline = time.perf_counter() + 60

    def check() -> None:
        model = view.model
        shown = model.rowCount() and model.data(model.index(0, 0)) not in (None, LOADING)
        if (shown and view.count.text() != "Counting…") or time.perf_counter() > deadline:
            print(f"rows {model.rowCount()} {view.count.text()!r}", flush=True)
            print(f"rss {peak_mib():.1f}", flush=True)
            os._exit(0)
        timer.singleShot(20, check)

    check()


if __name__ == "__main__":
    raise SystemExit(main())
