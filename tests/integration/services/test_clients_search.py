"""Client search as the Clients screen uses it: pages that follow each other, any part of a phone or an email,
a tier's name, the membership and package filters, and a capped count (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from catalogue_fixtures import save_demo_catalogue, sell_package
from staffing import front_desk

from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.clients import ClientFilter
from aestheticc_pos.services.context import Services
from aestheticc_pos.store import catalogue_repo

GOLD = Tier(
    id="tier-gold",
    name="Gold",
    monthly_price=Money.parse("49.00"),
    discount_bp=2000,
    benefits_start=BenefitsStart.SIGN_UP,
)
SILVER = Tier(id="tier-silver", name="Silver", monthly_price=Money.parse("29.00"), discount_bp=1000)


def _add(
    services: Services, first: str, last: str, *, email: str | None = None, phone: str | None = None
) -> str:
    return clients_service.add_client(
        services, staff_id=front_desk(services), first_name=first, last_name=last, email=email, phone=phone
    ).id


@pytest.fixture
def clinic(services: Services, receptionist: str) -> dict[str, str]:
    """A few clients: two Gold members, a Silver one, one with a microneedling course."""
    catalogue = save_demo_catalogue(services)
    with services.uow() as uow:
        catalogue_repo.save_tier(uow.session, GOLD)
        catalogue_repo.save_tier(uow.session, SILVER)
        uow.commit()
    ids = {
        "ada": _add(services, "Ada", "Lovelace", email="ada@gmail.com", phone="07700 900123"),
        "grace": _add(services, "Grace", "Hopper", email="grace@navy.example", phone="07700 811234"),
        "gordon": _add(services, "Gordon", "Smith", email="gordon@gmail.com"),
        "sam": _add(services, "Sam", "Goldman"),
        "zoe": _add(services, "Zoe", "Young", phone="020 7946 0123"),
    }
    for who, tier in (("ada", GOLD), ("zoe", GOLD), ("grace", SILVER)):
        memberships_service.start_membership(
            services, client_id=ids[who], tier_id=tier.id, staff_id=receptionist
        )
    sell_package(services, catalogue.microneedling_course, ids["grace"])
    return ids


def _names(page: clients_service.ClientPage) -> list[str]:
    return [c.full_name for c in page.rows]


def test_any_part_of_a_phone_number_or_an_email_finds_the_client(services: Services, clinic) -> None:
    assert _names(clients_service.search_client_page(services, "900123")) == [
        "Ada Lovelace"
    ]  # last six digits
    assert _names(clients_service.search_client_page(services, "946 0123")) == ["Zoe Young"]
    assert _names(clients_service.search_client_page(services, "@gmail")) == ["Ada Lovelace", "Gordon Smith"]
    assert _names(clients_service.search_client_page(services, "navy.ex@")) == []  # not a part of the email
    assert _names(clients_service.search_client_page(services, "@navy.ex")) == ["Grace Hopper"]


def test_a_tiers_name_finds_its_members_after_the_names_that_start_with_it(
    services: Services, clinic
) -> None:
    # "gold" starts Goldman's surname (a name match, first); then the Gold members, in list order.
    assert _names(clients_service.search_client_page(services, "gold")) == [
        "Sam Goldman",
        "Ada Lovelace",
        "Zoe Young",
    ]
    assert _names(clients_service.search_client_page(services, "silv")) == ["Grace Hopper"]


def test_the_list_shows_each_clients_tier_and_active_packages(services: Services, clinic) -> None:
    rows = {c.full_name: c for c in clients_service.search_client_page(services, "").rows}
    assert rows["Ada Lovelace"].membership == "Gold (pending mandate)"  # until the Direct Debit is set up
    assert rows["Grace Hopper"].membership.startswith("Silver")
    assert rows["Grace Hopper"].packages == "Microneedling course of 6: 6 left"
    assert (rows["Sam Goldman"].membership, rows["Sam Goldman"].packages) == ("", "")
    assert (
        clients_service.client_summaries(services, [clinic["grace"]])[clinic["grace"]] == rows["Grace Hopper"]
    )


def test_filters_narrow_every_search_to_a_tier_or_a_package(services: Services, clinic) -> None:
    gold = ClientFilter(tier_id=GOLD.id)
    assert _names(clients_service.search_client_page(services, "", filters=gold)) == [
        "Ada Lovelace",
        "Zoe Young",
    ]
    assert _names(clients_service.search_client_page(services, "zo", filters=gold)) == ["Zoe Young"]
    members = ClientFilter(tier_id=clients_service.ANY_TIER)
    assert len(clients_service.search_client_page(services, "", filters=members).rows) == 3
    course = ClientFilter(package_id="microneedling-6")
    assert _names(clients_service.search_client_page(services, "", filters=course)) == ["Grace Hopper"]
    both = ClientFilter(tier_id=GOLD.id, package_id=clients_service.ANY_PACKAGE)
    assert clients_service.search_client_page(services, "", filters=both).rows == ()
    assert clients_service.count_client_matches(services, "", filters=gold) == 2
    filters = clients_service.client_filters(services)
    assert [t.name for t in filters.tiers] == ["Silver", "Gold"]
    assert [p.name for p in filters.packages] == ["Botox starter", "Microneedling course of 6"]


def test_pages_follow_each_other_across_sections_without_gaps_or_repeats(services: Services) -> None:
    for n in range(7):
        _add(services, "Sally", f"Baker{n}")  # first name starts "sa"
        _add(services, "Tom", f"Sanders{n}")  # surname starts "sa"
    _add(services, "Olivia", "Stone", email="sa.olivia@example.com")  # only the email starts "sa"
    whole = clients_service.search_client_page(services, "sa", limit=100)
    assert len(whole.rows) == 15 and whole.next is None
    assert [c.last_name for c in whole.rows][:7] == [f"Sanders{n}" for n in range(7)]  # surnames first
    assert whole.rows[-1].last_name == "Stone"
    paged, after = [], None
    while True:
        page = clients_service.search_client_page(services, "sa", after=after, limit=4)
        paged += page.rows
        if page.next is None:
            break
        after = page.next
    assert [c.id for c in paged] == [c.id for c in whole.rows]
    assert clients_service.count_client_matches(services, "sa") == 15
    assert clients_service.count_client_matches(services, "sa", up_to=10) == 10  # the screen says "more than"
