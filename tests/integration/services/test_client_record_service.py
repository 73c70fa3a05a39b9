"""The client record in one read: what the six separate reads gave, from one read-only unit of work, as plain
values."""

from __future__ import annotations

import dataclasses

import pytest
from catalogue_fixtures import DemoCatalogue, add_client, at, save_demo_catalogue, sell_package

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import checkout, clients, membership_views, memberships, sales
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.client_record import ClientRecord, client_card, client_record, package_is_open
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store.tables import Base
from aestheticc_pos.store.unit_of_work import UnitOfWork


@pytest.fixture
def catalogue(services: Services) -> DemoCatalogue:
    return save_demo_catalogue(services)


@pytest.fixture
def ada(services: Services, catalogue: DemoCatalogue) -> str:
    return add_client(services, "Ada", "Lovelace")


class CountingFactory:
    """The unit-of-work factory, counting the units of work opened through it."""

    def __init__(self, factory) -> None:  # type: ignore[no-untyped-def]
        self.factory = factory
        self.opened: list[bool] = []  # read_only of each

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        self.opened.append(read_only)
        return self.factory(read_only=read_only)


def _plain(value: object) -> None:
    """No ORM row anywhere in ``value`` (dataclasses, lists and tuples walked)."""
    assert not isinstance(value, Base), value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _plain(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            _plain(item)


def test_the_record_is_what_the_separate_reads_give_from_one_read_only_unit_of_work(
    services, catalogue, ada, receptionist, practitioner, manager
) -> None:
    gold = catalogue_service.add_tier(
        services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20"
    )
    memberships.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)
    sell_package(services, catalogue.microneedling_course, ada)
    checkout.complete_sale(
        services,
        client_id=ada,
        items=[BasketItem(ItemKind.PACKAGE, catalogue.botox_starter.id)],
        payments=[Payment("cash", "500.00")],  # change given, whatever the member price
        staff_id=receptionist,
    )
    later = appointments_service.book_appointment(
        services,
        client_id=ada,
        treatment_id=catalogue.microneedling.id,
        starts_at=at(2026, 12, 1, 10),
        practitioner_id=practitioner,
        staff_id=receptionist,
    )
    sooner = appointments_service.book_appointment(
        services,
        client_id=ada,
        treatment_id=catalogue.consultation.id,
        starts_at=at(2026, 11, 25, 10),
        practitioner_id=practitioner,
        staff_id=receptionist,
    )
    cancelled = appointments_service.book_appointment(
        services,
        client_id=ada,
        treatment_id=catalogue.consultation.id,
        starts_at=at(2026, 11, 26, 10),
        practitioner_id=practitioner,
        staff_id=receptionist,
    )
    appointments_service.cancel_appointment(
        services, appointment_id=cancelled.appointment.id, staff_id=receptionist
    )

    counting = CountingFactory(services.uow)
    record = client_record(dataclasses.replace(services, uow=counting), ada)
    assert counting.opened == [True]  # one unit of work, read-only

    assert isinstance(record, ClientRecord)
    _plain(record)
    assert record.client == clients.get_client(services, ada)
    assert record.today == services.today()
    assert record.membership == membership_views.membership_of(services, ada)
    assert record.membership is not None and record.membership.tier_name == "Gold"
    overview = packages_service.client_packages_overview(services, ada, include_closed=True)
    assert sorted(p.client_package_id for p in record.packages) == sorted(
        p.client_package_id for p in overview
    )
    assert all(package_is_open(p) for p in record.packages)
    assert record.sales == sales.sales_of_client(services, ada)
    assert [line.name for r in record.sales for line in r.lines] == ["Botox starter"]
    assert [a.id for a in record.upcoming] == [sooner.appointment.id, later.appointment.id]  # soonest first
    assert [(a.id, a.status) for a in record.past] == [
        (cancelled.appointment.id, AppointmentStatus.CANCELLED)
    ]


def test_a_client_with_nothing_yet_has_an_empty_record(services, ada) -> None:
    record = client_record(services, ada)
    assert (record.packages, record.membership, record.upcoming, record.past, record.sales) == (
        [],
        None,
        [],
        [],
        [],
    )


def test_an_unknown_client_is_not_found(services) -> None:
    with pytest.raises(NotFound):
        client_record(services, "no-such-client")


def test_checkouts_client_card_is_one_read_of_the_client_membership_and_active_packages(
    services, catalogue, ada, receptionist, manager
) -> None:
    gold = catalogue_service.add_tier(
        services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20"
    )
    memberships.start_membership(services, client_id=ada, tier_id=gold.id, staff_id=receptionist)
    sell_package(services, catalogue.microneedling_course, ada)

    counting = CountingFactory(services.uow)
    card = client_card(dataclasses.replace(services, uow=counting), ada)
    assert counting.opened == [True]  # one unit of work, read-only, instead of three
    _plain(card)
    assert card.client == clients.get_client(services, ada)
    assert card.membership == membership_views.membership_of(services, ada)
    assert card.packages == packages_service.client_packages_overview(services, ada)
    assert [(p.name, p.remaining) for p in card.packages] == [("Microneedling course of 6", 6)]
    with pytest.raises(NotFound):
        client_card(services, "no-such-client")
