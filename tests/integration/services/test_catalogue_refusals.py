"""The catalogue's refusals all at once (a form shows each under its field), a package valid for 0 days
refused, and lists in name order whatever the case of the names."""

from __future__ import annotations

import pytest

from aestheticc_pos.domain.errors import InvalidInput, InvalidInputs
from aestheticc_pos.services import catalogue


def test_a_package_wrong_everywhere_is_refused_for_every_field_at_once(services, manager) -> None:
    with pytest.raises(InvalidInputs) as refused:
        catalogue.add_package(
            services,
            staff_id=manager,
            name="  ",
            price="abc",
            validity_days=0,
            steps=[],
        )
    assert [(r.field, str(r)) for r in refused.value.refusals] == [
        ("name", "A package needs a name."),
        ("price", "The price: “abc” is not an amount of money. Type it like 12.50."),
        (
            "validity_days",
            "A package must be valid for at least 1 day (you typed 0): type how many days it lasts from the "
            "day the client buys it.",
        ),
        ("steps", "A package needs at least one treatment step."),
    ]
    assert catalogue.list_packages(services) == []


def test_one_refusal_is_a_plain_sentence_under_its_field(services, manager) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_treatment(services, staff_id=manager, name="Peel", price="abc", duration_minutes=30)
    assert not isinstance(refused.value, InvalidInputs)
    assert refused.value.field == "price"


def test_a_package_valid_for_0_days_is_refused(services, manager) -> None:
    peel = catalogue.add_treatment(services, staff_id=manager, name="Peel", price="90", duration_minutes=30)
    with pytest.raises(InvalidInput, match=r"at least 1 day \(you typed 0\)") as refused:
        catalogue.add_package(
            services, staff_id=manager, name="Peels", price="240", validity_days="0", steps=[(peel.id, 3)]
        )
    assert refused.value.field == "validity_days"


def test_the_catalogue_lists_names_in_order_ignoring_case(services, manager) -> None:
    for name in ("microneedling", "Botox", "hydraFacial", "Anti-wrinkle"):
        catalogue.add_treatment(services, staff_id=manager, name=name, price="100", duration_minutes=30)
    assert [t.name for t in catalogue.list_treatments(services)] == [
        "Anti-wrinkle",
        "Botox",
        "hydraFacial",
        "microneedling",
    ]
