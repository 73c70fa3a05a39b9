"""What staff and checkout see of client packages: which package pays for a treatment, what a practitioner sees
before treating, and the sessions checkout may use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aestheticc_pos.domain.benefits import PackageCredit
from aestheticc_pos.domain.catalogue import PackageStep
from aestheticc_pos.domain.packages.model import (
    ClientPackage,
    ClientPackageStatus,
    StepBalance,
    book_balance,
    book_sessions,
    replay,
)
from aestheticc_pos.domain.packages.steps import earliest_booking_date

EXPIRING_SOON_DAYS = 30


def step_for_treatment(cp: ClientPackage, treatment_id: str, today: dt.date) -> int | None:
    """The step of ``cp`` that a session of ``treatment_id`` uses today: the first matching step with sessions left."""
    if cp.status is not ClientPackageStatus.ACTIVE or cp.is_expired_on(today):
        return None
    book = replay(cp)
    for step in cp.steps:
        if step.treatment_id == treatment_id and book_balance(cp, book, step.position).remaining > 0:
            return step.position
    return None


def choose_package(
    client_packages: list[ClientPackage] | tuple[ClientPackage, ...], treatment_id: str, on: dt.date
) -> ClientPackage | None:
    """The package that pays for ``treatment_id`` on ``on``: the usable one that expires first.

    Ties go to the earliest purchased, then the smallest id, so every till chooses the same package.
    """
    usable = [cp for cp in client_packages if step_for_treatment(cp, treatment_id, on) is not None]
    return min(usable, key=lambda cp: (cp.expires_on, cp.purchased_on, cp.id), default=None)


@dataclass(frozen=True, slots=True)
class StepSummary:
    position: int
    treatment_id: str
    name: str
    total: int
    used: int
    booked: int
    remaining: int
    next_booking_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """What a practitioner or receptionist sees of a client package on ``today``."""

    client_package_id: str
    name: str
    status: ClientPackageStatus
    purchased_on: dt.date
    expires_on: dt.date
    days_to_expiry: int  # negative once expired
    expiring_soon: bool  # active and expiring within EXPIRING_SOON_DAYS
    expired: bool
    steps: tuple[StepSummary, ...]

    @property
    def remaining(self) -> int:
        return sum(step.remaining for step in self.steps)


def package_summary(cp: ClientPackage, today: dt.date) -> PackageSummary:
    book = replay(cp)
    steps = []
    for step in cp.steps:
        balance = book_balance(cp, book, step.position)
        steps.append(
            StepSummary(
                position=step.position,
                treatment_id=step.treatment_id,
                name=step.name,
                total=balance.total,
                used=balance.redeemed,
                booked=balance.reserved,
                remaining=balance.remaining,
                next_booking_on=earliest_booking_date(cp, step.position, today),
            )
        )
    days = (cp.expires_on - today).days
    expired = days < 0
    active = cp.status is ClientPackageStatus.ACTIVE
    return PackageSummary(
        client_package_id=cp.id,
        name=cp.name,
        status=cp.status,
        purchased_on=cp.purchased_on,
        expires_on=cp.expires_on,
        days_to_expiry=days,
        expiring_soon=active and not expired and days <= EXPIRING_SOON_DAYS,
        expired=expired,
        steps=tuple(steps),
    )


def package_credits(
    client_packages: list[ClientPackage] | tuple[ClientPackage, ...], on: dt.date
) -> tuple[PackageCredit, ...]:
    """The package sessions checkout may use on ``on`` (the ``Benefits.package_credits`` of ``quote``).

    Per active, unexpired package: one credit per open reservation (carrying its appointment id and its number
    among the step's sessions by date), and one free credit per step with sessions remaining (numbered
    redeemed + 1).
    """
    credits: list[PackageCredit] = []
    for cp in client_packages:
        if cp.status is not ClientPackageStatus.ACTIVE or cp.is_expired_on(on):
            continue
        book = replay(cp)
        for step in cp.steps:
            balance = book_balance(cp, book, step.position)
            for number, session in enumerate(book_sessions(book, step.position), start=1):
                if not session.redeemed and session.session_on <= cp.expires_on:
                    credits.append(_credit(cp, step, balance, number, session.appointment_id))
            if balance.remaining > 0:
                credits.append(_credit(cp, step, balance, balance.redeemed + 1, None))
    return tuple(credits)


def _credit(
    cp: ClientPackage, step: PackageStep, balance: StepBalance, number: int, appointment_id: str | None
) -> PackageCredit:
    return PackageCredit(
        client_package_id=cp.id,
        package_name=cp.name,
        treatment_id=step.treatment_id,
        step_position=step.position,
        session_number=number,
        step_sessions=balance.total,
        remaining=balance.remaining,
        expires_on=cp.expires_on,
        appointment_id=appointment_id,
    )
