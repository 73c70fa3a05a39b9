"""Appointments: book (reserving a package session under the step-delay and expiry rules, or asking for a
deposit), cancel, attend, no-show, the day's list and the practitioner's view of an appointment before treating.

Locking a visit and attending it inside a unit of work are ``visits``'s (a checkout attends the visit too); what
a booking or a cancellation does to a deposit is ``deposits``'s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, select

from aestheticc_pos.domain import appointments as booking
from aestheticc_pos.domain import packages as rules
from aestheticc_pos.domain.appointments import Appointment, AppointmentStatus, SessionOutcome
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.packages import ClientPackage, PackageSummary
from aestheticc_pos.domain.staff import Action, Role
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.deposits import (
    DepositView,
    deposit_of_appointment_in,
    request_deposit_in,
    settle_deposit_on_cancel_in,
)
from aestheticc_pos.services.membership_views import MembershipView, membership_view
from aestheticc_pos.services.packages import (
    load_client_package_for_change,
    lock_client_packages,
    record_ledger_entry,
)
from aestheticc_pos.services.staff import StaffMember, list_staff, require_staff
from aestheticc_pos.services.visits import attend_in, lock_visit
from aestheticc_pos.store import catalogue_repo, package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import AppointmentRow, ClientPackageRow, ClientRow, StaffRow, TreatmentRow
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment as the day list and detail screens show it. ``starts_at`` is aware UTC."""

    id: str
    client_id: str
    client_name: str
    treatment_id: str
    treatment_name: str
    practitioner_id: str
    practitioner_name: str
    starts_at: dt.datetime
    duration_minutes: int
    status: AppointmentStatus
    client_package_id: str | None
    step_position: int | None
    package_name: str | None
    notes: str


@dataclass(frozen=True, slots=True)
class Booked:
    appointment: AppointmentView
    warnings: tuple[str, ...] = ()
    deposit_id: str | None = None  # a deposit asked for by payment link (``services/deposits.py``)


@dataclass(frozen=True, slots=True)
class Cancelled:
    appointment: AppointmentView
    session_outcome: SessionOutcome | None  # what happened to its package session, if it had one
    warnings: tuple[str, ...]  # later bookings that now break the package's step rules
    deposit: str | None = None  # what happened to its deposit, as a sentence for staff


@dataclass(frozen=True, slots=True)
class AppointmentDetail:
    """What a practitioner sees before treating: the appointment and every package covering the treatment."""

    appointment: AppointmentView
    packages: tuple[PackageSummary, ...]
    step_rule_problems: tuple[str, ...]  # sentences; empty when the booking respects the package's gaps


@use_case(Action.BOOK_APPOINTMENTS)
def book_appointment(
    services: Services,
    *,
    client_id: str,
    treatment_id: str,
    practitioner_id: str,
    starts_at: dt.datetime,
    staff_id: str,
    use_package: bool = True,
    client_package_id: str | None = None,
    notes: str = "",
    ask_deposit: bool = True,
) -> Booked:
    """Book a treatment. When a package covers it (``client_package_id``, or the one expiring first) and
    ``use_package`` is on, a session is reserved, and the package's step-delay and expiry rules apply: a
    refusal is a ``BookingRefused`` naming the earliest date allowed and why. Otherwise a treatment with a
    deposit rule gets its deposit asked for by payment link (``ask_deposit``; ``services/deposits.py``).
    """
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.BOOK_APPOINTMENTS)
        settings = read_clinic_settings(s)
        repo.load_client(s, client_id)
        treatment = catalogue_repo.load_treatment(s, treatment_id)
        if not treatment.active:
            raise RuleViolation(f"{treatment.name} is no longer offered.")
        practitioner = repo.load_staff_row(s, practitioner_id)
        if practitioner.role not in (Role.PRACTITIONER.value, Role.MANAGER.value):
            raise InvalidInput(
                f"{practitioner.name} does not treat clients. Choose a practitioner.", field="practitioner"
            )
        starts_at = booking.validate_booking_time(starts_at, now)
        appointment = Appointment(
            id=services.new_id(),
            client_id=client_id,
            treatment_id=treatment_id,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            duration_minutes=treatment.duration_minutes,
            notes=(notes or "").strip(),
        )
        _refuse_double_booking(uow, appointment, practitioner.name)
        session_on = appointment.session_on(settings.tz)
        today = now.astimezone(settings.tz).date()
        lock_client_packages(uow, client_id)
        cp, position = _package_for(
            uow, appointment, treatment.name, session_on, today, use_package, client_package_id
        )
        if cp is not None and position is not None:
            appointment = Appointment(
                **{**_fields(appointment), "client_package_id": cp.id, "step_position": position}
            )
            repo.save_appointment(s, appointment)
            s.flush()
            _, entry = rules.reserve(cp, position, appointment.id, session_on, today)
            record_ledger_entry(uow, cp, entry, staff_id=staff_id, at=services.now())
        else:
            repo.save_appointment(s, appointment)
        s.flush()
        deposit_id = None
        if ask_deposit and cp is None:
            deposit_id = request_deposit_in(uow, services, appointment, treatment, staff_id=staff_id)
        view = _view(uow, appointment.id)
        uow.commit()
    return Booked(appointment=view, deposit_id=deposit_id)


@use_case(Action.BOOK_APPOINTMENTS)
def cancel_appointment(services: Services, *, appointment_id: str, staff_id: str) -> Cancelled:
    """Cancel: in time, a package session is given back; late, the clinic's no-show policy decides.

    The result lists later bookings of the same package that no longer respect the step rules.
    """
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.BOOK_APPOINTMENTS)
        settings = read_clinic_settings(s)
        appointment = lock_visit(uow, appointment_id)
        cancelled = booking.cancel(appointment, now, settings.late_cancel_hours)
        outcome, warnings = _settle_package_session(
            uow, services, settings, appointment, cancelled.status, staff_id
        )
        repo.save_appointment(s, cancelled, cancelled_at=now)
        s.flush()
        deposit = settle_deposit_on_cancel_in(uow, services, settings, appointment_id, cancelled.status)
        view = _view(uow, appointment_id)
        uow.commit()
    return Cancelled(appointment=view, session_outcome=outcome, warnings=warnings, deposit=deposit)


@use_case(Action.BOOK_APPOINTMENTS)
def mark_no_show(services: Services, *, appointment_id: str, staff_id: str) -> Cancelled:
    """The client did not come: the package session follows the clinic's no-show policy."""
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.BOOK_APPOINTMENTS)
        settings = read_clinic_settings(s)
        appointment = lock_visit(uow, appointment_id)
        no_show = booking.mark_no_show(appointment, now)
        outcome, warnings = _settle_package_session(
            uow, services, settings, appointment, no_show.status, staff_id
        )
        repo.save_appointment(s, no_show)
        s.flush()
        deposit = settle_deposit_on_cancel_in(uow, services, settings, appointment_id, no_show.status)
        view = _view(uow, appointment_id)
        uow.commit()
    return Cancelled(appointment=view, session_outcome=outcome, warnings=warnings, deposit=deposit)


@use_case(Action.REDEEM_SESSIONS)
def attend_appointment(services: Services, *, appointment_id: str, staff_id: str) -> AppointmentDetail:
    """The client was treated: the appointment is attended and its package session (if any) redeemed."""
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.REDEEM_SESSIONS)
        attend_in(uow, services, appointment_id, staff_id=staff_id)
        uow.commit()
    return appointment_detail(services, appointment_id)


@use_case(Audience.ANY_STAFF)
def appointments_on(
    services: Services, day: dt.date, *, practitioner_id: str | None = None, include_cancelled: bool = False
) -> list[AppointmentView]:
    """The clinic's appointments of ``day`` (in the clinic's time zone), by practitioner then time."""
    day = inputs.calendar_day(day, what="The day")
    with services.uow(read_only=True) as uow:
        tz = read_clinic_settings(uow.session).tz
        start = dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC)
        query = select(AppointmentRow.id).where(
            AppointmentRow.starts_at >= start, AppointmentRow.starts_at < end
        )
        if practitioner_id is not None:
            query = query.where(AppointmentRow.practitioner_id == practitioner_id)
        if not include_cancelled:
            query = query.where(
                AppointmentRow.status.in_([AppointmentStatus.BOOKED.value, AppointmentStatus.ATTENDED.value])
            )
        views = _views(uow, list(uow.session.scalars(query)))
    return sorted(views, key=lambda v: (v.practitioner_name, v.starts_at, v.id))


@dataclass(frozen=True, slots=True)
class AppointmentScreen:
    """The appointment screen's whole read (``appointment_screen``)."""

    detail: AppointmentDetail
    membership: MembershipView | None
    deposit: DepositView | None


@use_case(Audience.ANY_STAFF)
def appointments_of_client(services: Services, client_id: str) -> list[AppointmentView]:
    with services.uow(read_only=True) as uow:
        return appointments_of_client_in(uow, client_id)


def appointments_of_client_in(uow: UnitOfWork, client_id: str) -> list[AppointmentView]:
    """A client's appointments, newest first, read inside the caller's unit of work."""
    ids = list(uow.session.scalars(select(AppointmentRow.id).where(AppointmentRow.client_id == client_id)))
    return sorted(_views(uow, ids), key=lambda v: v.starts_at, reverse=True)


@use_case(Audience.ANY_STAFF)
def appointment_detail(services: Services, appointment_id: str) -> AppointmentDetail:
    """The appointment, and for every package of the client covering its treatment: used / booked / remaining
    per step, expiry, and whether this booking respects the package's minimum gaps."""
    with services.uow(read_only=True) as uow:
        today = services.now().astimezone(read_clinic_settings(uow.session).tz).date()
        return _detail_in(uow, appointment_id, today)


@use_case(Audience.ANY_STAFF)
def appointment_screen(services: Services, appointment_id: str) -> AppointmentScreen:
    """Everything the appointment screen shows, read once in one transaction: the detail (above), the client's
    membership that has not ended, and the booking's deposit."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.now().astimezone(read_clinic_settings(s).tz).date()
        rows = _view_rows(uow, [appointment_id])
        if not rows:
            raise NotFound("That appointment does not exist.")
        detail = _detail_of(uow, _view_of(rows[0]), today)
        current = repo.current_membership_row_of(s, detail.appointment.client_id)
        membership = None
        if current is not None:  # the client's names are on the appointment's row
            membership = membership_view(s, repo.membership_from_row(current), rows[0], current, today)
        if membership is not None and membership.status is MembershipStatus.ENDED:
            membership = None
        return AppointmentScreen(detail, membership, deposit_of_appointment_in(s, appointment_id))


@use_case(Audience.ANY_STAFF)
def practitioners(services: Services) -> list[StaffMember]:
    """Who can be booked to treat clients (the roles ``book_appointment`` accepts): practitioners by name,
    then managers by name. Read-only, for the booking form and the day's columns."""
    treating = (Role.PRACTITIONER, Role.MANAGER)
    members = [m for m in list_staff(services) if m.role in treating]
    return sorted(members, key=lambda m: (treating.index(m.role), m.name))


# --- helpers ------------------------------------------------------------------------------------------------


def _package_for(
    uow: UnitOfWork,
    appointment: Appointment,
    treatment_name: str,
    session_on: dt.date,
    today: dt.date,
    use_package: bool,
    client_package_id: str | None,
) -> tuple[ClientPackage | None, int | None]:
    """The package and step that pay for ``appointment``, or (None, None) when it is paid for at the till.

    A package chosen by the receptionist is always returned (``rules.reserve`` then says if it cannot pay:
    refunded, expired by then, no session left). Otherwise the package usable on the day of the session that
    expires first; failing that the one usable today, so that booking past its expiry is refused with
    ``PackageExpired`` instead of being booked as paid without a word.
    """
    if not use_package:
        return None, None
    s = uow.session
    if client_package_id is not None:
        cp = package_repo.load_client_package(s, client_package_id)
        if cp.client_id != appointment.client_id:
            raise InvalidInput("That package belongs to another client.", field="package")
        return cp, _step_to_book(cp, appointment.treatment_id, treatment_name)
    packages = package_repo.client_packages_of(s, appointment.client_id)
    treatment_id = appointment.treatment_id
    cp = rules.choose_package(packages, treatment_id, session_on) or rules.choose_package(
        packages, treatment_id, today
    )
    if cp is None:
        return None, None
    return cp, _step_to_book(cp, treatment_id, treatment_name)


def _step_to_book(cp: ClientPackage, treatment_id: str, treatment_name: str) -> int:
    """The first step of ``cp`` for the treatment with a session left, else its first step for it (so that
    ``rules.reserve`` refuses with the reason: refunded, expired or no session left)."""
    matching = [step.position for step in cp.steps if step.treatment_id == treatment_id]
    if not matching:
        raise RuleViolation(f"{cp.name} does not include {treatment_name}.")
    with_sessions = [p for p in matching if rules.step_balance(cp, p).remaining > 0]
    return (with_sessions or matching)[0]


def _settle_package_session(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    appointment: Appointment,
    kind: AppointmentStatus,
    staff_id: str,
) -> tuple[SessionOutcome | None, tuple[str, ...]]:
    if appointment.client_package_id is None or appointment.step_position is None:
        return None, ()
    today = services.now().astimezone(settings.tz).date()
    cp = load_client_package_for_change(uow, appointment.client_package_id)
    if cp.status is not rules.ClientPackageStatus.ACTIVE:
        return None, ()
    outcome = booking.session_outcome_on_cancel(kind, settings.no_show_policy)
    warnings = tuple(b.message for b in rules.bookings_broken_by_cancel(cp, appointment.id))
    if outcome is SessionOutcome.RELEASE:
        _, entry = rules.release(cp, appointment.id, today)
    else:
        reason = (
            "No-show: session forfeited"
            if kind is AppointmentStatus.NO_SHOW
            else "Late cancellation: session forfeited"
        )
        session_on = min(appointment.session_on(settings.tz), today)
        _, entry = rules.redeem(
            cp, appointment.step_position, appointment.id, session_on, today, reason=reason
        )
        warnings = ()  # a forfeited session still counts as taken place for the step delays
    record_ledger_entry(uow, cp, entry, staff_id=staff_id, at=services.now())
    return outcome, warnings


def _refuse_double_booking(uow: UnitOfWork, appointment: Appointment, practitioner_name: str) -> None:
    """Refuse a time the practitioner is already booked for. The practitioner's row stays locked until the
    booking commits, so a till booking the same practitioner at the same moment waits, then sees this one."""
    uow.session.execute(
        select(StaffRow.id).where(StaffRow.id == appointment.practitioner_id).with_for_update()
    )
    window_start = appointment.starts_at - dt.timedelta(hours=8)
    rows = uow.session.scalars(
        select(AppointmentRow).where(
            AppointmentRow.practitioner_id == appointment.practitioner_id,
            AppointmentRow.starts_at > window_start,
            AppointmentRow.starts_at < appointment.ends_at,
        )
    )
    for row in rows:
        other = repo.appointment_from_row(row)
        if booking.overlaps(appointment, other):
            raise RuleViolation(
                f"{practitioner_name} already has an appointment at that time. Choose another time."
            )


def _detail_in(uow: UnitOfWork, appointment_id: str, today: dt.date) -> AppointmentDetail:
    """The appointment (one joined read) and the packages that cover it, only their ledgers read."""
    views = _views(uow, [appointment_id])
    if not views:
        raise NotFound("That appointment does not exist.")
    return _detail_of(uow, views[0], today)


def _detail_of(uow: UnitOfWork, view: AppointmentView, today: dt.date) -> AppointmentDetail:
    appointment_id = view.id
    packages = package_repo.client_packages_covering(
        uow.session, view.client_id, view.treatment_id, today, including=view.client_package_id
    )
    covering = [
        cp
        for cp in packages
        if cp.id == view.client_package_id
        or (
            cp.status is rules.ClientPackageStatus.ACTIVE
            and not cp.is_expired_on(today)
            and any(step.treatment_id == view.treatment_id for step in cp.steps)
        )
    ]
    problems = tuple(
        b.message for cp in covering for b in rules.broken_bookings(cp) if b.appointment_id == appointment_id
    )
    summaries = tuple(rules.package_summary(cp, today) for cp in covering)
    return AppointmentDetail(appointment=view, packages=summaries, step_rule_problems=problems)


def _fields(a: Appointment) -> dict[str, object]:
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


def _view(uow: UnitOfWork, appointment_id: str) -> AppointmentView:
    return _views(uow, [appointment_id])[0]


def _views(uow: UnitOfWork, ids: list[str]) -> list[AppointmentView]:
    return [_view_of(row) for row in _view_rows(uow, ids)]


def _view_rows(uow: UnitOfWork, ids: list[str]) -> list[Row[Any]]:
    """The appointments with their names, one statement built once (also the client's first and last name)."""
    if not ids:
        return []
    uow.session.flush()  # a Core read never autoflushes: an appointment booked in this unit of work is found
    return list(uow.session.execute(_VIEWS, {"ids": ids}).all())


def _view_of(a: Row[Any]) -> AppointmentView:
    return AppointmentView(
        id=a.id,
        client_id=a.client_id,
        client_name=f"{a.first_name} {a.last_name}",
        treatment_id=a.treatment_id,
        treatment_name=a.treatment_name,
        practitioner_id=a.practitioner_id,
        practitioner_name=a.practitioner_name,
        starts_at=a.starts_at,
        duration_minutes=a.duration_minutes,
        status=AppointmentStatus(a.status),
        client_package_id=a.client_package_id,
        step_position=a.step_position,
        package_name=a.package_name,
        notes=a.notes or "",
    )


_a, _c = AppointmentRow.__table__, ClientRow.__table__
_t, _s, _p = TreatmentRow.__table__, StaffRow.__table__, ClientPackageRow.__table__
_VIEWS = (
    select(
        *(c for c in _a.c if c.name not in ("deposit_status", "created_at", "updated_at", "cancelled_at")),
        _c.c.first_name,
        _c.c.last_name,
        _t.c.name.label("treatment_name"),
        _s.c.name.label("practitioner_name"),
        _p.c.name.label("package_name"),
    )
    .join(_c, _c.c.id == _a.c.client_id)
    .join(_t, _t.c.id == _a.c.treatment_id)
    .join(_s, _s.c.id == _a.c.practitioner_id)
    .outerjoin(_p, _p.c.id == _a.c.client_package_id)
    .where(_a.c.id.in_(bindparam("ids", expanding=True)))
)
