"""The memberships' summary by the days they run (``store/membership_spans.py``) is kept by every write of one.

Through the desk's use cases (a membership started, its mandate set up, a tier changed, paused and resumed,
notice given and withdrawn, ended), the flag and day its payments set (``store/membership_repricing.py``), a
statement through a session, SQL on a bare connection and a delete. After each, the summary holds, per key,
what the memberships' own rows sum to (worked out here in Python from the rows) and what
``rebuild_membership_spans`` sums again; the first test also spells the rows out by hand. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from members import TODAY, billed, gold_and_silver, member
from sqlalchemy import delete, select, update

from aestheticc_pos.services import memberships as svc
from aestheticc_pos.store.kept_sums import NEVER
from aestheticc_pos.store.membership_spans import rebuild_membership_spans
from aestheticc_pos.store.tables import MembershipRow, MembershipSpanRow

Key = tuple[dt.date, dt.date, str, str, bool, dt.date]
k = MembershipSpanRow
_SPAN = (
    k.started_on,
    k.ends_on,
    k.status,
    k.tier_name,
    k.repriced,
    k.own_price_from,
    k.members,
    k.price_pence,
)


def _summary(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    totals: Counter = Counter()
    with services.uow(read_only=True) as uow:
        for *key, n, price in uow.session.execute(select(*_SPAN)):
            totals[(*key, "n")] += n
            totals[(*key, "p")] += price
    return _pairs(totals)


def _from_memberships(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    m = MembershipRow
    totals: Counter = Counter()
    with services.uow(read_only=True) as uow:
        for start, end, status, tier, repriced, own_from, price in uow.session.execute(
            select(
                m.started_on,
                m.ends_on,
                m.status,
                m.tier_name,
                m.repriced,
                m.own_price_from,
                m.monthly_price_pence,
            )
        ):
            key = (start, end or NEVER, status, tier, bool(repriced), own_from or NEVER)
            totals[(*key, "n")] += 1
            totals[(*key, "p")] += price
    return _pairs(totals)


def _rebuilt(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    with services.uow() as uow:
        rebuild_membership_spans(uow.session.connection())
        rows = uow.session.execute(select(*_SPAN)).all()
        uow.session.rollback()
    return {(*r[:4], bool(r[4]), r[5]): (r[6], r[7]) for r in rows if r[6]}


def _pairs(totals: Counter) -> dict[Key, tuple[int, int]]:
    keys = {(*k[:4], bool(k[4]), k[5]) for k in totals}
    found = {k: (totals[(*k, "n")], totals[(*k, "p")]) for k in keys}
    return {k: v for k, v in found.items() if v[0]}


def _kept(services) -> dict[Key, tuple[int, int]]:  # type: ignore[no-untyped-def]
    summary = _summary(services)
    assert summary == _from_memberships(services) == _rebuilt(services)
    return summary


def test_the_desk_moves_a_membership_between_statuses_tiers_and_ends(services, manager, receptionist) -> None:
    tiers = gold_and_silver(services, manager, gold_fee="0.00")
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["gold"], "bob")
    waiting = (TODAY, NEVER, "pending_mandate", "Gold", False, NEVER)
    assert _kept(services) == {waiting: (2, 9800)}
    for name in ("ada", "bob"):
        billed(services, name, f"PM-{name}-1", 4900, TODAY)
    active = (TODAY, NEVER, "active", "Gold", False, NEVER)
    assert _kept(services) == {active: (2, 9800)}
    svc.change_tier(services, membership_id=ada, tier_id=tiers["silver"], staff_id=receptionist)
    svc.pause(services, membership_id=bob, staff_id=receptionist)
    assert _kept(services) == {
        (TODAY, NEVER, "active", "Silver", True, NEVER): (1, 2900),  # her first month was at Gold's price
        (TODAY, NEVER, "paused", "Gold", False, NEVER): (1, 4900),
    }
    svc.resume(services, membership_id=bob, staff_id=receptionist)
    last_day = TODAY + dt.timedelta(days=40)
    svc.give_notice(services, membership_id=bob, ends_on=last_day, staff_id=receptionist)
    _kept(services)
    svc.withdraw_notice(services, membership_id=bob, staff_id=receptionist)
    _kept(services)
    svc.end_membership(services, membership_id=ada, staff_id=receptionist)
    summary = _kept(services)
    assert sum(n for key, (n, _p) in summary.items() if key[2] == "ended") == 1


def test_a_payment_at_another_price_moves_it_to_the_repriced(services, manager, receptionist) -> None:
    tiers = gold_and_silver(services, manager, gold_fee="0.00")
    member(services, receptionist, tiers["gold"], "ada")
    billed(services, "ada", "PM-ada-1", 3900, TODAY)
    assert _kept(services) == {(TODAY, NEVER, "active", "Gold", True, NEVER): (1, 4900)}


def test_statements_bare_sql_and_a_delete_keep_it_too(services, manager, receptionist) -> None:
    tiers = gold_and_silver(services, manager, gold_fee="0.00")
    ada = member(services, receptionist, tiers["gold"], "ada")
    bob = member(services, receptionist, tiers["silver"], "bob")
    with services.uow() as uow:  # a statement through the session
        uow.session.execute(
            update(MembershipRow)
            .where(MembershipRow.id == ada)
            .values(status="active", monthly_price_pence=4500)
        )
        uow.commit()
    assert _kept(services)[(TODAY, NEVER, "active", "Gold", False, NEVER)] == (1, 4500)
    with services.uow() as uow:  # SQL on the bare connection
        uow.session.connection().execute(
            update(MembershipRow.__table__)
            .where(MembershipRow.id == bob)
            .values(ends_on=TODAY + dt.timedelta(days=9), own_price_from=TODAY, repriced=True)
        )
        uow.commit()
    _kept(services)
    with services.uow() as uow:
        uow.session.execute(delete(MembershipRow).where(MembershipRow.id == bob))
        uow.commit()
    assert _kept(services) == {(TODAY, NEVER, "active", "Gold", False, NEVER): (1, 4500)}
