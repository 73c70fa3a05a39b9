"""Clients: add, edit, find as you type, export and erase on request."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from aestheticc_pos.domain.clients import (
    Client,
    SearchKind,
    anonymise,
    new_client,
    search_terms,
    update_client,
    validate_client_fields,
)
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientPackageRow,
    ClientRow,
    MembershipRow,
    SaleRow,
    phone_digits,
    search_text,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

DEFAULT_PAGE = 50
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """One row of the client list."""

    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    date_of_birth: dt.date | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


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
def search_client_ids(services: Services, typed: str, *, limit: int = 1000) -> list[str]:
    """Ids of the clients matching what was typed (name, phone or email), in list order (surname, first name).

    Only ids: the list's table model fetches the rows it shows with ``client_summaries``. Empty text
    lists everybody (up to ``limit``).
    """
    limit = inputs.how_many(limit, maximum=10_000_000)
    limit = max(1, min(limit, 100_000))
    with services.uow(read_only=True) as uow:
        query = select(ClientRow.id).where(ClientRow.anonymised_at.is_(None))
        condition = _search_condition(typed)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(ClientRow.search_name_reversed, ClientRow.id).limit(limit)
        return list(uow.session.scalars(query))


@use_case(Audience.ANY_STAFF)
def search_clients(
    services: Services, typed: str, *, offset: int = 0, limit: int = DEFAULT_PAGE
) -> list[ClientSummary]:
    """A page of the clients matching what was typed, in list order."""
    limit, offset = min(inputs.how_many(limit, maximum=10_000_000), MAX_PAGE), inputs.offset(offset)
    with services.uow(read_only=True) as uow:
        query = select(ClientRow).where(ClientRow.anonymised_at.is_(None))
        condition = _search_condition(typed)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(ClientRow.search_name_reversed, ClientRow.id).offset(offset).limit(limit)
        return [_summary(row) for row in uow.session.scalars(query)]


@use_case(Audience.ANY_STAFF)
def client_summaries(services: Services, client_ids: list[str]) -> dict[str, ClientSummary]:
    """The list rows of these clients, by id (missing or erased ones are left out)."""
    if not client_ids:
        return {}
    with services.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(ClientRow).where(ClientRow.id.in_(client_ids), ClientRow.anonymised_at.is_(None))
        )
        return {row.id: _summary(row) for row in rows}


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


def _search_condition(typed: str):  # type: ignore[no-untyped-def]
    query = search_terms(typed)
    if query.kind is SearchKind.EMPTY:
        return None
    if query.kind is SearchKind.PHONE:
        return ClientRow.phone_digits.like(_prefix(phone_digits(query.phone)), escape="\\")
    if query.kind is SearchKind.EMAIL:
        return ClientRow.search_email.like(_prefix(search_text(query.email)), escape="\\")
    # Names. Every match starts a first or last name with the first word typed, so the query is always an
    # indexed prefix lookup on one of the two name columns (or the email, for "olivia." typed without the @);
    # further words then narrow it: the whole text starts "first last" / "last first", or each word starts a name.
    whole = search_text(typed)
    words = [search_text(w) for w in query.words]
    first_word = [
        ClientRow.search_name.like(_prefix(words[0]), escape="\\"),
        ClientRow.search_name_reversed.like(_prefix(words[0]), escape="\\"),
    ]
    if len(words) == 1:
        return or_(*first_word, ClientRow.search_email.like(_prefix(whole), escape="\\"))
    each_word = and_(
        *(
            or_(
                ClientRow.search_name.like(_prefix(w), escape="\\"),
                ClientRow.search_name.like("% " + _prefix(w), escape="\\"),
            )
            for w in words[1:]
        )
    )
    return and_(
        or_(*first_word),
        or_(
            ClientRow.search_name.like(_prefix(whole), escape="\\"),
            ClientRow.search_name_reversed.like(_prefix(whole), escape="\\"),
            each_word,
        ),
    )


def _prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _summary(row: ClientRow) -> ClientSummary:
    return ClientSummary(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        date_of_birth=row.date_of_birth,
    )
