"""A client's record as the screen shows it, read at one moment in one transaction: the details, every package
(used / booked / left per step, expiry), the membership that has not ended, the appointments to come and past,
and the purchases. ``client_card``: the shorter card checkout shows for the client of a sale (name, membership,
the packages with sessions left), read the same way.

Each part is read by the ``…_in`` function of the module that owns it (clients' repository, packages,
memberships' views, appointments, sales), inside this one unit of work, so the record never mixes two moments
(a sale written between two reads would otherwise show its package but not its receipt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.packages import ClientPackageStatus, PackageSummary
from aestheticc_pos.services.appointments import AppointmentView, appointments_of_client_in
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.membership_views import MembershipView, membership_of_in
from aestheticc_pos.services.packages import client_packages_overview_in
from aestheticc_pos.services.sales import Receipt, sales_of_client_in
from aestheticc_pos.store import repositories as repo

PURCHASES_SHOWN = 200  # the newest purchases on the record; older ones are in Sales


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """Everything the record shows, read at one moment (``today`` is the clinic's date then)."""

    client: Client
    packages: list[PackageSummary]  # open ones first, each group by expiry
    membership: MembershipView | None  # the membership that has not ended
    upcoming: list[AppointmentView]  # booked and still to come, soonest first
    past: list[AppointmentView]  # everything else, newest first
    sales: list[Receipt]  # newest first
    today: dt.date


@use_case(Audience.ANY_STAFF)
def client_record(services: Services, client_id: str) -> ClientRecord:
    """A client's record, in one read-only transaction. Raises ``NotFound`` for an unknown client."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        now = services.now()
        today = now.astimezone(settings.tz).date()
        client = repo.load_client(s, client_id)
        appointments = appointments_of_client_in(uow, client_id)
        packages = client_packages_overview_in(uow, client_id, today, include_closed=True)
        membership = membership_of_in(s, client_id, today)
        sales = sales_of_client_in(s, settings, client_id, limit=PURCHASES_SHOWN)
    upcoming = [a for a in appointments if a.status is AppointmentStatus.BOOKED and a.starts_at >= now]
    upcoming_ids = {a.id for a in upcoming}
    return ClientRecord(
        client=client,
        packages=sorted(packages, key=lambda p: not package_is_open(p)),  # a stable sort keeps expiry order
        membership=membership,
        upcoming=sorted(upcoming, key=lambda a: a.starts_at),
        past=[a for a in appointments if a.id not in upcoming_ids],
        sales=sales,
        today=today,
    )


@dataclass(frozen=True, slots=True)
class ClientCard:
    """What checkout shows of the sale's client, read at one moment."""

    client: Client
    membership: MembershipView | None  # the membership that has not ended
    packages: list[PackageSummary]  # the active ones, soonest expiry first


@use_case(Audience.ANY_STAFF)
def client_card(services: Services, client_id: str) -> ClientCard:
    """The client's card for checkout, in one read-only transaction. Raises ``NotFound`` for an unknown client."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.now().astimezone(read_clinic_settings(s).tz).date()
        client = repo.load_client(s, client_id)
        return ClientCard(
            client=client,
            membership=membership_of_in(s, client_id, today),
            packages=client_packages_overview_in(uow, client_id, today),
        )


def package_is_open(package: PackageSummary) -> bool:
    """A package the client can still use: active and not past its expiry."""
    return package.status is ClientPackageStatus.ACTIVE and not package.expired
