"""The Memberships report's members in arrears: the most overdue listed, the count and the total of every one.

Figures worked out by hand (the services' clock: 24 Nov 2026), on SQLite and PostgreSQL:

    Bob Able    Silver, suspended since 20 Oct; failed £29                          owes £29, 35 days
    Cid Brown   Platinum, past due since 1 Nov; failed £89                          owes £89, 23 days
    Ann Zed     Gold, past due since 1 Nov; failed £49, charged back £49, paid £49  owes £98, 23 days
    Dee Cole    Gold, past due since 10 Nov; charged back £49, cancelled £49        owes £49, 14 days
    Eve Fox     Gold, active; failed £49                                            not in arrears
    Fay Gill    Silver, past due since 15 Nov; August failed £29 and then paid at   owes £29, 9 days
                the desk, September failed £29

In order: the longest past due first, then by surname (Brown before Zed on 1 Nov). Five members owe £294.
"""

from __future__ import annotations

import datetime as dt

import pytest
from staffing import front_desk

from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import report_memberships
from aestheticc_pos.services.report_memberships import members_in_arrears, memberships_report
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow

d = dt.date
MEMBERS = (  # first, last, tier, price, status, past due since, payments (amount, status)
    ("Ann", "Zed", "Gold", 4900, "past_due", d(2026, 11, 1),
     ((4900, "failed"), (4900, "charged_back"), (4900, "confirmed"))),
    ("Bob", "Able", "Silver", 2900, "suspended", d(2026, 10, 20), ((2900, "failed"),)),
    ("Cid", "Brown", "Platinum", 8900, "past_due", d(2026, 11, 1), ((8900, "failed"),)),
    ("Dee", "Cole", "Gold", 4900, "past_due", d(2026, 11, 10), ((4900, "charged_back"), (4900, "cancelled"))),
    ("Eve", "Fox", "Gold", 4900, "active", None, ((4900, "failed"),)),
    ("Fay", "Gill", "Silver", 2900, "past_due", d(2026, 11, 15),
     ((2900, "failed", 0), (2900, "paid", 0), (2900, "failed", 1))),  # a third figure: the month
)  # fmt: skip
IN_ORDER = [
    ("Bob Able", "Silver", "suspended", 2900, d(2026, 10, 20), 35),
    ("Cid Brown", "Platinum", "past_due", 8900, d(2026, 11, 1), 23),
    ("Ann Zed", "Gold", "past_due", 9800, d(2026, 11, 1), 23),
    ("Dee Cole", "Gold", "past_due", 4900, d(2026, 11, 10), 14),
    ("Fay Gill", "Silver", "past_due", 2900, d(2026, 11, 15), 9),
]
TOTAL = Money(2900 + 8900 + 9800 + 4900 + 2900, "GBP")


@pytest.fixture
def in_arrears(services) -> None:  # type: ignore[no-untyped-def]
    desk = front_desk(services)
    with services.uow() as uow:
        for name, price in (("Gold", "49.00"), ("Silver", "29.00"), ("Platinum", "89.00")):
            catalogue_repo.save_tier(
                uow.session,
                Tier(id=f"tier-{name.lower()}", name=name, monthly_price=Money.parse(price), discount_bp=0),
            )
        uow.commit()
    memberships, payments = [], []
    for i, (first, last, tier, price, status, since, paid) in enumerate(MEMBERS):
        client = clients_service.add_client(services, staff_id=desk, first_name=first, last_name=last)
        started = d(2026, 6, 1 + i)
        memberships.append(
            MembershipRow(
                id=f"m-{i}",
                client_id=client.id,
                tier_id=f"tier-{tier.lower()}",
                tier_name=tier,
                monthly_price_pence=price,
                currency="GBP",
                discount_bp=0,
                covers_treatments=True,
                covers_products=False,
                covers_packages=False,
                benefits_start="sign_up",
                grace_days=7,
                status=status,
                started_on=started,
                past_due_since=since,
                first_payment_collected=True,
            )
        )
        for k, payment in enumerate(paid):
            amount, paid_status, month = (*payment, k)[:3]
            period_start = d(2026, 8 + month, started.day)
            payments.append(
                MembershipPaymentRow(
                    membership_id=f"m-{i}",
                    amount_pence=amount,
                    currency="GBP",
                    charge_date=period_start,
                    period_start=period_start,
                    period_end=period_start + dt.timedelta(days=27),
                    status=paid_status,
                    source="desk" if paid_status == "paid" else "direct_debit",
                )
            )
    with services.uow() as uow:
        uow.session.add_all(memberships)
        uow.session.flush()
        uow.session.add_all(payments)
        uow.commit()


def _rows(members) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (m.client_name, m.tier_name, m.status.value, m.owed.pence, m.past_due_since, m.days_overdue)
        for m in members
    ]


def test_the_most_overdue_are_listed_and_the_count_and_total_are_of_every_member(
    services, manager, in_arrears
) -> None:
    two = members_in_arrears(services, limit=2, staff_id=manager)
    assert _rows(two.members) == IN_ORDER[:2]
    assert (two.count, two.total, two.more) == (5, TOTAL, True)
    three = members_in_arrears(services, limit=3, staff_id=manager)
    assert _rows(three.members) == IN_ORDER[:3] and three.more
    for limit in (5, 10, None):
        every = members_in_arrears(services, limit=limit, staff_id=manager)
        assert _rows(every.members) == IN_ORDER
        assert (every.count, every.total, every.more) == (5, TOTAL, False)


def test_the_report_carries_the_most_overdue_and_says_there_are_more(
    services, manager, in_arrears, monkeypatch
) -> None:
    def report():  # type: ignore[no-untyped-def]
        return memberships_report(
            services, first_month=d(2026, 10, 1), last_month=d(2026, 11, 1), staff_id=manager
        )

    whole = report()
    assert _rows(whole.arrears) == IN_ORDER
    assert (whole.in_arrears, whole.arrears_total, whole.arrears_more) == (5, TOTAL, False)
    monkeypatch.setattr(report_memberships, "ARREARS_SHOWN", 1)
    capped = report()
    assert _rows(capped.arrears) == IN_ORDER[:1]
    assert (capped.in_arrears, capped.arrears_total, capped.arrears_more) == (5, TOTAL, True)


def test_a_limit_must_be_a_whole_number_of_members(services, manager) -> None:
    with pytest.raises(InvalidInput, match="number of members"):
        members_in_arrears(services, limit=0, staff_id=manager)
