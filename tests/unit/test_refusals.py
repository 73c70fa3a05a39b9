"""Refusals are collected field by field, so a form can say everything that is wrong at once."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain.catalogue import check_validity_days
from aestheticc_pos.domain.clients import validate_client_fields
from aestheticc_pos.domain.errors import InvalidInput, InvalidInputs, Refusals


def test_every_wrong_client_field_is_refused_in_the_forms_order() -> None:
    with pytest.raises(InvalidInputs) as refused:
        validate_client_fields(
            first_name=" ",
            last_name="Osei",
            phone="0770",
            email="amara.example.com",
            date_of_birth=dt.date(2030, 1, 1),
            today=dt.date(2026, 11, 24),
        )
    assert [r.field for r in refused.value.refusals] == ["first_name", "phone", "email", "date_of_birth"]
    assert (
        refused.value.field == "first_name" and str(refused.value) == "Please type the client's first name."
    )


def test_a_single_refusal_stays_a_plain_invalid_input() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_client_fields(first_name="Amara", last_name="Osei", email="nope")
    assert type(refused.value) is InvalidInput and refused.value.field == "email"


def test_refusals_keep_what_passed_and_name_the_field_asked() -> None:
    refusals = Refusals()
    assert refusals.check("days", lambda: check_validity_days(30)) == 30
    assert refusals.check("days", lambda: check_validity_days(0)) is None
    with pytest.raises(InvalidInput) as refused:
        refusals.raise_any()
    assert refused.value.field == "days" and "at least 1 day" in str(refused.value)


def test_nothing_refused_raises_nothing() -> None:
    refusals = Refusals()
    assert refusals.check("days", lambda: check_validity_days(365)) == 365
    refusals.raise_any()
    assert refusals.found == []
