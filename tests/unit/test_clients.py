"""Client details, search classification and erasure (DESIGN.md §6, §7)."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain.clients import (
    ClientFields,
    SearchKind,
    anonymise,
    new_client,
    normalise_phone,
    search_terms,
    update_client,
    validate_client_fields,
)
from aestheticc_pos.domain.errors import InvalidInput

TODAY = dt.date(2026, 11, 24)


def fields(**changes: object) -> ClientFields:
    typed: dict[str, object] = {"first_name": "Jane", "last_name": "Doe", "today": TODAY} | changes
    return validate_client_fields(**typed)  # type: ignore[arg-type]


def test_details_are_trimmed_and_normalised() -> None:
    f = fields(
        first_name="  Mary  Ann ",
        last_name=" O'Brien",
        email=" Mary.OBrien@Example.CO.UK ",
        phone="07700 900123",
        notes="  Allergic to lidocaine ",
        date_of_birth=dt.date(1990, 5, 17),
    )
    assert (f.first_name, f.last_name) == ("Mary Ann", "O'Brien")
    assert f.email == "Mary.OBrien@example.co.uk"
    assert f.phone == "07700900123"
    assert f.notes == "Allergic to lidocaine"


@pytest.mark.parametrize(
    "typed", ["07700 900123", "+44 7700 900123", "+44 (0)7700 900123", "0044 7700-900123", "(07700) 900.123"]
)
def test_uk_numbers_are_kept_as_the_same_digits(typed: str) -> None:
    assert normalise_phone(typed) == "07700900123"


def test_numbers_abroad_keep_their_country_code() -> None:
    assert normalise_phone("+33 6 12 34 56 78") == "+33612345678"
    assert normalise_phone("0033 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": "  "}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"first_name": "x" * 81}, "first_name"),
        ({"email": "jane.example.com"}, "email"),
        ({"email": "jane@localhost"}, "email"),
        ({"email": "jane doe@example.com"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "0770090012a"}, "phone"),
        ({"phone": "0+7700900123"}, "phone"),
        ({"date_of_birth": TODAY + dt.timedelta(days=1)}, "date_of_birth"),
        ({"date_of_birth": dt.date(1890, 1, 1)}, "date_of_birth"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_details_name_their_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        fields(**changes)
    assert refused.value.field == field
    assert str(refused.value).endswith(".")


def test_empty_optional_details_become_none() -> None:
    f = fields(email="  ", phone="")
    assert (f.email, f.phone) == (None, None)


def test_new_and_updated_client() -> None:
    client = new_client("c-1", fields(phone="+44 7700 900123"))
    assert (client.id, client.full_name, client.phone) == ("c-1", "Jane Doe", "07700900123")
    moved = update_client(client, fields(last_name="Smith", marketing_consent=True))
    assert (moved.id, moved.last_name, moved.phone, moved.marketing_consent) == ("c-1", "Smith", None, True)


def test_anonymise_keeps_only_the_id() -> None:
    client = new_client("c-1", fields(email="jane@example.com", phone="07700900123", notes="Pregnant"))
    erased = anonymise(client)
    assert erased.id == "c-1"
    assert (erased.email, erased.phone, erased.date_of_birth, erased.notes) == (None, None, None, "")
    assert "Jane" not in erased.full_name and "Doe" not in erased.full_name
    assert not erased.marketing_consent


# --- Search ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["07700 900123", "+44 7700 900123", "0044 7700 900 123"])
def test_phone_searches_as_the_same_digits(typed: str) -> None:
    query = search_terms(typed)
    assert (query.kind, query.phone) == (SearchKind.PHONE, "07700900123")


def test_a_partial_number_searches_as_a_prefix() -> None:
    assert search_terms("+44 77").phone == "077"
    assert search_terms("0770").phone == "0770"


def test_email_search() -> None:
    query = search_terms(" Jane@Ex ")
    assert (query.kind, query.email) == (SearchKind.EMAIL, "jane@ex")


def test_name_search_words() -> None:
    query = search_terms("  Doe,  JANE ")
    assert (query.kind, query.words) == (SearchKind.NAME, ("doe", "jane"))


def test_empty_search() -> None:
    assert search_terms("   ").kind is SearchKind.EMPTY


def test_two_digits_are_not_yet_a_phone_number() -> None:
    assert search_terms("07").kind is SearchKind.NAME
