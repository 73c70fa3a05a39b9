"""Appointments: booking times, cancellations, no-shows, status changes and double bookings."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from aestheticc_pos.domain.appointments import (
    Appointment,
    AppointmentStatus,
    NoShowPolicy,
    SessionOutcome,
    attend,
    can_attend,
    cancel,
    cancellation_kind,
    clinic_date,
    mark_no_show,
    overlaps,
    session_outcome_on_cancel,
    validate_booking_time,
)
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
TEN_AM = dt.datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def appointment(
    starts_at: dt.datetime = TEN_AM,
    minutes: int = 30,
    practitioner: str = "staff-1",
    appointment_id: str = "appt-1",
) -> Appointment:
    return Appointment(
        id=appointment_id,
        client_id="client-1",
        treatment_id="tr-botox",
        practitioner_id=practitioner,
        starts_at=starts_at,
        duration_minutes=minutes,
    )


# --- the value -------------------------------------------------------------------------------------------------


def test_an_appointment_keeps_its_start_in_utc() -> None:
    london_start = dt.datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)  # BST: 08:00 UTC

    booked = appointment(starts_at=london_start)

    assert booked.starts_at == dt.datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert booked.starts_at.tzinfo is UTC
    assert booked.ends_at == dt.datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert booked.status is AppointmentStatus.BOOKED


def test_an_appointment_needs_an_aware_start_a_sane_length_and_a_whole_package_reference() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        appointment(starts_at=dt.datetime(2026, 11, 26, 10, 0))
    with pytest.raises(InvalidInput, match="between 5 minutes and 8 hours"):
        appointment(minutes=0)
    with pytest.raises(InvalidInput, match="both its package and its step"):
        replace(appointment(), client_package_id="cp-1")


def test_the_session_date_is_the_clinic_day_not_the_utc_day() -> None:
    late_summer_evening = dt.datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London

    assert clinic_date(late_summer_evening) == dt.date(2026, 7, 2)
    assert appointment(starts_at=late_summer_evening).session_on() == dt.date(2026, 7, 2)
    assert clinic_date(late_summer_evening, ZoneInfo("America/New_York")) == dt.date(2026, 7, 1)


# --- booking time ----------------------------------------------------------------------------------------------


def test_a_future_time_can_be_booked() -> None:
    assert validate_booking_time(TEN_AM, now=TEN_AM - dt.timedelta(minutes=1)) == TEN_AM
    assert validate_booking_time(TEN_AM, now=TEN_AM) == TEN_AM


def test_the_past_is_refused_unless_entered_on_purpose() -> None:
    with pytest.raises(RuleViolation, match="That time has already passed"):
        validate_booking_time(TEN_AM, now=TEN_AM + dt.timedelta(minutes=1))

    assert validate_booking_time(TEN_AM, now=TEN_AM + dt.timedelta(days=1), allow_past=True) == TEN_AM


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput):
        validate_booking_time(dt.datetime(2026, 11, 26, 10, 0), now=TEN_AM)
    with pytest.raises(InvalidInput):
        validate_booking_time(TEN_AM, now=dt.datetime(2026, 11, 25, 10, 0))


# --- cancellations and no-shows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notice", "kind"),
    [
        (dt.timedelta(days=3), AppointmentStatus.CANCELLED),
        (dt.timedelta(hours=24), AppointmentStatus.CANCELLED),  # exactly the notice is in time
        (dt.timedelta(hours=23, minutes=59), AppointmentStatus.LATE_CANCELLED),
        (dt.timedelta(0), AppointmentStatus.LATE_CANCELLED),
        (-dt.timedelta(minutes=10), AppointmentStatus.LATE_CANCELLED),  # after the start
    ],
)
def test_a_cancellation_is_late_inside_the_notice_period(
    notice: dt.timedelta, kind: AppointmentStatus
) -> None:
    assert cancellation_kind(TEN_AM, TEN_AM - notice) is kind


def test_the_notice_period_is_a_clinic_setting() -> None:
    assert cancellation_kind(TEN_AM, TEN_AM - dt.timedelta(hours=30), late_cancel_hours=48) is (
        AppointmentStatus.LATE_CANCELLED
    )
    assert cancellation_kind(TEN_AM, TEN_AM, late_cancel_hours=0) is AppointmentStatus.CANCELLED
    with pytest.raises(InvalidInput):
        cancellation_kind(TEN_AM, TEN_AM, late_cancel_hours=-1)


@pytest.mark.parametrize(
    ("kind", "policy", "outcome"),
    [
        (AppointmentStatus.CANCELLED, NoShowPolicy.FORFEIT, "release"),
        (AppointmentStatus.CANCELLED, NoShowPolicy.RETURN, "release"),
        (AppointmentStatus.LATE_CANCELLED, NoShowPolicy.FORFEIT, "forfeit"),
        (AppointmentStatus.LATE_CANCELLED, NoShowPolicy.RETURN, "release"),
        (AppointmentStatus.NO_SHOW, NoShowPolicy.FORFEIT, "forfeit"),
        (AppointmentStatus.NO_SHOW, NoShowPolicy.RETURN, "release"),
    ],
)
def test_a_cancellation_in_time_always_releases_the_session_otherwise_the_policy_decides(
    kind: AppointmentStatus, policy: NoShowPolicy, outcome: str
) -> None:
    result = session_outcome_on_cancel(kind, policy)

    assert result == outcome
    assert result is SessionOutcome(outcome)


@pytest.mark.parametrize("kind", [AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED])
def test_an_appointment_that_was_not_cancelled_has_no_cancel_outcome(kind: AppointmentStatus) -> None:
    with pytest.raises(InvalidInput):
        session_outcome_on_cancel(kind, NoShowPolicy.FORFEIT)


# --- status changes --------------------------------------------------------------------------------------------


def test_a_booked_appointment_can_be_attended() -> None:
    booked = appointment()

    assert can_attend(booked)
    attended = attend(booked)
    assert attended.status is AppointmentStatus.ATTENDED
    assert not can_attend(attended)


def test_cancelling_records_whether_it_was_in_time() -> None:
    assert cancel(appointment(), TEN_AM - dt.timedelta(days=2)).status is AppointmentStatus.CANCELLED
    assert cancel(appointment(), TEN_AM - dt.timedelta(hours=2)).status is AppointmentStatus.LATE_CANCELLED
    assert cancel(appointment(), TEN_AM - dt.timedelta(hours=30), late_cancel_hours=48).status is (
        AppointmentStatus.LATE_CANCELLED
    )


def test_a_no_show_is_marked_only_once_the_time_has_passed() -> None:
    with pytest.raises(RuleViolation, match="once the appointment time has passed"):
        mark_no_show(appointment(), now=TEN_AM - dt.timedelta(minutes=5))

    assert (
        mark_no_show(appointment(), now=TEN_AM + dt.timedelta(minutes=15)).status is AppointmentStatus.NO_SHOW
    )


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (AppointmentStatus.ATTENDED, "This appointment has already been attended, so it cannot be"),
        (AppointmentStatus.CANCELLED, "This appointment was cancelled, so it cannot be"),
        (AppointmentStatus.LATE_CANCELLED, "This appointment was cancelled late, so it cannot be"),
        (AppointmentStatus.NO_SHOW, "This appointment was marked as a no-show, so it cannot be"),
    ],
)
def test_only_a_booked_appointment_changes_status(status: AppointmentStatus, sentence: str) -> None:
    ended = replace(appointment(), status=status)
    after_start = TEN_AM + dt.timedelta(hours=1)

    assert not can_attend(ended)
    with pytest.raises(RuleViolation, match=f"{sentence} marked as attended."):
        attend(ended)
    with pytest.raises(RuleViolation, match=f"{sentence} cancelled."):
        cancel(ended, after_start)
    with pytest.raises(RuleViolation, match=f"{sentence} marked as a no-show."):
        mark_no_show(ended, after_start)


# --- double bookings -------------------------------------------------------------------------------------------


def test_overlapping_appointments_of_one_practitioner_clash() -> None:
    first = appointment(minutes=60)
    inside = appointment(starts_at=TEN_AM + dt.timedelta(minutes=30), appointment_id="appt-2")

    assert overlaps(first, inside)
    assert overlaps(inside, first)


def test_back_to_back_other_practitioners_cancelled_or_the_same_appointment_do_not_clash() -> None:
    first = appointment(minutes=30)
    next_slot = appointment(starts_at=TEN_AM + dt.timedelta(minutes=30), appointment_id="appt-2")
    colleague = appointment(practitioner="staff-2", appointment_id="appt-3")
    cancelled = replace(appointment(appointment_id="appt-4"), status=AppointmentStatus.CANCELLED)

    assert not overlaps(first, next_slot)
    assert not overlaps(first, colleague)
    assert not overlaps(first, cancelled)
    assert not overlaps(first, first)
    assert overlaps(first, replace(appointment(appointment_id="appt-5"), status=AppointmentStatus.ATTENDED))
