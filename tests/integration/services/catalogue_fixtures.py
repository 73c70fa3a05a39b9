"""The demo catalogue and a client with a package, written through the store for service tests.

A plain module, not a conftest: test modules in this folder import it as ``from catalogue_fixtures import …``
(pytest's default "prepend" import mode puts the folder of a test module without ``__init__.py`` on
``sys.path``, and ``spawn`` child processes inherit that path).

Ids are readable ("consultation", "botox-starter") so a failing assertion says what it is about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain import packages as rules
from aestheticc_pos.domain.catalogue import Package, PackageStep, Treatment
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import PackageSummary
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store import catalogue_repo, package_repo
from aestheticc_pos.store.tables import ClientPackageRow, ClientPackageStepRow, SessionLedgerRow

GBP = Money.parse
LONDON = ZoneInfo("Europe/London")

CONSULTATION = Treatment(id="consultation", name="Consultation", price=GBP("50.00"), duration_minutes=30)
BOTOX = Treatment(id="botox", name="Botox treatment", price=GBP("250.00"), duration_minutes=30)
REVIEW = Treatment(id="review", name="Review", price=GBP("0.00"), duration_minutes=15)  # free follow-up
MICRONEEDLING = Treatment(id="microneedling", name="Microneedling", price=GBP("200.00"), duration_minutes=60)

BOTOX_STARTER = Package(
    id="botox-starter",
    name="Botox starter",
    description="Consultation, treatment two days later, review two weeks after that.",
    price=GBP("300.00"),
    validity_days=180,
    steps=(
        PackageStep(1, CONSULTATION.id, CONSULTATION.name, sessions=1),
        PackageStep(2, BOTOX.id, BOTOX.name, sessions=1, min_days_after_previous=2),
        PackageStep(3, REVIEW.id, REVIEW.name, sessions=1, min_days_after_previous=14),
    ),
)
MICRONEEDLING_COURSE = Package(
    id="microneedling-6",
    name="Microneedling course of 6",
    description="Six sessions, at least four weeks apart.",
    price=GBP("1000.00"),
    validity_days=365,
    steps=(PackageStep(1, MICRONEEDLING.id, MICRONEEDLING.name, sessions=6, min_days_between_sessions=28),),
)


@dataclass(frozen=True, slots=True)
class DemoCatalogue:
    consultation: Treatment = CONSULTATION
    botox: Treatment = BOTOX
    review: Treatment = REVIEW
    microneedling: Treatment = MICRONEEDLING
    botox_starter: Package = BOTOX_STARTER
    microneedling_course: Package = MICRONEEDLING_COURSE


def save_demo_catalogue(services: Services) -> DemoCatalogue:
    """Write the demo treatments and packages (what the clinic sells) and return them."""
    catalogue = DemoCatalogue()
    with services.uow() as uow:
        for treatment in (catalogue.consultation, catalogue.botox, catalogue.review, catalogue.microneedling):
            catalogue_repo.save_treatment(uow.session, treatment)
        uow.session.flush()
        for package in (catalogue.botox_starter, catalogue.microneedling_course):
            catalogue_repo.save_package(uow.session, package)
        uow.commit()
    return catalogue


def add_client(services: Services, first_name: str = "Ada", last_name: str = "Lovelace") -> str:
    return clients_service.add_client(
        services, staff_id=front_desk(services), first_name=first_name, last_name=last_name
    ).id


def sell_package(
    services: Services, package: Package, client_id: str, *, today: dt.date | None = None
) -> str:
    """Sell ``package`` to a client as checkout would, without the sale: the new client package's id."""
    client_package_id = services.new_id()
    with services.uow() as uow:
        packages_service.sell_package_in(
            uow,
            package,
            client_package_id=client_package_id,
            client_id=client_id,
            today=today or services.today(),
            sale_id=None,
        )
        uow.commit()
    return client_package_id


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time on the clinic's clock (London)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def package_steps(services: Services, client_id: str, **options: bool) -> list[tuple[int, int, int]]:
    """(used, booked, remaining) per step of the client's one package, from the package screen's overview."""
    (summary,) = packages_service.client_packages_overview(services, client_id, **options)
    return used_booked_remaining(summary)


def used_booked_remaining(summary: PackageSummary) -> list[tuple[int, int, int]]:
    """Per step, what the package screen shows: (used, booked, remaining)."""
    return [(step.used, step.booked, step.remaining) for step in summary.steps]


def assert_counters_match_ledger(services: Services, client_package_id: str) -> None:
    """The step counters the database guards must say what replaying the session ledger says."""
    with services.uow(read_only=True) as uow:
        cp = package_repo.load_client_package(uow.session, client_package_id)
        rows = uow.session.scalars(
            select(ClientPackageStepRow)
            .where(ClientPackageStepRow.client_package_id == client_package_id)
            .order_by(ClientPackageStepRow.position)
        ).all()
        assert [row.position for row in rows] == [step.position for step in cp.steps]
        for row in rows:
            balance = rules.step_balance(cp, row.position)
            counted = (row.sessions + row.adjusted, row.redeemed, row.reserved, row.refunded, row.remaining)
            replayed = (
                balance.total,
                balance.redeemed,
                balance.reserved,
                balance.refunded,
                balance.remaining,
            )
            assert counted == replayed, f"step {row.position}: counters {counted}, ledger {replayed}"
        # And what the write paths keep beside the counters for the reports (migration 0015).
        package = uow.session.get(ClientPackageRow, client_package_id)
        assert package is not None
        kept = tuple(
            getattr(package, f"sessions_{name}")
            for name in ("sold", "adjusted", "redeemed", "reserved", "refunded")
        )
        summed = tuple(
            sum(getattr(row, name) for row in rows)
            for name in ("sessions", "adjusted", "redeemed", "reserved", "refunded")
        )
        assert kept == summed, f"the package's sums {kept}, its steps' {summed}"
        assert {row.package_id for row in rows} == {cp.package_id}
        gaps = rules.step_gaps(cp.ledger)
        assert {row.position: row.days_after_previous for row in rows} == {
            row.position: gaps.get(row.position) for row in rows
        }
        copies = uow.session.execute(
            select(SessionLedgerRow.package_price_pence, SessionLedgerRow.package_sessions).where(
                SessionLedgerRow.client_package_id == client_package_id
            )
        ).all()
        assert set(copies) <= {(cp.price.pence, cp.total_sessions)}
