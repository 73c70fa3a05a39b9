"""Clients: add, edit, find as you type (a page at a time, ``store/client_search.py``), export and erase on
request."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from aestheticc_pos.domain.clients import (
    Client,
    anonymise,
    new_client,
    update_client,
    validate_client_fields,
)
from aestheticc_pos.domain.errors import InvalidInput, NotFound
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import client_search
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientPackageRow,
    ClientRow,
    MembershipRow,
    PackageRow,
    SaleRow,
    TierRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

DEFAULT_PAGE = 50
MAX_PAGE = 500
COUNT_UP_TO = 10_000


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """One row of the client list."""

    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    date_of_birth: dt.date | None
    membership: str = ""  # the tier of a membership that has not ended: "Gold", "Gold (past due)"
    packages: str = ""  # active packages and what is left: "Microneedling course of 6: 4 left"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


ClientFilter = client_search.Filters  # tier_id / package_id: one of them, or ANY_TIER / ANY_PACKAGE
NO_FILTER = ClientFilter()
ANY_TIER = ANY_PACKAGE = client_search.ANY
SearchCursor = client_search.Cursor


@dataclass(frozen=True, slots=True)
class ClientPage:
    """A page of the client list and where the next one starts (None: this was the last)."""

    rows: tuple[ClientSummary, ...]
    next: SearchCursor | None


@dataclass(frozen=True, slots=True)
class FilterChoice:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ClientFilters:
    tiers: tuple[FilterChoice, ...]
    packages: tuple[FilterChoice, ...]


@use_case(Action.EDIT_CLIENTS)
def add_client(
    services: Services,
    *,
    staff_id: str,
    first_name: str,
    last_name: str,
    email: str | None = None,
    phone: str | None = None,
    date_of_birth: dt.date | None = None,
    notes: str = "",
    marketing_consent: bool = False,
) -> Client:
    fields = validate_client_fields(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        date_of_birth=date_of_birth,
        notes=notes,
        marketing_consent=marketing_consent,
        today=services.today(),
    )
    client = new_client(services.new_id(), fields)
    with services.uow() as uow:
        repo.save_client(uow.session, client)
        uow.commit()
    return client


def add_client_in(
    uow: UnitOfWork,
    services: Services,
    *,
    first_name: str,
    last_name: str,
    email: str | None = None,
    notes: str = "",
) -> Client:
    """``add_client`` inside the caller's unit of work (a purchase on the booking portal adds its buyer)."""
    today = services.today(read_clinic_settings(uow.session))
    fields = validate_client_fields(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=None,
        date_of_birth=None,
        notes=notes,
        marketing_consent=False,
        today=today,
    )
    client = new_client(services.new_id(), fields)
    repo.save_client(uow.session, client)
    uow.session.flush()
    return client


@use_case(Action.EDIT_CLIENTS)
def edit_client(services: Services, client_id: str, *, staff_id: str, **changes: object) -> Client:
    """Change a client's details; fields not given keep their value."""
    today = services.today()
    with services.uow() as uow:
        current = repo.load_client(uow.session, client_id)
        merged = {f.name: getattr(current, f.name) for f in dataclasses.fields(current) if f.name != "id"}
        unknown = set(changes) - set(merged)
        if unknown:
            raise TypeError(f"unknown client fields: {sorted(unknown)}")
        merged.update(changes)
        fields = validate_client_fields(**merged, today=today)  # type: ignore[arg-type]
        client = update_client(current, fields)
        repo.save_client(uow.session, client)
        uow.commit()
    return client


@use_case(Audience.ANY_STAFF)
def get_client(services: Services, client_id: str) -> Client:
    with services.uow(read_only=True) as uow:
        return repo.load_client(uow.session, client_id)


@use_case(Audience.ANY_STAFF)
def search_client_page(
    services: Services,
    typed: str,
    *,
    filters: ClientFilter = NO_FILTER,
    after: SearchCursor | None = None,
    limit: int = DEFAULT_PAGE,
) -> ClientPage:
    """A page of the clients matching what was typed (name, any part of a phone or email, a tier's name) and
    the filters, after ``after`` (the previous page's ``next``). One read of one index range per section,
    whatever the size of the client base (``store/client_search.py``); empty text lists everybody."""
    limit = max(1, min(inputs.how_many(limit, maximum=10_000_000), MAX_PAGE))
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        rows, next_cursor = client_search.search_page(s, typed, filters, today, after=after, limit=limit)
        details = client_search.list_details(s, [r.id for r in rows], today)
        return ClientPage(tuple(_summary(r, *details[r.id]) for r in rows), next_cursor)


@use_case(Audience.ANY_STAFF)
def count_client_matches(
    services: Services, typed: str, *, filters: ClientFilter = NO_FILTER, up_to: int = COUNT_UP_TO
) -> int:
    """How many clients match, counted no further than ``up_to`` (the screen asks after showing the first
    page, and says "more than …" at the cap)."""
    up_to = max(1, min(inputs.how_many(up_to, maximum=10_000_000), 10_000_000))
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        return client_search.count_matches(s, typed, filters, today, up_to=up_to)


@use_case(Audience.ANY_STAFF)
def client_filters(services: Services) -> ClientFilters:
    """What the Clients screen can filter by: the membership tiers and the packages of the catalogue."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        tiers = s.execute(
            select(TierRow.id, TierRow.name).order_by(TierRow.monthly_price_pence, TierRow.name)
        )
        packages = s.execute(select(PackageRow.id, PackageRow.name).order_by(PackageRow.name))
        return ClientFilters(
            tuple(FilterChoice(i, n) for i, n in tiers), tuple(FilterChoice(i, n) for i, n in packages)
        )


@use_case(Audience.ANY_STAFF)
def search_client_ids(services: Services, typed: str, *, limit: int = 1000) -> list[str]:
    """Ids of the clients matching what was typed, in the list's order, up to ``limit`` (read page by page)."""
    limit = max(1, min(inputs.how_many(limit, maximum=10_000_000), 100_000))
    ids: list[str] = []
    after: SearchCursor | None = None
    while len(ids) < limit:
        page = search_client_page(services, typed, after=after, limit=min(MAX_PAGE, limit - len(ids)))
        ids += [c.id for c in page.rows]
        if page.next is None:
            break
        after = page.next
    return ids


@use_case(Audience.ANY_STAFF)
def search_clients(
    services: Services, typed: str, *, offset: int = 0, limit: int = DEFAULT_PAGE
) -> list[ClientSummary]:
    """The clients matching what was typed, in the list's order: ``limit`` of them after the first ``offset``
    (checkout's drop-down asks for the first 8)."""
    limit, offset = min(inputs.how_many(limit, maximum=10_000_000), MAX_PAGE), inputs.offset(offset)
    if offset + limit > MAX_PAGE:
        raise InvalidInput(f"A search shows at most {MAX_PAGE} clients at a time. Type more to narrow it.")
    page = search_client_page(services, typed, limit=max(1, offset + limit))
    return list(page.rows[offset : offset + limit])


@use_case(Audience.ANY_STAFF)
def client_summaries(services: Services, client_ids: list[str]) -> dict[str, ClientSummary]:
    """The list rows of these clients, by id (missing or erased ones are left out)."""
    if not client_ids:
        return {}
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        rows = list(
            s.scalars(
                select(ClientRow).where(ClientRow.id.in_(client_ids), ClientRow.anonymised_at.is_(None))
            )
        )
        details = client_search.list_details(s, [r.id for r in rows], today)
        return {row.id: _summary(row, *details[row.id]) for row in rows}


@use_case(Audience.ANY_STAFF)
def count_clients(services: Services) -> int:
    with services.uow(read_only=True) as uow:
        return (
            uow.session.scalar(
                select(func.count()).select_from(ClientRow).where(ClientRow.anonymised_at.is_(None))
            )
            or 0
        )


@use_case(Action.EXPORT_CLIENT)
def export_client(services: Services, client_id: str, *, staff_id: str) -> dict[str, object]:
    """Everything held about a client, as JSON-ready data (a subject access request). Audited."""
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.EXPORT_CLIENT)
        client = repo.load_client(uow.session, client_id)
        s = uow.session
        data: dict[str, object] = {
            "client": {
                k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in dataclasses.asdict(client).items()
            },
            "packages": [
                {
                    "id": r.id,
                    "name": r.name,
                    "purchased_on": r.purchased_on.isoformat(),
                    "expires_on": r.expires_on.isoformat(),
                    "status": r.status,
                }
                for r in s.scalars(select(ClientPackageRow).where(ClientPackageRow.client_id == client_id))
            ],
            "memberships": [
                {"id": r.id, "tier": r.tier_name, "status": r.status, "started_on": r.started_on.isoformat()}
                for r in s.scalars(select(MembershipRow).where(MembershipRow.client_id == client_id))
            ],
            "appointments": [
                {
                    "id": r.id,
                    "starts_at": r.starts_at.isoformat(),
                    "treatment_id": r.treatment_id,
                    "status": r.status,
                }
                for r in s.scalars(select(AppointmentRow).where(AppointmentRow.client_id == client_id))
            ],
            "sales": [
                {
                    "number": r.number,
                    "at": r.created_at.isoformat(),
                    "total_pence": r.net_pence,
                    "currency": r.currency,
                }
                for r in s.scalars(select(SaleRow).where(SaleRow.client_id == client_id))
            ],
        }
        append_audit(
            s,
            at=services.now(),
            staff_id=staff_id,
            action="client.exported",
            record_type="client",
            record_id=client_id,
        )
        uow.commit()
    return data


@use_case(Action.ERASE_CLIENT)
def erase_client(services: Services, client_id: str, *, staff_id: str, reason: str) -> None:
    """Anonymise a client on request: names, contact details and notes go; sales and ledgers still add up."""
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.ERASE_CLIENT)
        client = repo.load_client(uow.session, client_id)
        repo.save_client(uow.session, anonymise(client))
        row = uow.session.get(ClientRow, client_id)
        if row is None:  # pragma: no cover - load_client found it
            raise NotFound("That client is not on file.")
        row.date_of_birth = None
        row.anonymised_at = services.now()
        append_audit(
            uow.session,
            at=services.now(),
            staff_id=staff_id,
            action="client.erased",
            record_type="client",
            record_id=client_id,
            reason=reason,
        )
        uow.commit()


def _summary(row: ClientRow | Row[Any], membership: str = "", packages: str = "") -> ClientSummary:
    return ClientSummary(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        date_of_birth=row.date_of_birth,
        membership=membership,
        packages=packages,
    )
