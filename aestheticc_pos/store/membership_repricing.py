"""Which memberships may have been billed at another price than their own (``memberships.repriced``).

The Memberships report and today's MRR sum the memberships billed only at their monthly price straight off
an index, and price the others period by period from their payments. Finding those others from the payments
reads every payment of the group; so the flag is kept where the rows are written:

- a membership payment inserted, or its amount, status, period or membership changed, that is billed (not
  cancelled or refunded) at a net (less the sign-up fee on the first period) other than its membership's
  monthly price sets its membership's flag;
- a membership whose monthly price, sign-up fee or start changes sets its own flag when one of its billed
  payments is then at another net than its price.

The rule is here once, watched on the mapping (``watch``, called where the tables are mapped): every writer of
these rows through a session passes through it, whichever part of the app it is in (the desk, the billing,
the sync applying GoCardless's events, the demo). Statements run through a session (``update(...)``) are
watched too, for the rows they reach. Only SQL on a bare connection (the benchmark's generator, a migration)
goes round it, and calls ``rebuild_repriced`` after.

The flag is never cleared by the write paths: a flagged membership whose payments are all at its price has
the same figures either way (it is priced from its payments, which give its price), so a flag left set only
costs a little time. ``rebuild_repriced`` sets it exactly.

A flagged membership also says from which day it is billed at its own price again (``own_price_from``: the
start of the first period billed after the last one billed at another net; none while there is no such
period). On any day from then, the latest period billed by that day is at its own price, so the reports
count it with the memberships at their own price over a range that begins then, and price it from its
payments only before (a group's tier changes are mostly years old). It is worked out again, exactly, from the
membership's payments on every write of them or of its price, a delete included.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Integer,
    String,
    and_,
    case,
    column,
    event,
    exists,
    false,
    func,
    select,
    table,
    true,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session, attributes
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import ColumnElement

from aestheticc_pos.domain.billing import PaymentStatus

NOT_BILLED = (PaymentStatus.CANCELLED.value, PaymentStatus.REFUNDED.value)
PAYMENT_FACTS = ("membership_id", "amount_pence", "status", "period_start")
PRICE_FACTS = ("monthly_price_pence", "signup_fee_pence", "started_on")

_memberships = table(
    "memberships",
    column("id", String),
    column("monthly_price_pence", Integer),
    column("signup_fee_pence", Integer),
    column("started_on", Date),
    column("repriced", Boolean),
    column("own_price_from", Date),
)
_payments = table(
    "membership_payments",
    column("membership_id", String),
    column("amount_pence", Integer),
    column("status", String),
    column("period_start", Date),
)


def billed_at_another_price(payment: Any, membership: Any) -> ColumnElement[bool]:
    """``payment`` (its columns, or its values) is billed at another net than ``membership``'s monthly price:
    the rule, as SQL."""
    fee = case((payment.period_start == membership.started_on, membership.signup_fee_pence), else_=0)
    return and_(
        payment.status.not_in(NOT_BILLED), payment.amount_pence - fee != membership.monthly_price_pence
    )


def own_price_from(membership: Any) -> Any:
    """The start of ``membership``'s first period billed after its last one billed at another net (``NULL``
    when there is none), as a correlated SQL value."""
    p, other = _payments.alias("billed"), _payments.alias("other")
    last_other = (
        select(func.max(other.c.period_start))
        .where(other.c.membership_id == membership.id, billed_at_another_price(other.c, membership))
        .correlate_except(other)  # the membership two levels out
        .scalar_subquery()
    )
    return (
        select(func.min(p.c.period_start))
        .where(
            p.c.membership_id == membership.id,
            p.c.status.not_in(NOT_BILLED),
            p.c.period_start > last_other,
        )
        .correlate_except(p)
        .scalar_subquery()
    )


def rebuild_repriced(connection: Connection) -> None:
    """Set every membership's flag and ``own_price_from`` from its payments, exactly: for rows written by SQL
    (migrations 0017 and 0020, ``bench/generate.py``)."""
    m, p = _memberships.c, _payments.c
    billed = exists().where(p.membership_id == m.id, billed_at_another_price(p, m))
    connection.execute(update(_memberships).values(repriced=case((billed, true()), else_=false())))
    connection.execute(update(_memberships).where(m.repriced == false()).values(own_price_from=None))
    connection.execute(
        update(_memberships).where(m.repriced == true()).values(own_price_from=own_price_from(m))
    )


def watch(membership: type, payment: type) -> None:
    """Keep the flag on every write of the mapped ``membership`` and ``payment`` classes."""

    def payment_written(_mapper: Any, connection: Connection, row: Any) -> None:
        state = attributes.instance_state(row)
        moved = [attributes.get_history(row, name).has_changes() for name in PAYMENT_FACTS]
        if state.has_identity and not any(moved):
            return  # an update that moved nothing the rule reads
        if row.status not in NOT_BILLED:  # a payment billed: at another net than its price?
            m = _memberships.c
            fee = case((m.started_on == row.period_start, m.signup_fee_pence), else_=0)
            flagged = connection.execute(
                update(_memberships)
                .where(
                    m.id == row.membership_id,
                    m.repriced == false(),
                    row.amount_pence - fee != m.monthly_price_pence,
                )
                .values(repriced=true())
            )
            if flagged.rowcount and state.session is not None:  # the membership loaded beside it says so too
                known = state.session.identity_map.get(identity_key(membership, row.membership_id))
                if known is not None:
                    attributes.set_committed_value(known, "repriced", True)
        moved_from = attributes.get_history(row, "membership_id").deleted  # a payment moved to another
        _settle(connection, state.session, [row.membership_id, *moved_from])

    def payment_deleted(_mapper: Any, connection: Connection, row: Any) -> None:
        _settle(connection, attributes.instance_state(row).session, [row.membership_id])

    def membership_changed(_mapper: Any, connection: Connection, row: Any) -> None:
        if not any(attributes.get_history(row, name).has_changes() for name in PRICE_FACTS):
            return
        state = attributes.instance_state(row)
        if _flag(connection, [state.identity[0]]):
            attributes.set_committed_value(row, "repriced", True)
        _settle(connection, state.session, [state.identity[0]])

    _mapped[membership] = None
    event.listen(payment, "after_insert", payment_written)
    event.listen(payment, "after_update", payment_written)
    event.listen(payment, "after_delete", payment_deleted)
    event.listen(membership, "after_update", membership_changed)
    event.listen(Session, "do_orm_execute", _statement_written)


_mapped: dict[type, None] = {}  # the mapped membership class (``watch``)


def _statement_written(state: ORMExecuteState) -> Any:
    """An ``update(...)``, ``insert(...)`` or ``delete(...)`` of payments or memberships run through a session:
    the rule for the memberships it reaches, after it runs (they are named before, as the statement may change
    what its ``WHERE`` reads)."""
    if not (state.is_update or state.is_insert or state.is_delete) or state.bind_mapper is None:
        return None
    name = state.bind_mapper.local_table.name
    if name not in ("memberships", "membership_payments"):
        return None
    statement: Any = state.statement
    connection = state.session.connection()
    reached: list[str] | None = None
    if state.is_update or state.is_delete:
        key = statement.table.c.id if name == "memberships" else statement.table.c.membership_id
        query = select(key).distinct()
        if statement.whereclause is not None:
            query = query.where(statement.whereclause)
        reached = list(connection.scalars(query))
    result = state.invoke_statement()
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
        key_name = "id" if name == "memberships" else "membership_id"
        reached = [str(r[key_name]) for r in rows if r.get(key_name) is not None]
    _flag(connection, reached or [])
    _settle(connection, state.session, reached or [])
    return result


def _flag(connection: Connection, membership_ids: list[str]) -> int:
    """The rule for these memberships as they are in the database now; how many it flagged."""
    m, p = _memberships.c, _payments.c
    billed = exists().where(p.membership_id == m.id, billed_at_another_price(p, m))
    flagged = 0
    for i in range(0, len(membership_ids), 500):
        chosen = membership_ids[i : i + 500]
        done = connection.execute(
            update(_memberships)
            .where(m.id.in_(chosen), m.repriced == false(), billed)
            .values(repriced=true())
        )
        flagged += done.rowcount
    return flagged


def _settle(connection: Connection, session: Session | None, membership_ids: list[str]) -> None:
    """``own_price_from`` of these memberships, those flagged, worked out again from their payments now; a
    membership loaded in ``session`` is told the new day."""
    m = _memberships.c
    chosen = sorted({i for i in membership_ids if i is not None})
    for i in range(0, len(chosen), 500):
        some = chosen[i : i + 500]
        settled = connection.execute(
            update(_memberships)
            .where(m.id.in_(some), m.repriced == true())
            .values(own_price_from=own_price_from(m))
        )
        if not settled.rowcount or session is None or not _mapped:
            continue  # none flagged (the others never have a day), or nothing loaded to tell
        cls = next(iter(_mapped))
        loaded = {j: session.identity_map.get(identity_key(cls, j)) for j in some}  # by key: nothing loads
        known = {j: k for j, k in loaded.items() if k is not None}
        if known:
            days = connection.execute(
                select(m.id, m.own_price_from).where(m.id.in_(list(known)), m.repriced == true())
            ).all()
            for j, day in days:
                attributes.set_committed_value(known[j], "own_price_from", day)
