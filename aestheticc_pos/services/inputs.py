"""Reading what staff typed into the values the domain takes, with a sentence for anything wrong."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import TypeVar

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money, parse_percent

E = TypeVar("E", bound=enum.Enum)
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def money(value: str | int | Decimal | Money, *, what: str = "The price", currency: str = "GBP") -> Money:
    """A typed amount ("12.50", "£1,200") or a Money, as Money; negative amounts are refused."""
    if isinstance(value, Money):
        if value.is_negative:
            raise InvalidInput(f"{what} cannot be negative.")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise InvalidInput(f"{what} must be typed in pounds, like 12.50.")
    try:
        return Money.parse(value, currency)
    except InvalidInput as error:
        raise InvalidInput(f"{what}: {error}") from None


def whole_number(value: str | int, *, what: str, minimum: int = 0, maximum: int = 100_000) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a whole number.")
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number (you typed “{value}”).") from None
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{what} must be between {minimum} and {maximum}.")
    return number


def percent(value: str | int, *, what: str) -> int:
    """Basis points from "20", "12.5%" or an int number of basis points."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _bp(value, what)
    return parse_percent(str(value), what=what)


def _bp(value: int, what: str) -> int:
    if not 0 <= value <= 10_000:
        raise InvalidInput(f"{what} must be between 0% and 100%.")
    return value


def date(value: str | dt.date, *, what: str = "The date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d %b %Y", "%d %B %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{what}: “{value}” is not a date (type it like 24/11/2026).")


def calendar_day(value: str | dt.date, *, what: str = "The date") -> dt.date:
    """A date the clinic can work with: from 1900 to 2199 (a day far outside is a typing mistake, and the end of
    the calendar cannot be turned into a range of times)."""
    day = date(value, what=what)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{what} must be between {FIRST_DAY.year} and {LAST_DAY.year}.")
    return day


def choice(kind: type[E], value: object, *, what: str) -> E:
    """``value`` (a member of ``kind`` or its value) as a member of ``kind``; a sentence for anything else."""
    try:
        return kind(getattr(value, "value", value))
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"“{value}” is not {what} ({allowed}).") from None


def text(value: str | None, *, what: str, required: bool = True, max_length: int = 200) -> str:
    """Typed text, trimmed. Refused: empty when ``required``, longer than ``max_length``, or holding a control
    character (a NUL cannot be stored, and nothing staff type contains one)."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise InvalidInput(f"{what} is needed.")
    if len(cleaned) > max_length:
        raise InvalidInput(f"{what} is too long ({max_length} characters at most).")
    if any(ord(c) < 32 and c not in "\n\t" for c in cleaned):
        raise InvalidInput(f"{what} contains a character that cannot be typed. Type it again.")
    return cleaned


def how_many(value: int, *, maximum: int = 10_000) -> int:
    """How many rows a list may show: a whole number from 1 to ``maximum`` (a screen asks for a page of them)."""
    return whole_number(value, what="How many to show", minimum=1, maximum=maximum)


def offset(value: int, *, maximum: int = 10_000_000) -> int:
    """How many rows a list skips (its page): 0 or more, and not beyond what any clinic could hold."""
    return whole_number(value, what="Where the list starts", minimum=0, maximum=maximum)
