"""Appointments: when they can be booked, how they end, and what a cancellation does to a package session.

Times are aware datetimes kept in UTC (DESIGN.md §2). The clinic's day of an appointment, the ``session_on`` of
package ledger entries, is its start in the clinic's time zone (``clinic_date``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from aestheticc_pos.domain.errors import InvalidInput, RuleViolation

DEFAULT_LATE_CANCEL_HOURS = 24
CLINIC_TIME_ZONE = ZoneInfo("Europe/London")


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    NO_SHOW = "no_show"


class NoShowPolicy(enum.StrEnum):
    """What a late cancellation or a no-show does to the package session it had booked (a clinic setting)."""

    FORFEIT = "forfeit"  # the session is used up: redeem it, with the reason
    RETURN = "return"  # the session is given back: release it


class SessionOutcome(enum.StrEnum):
    """What happens to a booked package session when its appointment does not take place."""

    RELEASE = "release"
    FORFEIT = "forfeit"


_ENDED_AS = {
    AppointmentStatus.ATTENDED: "has already been attended",
    AppointmentStatus.CANCELLED: "was cancelled",
    AppointmentStatus.LATE_CANCELLED: "was cancelled late",
    AppointmentStatus.NO_SHOW: "was marked as a no-show",
}


@dataclass(frozen=True, slots=True)
class Appointment:
    """A booked slot with one practitioner for one treatment, possibly paid by a package session."""

    id: str
    client_id: str
    treatment_id: str
    practitioner_id: str
    starts_at: dt.datetime  # aware; normalised to UTC
    duration_minutes: int
    status: AppointmentStatus = AppointmentStatus.BOOKED
    client_package_id: str | None = None
    step_position: int | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", _utc(self.starts_at, "An appointment's start"))
        if not 5 <= self.duration_minutes <= 8 * 60:
            raise InvalidInput("An appointment lasts between 5 minutes and 8 hours.", field="duration")
        if (self.client_package_id is None) != (self.step_position is None):
            raise InvalidInput("A package appointment needs both its package and its step.", field="package")

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    def session_on(self, tz: ZoneInfo = CLINIC_TIME_ZONE) -> dt.date:
        """The clinic's day of this appointment: the ``session_on`` of its package ledger entries."""
        return clinic_date(self.starts_at, tz)


def clinic_date(moment: dt.datetime, tz: ZoneInfo = CLINIC_TIME_ZONE) -> dt.date:
    """The date of ``moment`` (aware) in the clinic's time zone."""
    return _utc(moment, "A time").astimezone(tz).date()


MAX_BOOKING_AHEAD = dt.timedelta(days=3 * 365)  # a booking years away is a typing mistake


def validate_booking_time(
    starts_at: dt.datetime, now: dt.datetime, *, allow_past: bool = False
) -> dt.datetime:
    """``starts_at`` in UTC if an appointment may start then; refuses the past unless ``allow_past``.

    ``allow_past`` is for entering an appointment that already happened (a back-office correction).
    """
    starts_at = _utc(starts_at, "An appointment's start")
    now = _utc(now, "The current time")
    if starts_at < now and not allow_past:
        raise RuleViolation("That time has already passed. Choose a time from now on.")
    if starts_at > now + MAX_BOOKING_AHEAD:
        raise RuleViolation(
            f"The diary is open {MAX_BOOKING_AHEAD.days // 365} years ahead. Choose a nearer date."
        )
    return starts_at


def cancellation_kind(
    starts_at: dt.datetime, cancelled_at: dt.datetime, late_cancel_hours: int = DEFAULT_LATE_CANCEL_HOURS
) -> AppointmentStatus:
    """CANCELLED when cancelled at least ``late_cancel_hours`` before the start, else LATE_CANCELLED."""
    if late_cancel_hours < 0:
        raise InvalidInput("The late-cancellation notice cannot be negative.", field="late_cancel_hours")
    notice = _utc(starts_at, "An appointment's start") - _utc(cancelled_at, "The cancellation time")
    if notice >= dt.timedelta(hours=late_cancel_hours):
        return AppointmentStatus.CANCELLED
    return AppointmentStatus.LATE_CANCELLED


def session_outcome_on_cancel(kind: AppointmentStatus, policy: NoShowPolicy) -> SessionOutcome:
    """Release or forfeit the package session of an appointment that ended as ``kind``.

    A cancellation in time always gives the session back; a late cancellation or a no-show follows the clinic's
    policy. ``SessionOutcome`` values equal the strings "release" and "forfeit".
    """
    if kind is AppointmentStatus.CANCELLED:
        return SessionOutcome.RELEASE
    if kind in (AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW):
        return SessionOutcome.FORFEIT if policy is NoShowPolicy.FORFEIT else SessionOutcome.RELEASE
    raise InvalidInput(f"An appointment that is {kind} has not been cancelled.", field="status")


def can_attend(appointment: Appointment) -> bool:
    return appointment.status is AppointmentStatus.BOOKED


def attend(appointment: Appointment) -> Appointment:
    """The appointment checked in as attended (from BOOKED only)."""
    _require_booked(appointment, "marked as attended")
    return replace(appointment, status=AppointmentStatus.ATTENDED)


def cancel(
    appointment: Appointment, cancelled_at: dt.datetime, late_cancel_hours: int = DEFAULT_LATE_CANCEL_HOURS
) -> Appointment:
    """The appointment cancelled at ``cancelled_at``: CANCELLED or LATE_CANCELLED (from BOOKED only)."""
    _require_booked(appointment, "cancelled")
    kind = cancellation_kind(appointment.starts_at, cancelled_at, late_cancel_hours)
    return replace(appointment, status=kind)


def mark_no_show(appointment: Appointment, now: dt.datetime) -> Appointment:
    """The appointment marked as a no-show (from BOOKED only, once its start time has passed)."""
    _require_booked(appointment, "marked as a no-show")
    if _utc(now, "The current time") < appointment.starts_at:
        raise RuleViolation("A client can only be marked as a no-show once the appointment time has passed.")
    return replace(appointment, status=AppointmentStatus.NO_SHOW)


def overlaps(a: Appointment, b: Appointment) -> bool:
    """Whether ``a`` and ``b`` double-book one practitioner.

    Only appointments that hold the practitioner's time count (booked or attended); touching ends (one ends at
    10:30, the next starts at 10:30) do not overlap.
    """
    holding = (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED)
    return (
        a.id != b.id
        and a.practitioner_id == b.practitioner_id
        and a.status in holding
        and b.status in holding
        and a.starts_at < b.ends_at
        and b.starts_at < a.ends_at
    )


def _require_booked(appointment: Appointment, action: str) -> None:
    if appointment.status is not AppointmentStatus.BOOKED:
        raise RuleViolation(f"This appointment {_ENDED_AS[appointment.status]}, so it cannot be {action}.")


def _utc(moment: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what} needs a time zone.", field="time")
    return moment.astimezone(dt.UTC)
