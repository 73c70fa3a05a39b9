"""Client packages: what a client has left, and the manager's corrections (adjust, extend, refund, void).

``record_ledger_entry`` is the one way any service changes a package's sessions: it writes the ledger entry
and moves the step's counters by a conditional update in the same transaction, so the database refuses a
negative remaining even when two tills act on the last session at the same moment.

The counters alone do not protect the rules that read the whole ledger (step delays, days between sessions,
which package pays): on PostgreSQL two tills would each check against a ledger without the other's booking.
So every use case that changes a client's packages first takes ``lock_client_packages`` (or loads through
``load_client_package_for_change``), and two tills changing one client's packages go one after the other.
The one lock order (DESIGN.md §4), to stay clear of deadlocks: staff (a practitioner's diary) → the client (and
so their packages) → the appointment → the membership → a number series → the audit head. A visit is
locked through ``visits.lock_visit``, which takes its client first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import packages as rules
from aestheticc_pos.domain.catalogue import Package
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import ClientPackage, LedgerEntry, LedgerKind, PackageSummary
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import ClientPackageRow, ClientRow, SessionLedgerRow
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PackageRefund:
    client_package_id: str
    amount: Money
    sessions_closed: int


@use_case(Audience.ANY_STAFF)
def client_packages_overview(
    services: Services, client_id: str, *, include_closed: bool = False
) -> list[PackageSummary]:
    """Every package of a client with used / booked / remaining per step and expiry, soonest expiry first."""
    with services.uow(read_only=True) as uow:
        today = services.today(_settings(uow))
        repo.load_client(uow.session, client_id)
        return client_packages_overview_in(uow, client_id, today, include_closed=include_closed)


def client_packages_overview_in(
    uow: UnitOfWork, client_id: str, today: dt.date, *, include_closed: bool = False
) -> list[PackageSummary]:
    """``client_packages_overview`` inside the caller's unit of work (the client is known to exist)."""
    packages = package_repo.client_packages_of(uow.session, client_id)
    summaries = [rules.package_summary(cp, today) for cp in packages]
    if not include_closed:
        summaries = [s for s in summaries if s.status is rules.ClientPackageStatus.ACTIVE and not s.expired]
    return sorted(summaries, key=lambda s: (s.expires_on, s.name))


def sell_package_in(
    uow: UnitOfWork,
    package: Package,
    *,
    client_package_id: str,
    client_id: str,
    today: dt.date,
    sale_id: str | None,
    description: str = "",
) -> ClientPackage:
    """Write a newly sold client package (a snapshot of ``package``'s terms) inside the caller's unit of work."""
    cp = rules.sell_package(
        package, client_package_id=client_package_id, client_id=client_id, purchased_on=today
    )
    package_repo.add_client_package(
        uow.session,
        cp,
        sale_id=sale_id,
        description=description or package.description,
        vat_rate_bp=package.vat_rate_bp,
        validity_days=package.validity_days,
    )
    return cp


def lock_client_packages(uow: UnitOfWork, client_id: str) -> None:
    """Hold the client's packages until the unit of work ends: another till wanting them waits, then reads what
    this one wrote. Take it before loading the packages (PostgreSQL: ``FOR UPDATE`` on the client's row; SQLite
    writers already hold the database's write lock from ``BEGIN IMMEDIATE``)."""
    uow.session.execute(select(ClientRow.id).where(ClientRow.id == client_id).with_for_update())


def load_client_package_for_change(uow: UnitOfWork, client_package_id: str) -> ClientPackage:
    """The client package, read after taking ``lock_client_packages`` for its client."""
    client_id = uow.session.scalar(
        select(ClientPackageRow.client_id).where(ClientPackageRow.id == client_package_id)
    )
    if client_id is None:
        raise NotFound("That client package does not exist.")
    lock_client_packages(uow, client_id)
    return package_repo.load_client_package(uow.session, client_package_id)


def record_ledger_entry(
    uow: UnitOfWork,
    before: ClientPackage,
    entry: LedgerEntry,
    *,
    staff_id: str | None,
    sale_id: str | None = None,
    at: dt.datetime,
) -> None:
    """Write ``entry`` (already accepted by the domain against ``before``), written ``at`` (the services' clock),
    and move the step's counters.

    The counters move by a conditional update: if another till took the session since ``before`` was read,
    the update matches no row and ``NoSessionsRemaining`` (or ``ConcurrencyConflict``) is raised, and the
    caller's transaction is rolled back.
    """
    change = rules.counter_change(before, entry)
    cp_id, position = before.id, entry.step_position
    if entry.kind is LedgerKind.RESERVE:
        uow.reserve_sessions(cp_id, position)
    elif entry.kind is LedgerKind.RELEASE:
        uow.release_sessions(cp_id, position)
    elif entry.kind is LedgerKind.REDEEM:
        uow.redeem_sessions(cp_id, position, from_reserved=change.reserved < 0)
    elif entry.kind is LedgerKind.VOID:
        uow.void_redemption(cp_id, position)
    elif entry.kind is LedgerKind.ADJUST:
        uow.adjust_sessions(cp_id, position, entry.sessions)
    elif entry.kind is LedgerKind.REFUND:
        uow.refund_sessions(cp_id, position, entry.sessions)
    package_repo.add_ledger_entry(uow.session, before, entry, staff_id=staff_id, sale_id=sale_id, at=at)
    if entry.kind is LedgerKind.REDEEM:
        gaps_before, gaps = rules.step_gaps(before.ledger), rules.step_gaps((*before.ledger, entry))
        changed = {
            p: gaps.get(p) for p in gaps.keys() | gaps_before.keys() if gaps.get(p) != gaps_before.get(p)
        }
        if changed:
            package_repo.set_step_gaps(uow.session, cp_id, changed)


@use_case(Action.ADJUST_PACKAGE)
def adjust_sessions(
    services: Services,
    *,
    client_package_id: str,
    step_position: int,
    delta: int | str,
    reason: str,
    staff_id: str,
) -> PackageSummary:
    """A manager adds (or removes, when negative) sessions of one step, with a reason. Audited."""
    delta = inputs.whole_number(delta, what="The number of sessions", minimum=-100, maximum=100)
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.ADJUST_PACKAGE)
        today = services.today(_settings(uow))
        cp = load_client_package_for_change(uow, client_package_id)
        after, entry = rules.adjust(cp, step_position, delta, reason, today)
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, at=services.now())
        _audit(
            uow,
            services,
            staff_id,
            "package.adjusted",
            cp.id,
            reason,
            {"step": step_position, "delta": delta},
        )
        uow.commit()
    return rules.package_summary(after, today)


@use_case(Action.EXTEND_PACKAGE)
def extend_package(
    services: Services, *, client_package_id: str, new_expires_on: dt.date | str, reason: str, staff_id: str
) -> PackageSummary:
    """A manager moves a package's expiry later, with a reason. Audited."""
    new_date = inputs.date(new_expires_on, what="The new expiry date")
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.EXTEND_PACKAGE)
        today = services.today(_settings(uow))
        cp = load_client_package_for_change(uow, client_package_id)
        extended = rules.extend_expiry(cp, new_date, reason)
        package_repo.save_client_package_terms(uow.session, extended)
        _audit(
            uow,
            services,
            staff_id,
            "package.extended",
            cp.id,
            reason,
            {"from": cp.expires_on.isoformat(), "to": new_date.isoformat()},
        )
        uow.commit()
    return rules.package_summary(extended, today)


@use_case(Action.VOID)
def void_redemption(
    services: Services,
    *,
    client_package_id: str,
    reason: str,
    staff_id: str,
    appointment_id: str | None = None,
    sale_id: str | None = None,
) -> PackageSummary:
    """A manager undoes a session redeemed by mistake; the session becomes free again. Audited.

    The redemption is named by its visit (``appointment_id``) or, for a walk-in with no appointment, by the
    sale that redeemed it (``sale_id``)."""
    if (appointment_id is None) == (sale_id is None):
        raise InvalidInput("Choose the visit or the sale whose session should be given back.")
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.VOID)
        today = services.today(_settings(uow))
        cp = load_client_package_for_change(uow, client_package_id)
        if sale_id is not None:
            redemption: str | int | None = redemption_index(
                uow.session, cp.id, sale_id=sale_id, step_position=None
            )
            if redemption is None:
                raise RuleViolation(f"That sale redeemed no session of {cp.name} that is still to give back.")
        else:
            redemption = appointment_id
        assert redemption is not None
        after, entry = rules.void_redemption(cp, redemption, reason, today)
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id, at=services.now())
        _audit(
            uow,
            services,
            staff_id,
            "package.redemption_voided",
            cp.id,
            reason,
            {"appointment": appointment_id or "", "sale": sale_id or ""},
        )
        uow.commit()
    return rules.package_summary(after, today)


def redemption_index(
    s: Session, client_package_id: str, *, sale_id: str, step_position: int | None
) -> int | None:
    """The position in the package's ledger of a session ``sale_id`` redeemed that nothing has voided since
    (a void records the sale it gives back)."""
    rows = s.execute(
        select(SessionLedgerRow.kind, SessionLedgerRow.sale_id, SessionLedgerRow.step_position)
        .where(SessionLedgerRow.client_package_id == client_package_id)
        .order_by(SessionLedgerRow.seq)
    ).all()
    voids = sum(1 for kind, sale, _step in rows if kind == LedgerKind.VOID.value and sale == sale_id)
    redeemed = [
        index
        for index, (kind, sale, step) in enumerate(rows)
        if kind == LedgerKind.REDEEM.value and sale == sale_id and step_position in (None, step)
    ]
    return redeemed[voids] if voids < len(redeemed) else None


def _settings(uow: UnitOfWork) -> ClinicSettings:
    return read_clinic_settings(uow.session)


def _audit(
    uow: UnitOfWork,
    services: Services,
    staff_id: str,
    action: str,
    record_id: str,
    reason: str | None,
    details: dict[str, str | int],
) -> None:
    append_audit(
        uow.session,
        at=services.now(),
        staff_id=staff_id,
        action=action,
        record_type="client_package",
        record_id=record_id,
        reason=reason,
        details=details,
    )
