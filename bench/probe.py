"""A process started by ``bench_start.py`` and ``bench_memory.py``: it opens a window and reports.

    probe.py bare      a bare PySide6 main window (the baseline)
    probe.py app       the app, as ``aestheticc-pos`` starts it (``cli.main``), over AESTHETICC_DATA_DIR
    probe.py clients   the app, signed in as the manager, with the Clients screen open and its rows shown

It prints ``painted <seconds since the interpreter started>`` at the first paint of a main window, and for
``clients`` also ``rss <peak resident MiB>`` once the Clients list shows its first rows; then it exits.
"""

from __future__ import annotations

import os
import resource
import sys
import time

STARTED = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402


class FirstPaint(QObject):
    def __init__(self, then) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.then, self.seen = then, False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.seen and event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
            self.seen = True
            print(f"painted {time.perf_counter() - STARTED:.4f}", flush=True)
            QTimer.singleShot(0, lambda: self.then(watched))
        return False


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    mode = sys.argv[1]
    app = QApplication(sys.argv[:1])
    if mode == "bare":
        watcher = FirstPaint(lambda _w: (print(f"rss {peak_mib():.1f}", flush=True), os._exit(0)))
        app.installEventFilter(watcher)
        window = QMainWindow()
        window.resize(1366, 768)
        window.show()
        return app.exec()
    if mode == "app":
        watcher = FirstPaint(lambda _w: os._exit(0))
        app.installEventFilter(watcher)
    else:
        watcher = FirstPaint(open_clients)
        app.installEventFilter(watcher)
    from aestheticc_pos.cli import main as cli_main

    return cli_main([])


def open_clients(window) -> None:  # type: ignore[no-untyped-def]
    """Sign the manager in as the login screen would, open Clients, report once its rows are on screen."""
    from aestheticc_pos.services import staff as staff_service
    from aestheticc_pos.ui.models.clients import LOADING

    manager = next(m for m in staff_service.list_staff(window.desk.services) if m.role.value == "manager")
    window._signed_in(manager)
    view = window.open_screen("clients")
    deadline = time.perf_counter() + 60

    def check() -> None:
        model = view.model
        shown = model.rowCount() and model.data(model.index(0, 0)) not in (None, LOADING)
        if shown or time.perf_counter() > deadline:
            print(f"rows {model.rowCount()} {view.count.text()!r}", flush=True)
            print(f"rss {peak_mib():.1f}", flush=True)
            os._exit(0)
        QTimer.singleShot(20, check)

    check()


if __name__ == "__main__":
    raise SystemExit(main())
