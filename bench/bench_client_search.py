"""How fast the Clients screen answers over a large client base (a benchmark, not a test).

    .venv/bin/python bench/bench_client_search.py [--clients 100000] [--repeat 7]

Builds a temporary SQLite database migrated to the newest schema, bulk-inserts ``--clients`` generated
clients (the derived search columns made with ``store.tables.client_search_columns``, as the ORM would), then
times what the screen does:

- ``search_client_ids`` for prefixes a receptionist types, with the screen's own limit (``SEARCH_LIMIT``);
- the table model fetching one page of rows it is about to show (a cold page: ``client_summaries`` of 50 ids).

Each time is the median of ``--repeat`` runs, shown in milliseconds and as a ratio to a baseline measured in
the same run on the same database: loading one client by primary key (``get_client``, a whole unit of work).
The ratios travel between machines better than the milliseconds do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from aestheticc_pos.clock import FixedClock  # noqa: E402
from aestheticc_pos.domain.clients import normalise_phone  # noqa: E402
from aestheticc_pos.services import clients as clients_service  # noqa: E402
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.services.demo import FIRST_NAMES, LAST_NAMES  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.tables import ClientRow, client_search_columns  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402
from aestheticc_pos.ui.views.clients import SEARCH_LIMIT  # noqa: E402

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
TYPED = ("sm", "smith j", "07700 9", "olivia.", "")  # "" is what the screen runs when it opens
BATCH = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100_000, help="how many clients to generate")
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (the median is shown)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.clients < 100 or args.repeat < 1:
        parser.error("use at least 100 clients and 1 repeat")

    with tempfile.TemporaryDirectory(prefix="aestheticc-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        upgrade_to_head(url)
        engine = create_engine_for(url)
        services = Services(uow=UnitOfWorkFactory(engine), clock=FixedClock(NOW))
        ids = generate_clients(engine, args.clients, random.Random(args.seed))
        print(f"{args.clients:,} clients generated and inserted in {time.perf_counter() - started:.1f} s")
        try:
            report(services, ids, args.repeat, random.Random(args.seed + 1))
        finally:
            engine.dispose()
    return 0


def report(services: Services, ids: list[str], repeat: int, rng: random.Random) -> None:
    baseline = measure(lambda: clients_service.get_client(services, rng.choice(ids)), repeat * 4)
    rows: list[tuple[str, float, str]] = [("baseline: get_client by primary key", baseline, "1 client")]
    for typed in TYPED:
        found: list[str] = []

        def search(text: str = typed, into: list[str] = found) -> None:
            into[:] = clients_service.search_client_ids(services, text, limit=SEARCH_LIMIT)

        rows.append((f"search_client_ids({typed!r})", measure(search, repeat), f"{len(found):,} ids"))
    rows.append(
        ("model: fetch one cold page (50 rows)", measure_page_fetch(services, rng, repeat), "50 rows")
    )

    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'what':<{width}}  {'median ms':>10}  {'× baseline':>10}  result")
    for name, seconds, result in rows:
        print(f"{name:<{width}}  {seconds * 1000:>10.2f}  {seconds / baseline:>10.1f}  {result}")


def measure_page_fetch(services: Services, rng: random.Random, repeat: int) -> float:
    """The model asked for a row whose page is not cached: one ``client_summaries`` call, as the screen does."""
    from PySide6.QtCore import QCoreApplication

    from aestheticc_pos.ui.models.clients import ClientListModel

    _app = QCoreApplication.instance() or QCoreApplication([])
    everyone = clients_service.search_client_ids(services, "", limit=SEARCH_LIMIT)
    model = ClientListModel(lambda page: clients_service.client_summaries(services, page))
    model.set_ids(everyone)

    def fetch() -> None:
        model.reload()  # forget every page, so the row's page is fetched
        model.data(model.index(rng.randrange(len(everyone)), 0))

    seconds = measure(fetch, repeat)
    assert model.cached_rows <= model.page_size
    return seconds


def measure(work: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``work`` in seconds, after one warm-up run."""
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def generate_clients(engine, count: int, rng: random.Random) -> list[str]:  # type: ignore[no-untyped-def]
    """Insert ``count`` clients in batches with Core (no ORM events), deriving the search columns ourselves."""
    ids: list[str] = []
    table = ClientRow.__table__
    with engine.begin() as connection:
        for start in range(0, count, BATCH):
            batch = [_client(rng, n) for n in range(start, min(start + BATCH, count))]
            connection.execute(insert(table), batch)
            ids.extend(row["id"] for row in batch)
    return ids


def _client(rng: random.Random, n: int) -> dict[str, object]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}{n}@example.com".lower().replace("'", "")
    if rng.random() < 0.1:  # Ofcom's drama range, as in the demo clinic
        phone = f"07700 9{rng.randint(0, 99_999):05d}"
    else:
        phone = f"07{rng.randint(100, 999)} {rng.randint(0, 999_999):06d}"
    digits = normalise_phone(phone)
    return {
        "id": f"{n:08d}-0000-4000-8000-{rng.getrandbits(48):012x}",
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": digits,
        "date_of_birth": dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20_000)),
        "notes": "",
        "marketing_consent": rng.random() < 0.6,
        "created_at": NOW,
        "updated_at": NOW,
        **client_search_columns(first, last, email, digits),
    }


if __name__ == "__main__":
    raise SystemExit(main())
