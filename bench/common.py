"""What every benchmark shares: the data set, timing, and the results file.

The data set is the clinic group ``bench/generate.py`` made, by default in ``/tmp/bench-1m`` (``--data``), or a
PostgreSQL database (``--url``). A benchmark that writes works on a copy of the SQLite file (``scratch_copy``),
so the group stays as generated. Each figure is compared with a baseline measured in the same run, on the
same data, and written to ``bench/results/<name>.json`` with the machine and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from aestheticc_pos.settings import DATABASE_FILE, sqlite_url  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_DATA = Path("/tmp/bench-1m")


@dataclass
class Row:
    """One line of a benchmark's table: a figure, its baseline, their ratio and the target."""

    what: str
    p50_ms: float
    p95_ms: float
    baseline: str
    baseline_p50_ms: float
    target: str = ""
    met: bool | None = None
    note: str = ""
    unit: str = "ms"  # the figures' unit (``p50_ms`` and ``p95_ms`` hold MiB for a memory row)

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.baseline_p50_ms if self.baseline_p50_ms else float("nan")


@dataclass
class Report:
    name: str
    data: str
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        verdict = "" if row.met is None else ("  met" if row.met else "  MISSED")
        u = row.unit
        print(
            f"{row.what:<44} p50 {row.p50_ms:9.2f} {u}  p95 {row.p95_ms:9.2f} {u}  "
            f"{row.ratio:7.1f}× {row.baseline} ({row.baseline_p50_ms:.2f} {u})  {row.target}{verdict}",
            flush=True,
        )
        return row

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        body = {
            "name": self.name,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "data": self.data,
            "rows": [{**asdict(r), "ratio": round(r.ratio, 2)} for r in self.rows],
            **self.extra,
        }
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        print(f"→ {path.relative_to(ROOT)}")
        return path


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the folder bench/generate.py filled")
    p.add_argument("--url", help="a PostgreSQL URL bench/generate.py filled, instead of --data")
    p.add_argument("--repeat", type=int, default=40, help="runs per figure")
    return p


def data_url(args: argparse.Namespace) -> str:
    if args.url:
        return args.url
    database = args.data / DATABASE_FILE
    if not database.exists():
        raise SystemExit(f"No data set at {database}: run  .venv/bin/python bench/generate.py {args.data}")
    return sqlite_url(database)


def scratch_copy(args: argparse.Namespace, into: Path) -> str:
    """A copy of the SQLite group in ``into`` (a benchmark that writes); PostgreSQL is used as it is."""
    if args.url:
        return args.url
    source = Path(data_url(args).removeprefix("sqlite:///"))
    into.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, into / DATABASE_FILE)
    return sqlite_url(into / DATABASE_FILE)


def samples(work: Callable[[], object], repeat: int, *, warm_up: int = 2) -> list[float]:
    """Wall times of ``work`` in milliseconds, after ``warm_up`` runs."""
    for _ in range(warm_up):
        work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def row(what: str, times: list[float], baseline: str, base_times: list[float], **more: Any) -> Row:
    return Row(what, p50(times), p95(times), baseline, p50(base_times), **more)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": [round(x, 2) for x in os.getloadavg()],  # the machine was shared when this is high
    }
