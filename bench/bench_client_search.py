"""Clients screen and checkout's client box over the clinic group: every keystroke, p50 and p95.

    .venv/bin/python bench/bench_client_search.py [--data /tmp/bench-1m | --url postgresql+psycopg://…] [--repeat 40]

What is timed is what runs on the desk's thread pool for one keystroke, through the services:

- Clients screen: ``clients.search_client_page`` (the page of rows the list shows first, and the cursor of
  the next) for "s", "sm", "smith j", a phone fragment, "@gmail", "gold" and the empty search the
  screen opens with; then a filter by membership tier and by package;
- checkout's client box: ``search_clients(typed, limit=8)`` for "s".

The baseline of each is the best raw query for a page like it, on the same connection pool: one statement
reading the first 50 (8) clients of the search key's index range in list order with their tier and active
packages, by the DB-API cursor, with no ORM.
"""

from __future__ import annotations

import time

from common import Report, data_url, p50, p95, parser, row, samples  # isort: skip

from sqlalchemy import text  # noqa: E402

from aestheticc_pos.clock import SystemClock  # noqa: E402
from aestheticc_pos.services import clients as clients_service  # noqa: E402
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402

TARGET_MS = 30.0
TYPED = ("s", "sm", "smith j", "900123", "@gmail", "gold", "")
_PAGE = (
    "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.date_of_birth, "
    "(SELECT m.tier_name FROM memberships m WHERE m.client_id = c.id AND m.status != 'ended' LIMIT 1), "
    "(SELECT count(*) FROM client_packages p WHERE p.client_id = c.id AND p.status = 'active' "
    "AND p.expires_on >= CURRENT_DATE) FROM clients c WHERE c.anonymised_at IS NULL "
)
RAW = {  # the best single statement for the same page (its rows, their tier and packages), on the key's index
    "name": _PAGE + "AND c.search_name_reversed >= :low AND c.search_name_reversed < :high "
    "ORDER BY c.search_name_reversed, c.id LIMIT :n",
    "all": _PAGE + "ORDER BY c.search_name_reversed, c.id LIMIT :n",
}


def main() -> int:
    args = parser(__doc__).parse_args()
    url = data_url(args)
    started = time.perf_counter()
    if upgrade_to_head(url):
        print(f"Migrated the data set to the newest schema in {time.perf_counter() - started:.1f} s")
    engine = create_engine_for(url)
    services = Services(uow=UnitOfWorkFactory(engine), clock=SystemClock())
    report = Report("client_search", url.split("@")[-1])
    try:
        _run(report, services, engine, args.repeat)
    finally:
        engine.dispose()
    report.write()
    return 0


def _run(report: Report, services: Services, engine, repeat: int) -> None:  # type: ignore[no-untyped-def]
    def raw(sql: str, **params: object):  # type: ignore[no-untyped-def]
        def run() -> None:
            with engine.connect() as connection:
                connection.execute(text(RAW[sql]), params).all()

        return run

    for typed in TYPED:
        key = typed.strip().lower()
        base = raw("name", low=key, high=key[:-1] + chr(ord(key[-1]) + 1), n=50) if key else raw("all", n=50)
        base_times = samples(base, repeat)
        found: list[int] = []

        def keystroke(typed: str = typed, found: list[int] = found) -> None:
            page = clients_service.search_client_page(services, typed)
            found[:] = [len(page.rows), page.next is not None]

        times = samples(keystroke, repeat)
        report.add(
            row(
                f"Clients screen: {typed!r}",
                times,
                "raw indexed page of 50",
                base_times,
                target="≤ 30 ms p95, ≤ 3× raw",
                met=p95(times) <= TARGET_MS and p50(times) <= 3 * p50(base_times),
                note=f"{found[0]} rows on the first page, more: {bool(found[1])}",
            )
        )
    tiers = clients_service.client_filters(services).tiers
    packages = clients_service.client_filters(services).packages
    for label, filters in (
        (f"tier {tiers[-1].name}", clients_service.ClientFilter(tier_id=tiers[-1].id)),
        (f"package {packages[0].name}", clients_service.ClientFilter(package_id=packages[0].id)),
    ):
        base_times = samples(raw("all", n=50), repeat)
        times = samples(lambda f=filters: clients_service.search_client_page(services, "", filters=f), repeat)
        report.add(
            row(
                f"Clients screen, filter: {label}",
                times,
                "raw indexed page of 50",
                base_times,
                target="≤ 30 ms p95",
                met=p95(times) <= TARGET_MS,
            )
        )

    key = "s"
    base_times = samples(raw("name", low=key, high="t", n=8), repeat)
    times = samples(lambda: clients_service.search_clients(services, "s", limit=8), repeat)
    report.add(
        row(
            "Checkout client box: 's' (8 rows)",
            times,
            "raw indexed page of 8",
            base_times,
            target="≤ 30 ms p95",
            met=p95(times) <= TARGET_MS,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
