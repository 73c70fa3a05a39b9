"""Every figure of every report, worked out by hand on a small clinic (SQLite and PostgreSQL).

The clinic, in November 2026 (London is on GMT, so local days are UTC days), today being Tue 24 Nov:

Sales through the real checkout and refunds (prices include VAT at 20%):
  S1  Mon 2 Nov 10:00  Ada, 2 × chemical peel £50, cash                            £100
  S2  Mon 2 Nov 11:00  Ada, Microneedling course of 6, £600, card                   £600
  S3  Tue 10 Nov       Ada, microneedling from the course (Package: … £150 off)      £0
  S4  Thu 12 Nov 10:00 Bob (Gold member 20%), chemical peel £50 − £10, card          £40
  S5  Thu 12 Nov 11:00 walk-in, serum £45 overridden to £30 by the manager, cash     £30
  R1  Tue 24 Nov       one peel of S1 back, cash, "Reaction"                         −£50
  R2  Tue 24 Nov       the course's 5 unused sessions (600 × 5 ÷ 6), cash, "Moving"  −£500

Packages written straight into the tables (with their ledger, counters to match):
  Cara  Peel trio £300 / 3, bought 1 May, expired 31 Oct, 1 used (15 Jun): 2 expired  = £200 breakage
  Cara  Peel trio £300 / 3, bought 1 Sep, expires 10 Dec, 1 used (5 Oct), 1 booked
  Gil   Microneedling course £600 / 6, bought 1 Aug, used 20 Aug, 20 Sep, 20 Oct; +1 adjusted 21 Oct
  Gil   Botox starter £300 / 2 steps, bought 1 Nov, consultation 3 Nov, treatment 8 Nov (min 2 days)

Memberships (Gold £49, Silver £29):
  Bob  Gold from 12 Sep, Direct Debit 12 Sep, 12 Oct, 12 Nov collected; 12 Dec pending
  Dee  Silver from 3 Oct (3 Oct collected), then Gold: 3 Nov £49 failed; past due since 6 Nov
  Eve  Gold from 20 Sep (collected), ended 25 Oct
  Fay  Silver from 15 Nov, paid at the desk; 15 Dec pending
"""

from __future__ import annotations

import datetime as dt

import pytest
from staffing import front_desk

from aestheticc_pos.domain.catalogue import ItemKind, Package, PackageStep, Product, Tier, Treatment
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Grouping, LiabilityFlows, MrrMonth, Period
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import package_refunds, refunds
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.report_memberships import memberships_report
from aestheticc_pos.services.report_packages import expiring_sessions, liability_report
from aestheticc_pos.services.report_redemption import redemption_report
from aestheticc_pos.services.report_takings import takings_report
from aestheticc_pos.services.reports import dashboard
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.package_repo import rebuild_package_totals
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    MembershipPaymentRow,
    MembershipRow,
    SessionLedgerRow,
)

GBP = Money.parse
TODAY = dt.date(2026, 11, 24)


def p(pence: int) -> Money:
    return Money(pence, "GBP")


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


@pytest.fixture
def clinic(services, manager, receptionist, clock) -> dict[str, str]:
    with services.uow() as uow:
        s = uow.session
        for t in (
            Treatment(id="t-peel", name="Chemical peel", price=GBP("50.00"), duration_minutes=45),
            Treatment(id="t-micro", name="Microneedling", price=GBP("150.00"), duration_minutes=60),
            Treatment(id="t-botox", name="Botox", price=GBP("200.00"), duration_minutes=30),
        ):
            catalogue_repo.save_treatment(s, t)
        catalogue_repo.save_product(s, Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00")))
        for package in (
            Package(
                id="k-course",
                name="Microneedling course",
                price=GBP("600.00"),
                validity_days=365,
                steps=(PackageStep(1, "t-micro", "Microneedling", sessions=6),),
            ),
            Package(
                id="k-trio",
                name="Peel trio",
                price=GBP("300.00"),
                validity_days=180,
                steps=(PackageStep(1, "t-peel", "Chemical peel", sessions=3),),
            ),
            Package(
                id="k-botox",
                name="Botox starter",
                price=GBP("300.00"),
                validity_days=365,
                steps=(
                    PackageStep(1, "t-botox", "Consultation", sessions=1),
                    PackageStep(2, "t-botox", "Treatment", sessions=1, min_days_after_previous=2),
                ),
            ),
        ):
            catalogue_repo.save_package(s, package)
        for tier_id, name, price in (("tier-gold", "Gold", "49.00"), ("tier-silver", "Silver", "29.00")):
            catalogue_repo.save_tier(
                s, Tier(id=tier_id, name=name, monthly_price=GBP(price), discount_bp=2000)
            )
        uow.commit()
    desk = front_desk(services)
    ids = {
        name: clients_service.add_client(services, staff_id=desk, first_name=name, last_name="Test").id
        for name in ("Ada", "Bob", "Cara", "Dee", "Eve", "Fay", "Gil")
    }
    _memberships(services, ids)
    _packages(services, ids)
    _sales(services, clock, ids, receptionist, manager)
    return ids


def _memberships(services, ids) -> None:
    def member(client, tier, price, started, status, *, ends=None, since=None, paid_through=None):
        return MembershipRow(
            id=f"m-{client}",
            client_id=ids[client],
            tier_id=f"tier-{tier.lower()}",
            tier_name=tier,
            monthly_price_pence=price,
            currency="GBP",
            discount_bp=2000,
            covers_treatments=True,
            covers_products=False,
            covers_packages=False,
            benefits_start="sign_up",
            grace_days=7,
            status=status.value,
            started_on=started,
            ends_on=ends,
            past_due_since=since,
            paid_through=paid_through,
            first_payment_collected=True,
            gc_mandate_id=f"MD{client.upper()}",
            gc_mandate_status="active",
        )

    def paid(client, start, amount, status, source="direct_debit", charge=None):
        end = dt.date(start.year + start.month // 12, start.month % 12 + 1, start.day) - dt.timedelta(days=1)
        return MembershipPaymentRow(
            membership_id=f"m-{client}",
            amount_pence=amount,
            currency="GBP",
            charge_date=charge or start,
            period_start=start,
            period_end=end,
            status=status,
            source=source,
        )

    d = dt.date
    with services.uow() as uow:
        uow.session.add_all(
            [
                member(
                    "Bob", "Gold", 4900, d(2026, 9, 12), MembershipStatus.ACTIVE, paid_through=d(2026, 12, 11)
                ),
                member("Dee", "Gold", 4900, d(2026, 10, 3), MembershipStatus.PAST_DUE, since=d(2026, 11, 6)),
                member("Eve", "Gold", 4900, d(2026, 9, 20), MembershipStatus.ENDED, ends=d(2026, 10, 25)),
                member("Fay", "Silver", 2900, d(2026, 11, 15), MembershipStatus.ACTIVE),
            ]
        )
        uow.session.flush()
        uow.session.add_all(
            [
                paid("Bob", d(2026, 9, 12), 4900, "confirmed"),
                paid("Bob", d(2026, 10, 12), 4900, "confirmed"),
                paid("Bob", d(2026, 11, 12), 4900, "confirmed"),
                paid("Bob", d(2026, 12, 12), 4900, "pending"),
                paid("Dee", d(2026, 10, 3), 2900, "confirmed"),
                paid("Dee", d(2026, 11, 3), 4900, "failed"),
                paid("Eve", d(2026, 9, 20), 4900, "confirmed"),
                paid("Fay", d(2026, 11, 15), 2900, "paid", source="desk"),
                paid("Fay", d(2026, 12, 15), 2900, "pending"),
            ]
        )
        uow.commit()


def _packages(services, ids) -> None:
    d = dt.date

    def bought(cp_id, client, package, name, price, on, expires, steps, ledger):
        cp = ClientPackageRow(
            id=cp_id,
            client_id=ids[client],
            package_id=package,
            name=name,
            price_pence=price,
            currency="GBP",
            vat_rate_bp=2000,
            validity_days=(expires - on).days,
            purchased_on=on,
            expires_on=expires,
            status="active",
            steps=[
                ClientPackageStepRow(position=i, treatment_id=t, name=t, sessions=n, **counters)
                for i, (t, n, counters) in enumerate(steps, start=1)
            ],
        )
        entries = [
            SessionLedgerRow(
                client_package_id=cp_id,
                step_position=step,
                kind=kind,
                sessions=n,
                session_on=day,
                reason="Correction" if kind == "adjust" else None,
                created_at=written,
            )
            for step, kind, n, day, written in ledger
        ]
        return cp, entries

    def when(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(12), dt.UTC)

    rows = [
        bought("cp-old", "Cara", "k-trio", "Peel trio", 30000, d(2026, 5, 1), d(2026, 10, 31),
               [("t-peel", 3, {"redeemed": 1})], [(1, "redeem", 1, d(2026, 6, 15), when(d(2026, 6, 15)))]),
        bought("cp-soon", "Cara", "k-trio", "Peel trio", 30000, d(2026, 9, 1), d(2026, 12, 10),
               [("t-peel", 3, {"redeemed": 1, "reserved": 1})],
               [(1, "redeem", 1, d(2026, 10, 5), when(d(2026, 10, 5))),
                (1, "reserve", 1, d(2026, 12, 1), when(d(2026, 11, 1)))]),
        bought("cp-gil", "Gil", "k-course", "Microneedling course", 60000, d(2026, 8, 1), d(2027, 8, 1),
               [("t-micro", 6, {"redeemed": 3, "adjusted": 1})],
               [(1, "redeem", 1, d(2026, 8, 20), when(d(2026, 8, 20))),
                (1, "redeem", 1, d(2026, 9, 20), when(d(2026, 9, 20))),
                (1, "redeem", 1, d(2026, 10, 20), when(d(2026, 10, 20))),
                (1, "adjust", 1, None, when(d(2026, 10, 21)))]),
        bought("cp-botox", "Gil", "k-botox", "Botox starter", 30000, d(2026, 11, 1), d(2027, 11, 1),
               [("t-botox", 1, {"redeemed": 1}), ("t-botox", 1, {"redeemed": 1})],
               [(1, "redeem", 1, d(2026, 11, 3), when(d(2026, 11, 3))),
                (2, "redeem", 1, d(2026, 11, 8), when(d(2026, 11, 8)))]),
    ]  # fmt: skip
    with services.uow() as uow:
        for cp, _entries in rows:
            uow.session.add(cp)
        uow.session.flush()
        for _cp, entries in rows:
            uow.session.add_all(entries)
        uow.session.flush()
        # Written by hand, as the benchmark's group is: the copies the write paths keep are worked out after.
        rebuild_package_totals(uow.session.connection())
        uow.commit()


def _sales(services, clock, ids, receptionist, manager) -> None:
    def sell(when, staff, client, items, payments):
        clock.set(when)
        return complete_sale(services, client_id=client, items=items, payments=payments, staff_id=staff)

    s1 = sell(
        at(2),
        receptionist,
        ids["Ada"],
        [BasketItem(ItemKind.TREATMENT, "t-peel", quantity=2)],
        [Payment("cash", "100.00")],
    )
    sell(
        at(2, 11),
        receptionist,
        ids["Ada"],
        [BasketItem(ItemKind.PACKAGE, "k-course")],
        [Payment("card", "600.00")],
    )
    sell(at(10), receptionist, ids["Ada"], [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    sell(
        at(12),
        receptionist,
        ids["Bob"],
        [BasketItem(ItemKind.TREATMENT, "t-peel")],
        [Payment("card", "40.00")],
    )
    sell(at(12, 11), manager, None,
         [BasketItem(ItemKind.PRODUCT, "p-serum", override_price="30.00", override_reason="Damaged box")],
         [Payment("cash", "30.00")])  # fmt: skip
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    refunds.refund_sale(
        services, sale_id=s1.sale_id, lines={1: 1}, method="cash", reason="Reaction", staff_id=manager
    )
    with services.uow(read_only=True) as uow:
        course = uow.session.scalar(
            ClientPackageRow.__table__.select()
            .with_only_columns(ClientPackageRow.id)
            .where(ClientPackageRow.client_id == ids["Ada"])
        )
    package_refunds.refund_unused_sessions(
        services, client_package_id=course, reason="Moving", staff_id=manager
    )
    # The refund's ledger entries carry the services' time (the test clock), as the refund document does.


def test_takings_by_week_with_every_split(services, clinic, manager) -> None:
    r = takings_report(services, first=dt.date(2026, 11, 1), last=TODAY, grouping="week", staff_id=manager)
    assert [(x.period, x.sales, x.taken, x.refunded) for x in r.periods] == [
        (Period(dt.date(2026, 11, 1), dt.date(2026, 11, 1)), 0, p(0), p(0)),
        (Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8)), 2, p(70000), p(0)),
        (Period(dt.date(2026, 11, 9), dt.date(2026, 11, 15)), 3, p(7000), p(0)),
        (Period(dt.date(2026, 11, 16), dt.date(2026, 11, 22)), 0, p(0), p(0)),
        (Period(dt.date(2026, 11, 23), dt.date(2026, 11, 24)), 0, p(0), p(-55000)),
    ]
    assert (r.sales, r.taken, r.refunded, r.net) == (5, p(77000), p(-55000), p(22000))
    assert {(x.key, x.taken, x.refunded) for x in r.by_tender} == {
        ("cash", p(13000), p(-55000)),
        ("card", p(64000), p(0)),
    }
    assert {(x.key, x.taken, x.refunded) for x in r.by_kind} == {
        ("treatment", p(14000), p(-5000)),
        ("product", p(3000), p(0)),
        ("package", p(60000), p(-50000)),
    }
    assert {(x.name, x.taken, x.refunded) for x in r.by_practitioner} == {
        ("Rita Reception", p(74000), p(-55000)),  # refunds count for who made the sale
        ("Mia Manager", p(3000), p(0)),
    }
    assert [(x.reason, x.documents, x.amount) for x in r.refund_reasons] == [
        ("Moving", 1, p(-50000)),
        ("Reaction", 1, p(-5000)),
    ]
    assert [(x.reason, x.lines, x.amount) for x in r.discounts] == [
        ("Price overrides", 1, p(1500)),
        ("Gold member 20%", 1, p(1000)),
    ]
    assert r.package_sessions_used == p(15000)
    assert [(t.tier_name, t.discount, t.members_paid) for t in r.tier_costs] == [
        ("Gold", p(1000), p(4900)),  # Bob's 12 Nov; Dee's failed payment is not money paid
        ("Silver", p(0), p(2900)),
    ]


def test_takings_by_day_and_month_agree(services, clinic, manager) -> None:
    by_day = takings_report(services, first=dt.date(2026, 11, 2), last=dt.date(2026, 11, 3), staff_id=manager)
    assert [(x.sales, x.net) for x in by_day.periods] == [(2, p(70000)), (0, p(0))]
    by_month = takings_report(
        services, first=dt.date(2026, 10, 15), last=TODAY, grouping=Grouping.MONTH, staff_id=manager
    )
    assert [(x.period.first, x.period.last, x.net) for x in by_month.periods] == [
        (dt.date(2026, 10, 15), dt.date(2026, 10, 31), p(0)),
        (dt.date(2026, 11, 1), TODAY, p(22000)),
    ]


def test_memberships_mrr_members_arrears_collections_and_what_is_coming(services, clinic, manager) -> None:
    r = memberships_report(
        services, first_month=dt.date(2026, 9, 1), last_month=dt.date(2026, 11, 1), staff_id=manager
    )
    sep, oct_, nov = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    assert r.mrr == (
        MrrMonth(sep, opening=0, new=9800, upgrades=0, downgrades=0, churn=0, closing=9800),
        MrrMonth(oct_, opening=9800, new=2900, upgrades=0, downgrades=0, churn=4900, closing=7800),
        MrrMonth(nov, opening=7800, new=2900, upgrades=2000, downgrades=0, churn=0, closing=12700),
    )
    assert {(t.month, t.tier_name, t.members) for t in r.members_by_tier} == {
        (sep, "Gold", 2),
        (oct_, "Gold", 2),
        (nov, "Gold", 2),
        (nov, "Silver", 1),
    }
    assert r.tiers == ("Gold", "Silver")
    assert [(a.client_name, a.owed, a.past_due_since, a.days_overdue) for a in r.arrears] == [
        ("Dee Test", p(4900), dt.date(2026, 11, 6), 18)
    ]
    assert r.arrears_total == p(4900)
    assert [(c.month, c.collected, c.failed, c.collected_amount, c.failed_amount) for c in r.collections] == [
        (sep, 2, 0, p(9800), p(0)),
        (oct_, 2, 0, p(7800), p(0)),
        (nov, 1, 1, p(4900), p(4900)),
    ]
    assert (r.collected, r.failed, r.collection_rate_bp) == (5, 1, 8333)
    assert [(c.charge_date, c.payments, c.amount) for c in r.coming] == [
        (dt.date(2026, 12, 12), 1, p(4900)),
        (dt.date(2026, 12, 15), 1, p(2900)),
    ]
    assert r.coming_total == p(7800)


def test_package_liability_its_roll_forward_and_the_sessions_expiring(services, clinic, manager) -> None:
    r = liability_report(
        services, first_month=dt.date(2026, 8, 1), last_month=dt.date(2026, 11, 30), staff_id=manager
    )
    assert [(x.package_id, x.client_packages, x.sessions, x.value, x.vat) for x in r.by_package] == [
        ("k-course", 1, 4, p(40000), p(6667)),
        ("k-trio", 1, 2, p(20000), p(3333)),
    ]
    assert (r.sessions, r.value, r.vat) == (6, p(60000), p(10000))
    assert [(m.month, m.opening, m.flows, m.closing) for m in r.months] == [
        (dt.date(2026, 8, 1), 20000, LiabilityFlows(sold=60000, redeemed=10000), 70000),
        (dt.date(2026, 9, 1), 70000, LiabilityFlows(sold=30000, redeemed=10000), 90000),
        (dt.date(2026, 10, 1), 90000, LiabilityFlows(redeemed=20000, expired=20000, adjusted=10000), 60000),
        (dt.date(2026, 11, 1), 60000, LiabilityFlows(sold=90000, redeemed=40000, refunded=50000), 60000),
    ]
    assert r.months[-1].closing == r.value.pence  # the roll-forward ends where the liability is
    # A range that ended before today is worked back from today the same way: the same months, by hand.
    summer = liability_report(
        services, first_month=dt.date(2026, 8, 1), last_month=dt.date(2026, 9, 30), staff_id=manager
    )
    assert [(m.month, m.opening, m.closing) for m in summer.months] == [
        (dt.date(2026, 8, 1), 20000, 70000),
        (dt.date(2026, 9, 1), 70000, 90000),
    ]
    soon = expiring_sessions(services, staff_id=manager)
    assert (soon.as_of, soon.within_days) == (TODAY, 30)
    (cara,) = soon.clients
    assert cara.first_name == "Cara"
    assert [(x.name, x.unbooked, x.booked, x.expires_on, x.value) for x in cara.packages] == [
        ("Peel trio", 1, 1, dt.date(2026, 12, 10), p(10000))
    ]
    assert expiring_sessions(services, within_days=7, staff_id=manager).clients == ()


def test_the_expiring_list_names_the_clients_of_the_soonest_expiries_with_all_their_packages(
    services, clinic, clock, receptionist, manager
) -> None:
    # Within a year: Cara's trio (10 Dec) and Gil's course (1 Aug 2027); Gil buys a trio today (23 May 2027).
    clock.set(at(24, 15))
    complete_sale(
        services,
        client_id=clinic["Gil"],
        items=[BasketItem(ItemKind.PACKAGE, "k-trio")],
        payments=[Payment("card", "300.00")],
        staff_id=receptionist,
    )

    def listed(limit):
        e = expiring_sessions(services, within_days=365, limit=limit, staff_id=manager)
        return [(c.first_name, [(p.name, p.expires_on) for p in c.packages]) for c in e.clients], e.more

    cara = ("Cara", [("Peel trio", dt.date(2026, 12, 10))])
    gil = ("Gil", [("Peel trio", dt.date(2027, 5, 23)), ("Microneedling course", dt.date(2027, 8, 1))])
    assert listed(None) == ([cara, gil], False)
    assert listed(3) == ([cara, gil], False)
    assert listed(2) == ([cara, gil], False)  # Gil's course, the third expiry, comes with his trio
    assert listed(1) == ([cara], True)  # Gil is left out


def test_redemption_rate_and_days_between_steps(services, clinic, manager) -> None:
    r = redemption_report(services, staff_id=manager)
    assert [(x.package_id, x.sold, x.sessions, x.redeemed, x.booked, x.refunded, x.expired, x.rate_bp)
            for x in r.packages] == [
        ("k-botox", 1, 2, 2, 0, 0, 0, 10000),
        ("k-course", 2, 13, 4, 0, 5, 0, 3077),
        ("k-trio", 2, 6, 2, 1, 0, 2, 3333),
    ]  # fmt: skip
    assert [
        (s.package_id, s.position, s.step_name, s.min_days, s.clients, s.average_days) for s in r.steps
    ] == [("k-botox", 2, "Treatment", 2, 1, 5.0)]


def test_the_dashboard(services, clinic, manager) -> None:
    d = dashboard(services, staff_id=manager)
    assert d.today == TODAY
    assert (d.takings_today, d.sales_today, d.appointments_today) == (p(-55000), 0, 0)
    assert (d.month_to_date, d.last_month_to_date, d.last_month) == (p(22000), p(0), p(0))
    assert (d.members, d.mrr, d.in_arrears, d.arrears) == (3, p(12700), 1, p(4900))
    assert (d.liability, d.unredeemed_sessions, d.expiring_packages) == (p(60000), 6, 1)
    days = dict(d.last_days)
    assert len(days) == 30 and min(days) == dt.date(2026, 10, 26) and max(days) == TODAY
    assert (days[dt.date(2026, 11, 2)], days[dt.date(2026, 11, 10)], days[dt.date(2026, 11, 12)]) == (
        p(70000),
        p(0),
        p(7000),
    )
    assert sum(v.pence for v in days.values()) == 22000


def test_reports_are_for_managers_and_refuse_a_backwards_range(
    services, clinic, receptionist, manager
) -> None:
    with pytest.raises(NotPermitted):
        dashboard(services, staff_id=receptionist)
    with pytest.raises(InvalidInput, match="ends before it starts"):
        takings_report(services, first=TODAY, last=dt.date(2026, 11, 1), staff_id=manager)
