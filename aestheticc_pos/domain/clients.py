"""Clients: their details, how staff search for them, and erasure on request (DESIGN.md §6, §7).

Client data is health data. Phone numbers are kept as digits ("07700900123") so that however a receptionist
types one ("07700 900123", "+44 7700 900123", "0044 (0)7700-900123") it finds the same client; the UI formats
them for display.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import asdict, dataclass, replace

from aestheticc_pos.domain.errors import InvalidInput, Refusals

MAX_NAME_LENGTH = 80
MAX_NOTES_LENGTH = 5000
MAX_AGE_YEARS = 120
ERASED_NAME = "Erased"

_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\+?[0-9]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True, slots=True)
class ClientFields:
    """A client's details as typed, checked and normalised by ``validate_client_fields``."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: dt.date | None = None
    notes: str = ""
    marketing_consent: bool = False


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None  # digits only: "07700900123", or "+33612345678" for a number abroad
    date_of_birth: dt.date | None = None
    notes: str = ""
    marketing_consent: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def validate_client_fields(
    *,
    first_name: str,
    last_name: str,
    email: str | None = None,
    phone: str | None = None,
    date_of_birth: dt.date | None = None,
    notes: str = "",
    marketing_consent: bool = False,
    today: dt.date | None = None,
) -> ClientFields:
    """Check and normalise a client's details. Every field that is wrong is refused at once, in the order of
    the form (``InvalidInputs``; a single one is a plain ``InvalidInput`` naming its field).

    ``today`` (the clinic's date) enables the date-of-birth checks.
    """
    refusals = Refusals()
    first = refusals.check("first_name", lambda: _name(first_name, "first name"))
    last = refusals.check("last_name", lambda: _name(last_name, "last name"))
    phone_ = refusals.check("phone", lambda: normalise_phone(phone))
    email_ = refusals.check("email", lambda: normalise_email(email))
    born = refusals.check("date_of_birth", lambda: _date_of_birth(date_of_birth, today))
    notes_ = refusals.check("notes", lambda: _notes(notes))
    refusals.raise_any()
    return ClientFields(
        first_name=first or "",
        last_name=last or "",
        email=email_,
        phone=phone_,
        date_of_birth=born,
        notes=notes_ or "",
        marketing_consent=bool(marketing_consent),
    )


def new_client(client_id: str, fields: ClientFields) -> Client:
    return Client(id=client_id, **asdict(fields))


def update_client(client: Client, fields: ClientFields) -> Client:
    return replace(client, **asdict(fields))


def anonymise(client: Client) -> Client:
    """Erase everything that identifies the client; the id stays so sales and ledgers still add up."""
    return Client(id=client.id, first_name=ERASED_NAME, last_name="client")


def normalise_email(text: str | None) -> str | None:
    """A trimmed email address with its domain in lower case, or None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise InvalidInput(f"“{text}” does not look like an email address.", field="email")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_phone(text: str | None) -> str | None:
    """A phone number as digits: UK numbers from 0 ("07700900123"), others with their + code; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    digits = phone_digits(text)
    uk = digits.startswith("0") and not digits.startswith("00")
    if not _DIGITS.fullmatch(digits) or not (
        (uk and 10 <= len(digits) <= 11) or (digits.startswith("+") and 8 <= len(digits) <= 16)
    ):
        raise InvalidInput(f"“{text}” does not look like a phone number.", field="phone")
    return digits


def phone_digits(text: str) -> str:
    """The searchable form of a (possibly partial) number: spaces and punctuation gone, +44 / 0044 → 0."""
    digits = _PHONE_PUNCTUATION.sub("", text.replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    return digits


# --- Search ----------------------------------------------------------------------------------------------------


class SearchKind(enum.StrEnum):
    EMPTY = "empty"
    PHONE = "phone"
    EMAIL = "email"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a receptionist typed in the client search, classified for the repository.

    PHONE: ``phone`` is a digits prefix to match. EMAIL: ``email`` is a lower-case fragment to match.
    NAME: every word in ``words`` (casefolded) must start a first or last name.
    """

    kind: SearchKind
    phone: str = ""
    email: str = ""
    words: tuple[str, ...] = ()


def search_terms(text: str) -> SearchQuery:
    """Classify search-as-you-type text: a phone number, an email address or name words."""
    text = (text or "").strip()
    if not text:
        return SearchQuery(SearchKind.EMPTY)
    if "@" in text:
        return SearchQuery(SearchKind.EMAIL, email=text.lower())
    digits = phone_digits(text)
    if _DIGITS.fullmatch(digits) and len(digits.lstrip("+")) >= 3:
        return SearchQuery(SearchKind.PHONE, phone=digits)
    words = tuple(word.casefold() for word in text.replace(",", " ").split())
    return SearchQuery(SearchKind.NAME, words=words)


# --- Helpers ---------------------------------------------------------------------------------------------------


def _name(text: str, what: str) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise InvalidInput(f"Please type the client's {what}.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"The {what} is too long ({MAX_NAME_LENGTH} characters at most).")
    return name


def _notes(text: str) -> str:
    notes = (text or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        raise InvalidInput(f"Notes are limited to {MAX_NOTES_LENGTH} characters.")
    return notes


def _date_of_birth(day: dt.date | None, today: dt.date | None) -> dt.date | None:
    if day is None or today is None:
        return day
    if day > today:
        raise InvalidInput("A date of birth cannot be in the future.", field="date_of_birth")
    if today.year - day.year > MAX_AGE_YEARS:
        raise InvalidInput(
            "That date of birth is more than 120 years ago. Check the year.", field="date_of_birth"
        )
    return day
