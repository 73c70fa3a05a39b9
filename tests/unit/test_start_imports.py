"""What a start loads before the window's first paint (issue 13: start ≤ 3× a bare window).

In a new process, as ``aestheticc-pos`` starts: ``load_before_qt`` imports every project module the window
needs, so nothing of the project but the UI is imported after Qt (PySide6's import hook reads the source of
each module imported after it); and the heavy parts wait: GoCardless's client for the sync's thread, QtCharts
and the screens until they are opened (Today until just after the first paint), the simulator for training,
Alembic for a migration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import aestheticc_pos.cli
from aestheticc_pos.app import load_before_qt
load_before_qt()
before = set(sys.modules)
from PySide6.QtWidgets import QApplication
from aestheticc_pos.ui.main_window import LaterView, MainWindow, screens
after_qt = sorted(m for m in set(sys.modules) - before if m.startswith("aestheticc_pos."))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("gocardless_pro", "alembic")
               or m.startswith(("PySide6.QtCharts", "aestheticc_pos.sync.simulator", "aestheticc_pos.sync.gocardless",
                                "aestheticc_pos.ui.views.reports", "aestheticc_pos.ui.views.checkout",
                                "aestheticc_pos.ui.views.today", "aestheticc_pos.ui.views.welcome")))
later = [s.make for s in screens() if isinstance(s.make, LaterView)]
views = {repr(m): m.view_class().__name__ for m in later}
print(json.dumps({"after_qt": after_qt, "heavy": heavy, "views": views,
                  "loaded_later": sorted(m for m in sys.modules if m.startswith("PySide6.QtCharts"))}))
"""


def _run() -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_start_loads_the_project_before_qt_and_nothing_heavy() -> None:
    found = _run()
    assert [m for m in found["after_qt"] if not m.startswith("aestheticc_pos.ui")] == []  # type: ignore[union-attr]
    assert found["heavy"] == []
    views = found["views"]
    assert isinstance(views, dict) and len(views) >= 13  # every screen is made when first opened
    assert {"LaterView(aestheticc_pos.ui.views.reports.ReportsView)": "ReportsView"}.items() <= views.items()
    assert found["loaded_later"], "opening Reports' module brings QtCharts, after the start"
