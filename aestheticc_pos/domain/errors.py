"""Domain errors: every one carries a sentence a receptionist can read.

Services let these through unchanged; the UI shows ``str(error)``. Anything else that escapes a service is a bug.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A request the clinic's rules refuse. ``str(error)`` is a sentence for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """Something typed or passed in is not acceptable (an amount of "abc", a negative count, an empty name)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidInputs(InvalidInput):
    """Several things typed are not acceptable: every refusal, in the order the fields were checked, so a form
    can show them all at once. ``field`` and ``str()`` are the first's, for callers that show one sentence."""

    def __init__(self, refusals: Sequence[InvalidInput]) -> None:
        super().__init__(str(refusals[0]), field=refusals[0].field)
        self.refusals = tuple(refusals)


class Refusals:
    """Checks field after field and keeps every ``InvalidInput`` instead of stopping at the first.

    refusals = Refusals()
    price = refusals.check("price", lambda: parse(price_text))   # None when refused
    name = refusals.check("name", lambda: require_name(name_text))
    refusals.raise_any()                                          # InvalidInput, or InvalidInputs
    """

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def check(self, field: str | None, check: Callable[[], T]) -> T | None:
        """What ``check`` returns; None when it refuses (the refusal is kept, named after ``field`` if given)."""
        try:
            return check()
        except InvalidInputs as several:
            self.found.extend(several.refusals)
        except InvalidInput as error:
            self.found.append(InvalidInput(str(error), field=field) if field else error)
        return None

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise InvalidInputs(self.found)


class NotFound(DomainError):
    """An id that names nothing the clinic has (or no longer has)."""


class RuleViolation(DomainError):
    """A business rule refuses the request (no sessions left, package expired, membership not active…)."""


class NoSessionsRemaining(RuleViolation):
    """The package step has no session left to reserve or redeem."""


class PackageExpired(RuleViolation):
    """The package's validity ended before the date asked for."""


class BookingRefused(RuleViolation):
    """A booking breaks a step-delay or between-sessions rule.

    ``earliest`` is the first date the rule allows (None when no date would do, e.g. after expiry), and
    ``reason`` says why, in the clinic's words.
    """

    def __init__(self, message: str, earliest: dt.date | None, reason: str) -> None:
        super().__init__(message)
        self.earliest = earliest
        self.reason = reason


class NotPermitted(DomainError):
    """The signed-in staff member's role may not do this (refunds, overrides and settings need a manager)."""


class ConcurrencyConflict(DomainError):
    """Another till changed the same record first; the action was not applied and can be tried again."""
