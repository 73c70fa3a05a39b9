"""Every benchmark of issue 13's table and the reports of issue 14, one after the other, over the clinic group (made first if missing).

    .venv/bin/python bench/run_all.py [--data /tmp/bench-1m | --url postgresql+psycopg://…]

Each writes ``bench/results/<name>.json``; ``bench/RESULTS.md`` summarises them. About 15 minutes on two
cores once the group exists (making it takes about 6 more, and migrating an older copy about 6).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ON_THE_GROUP = (
    "bench_client_search.py",
    "bench_appointment.py",
    "bench_complete_sale.py",
    "bench_start.py",
    "bench_reports.py",
)
OWN_DATA = ("bench_sync_pull.py",)  # builds its own members against the simulator


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("/tmp/bench-1m"))
    parser.add_argument("--url")
    args = parser.parse_args()
    where = ["--url", args.url] if args.url else ["--data", str(args.data)]
    if not args.url and not (args.data / "aestheticc.db").exists():
        _run("generate.py", [str(args.data)])
    failed = [name for name in ON_THE_GROUP if _run(name, where)]
    failed += [name for name in OWN_DATA if (HERE / name).exists() and _run(name, [])]
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


def _run(script: str, arguments: list[str]) -> int:
    print(f"\n== {script} {' '.join(arguments)}", flush=True)
    return subprocess.call([sys.executable, str(HERE / script), *arguments])


if __name__ == "__main__":
    raise SystemExit(main())
