"""What a client can use at checkout: package sessions and a member discount (the input of ``quote``).

Services build these from the database (client packages, membership) and hand them to the pricing engine,
so pricing never needs to know how packages or memberships are stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aestheticc_pos.domain.catalogue import ItemKind, discount_covers


@dataclass(frozen=True, slots=True)
class PackageCredit:
    """One package session the client may use for ``treatment_id``.

    When ``appointment_id`` is set, the session is already reserved for that appointment (it does not count
    in ``remaining``); otherwise it is a free session of a step with ``remaining`` > 0.
    ``session_number`` is the number this session would have within its step ("session 3 of 6").
    """

    client_package_id: str
    package_name: str
    treatment_id: str
    step_position: int
    session_number: int
    step_sessions: int
    remaining: int
    expires_on: dt.date
    appointment_id: str | None = None

    @property
    def reason(self) -> str:
        return f"Package: {self.package_name}, session {self.session_number} of {self.step_sessions}"


@dataclass(frozen=True, slots=True)
class MemberDiscount:
    """A membership discount in force on the day priced (the membership rules decided it applies)."""

    membership_id: str
    tier_name: str
    discount_bp: int
    covers_treatments: bool = True
    covers_products: bool = False
    covers_packages: bool = False

    def covers(self, kind: ItemKind) -> bool:
        return discount_covers(kind, self.covers_treatments, self.covers_products, self.covers_packages)

    @property
    def reason(self) -> str:
        whole, part = divmod(self.discount_bp, 100)
        pct = f"{whole}" if part == 0 else f"{whole}.{part:02d}".rstrip("0")
        return f"{self.tier_name} member {pct}%"


@dataclass(frozen=True, slots=True)
class Benefits:
    """Everything that can lower a client's prices on one day."""

    package_credits: tuple[PackageCredit, ...] = ()
    member_discount: MemberDiscount | None = None


NO_BENEFITS = Benefits()
