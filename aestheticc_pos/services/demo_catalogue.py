"""What the demo clinic sells and who its clients are called: a treatment menu, products, packages, membership
tiers, and the names demo clients are given (``demo.py`` fills a clinic with them; ``bench/`` reuses the names)."""

from __future__ import annotations

from aestheticc_pos.domain.catalogue import (
    BenefitsStart,
    DepositKind,
    DepositRule,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.money import Money

GBP = Money.parse

FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Willow",
    "Evie",
    "Florence",
    "Poppy",
    "Ella",
    "Emily",
    "Charlotte",
    "Sienna",
    "Elsie",
    "Daisy",
    "Harper",
    "Aria",
    "Alice",
    "Phoebe",
    "Matilda",
    "Esme",
    "Ruby",
    "Millie",
    "Holly",
    "Layla",
    "Jessica",
    "Chloe",
    "Hannah",
    "Zara",
    "Priya",
    "Aisha",
    "Fatima",
    "Mei",
    "Leila",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "James",
    "Samir",
    "Tom",
    "Daniel",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Turner",
    "Hill",
    "Moore",
    "Clark",
    "Harrison",
    "Scott",
    "Young",
    "Morris",
    "Lewis",
    "Ahmed",
    "Cooper",
    "King",
    "Lee",
    "Martin",
    "Baker",
    "Ward",
    "Shaw",
    "Begum",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Chen",
    "Nguyen",
    "Singh",
]


def demo_catalogue() -> tuple[list[Treatment], list[Product], list[Package], list[Tier]]:
    def deposit(kind: str, value: str) -> DepositRule:
        if kind == "fixed":
            return DepositRule(DepositKind.FIXED, amount=GBP(value))
        if kind == "percent":
            return DepositRule(DepositKind.PERCENT, percent_bp=int(value) * 100)
        return DepositRule()

    menu = [
        ("tr-consult", "Botox consultation", "50.00", 30, 2000, ("fixed", "25.00")),
        ("tr-botox", "Botox treatment (up to 3 areas)", "250.00", 30, 2000, ("percent", "20")),
        ("tr-review", "Botox review", "0.00", 15, 2000, ("none", "")),
        ("tr-micro", "Microneedling", "200.00", 60, 2000, ("fixed", "50.00")),
        ("tr-filler-lips", "Lip filler (1 ml)", "280.00", 45, 2000, ("percent", "25")),
        ("tr-filler-cheek", "Cheek filler (2 ml)", "450.00", 60, 2000, ("percent", "25")),
        ("tr-peel-light", "Light chemical peel", "95.00", 45, 2000, ("none", "")),
        ("tr-peel-medium", "Medium chemical peel", "160.00", 60, 2000, ("fixed", "40.00")),
        ("tr-hydrafacial", "HydraFacial", "150.00", 60, 2000, ("none", "")),
        ("tr-laser-hair", "Laser hair removal (small area)", "80.00", 30, 2000, ("none", "")),
        ("tr-laser-hair-l", "Laser hair removal (large area)", "180.00", 60, 2000, ("fixed", "30.00")),
        ("tr-ipl", "IPL photofacial", "220.00", 45, 2000, ("percent", "20")),
        ("tr-prp", "PRP skin rejuvenation", "350.00", 60, 2000, ("percent", "20")),
        ("tr-skinbooster", "Skin booster", "240.00", 45, 2000, ("percent", "20")),
        ("tr-mole", "Mole removal (medical)", "150.00", 30, 0, ("fixed", "50.00")),
        ("tr-sclero", "Sclerotherapy (medical)", "220.00", 45, 0, ("fixed", "50.00")),
        ("tr-consult-skin", "Skin consultation", "40.00", 30, 2000, ("none", "")),
        ("tr-dermaplane", "Dermaplaning", "65.00", 30, 2000, ("none", "")),
        ("tr-led", "LED light therapy", "45.00", 30, 2000, ("none", "")),
        ("tr-profhilo", "Profhilo (2 sessions)", "550.00", 45, 2000, ("percent", "20")),
    ]
    treatments = [
        Treatment(id=i, name=n, price=GBP(p), duration_minutes=d, vat_rate_bp=v, deposit_rule=deposit(*r))
        for i, n, p, d, v, r in menu
    ]
    products = [
        Product(id="pr-spf", name="SPF 50 daily sunscreen", price=GBP("32.00")),
        Product(id="pr-serum", name="Vitamin C serum", price=GBP("45.00")),
        Product(id="pr-retinol", name="Retinol night cream", price=GBP("58.00")),
        Product(id="pr-aftercare", name="Post-treatment aftercare balm", price=GBP("18.50")),
    ]
    packages = [
        Package(
            id="pk-botox-starter",
            name="Botox starter",
            price=GBP("280.00"),
            validity_days=120,
            description="Consultation, treatment at least 2 days later, and a review at least 14 days after that.",
            steps=(
                PackageStep(1, "tr-consult", "Consultation", sessions=1),
                PackageStep(2, "tr-botox", "Treatment", sessions=1, min_days_after_previous=2),
                PackageStep(3, "tr-review", "Review", sessions=1, min_days_after_previous=14),
            ),
        ),
        Package(
            id="pk-micro-6",
            name="Microneedling course of 6",
            price=GBP("1000.00"),
            validity_days=365,
            description="Six microneedling sessions at least 28 days apart.",
            steps=(PackageStep(1, "tr-micro", "Microneedling", sessions=6, min_days_between_sessions=28),),
        ),
        Package(
            id="pk-laser-6",
            name="Laser hair removal course of 6",
            price=GBP("400.00"),
            validity_days=300,
            description="Six small-area sessions at least 28 days apart.",
            steps=(
                PackageStep(
                    1, "tr-laser-hair", "Laser hair removal", sessions=6, min_days_between_sessions=28
                ),
            ),
        ),
    ]
    tiers = [
        Tier(
            id="tier-silver",
            name="Silver",
            monthly_price=GBP("29.00"),
            discount_bp=1000,
            benefits_start=BenefitsStart.FIRST_PAYMENT,
        ),
        Tier(
            id="tier-gold",
            name="Gold",
            monthly_price=GBP("49.00"),
            discount_bp=2000,
            covers_products=True,
            benefits_start=BenefitsStart.FIRST_PAYMENT,
        ),
        Tier(
            id="tier-platinum",
            name="Platinum",
            monthly_price=GBP("89.00"),
            discount_bp=3000,
            covers_products=True,
            benefits_start=BenefitsStart.SIGN_UP,
        ),
    ]
    return treatments, products, packages, tiers
