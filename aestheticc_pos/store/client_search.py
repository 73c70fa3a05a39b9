"""Finding clients as staff type, one page at a time, at a clinic group's scale (a million clients).

A search is a short list of **sections**, each an index range read in its own order, so a page is a keyset
read of at most ``limit`` index entries (never every match fetched, never every match sorted):

- a name: clients whose surname starts with the first word (in list order: surname, first name), then those
  whose first name does (first name, surname), then an email that starts with what was typed, then the members
  of a tier whose name starts with it ("gold" finds the Gold members); further words narrow each section;
- a phone number or an email: those that start with it, then those that contain it anywhere (the last six
  digits, "@gmail"), through the trigram index (SQLite FTS5 ``clients_contact_fts``; ``pg_trgm`` on
  PostgreSQL). A section with few matches (``SMALL``) is shown in list order; a large one in the order of its
  index, which the next keystroke narrows;
- nothing typed: everybody on file, in list order.

The Clients screen's filters (a membership tier, a package) are ``EXISTS`` conditions on every section: the
page still walks its section's index in order and stops after ``limit`` matches.

Where the page stopped is a ``Cursor`` (section, order and the last key): the next page starts after it.
Counting is separate and capped (``count_matches``): the list never waits for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
    tuple_,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from aestheticc_pos.domain.clients import SearchKind, search_terms
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    MembershipRow,
    TierRow,
    phone_digits,
    search_text,
)

SMALL = 1_000  # a section with at most this many matches is shown in list order
ENDED = "ended"
C = ClientRow
_FTS = table("clients_contact_fts", column("rowid"), column("phone"), column("email"))
LIST_COLUMNS = (C.id, C.first_name, C.last_name, C.email, C.phone, C.date_of_birth)
_ROWID = literal_column("clients.rowid")


@dataclass(frozen=True, slots=True)
class Filters:
    """The Clients screen's filters: members of a tier ("any" for any tier), holders of a package ("any")."""

    tier_id: str | None = None
    package_id: str | None = None


ANY = "any"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page stopped: the section, the order it is read in, and the last row's key in that order."""

    section: int
    order: str
    key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Section:
    condition: ColumnElement[bool]
    orders: dict[str, tuple[Any, ...]]  # order name -> the key columns, the last one unique
    big_order: str = "list"  # the order when the section is large (``list`` is always fine)
    source: FromClause = C.__table__  # where it reads from (the clients, or the trigram index joined to them)

    def select(self, condition: ColumnElement[bool], *columns: Any) -> Select[Any]:
        return select(*columns).select_from(self.source).where(condition)


def search_page(
    session: Session,
    typed: str,
    filters: Filters,
    today: dt.date,
    *,
    after: Cursor | None,
    limit: int,
) -> tuple[list[Row[Any]], Cursor | None]:
    """Up to ``limit`` clients after ``after`` (rows of ``LIST_COLUMNS``), and the cursor of the next page
    (None: nothing more)."""
    sections = _sections(session, typed)
    extra = _filter_conditions(filters, today)
    found: list[Row[Any]] = []
    start = after.section if after is not None else 0
    for number in range(start, len(sections)):
        section = sections[number]
        condition = and_(C.anonymised_at.is_(None), section.condition, *extra)
        if after is not None and after.section == number:
            order = after.order
            keys = section.orders[order]
            condition = and_(condition, tuple_(*keys) > tuple_(*after.key))
        else:
            order = _order_for(session, section, condition)
            keys = section.orders[order]
        wanted = limit - len(found)
        rows = session.execute(
            section.select(condition, *LIST_COLUMNS, *keys).order_by(*keys).limit(wanted)
        ).all()
        found += rows
        if len(found) >= limit:
            return found, Cursor(number, order, tuple(rows[-1][len(LIST_COLUMNS) :]))
    return found, None


def count_matches(session: Session, typed: str, filters: Filters, today: dt.date, *, up_to: int) -> int:
    """How many clients match, counting no further than ``up_to`` (the screen says "more than …")."""
    total = 0
    extra = _filter_conditions(filters, today)
    for section in _sections(session, typed):
        condition = and_(C.anonymised_at.is_(None), section.condition, *extra)
        inner = section.select(condition, literal_column("1")).limit(up_to - total)
        total += session.scalar(select(func.count()).select_from(inner.subquery())) or 0
        if total >= up_to:
            break
    return total


def list_details(session: Session, client_ids: Sequence[str], today: dt.date) -> dict[str, tuple[str, str]]:
    """For the list's rows: each client's membership ("Gold", "Gold (past due)") and active packages with the
    sessions they have left ("Microneedling course of 6: 4 left"), by client id."""
    if not client_ids:
        return {}
    tiers: dict[str, str] = {}
    for client_id, tier, status in session.execute(
        select(MembershipRow.client_id, MembershipRow.tier_name, MembershipRow.status)
        .where(MembershipRow.client_id.in_(client_ids), MembershipRow.status != ENDED)
        .order_by(MembershipRow.started_on)
    ):
        tiers[client_id] = (
            tier if status in ("active", "cancelling") else f"{tier} ({status.replace('_', ' ')})"
        )
    step = ClientPackageStepRow
    left = func.sum(step.sessions + step.adjusted - step.redeemed - step.reserved - step.refunded)
    packages: dict[str, list[str]] = {}
    for client_id, name, remaining in session.execute(
        select(ClientPackageRow.client_id, ClientPackageRow.name, left)
        .join(step, step.client_package_id == ClientPackageRow.id)
        .where(_active_package(today), ClientPackageRow.client_id.in_(client_ids))
        .group_by(ClientPackageRow.id, ClientPackageRow.client_id, ClientPackageRow.name)
        .order_by(ClientPackageRow.expires_on)
    ):
        packages.setdefault(client_id, []).append(f"{name}: {remaining} left")
    return {i: (tiers.get(i, ""), ", ".join(packages.get(i, ()))) for i in client_ids}


# --- sections ---------------------------------------------------------------------------------------------------


def _sections(session: Session, typed: str) -> list[_Section]:
    query = search_terms(typed)
    name_orders = {"list": (C.search_name_reversed, C.id)}
    if query.kind is SearchKind.EMPTY:
        return [_Section(true(), name_orders)]
    if query.kind is SearchKind.PHONE:
        return _contact_sections(session, C.phone_digits, "phone", phone_digits(query.phone))
    if query.kind is SearchKind.EMAIL:
        return _contact_sections(session, C.search_email, "email", search_text(query.email))
    words = [search_text(w) for w in query.words]
    whole = search_text(typed)
    rest = _rest_condition(words, whole)
    surname = and_(C.search_name_reversed.like(_prefix(words[0]), escape="\\"), rest)
    first = and_(C.search_name.like(_prefix(words[0]), escape="\\"), rest, not_(surname))
    sections = [
        _Section(surname, name_orders),
        _Section(first, {"list": (C.search_name, C.id)}),
    ]
    if len(words) == 1:
        email = and_(C.search_email.like(_prefix(whole), escape="\\"), not_(surname), not_(first))
        sections.append(_Section(email, {"list": (C.search_email, C.id)}))
    tier_ids = list(
        session.scalars(select(TierRow.id).where(func.lower(TierRow.name).like(_prefix(whole), escape="\\")))
    )
    if tier_ids:
        members = exists().where(
            MembershipRow.client_id == C.id,
            MembershipRow.tier_id.in_(tier_ids),
            MembershipRow.status != ENDED,
        )
        named = or_(
            C.search_name_reversed.like(_prefix(whole), escape="\\"),
            C.search_name.like(_prefix(whole), escape="\\"),
        )
        sections.append(_Section(and_(members, not_(or_(surname, first, named))), name_orders))
    return sections


def _contact_sections(session: Session, col: Any, fts_column: str, fragment: str) -> list[_Section]:
    """Starts with ``fragment`` (its index in order), then contains it elsewhere (the trigram index)."""
    starts = col.like(_prefix(fragment), escape="\\")
    contains_like = col.like("%" + _escape(fragment) + "%", escape="\\")
    list_order = (C.search_name_reversed, C.id)
    first = _Section(starts, {"list": list_order, "index": (col, C.id)}, big_order="index")
    if session.get_bind().dialect.name == "sqlite" and len(fragment) >= 3:
        # The trigram index drives, in its rowid order, and stops after a page of matches. A phrase of the
        # trigram tokenizer matches anywhere inside the column; the column itself is checked again.
        phrase = f'{fts_column} : "{fragment.replace(chr(34), chr(34) * 2)}"'
        in_index = literal_column("clients_contact_fts").op("MATCH")(phrase)
        source = _FTS.join(C.__table__, _FTS.c.rowid == _ROWID)
        contains = and_(in_index, contains_like, not_(starts))
        return [first, _Section(contains, {"list": list_order, "rowid": (_FTS.c.rowid,)}, "rowid", source)]
    contains = and_(contains_like, not_(starts))
    return [first, _Section(contains, {"list": list_order, "id": (C.id,)}, big_order="id")]


def _rest_condition(words: list[str], whole: str) -> ColumnElement[bool]:
    """Further words narrow the search: the whole text starts a name, or each word starts a word of it."""
    if len(words) == 1:
        return true()
    each_word = and_(
        *(
            or_(
                C.search_name.like(_prefix(w), escape="\\"),
                C.search_name.like("% " + _prefix(w), escape="\\"),
            )
            for w in words[1:]
        )
    )
    return or_(
        C.search_name.like(_prefix(whole), escape="\\"),
        C.search_name_reversed.like(_prefix(whole), escape="\\"),
        each_word,
    )


def _filter_conditions(filters: Filters, today: dt.date) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.tier_id is not None:
        member = exists().where(MembershipRow.client_id == C.id, MembershipRow.status != ENDED)
        if filters.tier_id != ANY:
            member = member.where(MembershipRow.tier_id == filters.tier_id)
        conditions.append(member)
    if filters.package_id is not None:
        holder = exists().where(ClientPackageRow.client_id == C.id, _active_package(today))
        if filters.package_id != ANY:
            holder = holder.where(ClientPackageRow.package_id == filters.package_id)
        conditions.append(holder)
    return conditions


def _active_package(today: dt.date) -> ColumnElement[bool]:
    return and_(ClientPackageRow.status == "active", ClientPackageRow.expires_on >= today)


def _order_for(session: Session, section: _Section, condition: ColumnElement[bool]) -> str:
    """List order for a small section; a large one is read in its index's order."""
    if section.big_order == "list":
        return "list"
    inner = section.select(condition, literal_column("1")).limit(SMALL + 1)
    many = session.scalar(select(func.count()).select_from(inner.subquery())) or 0
    return "list" if many <= SMALL else section.big_order


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(value: str) -> str:
    return _escape(value) + "%"


# --- the trigram index in the schema ------------------------------------------------------------------------


TRIGRAM_OBJECTS = ("clients_contact_fts", "ix_clients_phone_trgm", "ix_clients_email_trgm")


def modelled(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's ``include_object``: the trigram index (an FTS5 table and its shadow tables on SQLite, GIN
    indexes on PostgreSQL) is made by migration 0011 alone and has no model, so comparisons leave it out."""
    return not (reflected and name is not None and name.startswith(TRIGRAM_OBJECTS))
