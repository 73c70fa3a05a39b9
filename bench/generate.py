"""A clinic group's database for the benchmarks: deterministic, built with bulk inserts.

    .venv/bin/python bench/generate.py /tmp/bench-1m                      # SQLite: /tmp/bench-1m/aestheticc.db
    .venv/bin/python bench/generate.py --url postgresql+psycopg://…/bench  # PostgreSQL (an empty database)
    .venv/bin/python bench/generate.py /tmp/bench-small --clients 20000    # a smaller group

The defaults are the group of issue 13: 1,000,000 clients, 100,000 client packages, 100,000 memberships and
300,000 sales. The same ``--seed`` gives the same rows (ids included) on every machine.

How: the database is migrated to head, then the demo clinic is made through the real services with a fixed
clock and seeded ids (staff with the demo PINs, the treatment menu, packages, tiers, a few clients with
history), so the app can open it and sign in. The bulk is then inserted with SQLAlchemy Core in batches
(the derived search columns made by ``client_search_columns``, as the ORM would):

- clients, with emails at a few providers and UK mobile numbers;
- client packages (a snapshot of a catalogue package and its steps), each bought on a sale of its own, with
  sessions redeemed on later sales, each redemption an attended appointment and a ``redeem`` ledger entry
  (the step counters equal the ledger's sums); a few sessions booked ahead (``reserve``);
- memberships of the three tiers (mostly active; some past due, cancelling or ended), each with its monthly
  Direct Debit payments since it started (a few failed or charged back and paid at the desk, this month's and
  next month's pending; one in 20 changed tier, its earlier months at the old price);
- the remaining sales: treatments and products paid by cash or card.

Written outside the services, the bulk has no audit entries (the chain stays valid: it is only shorter).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event, insert, select, text  # noqa: E402

from aestheticc_pos.clock import FixedClock  # noqa: E402
from aestheticc_pos.domain import billing  # noqa: E402
from aestheticc_pos.domain.billing import PaymentSource, PaymentStatus  # noqa: E402
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.services.demo import FIRST_NAMES, LAST_NAMES, fill_demo_clinic  # noqa: E402
from aestheticc_pos.settings import DATABASE_FILE, sqlite_url  # noqa: E402
from aestheticc_pos.store.db import create_engine_for, is_sqlite  # noqa: E402
from aestheticc_pos.store.membership_repricing import rebuild_repriced  # noqa: E402
from aestheticc_pos.store.membership_spans import rebuild_membership_spans  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.package_repo import rebuild_package_totals  # noqa: E402
from aestheticc_pos.store.payment_days import rebuild_payment_days  # noqa: E402
from aestheticc_pos.store.tables import (  # noqa: E402
    AppointmentRow,
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    MembershipPaymentRow,
    MembershipRow,
    NumberSequenceRow,
    PackageRow,
    PackageStepRow,
    ProductRow,
    SaleLineRow,
    SaleRow,
    SessionLedgerRow,
    StaffRow,
    TenderRow,
    TierRow,
    TreatmentRow,
    client_search_columns,
)
from aestheticc_pos.store.takings_summary import rebuild_takings  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # the group's "now": packages bought before it are live
TODAY = NOW.date()
BATCH = 5_000
DOMAINS = ("gmail.com", "outlook.com", "icloud.com", "yahoo.co.uk", "hotmail.co.uk", "example.com")
MEMBER_STATUSES = (("active", 85), ("past_due", 5), ("cancelling", 4), ("ended", 6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "folder", nargs="?", type=Path, help="a folder for the SQLite database (made if absent)"
    )
    parser.add_argument("--url", help="a PostgreSQL URL of an empty database, instead of a folder")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--packages", type=int, default=100_000)
    parser.add_argument("--memberships", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.url is None):
        parser.error("give a folder (SQLite) or --url (PostgreSQL)")
    if args.url is None:
        args.folder.mkdir(parents=True, exist_ok=True)
        database = args.folder / DATABASE_FILE
        if database.exists():
            parser.error(f"{database} exists already: remove it or choose another folder")
        url = sqlite_url(database)
    else:
        url = args.url
    if args.packages > args.clients or args.memberships > args.clients or args.sales < args.packages:
        parser.error("at most one package and one membership a client, and at least one sale a package")
    counts = generate(
        url,
        clients=args.clients,
        packages=args.packages,
        memberships=args.memberships,
        sales=args.sales,
        seed=args.seed,
    )
    print(", ".join(f"{n:,} {what}" for what, n in counts.items()))
    return 0


def generate(
    url: str, *, clients: int, packages: int, memberships: int, sales: int, seed: int
) -> dict[str, int]:
    """Fill the empty database at ``url``; returns how many rows of each kind were made."""
    started = time.perf_counter()
    rng = random.Random(seed)
    upgrade_to_head(url)
    engine = create_engine_for(url)
    services = Services(uow=UnitOfWorkFactory(engine), clock=FixedClock(NOW), new_id=_seeded_ids(seed))
    print(fill_demo_clinic(services, clients=10, seed=seed))
    engine.dispose()
    _lap("demo clinic", started)

    bulk = _bulk_engine(url)
    try:
        with bulk.connect() as connection:
            catalogue = _Catalogue.read(connection)
            made = _Group(connection, rng, catalogue)
            made.clients(clients)
            _settle(connection)
            _lap("clients", started)
            made.packages(packages, sales)
            _settle(connection)
            _lap("packages, redemptions and their sales", started)
            made.memberships(memberships)
            _settle(connection)
            _lap("memberships", started)
            made.other_sales(sales - made.counts["sales"])
            made.number_series()
            _settle(connection)
            _lap("sales", started)
            rebuild_takings(connection, "Europe/London")  # the rows went in by SQL: the takings summed after
            _lap("takings summed per day", started)
            rebuild_package_totals(connection)  # and the packages' sessions summed for the reports
            _lap("package totals", started)
            rebuild_repriced(connection)  # and which memberships were billed at another price than their own
            rebuild_payment_days(connection)  # kept by triggers; summed again in one row per key
            rebuild_membership_spans(connection)  # the same
            _settle(connection)
            _lap("memberships repriced", started)
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    finally:
        bulk.dispose()
    _lap("analysed", started)
    return made.counts


class _Catalogue:
    """What the demo clinic made that the bulk refers to."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    @classmethod
    def read(cls, connection: Any) -> _Catalogue:
        staff = {row.role: row.id for row in connection.execute(select(StaffRow.id, StaffRow.role))}
        practitioners = list(
            connection.scalars(
                select(StaffRow.id).where(StaffRow.role == "practitioner").order_by(StaffRow.id)
            )
        )
        packages = list(connection.execute(select(PackageRow).order_by(PackageRow.id)))
        steps = {
            p.id: list(
                connection.execute(
                    select(PackageStepRow.__table__, TreatmentRow.name.label("treatment_name"))
                    .join(TreatmentRow, TreatmentRow.id == PackageStepRow.treatment_id)
                    .where(PackageStepRow.package_id == p.id)
                    .order_by(PackageStepRow.position)
                )
            )
            for p in packages
        }
        treatments = list(connection.execute(select(TreatmentRow).where(TreatmentRow.price_pence > 0)))
        products = list(connection.execute(select(ProductRow)))
        tiers = list(connection.execute(select(TierRow).order_by(TierRow.monthly_price_pence)))
        sale_next = connection.scalar(
            select(NumberSequenceRow.next_value).where(NumberSequenceRow.name == "sale:A")
        )
        return cls(
            reception=staff["receptionist"],
            practitioners=practitioners,
            packages=packages,
            steps=steps,
            treatments=treatments,
            products=products,
            tiers=tiers,
            sale_next=sale_next or 1,
        )


class _Group:
    """Inserts the bulk in batches, remembering what later rows refer to."""

    def __init__(self, connection: Any, rng: random.Random, catalogue: _Catalogue) -> None:
        self.connection, self.rng, self.cat = connection, rng, catalogue
        self.client_ids: list[str] = []
        self.counts = {"clients": 0, "client packages": 0, "memberships": 0, "sales": 0, "appointments": 0}
        self._next_number = catalogue.sale_next
        self._ids = _seeded_ids(rng.getrandbits(32))
        self._payment_ids = _seeded_ids(7)  # its own: the group's other ids are the same with or without them
        self._payment_seq = 0
        self._rows: dict[Any, list[dict[str, Any]]] = {}

    # --- clients --------------------------------------------------------------------------------------------

    def clients(self, count: int) -> None:
        rng = self.rng
        for n in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = f"{first}.{last}{n}".lower().replace("'", "").replace(" ", "")
            email = f"{local}@{rng.choice(DOMAINS)}" if rng.random() < 0.9 else None
            phone = f"07{rng.randint(100, 999)}{rng.randint(0, 999_999):06d}" if rng.random() < 0.95 else None
            client_id = self._ids()
            self.client_ids.append(client_id)
            created = NOW - dt.timedelta(days=rng.randint(0, 3650), seconds=rng.randint(0, 86_399))
            self._add(
                ClientRow,
                {
                    "id": client_id,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "phone": phone,
                    "date_of_birth": dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20_000)),
                    "notes": "",
                    "marketing_consent": rng.random() < 0.6,
                    "created_at": created,
                    "updated_at": created,
                    "anonymised_at": None,
                    **client_search_columns(first, last, email, phone),
                },
            )
            self._flush_if_full()
        self.counts["clients"] = count
        self._flush()

    # --- packages, their sale, their redemptions ---------------------------------------------------------------

    def packages(self, count: int, sales_budget: int) -> None:
        """``count`` client packages, each sold on a sale; sessions redeemed on later sales (within budget)."""
        rng, cat = self.rng, self.cat
        buyers = rng.sample(self.client_ids, count)
        redemptions_left = max(0, sales_budget - count) // 2  # half the other sales redeem a session
        for buyer in buyers:
            package = rng.choice(cat.packages)
            steps = cat.steps[package.id]
            bought = TODAY - dt.timedelta(days=rng.randint(0, 2 * package.validity_days))
            cp_id = self._ids()
            sale_id = self._sale(
                buyer, bought, [("package", package.id, package.name, package.price_pence, cp_id, None, None)]
            )
            self._add(
                ClientPackageRow,
                {
                    "id": cp_id,
                    "client_id": buyer,
                    "package_id": package.id,
                    "name": package.name,
                    "description": package.description,
                    "price_pence": package.price_pence,
                    "currency": package.currency,
                    "vat_rate_bp": package.vat_rate_bp,
                    "validity_days": package.validity_days,
                    "purchased_on": bought,
                    "expires_on": bought + dt.timedelta(days=package.validity_days),
                    "status": "active",
                    "sale_id": sale_id,
                    "created_at": _at(bought),
                    "updated_at": _at(bought),
                },
            )
            day, plan = bought, []  # (step, days redeemed, day booked ahead or None)
            for step in steps:
                row, days = step, []
                for _ in range(row.sessions):
                    day = day + dt.timedelta(
                        days=max(row.min_days_after_previous, row.min_days_between_sessions, 7)
                    )
                    if day >= TODAY or redemptions_left <= 0 or rng.random() < 0.25:
                        break
                    days.append(day)
                    redemptions_left -= 1
                ahead = None
                if len(days) < row.sessions and day < TODAY + dt.timedelta(days=30) and rng.random() < 0.05:
                    ahead = max(day, TODAY + dt.timedelta(days=rng.randint(1, 21)))
                plan.append((step, days, ahead))
                if len(days) < row.sessions:
                    break  # a later step waits for this one
            for step, days, ahead in plan:
                row = step
                self._add(
                    ClientPackageStepRow,
                    {
                        "client_package_id": cp_id,
                        "position": row.position,
                        "treatment_id": row.treatment_id,
                        "name": row.name,
                        "sessions": row.sessions,
                        "min_days_after_previous": row.min_days_after_previous,
                        "min_days_between_sessions": row.min_days_between_sessions,
                        "adjusted": 0,
                        "redeemed": len(days),
                        "reserved": 0 if ahead is None else 1,
                        "refunded": 0,
                    },
                )
            for step, days, ahead in plan:
                for redeemed_on in days:
                    self._redeem(buyer, cp_id, step, step.treatment_name, redeemed_on, package.name)
                if ahead is not None:
                    self._book_ahead(buyer, cp_id, step, ahead)
            self._flush_if_full()
        self.counts["client packages"] = count
        self._flush()

    def _redeem(
        self, client_id: str, cp_id: str, step: Any, treatment: str, day: dt.date, package: str
    ) -> None:
        appointment_id = self._appointment(client_id, cp_id, step, day, "attended")
        sale_id = self._sale(
            client_id,
            day,
            [("treatment", step.treatment_id, treatment, 0, cp_id, step.position, appointment_id)],
            reason=f"Package: {package}",
        )
        self._ledger(cp_id, step.position, "redeem", day, appointment_id, sale_id)

    def _book_ahead(self, client_id: str, cp_id: str, step: Any, day: dt.date) -> None:
        appointment_id = self._appointment(client_id, cp_id, step, day, "booked")
        self._ledger(cp_id, step.position, "reserve", day, appointment_id, None)

    def _appointment(self, client_id: str, cp_id: str, step: Any, day: dt.date, status: str) -> str:
        appointment_id = self._ids()
        starts = dt.datetime.combine(day, dt.time(9 + self.rng.randint(0, 8)), tzinfo=dt.UTC)
        self._add(
            AppointmentRow,
            {
                "id": appointment_id,
                "client_id": client_id,
                "treatment_id": step.treatment_id,
                "practitioner_id": self.rng.choice(self.cat.practitioners),
                "starts_at": starts,
                "duration_minutes": 30,
                "status": status,
                "client_package_id": cp_id,
                "step_position": step.position,
                "deposit_status": None,
                "notes": "",
                "created_at": starts - dt.timedelta(days=7),
                "updated_at": starts,
                "cancelled_at": None,
            },
        )
        self.counts["appointments"] += 1
        return appointment_id

    def _ledger(
        self, cp_id: str, position: int, kind: str, day: dt.date, appointment_id: str, sale_id: str | None
    ) -> None:
        self._add(
            SessionLedgerRow,
            {
                "id": self._ids(),
                "client_package_id": cp_id,
                "step_position": position,
                "kind": kind,
                "sessions": 1,
                "session_on": day,
                "appointment_id": appointment_id,
                "sale_id": sale_id,
                "reason": None,
                "staff_id": self.cat.reception,
                "created_at": _at(day),
            },
        )

    # --- memberships and other sales -------------------------------------------------------------------------

    def memberships(self, count: int) -> None:
        """Memberships of the three tiers, each with its monthly Direct Debit payments (``_payments``). The
        membership's own draws come from the group's generator as before; its payments from one of their own,
        so the rest of the group (the sales after) is the same with or without them."""
        rng, tiers = self.rng, self.cat.tiers
        paying = random.Random(f"membership payments {self.client_ids[0]}")
        statuses = [s for s, weight in MEMBER_STATUSES for _ in range(weight)]
        for client_id in rng.sample(self.client_ids, count):
            tier = tiers[rng.choices(range(len(tiers)), weights=(5, 3, 2))[0]]
            status = rng.choice(statuses)
            started = TODAY - dt.timedelta(days=rng.randint(10, 1500))
            rng.randint(0, 27)  # drawn as before (the day paid through, now worked out from the periods)
            ref = f"{rng.getrandbits(40):010X}"
            membership_id = self._ids()
            paid_through, ends_on = self._payments(paying, membership_id, tier, status, started)
            self._add(
                MembershipRow,
                {
                    "id": membership_id,
                    "client_id": client_id,
                    "tier_id": tier.id,
                    "tier_name": tier.name,
                    "monthly_price_pence": tier.monthly_price_pence,
                    "signup_fee_pence": tier.signup_fee_pence,
                    "currency": tier.currency,
                    "discount_bp": tier.discount_bp,
                    "covers_treatments": tier.covers_treatments,
                    "covers_products": tier.covers_products,
                    "covers_packages": tier.covers_packages,
                    "benefits_start": tier.benefits_start,
                    "grace_days": tier.grace_days,
                    "status": status,
                    "started_on": started,
                    "paid_through": paid_through,
                    "past_due_since": TODAY - dt.timedelta(days=3) if status == "past_due" else None,
                    "ends_on": ends_on,
                    "first_payment_collected": paid_through is not None,
                    "gc_customer_id": f"CU{ref}",
                    "gc_billing_request_id": f"BRQ{ref}",
                    "gc_flow_id": None,
                    "gc_authorisation_url": None,
                    "gc_mandate_id": f"MD{ref}",
                    "gc_mandate_status": "active" if status != "ended" else "cancelled",
                    "gc_subscription_id": f"SB{ref}" if status != "ended" else None,
                    "subscription_amendments": 0,
                    "pending_retry_payment_id": None,
                    "created_at": _at(started),
                    "updated_at": _at(started),
                },
            )
            self._flush_if_full()
        self.counts["memberships"] = count
        self._flush()

    def _payments(
        self, rng: random.Random, membership_id: str, tier: Any, status: str, started: dt.date
    ) -> tuple[dt.date | None, dt.date | None]:
        """A membership's monthly Direct Debit payments (``billing.period``'s months from its start): collected,
        the first with the tier's sign-up fee; one in about 70 failed (one in 300 charged back) and paid at the
        desk a week or two later; the month being collected now pending, and next month's too (the payments
        coming in). A past-due member's month that began 3 days ago failed; an ended one stopped at the end of
        a month before today; a cancelling one ends with this month. One in 20 changed tier on the way: the
        months before at the old tier's price. Returns the day paid through and the last day."""
        now = billing.period_index(started, TODAY)
        last, ends_on = now + 1, None  # next month's payment is pending already
        failed_month = None
        if status == "ended":
            last = rng.randint(0, max(now - 1, 0))
            ends_on = billing.period(started, last).end
        elif status == "cancelling":
            last, ends_on = now, billing.period(started, now).end
        elif status == "past_due":
            failed_month = billing.period_index(started, TODAY - dt.timedelta(days=3))
        others = [t for t in self.cat.tiers if t.id != tier.id]
        changed_at = rng.randint(1, last) if last >= 2 and rng.random() < 0.05 else None
        old = rng.choice(others) if changed_at is not None else tier
        paid_through = None
        for n in range(last + 1):
            month = billing.period(started, n)
            price = old if changed_at is not None and n < changed_at else tier
            amount = price.monthly_price_pence + (price.signup_fee_pence if n == 0 else 0)
            if failed_month is not None and n >= failed_month:
                state = PaymentStatus.FAILED if n == failed_month else PaymentStatus.PENDING
            elif month.start > TODAY - dt.timedelta(days=4):
                state = PaymentStatus.PENDING  # being collected, or next month's
            else:
                chance = rng.random()
                state = (
                    PaymentStatus.CHARGED_BACK
                    if chance < 0.003
                    else PaymentStatus.FAILED
                    if chance < 0.015
                    else PaymentStatus.CONFIRMED
                )
            paid = (membership_id, month, amount, price.name)  # the tier it paid for
            self._payment(*paid, state, PaymentSource.DIRECT_DEBIT, month.start)
            if state in (PaymentStatus.FAILED, PaymentStatus.CHARGED_BACK) and n != failed_month:
                at_desk = month.start + dt.timedelta(days=rng.randint(7, 14))
                self._payment(*paid, PaymentStatus.PAID, PaymentSource.DESK, at_desk)
                state = PaymentStatus.PAID
            if state in (PaymentStatus.CONFIRMED, PaymentStatus.PAID) and (
                failed_month is None or n < failed_month
            ):
                paid_through = month.end
        return paid_through, ends_on

    def _payment(
        self,
        membership_id: str,
        month: Any,
        amount: int,
        tier_name: str,
        status: str,
        source: str,
        charged: dt.date,
    ) -> None:
        self._payment_seq += 1
        direct_debit = source == PaymentSource.DIRECT_DEBIT
        self._add(
            MembershipPaymentRow,
            {
                "id": self._payment_ids(),
                "membership_id": membership_id,
                "gc_payment_id": f"PM{self._payment_seq:010d}" if direct_debit else None,
                "amount_pence": amount,
                "currency": "GBP",
                "charge_date": charged,
                "period_start": month.start,
                "period_end": month.end,
                "status": str(status),
                "source": str(source),
                "tier_name": tier_name,
                "sale_id": None,
                "created_at": _at(min(charged, TODAY)),
                "updated_at": _at(min(charged, TODAY)),
            },
        )
        self.counts["membership payments"] = self._payment_seq

    def other_sales(self, count: int) -> None:
        rng, cat = self.rng, self.cat
        for _ in range(count):
            client_id = rng.choice(self.client_ids)
            day = TODAY - dt.timedelta(days=rng.randint(0, 900))
            lines = []
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                if rng.random() < 0.7:
                    item = rng.choice(cat.treatments)
                    lines.append(("treatment", item.id, item.name, item.price_pence, None, None, None))
                else:
                    item = rng.choice(cat.products)
                    lines.append(("product", item.id, item.name, item.price_pence, None, None, None))
            self._sale(client_id, day, lines)
            self._flush_if_full()
        self._flush()

    def number_series(self) -> None:
        self.connection.execute(
            text("UPDATE number_sequences SET next_value = :n WHERE name = 'sale:A'"),
            {"n": self._next_number},
        )

    # --- sales ----------------------------------------------------------------------------------------------

    def _sale(self, client_id: str, day: dt.date, lines: list[tuple], reason: str | None = None) -> str:
        """A sale of ``lines`` (kind, item id, name, price, client package, step, appointment), paid in full."""
        sale_id = self._ids()
        number = f"A-{self._next_number:06d}"
        self._next_number += 1
        at = _at(day) + dt.timedelta(minutes=self.rng.randint(0, 480))
        gross = discount = vat = 0
        for position, (kind, item_id, name, price, cp_id, step, appointment_id) in enumerate(lines, start=1):
            line_gross = price if price else 0
            line_vat = round(line_gross * 2000 / 12000)
            gross, vat = gross + line_gross, vat + line_vat
            self._add(
                SaleLineRow,
                {
                    "id": self._ids(),
                    "sale_id": sale_id,
                    "position": position,
                    "kind": kind,
                    "item_id": item_id,
                    "name": name,
                    "quantity": 1,
                    "unit_price_pence": line_gross,
                    "gross_pence": line_gross,
                    "discount_pence": 0,
                    "discount_reason": reason,
                    "net_pence": line_gross,
                    "vat_pence": line_vat,
                    "vat_rate_bp": 2000,
                    "step_position": step,
                    "client_package_id": cp_id,
                    "appointment_id": appointment_id,
                },
            )
        net = gross - discount
        self._add(
            SaleRow,
            {
                "id": sale_id,
                "number": number,
                "till_prefix": "A",
                "client_id": client_id,
                "staff_id": self.cat.reception,
                "kind": "sale",
                "channel": "pos",
                "gross_pence": gross,
                "discount_pence": discount,
                "net_pence": net,
                "vat_pence": vat,
                "currency": "GBP",
                "refers_to_sale_id": None,
                "created_at": at,
            },
        )
        if net:
            self._add(
                TenderRow,
                {
                    "id": self._ids(),
                    "sale_id": sale_id,
                    "kind": "card" if self.rng.random() < 0.7 else "cash",
                    "amount_pence": net,
                    "currency": "GBP",
                    "reference": None,
                },
            )
        self.counts["sales"] += 1
        return sale_id

    # --- batching -------------------------------------------------------------------------------------------

    def _add(self, table: Any, row: dict[str, Any]) -> None:
        self._rows.setdefault(table, []).append(row)

    def _flush_if_full(self) -> None:
        """Called between whole units (a client, a package with its sales): every row's parents go with it."""
        if any(len(rows) >= BATCH for rows in self._rows.values()):
            self._flush()

    def _flush(self) -> None:
        """Insert what is waiting, parents before children (the foreign keys are checked)."""
        for table in _INSERT_ORDER:
            rows = self._rows.pop(table, None)
            if rows:
                self.connection.execute(insert(table.__table__), rows)


_INSERT_ORDER = (
    ClientRow,
    SaleRow,
    ClientPackageRow,
    ClientPackageStepRow,
    AppointmentRow,
    SaleLineRow,
    TenderRow,
    SessionLedgerRow,
    MembershipRow,
    MembershipPaymentRow,
)


def _bulk_engine(url: str) -> Engine:
    """An engine for loading: on SQLite no fsync per commit and a large cache (a crash means start again)."""
    engine = create_engine_for(url)
    if is_sqlite(url):

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -400000")
            cursor.close()

    return engine


def _settle(connection: Any) -> None:
    """Commit what was inserted and, on SQLite, copy it from the write-ahead log into the database: reading a
    page through a log of millions of pages searches every part of the log's index, which made the rebuilds
    after the bulk (each reading the whole group) take over 15 minutes."""
    connection.commit()
    if (
        connection.dialect.name == "sqlite"
    ):  # on the driver's connection: outside the transaction begun for us
        connection.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _seeded_ids(seed: int) -> Any:
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    return new_id


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)


def _lap(what: str, started: float) -> None:
    print(f"  {time.perf_counter() - started:7.1f} s  {what}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
