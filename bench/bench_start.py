"""Start to the main window, and peak memory with the Clients screen open, over the clinic group.

    .venv/bin/python bench/bench_start.py [--data /tmp/bench-1m] [--repeat 7]

Each run is a new process (``bench/probe.py``), timed from its start to the first paint of its main window
(modules loaded from bytecode, as an installed app does, the bytecode kept in a temporary folder):
the app as ``aestheticc-pos`` starts it (settings, database checks, engine, main window), against a bare
PySide6 main window in the same run (the baseline: Python, Qt and a window, nothing of the app). The app
works on a copy of the group's database in a temporary data folder; one start before the timed ones lets it
migrate the copy if the data set is older than the app.

Then, once: the peak resident memory of the app signed in with the Clients screen open and its rows shown,
against the bare window's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, Report, parser, row, scratch_copy  # isort: skip

PROBE = ROOT / "bench" / "probe.py"


def main() -> int:
    args = parser(__doc__).parse_args()
    args.repeat = min(args.repeat, 15)
    report = Report("start_and_memory", str(args.url or args.data))
    with tempfile.TemporaryDirectory(prefix="aestheticc-start-") as folder:
        data = Path(folder)
        env = {**os.environ, "AESTHETICC_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
        # As installed: modules load from their bytecode (kept outside the tree), not compiled at each start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "aestheticc-bench-pycache")
        if args.url:
            env["AESTHETICC_DATABASE_URL"] = args.url
        else:
            scratch_copy(args, data)
        first = _probe("app", env)
        print(f"first start (migrates an older copy): {first[0]:.2f} s")
        bare = [_probe("bare", env)[0] * 1000 for _ in range(args.repeat)]
        app = [_probe("app", env)[0] * 1000 for _ in range(args.repeat)]
        p50 = sorted(app)[len(app) // 2]
        report.add(
            row(
                "Start to the main window",
                app,
                "bare PySide6 window",
                bare,
                target="≤ 3×, under 1 s",
                met=p50 < 1000 and p50 <= 3 * sorted(bare)[len(bare) // 2],
            )
        )
        bare_rss = _probe("bare", env)[1]
        clients_rss = _probe("clients", env)[1]
        memory = row("Peak memory, Clients screen open", [clients_rss], "bare window", [bare_rss], unit="MiB")
        memory.target, memory.met = "≤ 150 MiB", clients_rss <= 150
        report.add(memory)
    report.write()
    return 0


def _probe(mode: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from the process start to its first paint, peak MiB) as measured from outside."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(PROBE), mode], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    painted, rss = float("nan"), float("nan")
    for line in process.stdout:
        if line.startswith("painted") and painted != painted:
            painted = time.perf_counter() - started
        elif line.startswith("rss"):
            rss = float(line.split()[1])
        elif line.startswith("rows"):
            print(f"  clients screen: {line.strip()}")
    if process.wait(timeout=120) != 0 or painted != painted:
        raise SystemExit(f"the {mode} probe failed (exit {process.returncode})")
    return painted, rss


if __name__ == "__main__":
    raise SystemExit(main())
