"""The Memberships report's MRR, movements and members by tier, and the dashboard's MRR, against a plain model.

The model reads the module's definition day by day, membership by membership: a member on a day from its start
to its ``ends_on`` (included), never while waiting for its mandate, never when ended without an end date; its
price then is the latest period billed by that day (not cancelled or refunded; the sign-up fee left out of the
first period) or its own monthly price before anything was billed; a paused member pays nothing. Each month is
taken at its last day (today for the month under way), the opening at the day before the first month.

The memberships are written straight into the tables, chosen for the edges: started on a snapshot day and the
day after one, ended on a snapshot day and the day after one, ended without an end date, waiting for a mandate,
paused, repriced up and down (with a sign-up fee on the first period, a cancelled and a refunded period, a
failed one that still counts as billed), started and ended between two snapshot days, and ended on and the day
before today. SQLite and PostgreSQL (``services`` is parametrised over both).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
from staffing import front_desk

from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import MrrMonth
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.report_memberships import memberships_report, mrr_on_in
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow

TODAY = dt.date(2026, 11, 24)  # the services' clock (conftest)
d = dt.date
NOT_BILLED = ("cancelled", "refunded")


@dataclass(frozen=True)
class Paid:
    period_start: dt.date
    amount: int
    status: str = "confirmed"


@dataclass(frozen=True)
class Member:
    key: str
    tier: str
    price: int
    started: dt.date
    status: str = "active"
    ends: dt.date | None = None
    fee: int = 0
    payments: tuple[Paid, ...] = ()


GROUP = (
    Member("steady", "Gold", 4900, d(2026, 1, 10), payments=(Paid(d(2026, 10, 10), 4900),)),
    Member("on-opening", "Silver", 2900, d(2026, 5, 31)),
    Member("on-snapshot", "Gold", 4900, d(2026, 6, 30)),
    Member("after-snapshot", "Silver", 2900, d(2026, 7, 1)),
    Member("ends-on-snapshot", "Silver", 2900, d(2026, 2, 1), "ended", ends=d(2026, 8, 31)),
    Member("ends-after-snapshot", "Gold", 4900, d(2026, 3, 1), "ended", ends=d(2026, 9, 1)),
    Member("ended-no-date", "Gold", 4900, d(2026, 1, 1), "ended"),
    Member("pending", "Gold", 4900, d(2026, 5, 1), "pending_mandate"),
    Member("paused", "Platinum", 8900, d(2026, 4, 1), "paused"),
    Member("paused-repriced", "Gold", 4900, d(2026, 4, 2), "paused", payments=(Paid(d(2026, 4, 2), 4000),)),
    Member("inside-one-month", "Gold", 4900, d(2026, 7, 5), "ended", ends=d(2026, 7, 20)),
    Member("before-range", "Silver", 2900, d(2025, 1, 1), "ended", ends=d(2026, 4, 30)),
    Member("fee-not-repriced", "Silver", 2900, d(2026, 6, 10), fee=2000,
           payments=(Paid(d(2026, 6, 10), 4900), Paid(d(2026, 7, 10), 2900))),
    Member("upgrade", "Gold", 4900, d(2026, 5, 15), fee=1000, payments=(
        Paid(d(2026, 5, 15), 3900), Paid(d(2026, 6, 15), 2900), Paid(d(2026, 7, 15), 2900),
        Paid(d(2026, 8, 15), 4900), Paid(d(2026, 9, 15), 4900), Paid(d(2026, 10, 15), 9999, "cancelled"),
        Paid(d(2026, 10, 16), 4900), Paid(d(2026, 11, 15), 4900, "pending"))),
    Member("downgrade", "Silver", 2900, d(2026, 3, 3), "past_due", fee=500, payments=(
        Paid(d(2026, 3, 3), 9400), Paid(d(2026, 4, 3), 8900), Paid(d(2026, 8, 3), 8900),
        Paid(d(2026, 9, 3), 2900), Paid(d(2026, 10, 3), 2900, "failed"), Paid(d(2026, 11, 3), 1900, "refunded"),
        Paid(d(2026, 12, 3), 2900, "pending"))),
    Member("billed-later", "Gold", 4900, d(2026, 6, 20), "cancelling", ends=d(2026, 12, 19),
           payments=(Paid(d(2026, 7, 1), 2900),)),
    Member("ends-today", "Platinum", 8900, d(2026, 8, 8), "ended", ends=TODAY),
    Member("ended-yesterday", "Platinum", 8900, d(2026, 8, 9), "ended", ends=TODAY - dt.timedelta(days=1)),
    Member("starts-tomorrow", "Silver", 2900, TODAY + dt.timedelta(days=1)),
    Member("future-repriced", "Silver", 2900, d(2026, 12, 20), payments=(Paid(d(2026, 12, 20), 8900),)),
)  # fmt: skip


# The model: the definition, day by day and membership by membership.


def is_member(m: Member, day: dt.date) -> bool:
    if m.status == "pending_mandate" or m.started > day:
        return False
    if m.ends is None:
        return m.status != "ended"
    return m.ends >= day


def price_on(m: Member, day: dt.date) -> int:
    if not is_member(m, day) or m.status == "paused":
        return 0
    billed = [p for p in m.payments if p.period_start <= day and p.status not in NOT_BILLED]
    if not billed:
        return m.price
    latest = max(billed, key=lambda p: p.period_start)
    return latest.amount - (m.fee if latest.period_start == m.started else 0)


def model_mrr(group: tuple[Member, ...], day: dt.date) -> tuple[int, int]:
    return sum(is_member(m, day) for m in group), sum(price_on(m, day) for m in group)


def month_ends(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(first day, snapshot day) of each month from the one of ``first`` to the one of ``last``."""
    out = []
    month = first.replace(day=1)
    while month <= last:
        following = d(month.year + month.month // 12, month.month % 12 + 1, 1)
        out.append((month, min(following - dt.timedelta(days=1), TODAY)))
        month = following
    return out


def model_report(group: tuple[Member, ...], first: dt.date, last: dt.date):  # type: ignore[no-untyped-def]
    months = month_ends(first, last)
    mrr = []
    opening = first.replace(day=1) - dt.timedelta(days=1)
    for month, day in months:
        new = upgrades = downgrades = churn = 0
        for m in group:
            before, after = price_on(m, opening), price_on(m, day)
            if before == 0 and after > 0:
                new += after
            elif before > 0 and after == 0:
                churn += before
            elif 0 < before < after:
                upgrades += after - before
            elif 0 < after < before:
                downgrades += before - after
        mrr.append(
            MrrMonth(
                month,
                sum(price_on(m, opening) for m in group),
                new,
                upgrades,
                downgrades,
                churn,
                closing=sum(price_on(m, day) for m in group),
            )
        )
        opening = day
    tiers = set()
    for month, day in months:
        counts = Counter(m.tier for m in group if is_member(m, day))
        tiers |= {(month, tier, n) for tier, n in counts.items()}
    return tuple(mrr), tiers


# The group in the tables.


def write_group(services, group: tuple[Member, ...]) -> None:  # type: ignore[no-untyped-def]
    desk = front_desk(services)
    with services.uow() as uow:
        for name, price in (("Gold", "49.00"), ("Silver", "29.00"), ("Platinum", "89.00")):
            catalogue_repo.save_tier(
                uow.session,
                Tier(
                    id=f"tier-{name.lower()}", name=name, monthly_price=Money.parse(price), discount_bp=1000
                ),
            )
        uow.commit()
    rows, payments = [], []
    for i, m in enumerate(group):
        client = clients_service.add_client(
            services, staff_id=desk, first_name=f"Client{i}", last_name="Test"
        )
        rows.append(
            MembershipRow(
                id=f"m-{m.key}",
                client_id=client.id,
                tier_id=f"tier-{m.tier.lower()}",
                tier_name=m.tier,
                monthly_price_pence=m.price,
                signup_fee_pence=m.fee,
                currency="GBP",
                discount_bp=1000,
                covers_treatments=True,
                covers_products=False,
                covers_packages=False,
                benefits_start="sign_up",
                grace_days=7,
                status=m.status,
                started_on=m.started,
                ends_on=m.ends,
                first_payment_collected=bool(m.payments),
            )
        )
        payments += [
            MembershipPaymentRow(
                membership_id=f"m-{m.key}",
                amount_pence=p.amount,
                currency="GBP",
                charge_date=p.period_start,
                period_start=p.period_start,
                period_end=p.period_start + dt.timedelta(days=27),
                status=p.status,
                source="direct_debit",
            )
            for p in m.payments
        ]
    with services.uow() as uow:
        uow.session.add_all(rows)
        uow.session.flush()
        uow.session.add_all(payments)
        uow.commit()


@pytest.fixture
def group(services) -> tuple[Member, ...]:  # type: ignore[no-untyped-def]
    write_group(services, GROUP)
    return GROUP


RANGES = [
    (d(2026, 6, 1), d(2026, 11, 1)),  # every month's snapshot falls on an edge of some membership
    (d(2026, 1, 1), d(2026, 12, 1)),  # the dashboard's year, from before every start
    (d(2026, 8, 15), d(2027, 2, 10)),  # any day of the months; months after today: their snapshot is today
    (d(2026, 11, 1), d(2026, 11, 30)),  # one month
    (d(2027, 1, 1), d(2027, 2, 1)),  # all in the future: the opening (31 Dec) comes after the snapshots
]


@pytest.mark.parametrize(("first", "last"), RANGES)
def test_every_figure_of_the_report_is_the_models(services, manager, group, first, last) -> None:
    r = memberships_report(services, first_month=first, last_month=last, staff_id=manager)
    mrr, tiers = model_report(group, first, last)
    assert r.mrr == mrr
    assert {(t.month, t.tier_name, t.members) for t in r.members_by_tier} == tiers
    assert r.tiers == tuple(sorted({tier for _, tier, _ in tiers}))


def test_the_group_moves_in_every_way(group) -> None:
    """The model's own figures over the first range show every kind of movement (so the comparison covers
    them all), and repricing is what the upgrades and downgrades come from."""
    mrr, _ = model_report(group, *RANGES[1])
    assert all(sum(getattr(m, kind) for m in mrr) > 0 for kind in ("new", "upgrades", "downgrades", "churn"))
    steady = tuple(m for m in group if m.key not in ("upgrade", "downgrade", "billed-later"))
    mrr, _ = model_report(steady, *RANGES[1])
    assert sum(m.upgrades + m.downgrades for m in mrr) == 0


@pytest.mark.parametrize(
    "day",
    [d(2026, 5, 31), d(2026, 6, 30), d(2026, 7, 1), d(2026, 8, 31), d(2026, 9, 1), d(2026, 10, 15),
     d(2026, 10, 16), d(2026, 11, 3), TODAY - dt.timedelta(days=1), TODAY, d(2026, 12, 20)],
)  # fmt: skip
def test_mrr_on_a_day_is_the_models(services, group, day) -> None:
    with services.uow(read_only=True) as uow:
        assert mrr_on_in(uow, day) == model_mrr(group, day)


def test_figures_worked_out_by_hand(services, manager) -> None:
    """A few memberships, the figures written by hand (the model is not used).

    Ann  Gold £49 from 10 Sep, active                                   (Sep 4900, Oct 4900, Nov 4900)
    Ben  Silver £29 from 1 Oct, fee £10, billed £39; moved to Gold £49, billed 1 Nov  (Oct 2900, Nov 4900)
    Cat  Silver £29 from 5 Aug, ended 30 Sep                            (Aug 2900, Sep 2900, churn in Oct)
    Dan  Gold £49 from 2 Oct, paused                                    (a member, no MRR)
    Eli  Gold £49 from 3 Oct, waiting for the mandate                   (never)
    """
    hand = (
        Member("ann", "Gold", 4900, d(2026, 9, 10)),
        Member("ben", "Gold", 4900, d(2026, 10, 1), fee=1000,
               payments=(Paid(d(2026, 10, 1), 3900), Paid(d(2026, 11, 1), 4900))),
        Member("cat", "Silver", 2900, d(2026, 8, 5), "ended", ends=d(2026, 9, 30)),
        Member("dan", "Gold", 4900, d(2026, 10, 2), "paused"),
        Member("eli", "Gold", 4900, d(2026, 10, 3), "pending_mandate"),
    )  # fmt: skip
    write_group(services, hand)
    r = memberships_report(services, first_month=d(2026, 9, 1), last_month=d(2026, 11, 1), staff_id=manager)
    sep, oct_, nov = d(2026, 9, 1), d(2026, 10, 1), d(2026, 11, 1)
    assert r.mrr == (
        MrrMonth(sep, opening=2900, new=4900, upgrades=0, downgrades=0, churn=0, closing=7800),
        MrrMonth(oct_, opening=7800, new=2900, upgrades=0, downgrades=0, churn=2900, closing=7800),
        MrrMonth(nov, opening=7800, new=0, upgrades=2000, downgrades=0, churn=0, closing=9800),
    )
    assert {(t.month, t.tier_name, t.members) for t in r.members_by_tier} == {
        (sep, "Gold", 1),
        (sep, "Silver", 1),
        (oct_, "Gold", 3),
        (nov, "Gold", 3),
    }
    with services.uow(read_only=True) as uow:
        assert mrr_on_in(uow, TODAY) == (3, 9800)
        assert mrr_on_in(uow, d(2026, 9, 30)) == (2, 7800)
        assert mrr_on_in(uow, d(2026, 10, 1)) == (2, 7800)
