"""Domain errors: every one carries a sentence a receptionist can read.

Services let these through unchanged; the UI shows ``str(error)``. Anything else that escapes a service is a bug.
"""

from __future__ import annotations

import datetime as dt


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
