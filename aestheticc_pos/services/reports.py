"""Figures about the clinic for the main window and reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.packages import ClientPackageStatus
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientPackageRow,
    ClientRow,
    MembershipRow,
    StaffRow,
    TreatmentRow,
)


@dataclass(frozen=True, slots=True)
class ClinicOverview:
    clinic_name: str
    is_set_up: bool
    today: dt.date
    clients: int
    appointments_today: int
    active_packages: int
    members: int
    treatments: int
    staff: int


@use_case(Action.VIEW_REPORTS)
def clinic_overview(services: Services, *, staff_id: str) -> ClinicOverview:
    with services.uow(read_only=True) as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        today = services.now().astimezone(settings.tz).date()
        start = dt.datetime.combine(today, dt.time(0), settings.tz).astimezone(dt.UTC)
        end = start + dt.timedelta(days=1)

        def count(query) -> int:  # type: ignore[no-untyped-def]
            return int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)

        return ClinicOverview(
            clinic_name=settings.name,
            is_set_up=settings.is_set_up,
            today=today,
            clients=count(select(ClientRow.id).where(ClientRow.anonymised_at.is_(None))),
            appointments_today=count(
                select(AppointmentRow.id).where(
                    AppointmentRow.starts_at >= start,
                    AppointmentRow.starts_at < end,
                    AppointmentRow.status.in_(
                        [AppointmentStatus.BOOKED.value, AppointmentStatus.ATTENDED.value]
                    ),
                )
            ),
            active_packages=count(
                select(ClientPackageRow.id).where(
                    ClientPackageRow.status == ClientPackageStatus.ACTIVE.value,
                    ClientPackageRow.expires_on >= today,
                )
            ),
            members=count(
                select(MembershipRow.id).where(
                    MembershipRow.status.in_(
                        [
                            MembershipStatus.ACTIVE.value,
                            MembershipStatus.PAST_DUE.value,
                            MembershipStatus.CANCELLING.value,
                            MembershipStatus.PENDING_MANDATE.value,
                        ]
                    )
                )
            ),
            treatments=count(select(TreatmentRow.id).where(TreatmentRow.active)),
            staff=count(select(StaffRow.id).where(StaffRow.active)),
        )
