"""The packages of DESIGN.md §3 as domain values, shared by the package and step-delay tests."""

from __future__ import annotations

from aestheticc_pos.domain.catalogue import Package, PackageStep
from aestheticc_pos.domain.money import Money

BOTOX_STARTER = Package(
    id="pkg-botox",
    name="Botox starter",
    price=Money(30_000),
    validity_days=180,
    steps=(
        PackageStep(1, "tr-consult", "Consultation"),
        PackageStep(2, "tr-botox", "Treatment", sessions=1, min_days_after_previous=2),
        PackageStep(3, "tr-review", "Review", sessions=1, min_days_after_previous=14),
    ),
)
MICRONEEDLING = Package(
    id="pkg-micro",
    name="Microneedling course",
    price=Money(60_000),
    validity_days=365,
    steps=(PackageStep(1, "tr-micro", "Microneedling", sessions=6, min_days_between_sessions=28),),
)
