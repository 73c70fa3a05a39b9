"""Completing a sale over the clinic group: a Gold member's treatment paid by card, receipt included.

    .venv/bin/python bench/bench_complete_sale.py [--data /tmp/bench-1m | --url …] [--repeat 200]

Timed: ``checkout.complete_sale`` as the till calls it (priced again inside the transaction with the member's
discount, numbered, written with its line, tender and audit entry, committed with ``synchronous=FULL``, and
its receipt). Baseline, in the same run on the same database: a raw transaction writing the same rows (the
number, the sale, its line, its tender) by the DB-API cursor and committing. SQLite works on a copy of the
group; the statements one sale runs are counted.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from common import Report, p95, parser, row, samples, scratch_copy  # isort: skip

from sqlalchemy import event, text  # noqa: E402

from aestheticc_pos.clock import SystemClock  # noqa: E402
from aestheticc_pos.domain.catalogue import ItemKind  # noqa: E402
from aestheticc_pos.services.checkout import complete_sale, quote_basket  # noqa: E402
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.services.pricing import BasketItem, Payment  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402

GOLD_MEMBER = text(
    "SELECT client_id FROM memberships WHERE tier_name = 'Gold' AND status = 'active' ORDER BY id LIMIT 1"
)
RECEPTIONIST = text("SELECT id FROM staff WHERE role = 'receptionist' ORDER BY id LIMIT 1")
RAW_SALE = [
    text(
        "INSERT INTO number_sequences (name, next_value) VALUES ('sale:Z', 2) ON CONFLICT (name) "
        "DO UPDATE SET next_value = number_sequences.next_value + 1 RETURNING next_value - 1"
    ),
    text(
        "INSERT INTO sales (id, number, till_prefix, client_id, staff_id, kind, channel, gross_pence, "
        "discount_pence, net_pence, vat_pence, currency, created_at) VALUES (:id, :number, 'Z', :client, "
        ":staff, 'sale', 'pos', 15000, 3000, 12000, 2000, 'GBP', CURRENT_TIMESTAMP)"
    ),
    text(
        "INSERT INTO sale_lines (id, sale_id, position, kind, item_id, name, quantity, unit_price_pence, "
        "gross_pence, discount_pence, discount_reason, net_pence, vat_pence, vat_rate_bp) VALUES (:line, :id, "
        "1, 'treatment', 'tr-hydrafacial', 'HydraFacial', 1, 15000, 15000, 3000, 'Gold member 20%', 12000, "
        "2000, 2000)"
    ),
    text(
        "INSERT INTO tenders (id, sale_id, kind, amount_pence, currency) VALUES (:tender, :id, 'card', 12000, "
        "'GBP')"
    ),
]


def main() -> int:
    p = parser(__doc__)
    p.set_defaults(repeat=200)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="aestheticc-sale-") as folder:
        url = scratch_copy(args, Path(folder))
        upgrade_to_head(url)
        engine = create_engine_for(url)
        services = Services(uow=UnitOfWorkFactory(engine, data_dir=Path(folder)), clock=SystemClock())
        report = Report("complete_sale", str(args.url or args.data).split("@")[-1])
        try:
            _run(report, services, engine, args.repeat)
        finally:
            engine.dispose()
    report.write()
    return 0


def _run(report: Report, services: Services, engine, repeat: int) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        client_id, staff_id = connection.scalar(GOLD_MEMBER), connection.scalar(RECEPTIONIST)
    items = [BasketItem(ItemKind.TREATMENT, "tr-hydrafacial")]
    total = quote_basket(services, client_id=client_id, items=items).net

    def sale() -> None:
        complete_sale(
            services,
            client_id=client_id,
            items=items,
            payments=[Payment("card", total)],
            staff_id=staff_id,
            expected_total=total,
            sale_id=str(uuid.uuid4()),
        )

    def raw() -> None:
        ids = {"id": str(uuid.uuid4()), "line": str(uuid.uuid4()), "tender": str(uuid.uuid4())}
        with engine.begin() as connection:
            n = connection.execute(RAW_SALE[0]).scalar()
            connection.execute(
                RAW_SALE[1], {**ids, "number": f"Z-{n:06d}", "client": client_id, "staff": staff_id}
            )
            connection.execute(RAW_SALE[2], ids)
            connection.execute(RAW_SALE[3], ids)

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    sale()
    event.remove(engine, "before_cursor_execute", seen)
    count = len(statements)
    base_times, times = [], []
    for _ in range(max(1, repeat // 20)):  # interleaved, so both see the same disk
        base_times += samples(raw, 20, warm_up=1)
        times += samples(sale, 20, warm_up=1)
    figure = row(
        "Complete a sale",
        times,
        "raw transaction, same rows",
        base_times,
        target="≤ 3×, p95 ≤ 10 ms",
        note=f"{count} statements",
    )
    figure.met = figure.ratio <= 3 and p95(times) <= 10
    report.add(figure)
    report.extra["statements"] = [" ".join(s.split())[:120] for s in statements]


if __name__ == "__main__":
    raise SystemExit(main())
