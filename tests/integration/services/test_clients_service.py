from __future__ import annotations

import pytest
from staffing import front_desk

from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted
from aestheticc_pos.services import clients as clients_service


def test_add_then_find_by_name_phone_and_email(services) -> None:
    ada = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="07700 900123",
    )
    clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Grace",
        last_name="Hopper",
        phone="+44 7700 900999",
    )

    assert [c.id for c in clients_service.search_clients(services, "ada")] == [ada.id]
    assert [c.id for c in clients_service.search_clients(services, "Lovel")] == [ada.id]
    assert [c.id for c in clients_service.search_clients(services, "lovelace ada")] == [ada.id]
    assert [c.id for c in clients_service.search_clients(services, "a lov")] == [ada.id]
    assert [c.full_name for c in clients_service.search_clients(services, "07700 900")] == [
        "Grace Hopper",  # surname order
        "Ada Lovelace",
    ]
    assert [c.id for c in clients_service.search_clients(services, "+44 7700 900123")] == [ada.id]
    assert [c.id for c in clients_service.search_clients(services, "ada@ex")] == [ada.id]
    assert clients_service.search_clients(services, "zzz") == []
    assert len(clients_service.search_clients(services, "")) == 2


def test_search_pages_and_ids_follow_surname_order(services) -> None:
    for last in ["Young", "Adams", "Mills", "Baker"]:
        clients_service.add_client(services, staff_id=front_desk(services), first_name="Sam", last_name=last)
    ids = clients_service.search_client_ids(services, "sam")
    rows = clients_service.client_summaries(services, ids)
    assert [rows[i].last_name for i in ids] == ["Adams", "Baker", "Mills", "Young"]
    page = clients_service.search_clients(services, "sam", offset=1, limit=2)
    assert [c.last_name for c in page] == ["Baker", "Mills"]


def test_bad_input_is_a_sentence_and_nothing_is_saved(services) -> None:
    with pytest.raises(InvalidInput) as error:
        clients_service.add_client(
            services, staff_id=front_desk(services), first_name=" ", last_name="Nobody"
        )
    assert "first name" in str(error.value)
    assert clients_service.count_clients(services) == 0


def test_edit_keeps_untouched_fields(services) -> None:
    ada = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    edited = clients_service.edit_client(
        services, ada.id, staff_id=front_desk(services), phone="07700 900123"
    )
    assert edited.email == "ada@example.com"
    assert clients_service.get_client(services, ada.id).phone == "07700900123"
    with pytest.raises(NotFound):
        clients_service.edit_client(services, "no-such-client", staff_id=front_desk(services), phone="1")


def test_erase_needs_a_manager_and_removes_the_client_from_search(services, manager, receptionist) -> None:
    ada = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    with pytest.raises(NotPermitted):
        clients_service.erase_client(services, ada.id, staff_id=receptionist, reason="asked")
    exported = clients_service.export_client(services, ada.id, staff_id=manager)
    assert exported["client"]["email"] == "ada@example.com"
    clients_service.erase_client(services, ada.id, staff_id=manager, reason="Client asked to be forgotten")
    assert clients_service.search_clients(services, "ada") == []
    with pytest.raises(NotFound):
        clients_service.get_client(services, ada.id)


def test_an_email_typed_without_its_at_sign_still_finds_the_client(services) -> None:
    grace = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Grace",
        last_name="Hopper",
        email="g.hopper@navy.example",
    )
    clients_service.add_client(services, staff_id=front_desk(services), first_name="Gina", last_name="Hart")
    assert [c.id for c in clients_service.search_clients(services, "g.hop")] == [grace.id]
    assert [c.last_name for c in clients_service.search_clients(services, "g")] == ["Hart", "Hopper"]
