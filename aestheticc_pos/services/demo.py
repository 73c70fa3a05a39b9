"""A demo clinic for an empty database: staff, a treatment menu, packages, membership tiers, and a few
hundred clients with two months of history made through the real services.

History is made honestly: a ``FixedClock`` walks from two months ago to now, and each day clients are
booked, treated and checked out through the same services the front desk uses, so every sale, ledger
entry and membership in the demo obeys the clinic's rules.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select, update

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.billing import PaymentSource, PaymentStatus
from aestheticc_pos.domain.catalogue import (
    ItemKind,
    Package,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import DomainError, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.checkout import complete_sale, quote_basket
from aestheticc_pos.services.context import ClinicSettings, Services, write_clinic_settings
from aestheticc_pos.services.demo_catalogue import FIRST_NAMES, LAST_NAMES, demo_catalogue
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import ClientRow, MembershipPaymentRow, StaffRow

DEMO_PIN = "1234"  # receptionists and practitioners
DEMO_MANAGER_PIN = "123456"  # a manager's PIN is at least 6 digits
HISTORY_DAYS = 60
GBP = Money.parse


@dataclass(frozen=True, slots=True)
class DemoSummary:
    clients: int
    sales: int
    appointments: int
    members: int
    packages_sold: int

    def __str__(self) -> str:
        return (
            f"Demo clinic ready: {self.clients} clients, {self.appointments} appointments, {self.sales} sales, "
            f"{self.packages_sold} packages sold, {self.members} members. "
            f"Staff PINs: {DEMO_MANAGER_PIN} for the manager, {DEMO_PIN} for everyone else."
        )


@use_case(Audience.TILL)
def fill_demo_clinic(
    services: Services, *, clients: int = 300, seed: int = 7, members: bool = True
) -> DemoSummary:
    """Fill an empty database with the demo clinic. Refuses a database that already has clients or staff.

    ``members=False`` leaves out the members with Direct Debits (training mode: its simulated GoCardless knows
    no mandates made up here, so trainees sign members up themselves)."""
    with services.uow(read_only=True) as uow:
        if uow.session.scalar(select(StaffRow.id).limit(1)) or uow.session.scalar(
            select(ClientRow.id).limit(1)
        ):
            raise RuleViolation(
                "This database already has a clinic in it. The demo only fills an empty database."
            )
    if not 10 <= clients <= 100_000:
        raise RuleViolation("The demo has between 10 and 100,000 clients.")
    rng = random.Random(seed)
    now = services.now()
    clock = FixedClock(now - dt.timedelta(days=HISTORY_DAYS))
    past = Services(uow=services.uow, clock=clock, new_id=services.new_id)
    with past.uow() as uow:
        write_clinic_settings(
            uow.session,
            ClinicSettings(
                name="Lumière Aesthetics",
                address="12 Milsom Street, Bath BA1 1DN",
                vat_number="GB 123 4567 89",
                phone="01225 000 123",
                email="hello@lumiere.example",
            ),
        )
        uow.commit()
    manager = staff_service.add_staff(
        past, name="Sophie Laurent", role=Role.MANAGER, pin=DEMO_MANAGER_PIN, by_staff_id=None
    )
    reception = staff_service.add_staff(
        past, name="Rita Evans", role=Role.RECEPTIONIST, pin=DEMO_PIN, by_staff_id=manager.id
    )
    practitioners = [
        staff_service.add_staff(past, name=name, role=Role.PRACTITIONER, pin=DEMO_PIN, by_staff_id=manager.id)
        for name in ("Dr Amira Shah", "Nurse Chloe Bennett", "Dr James Whitfield")
    ]
    treatments, products, packages, tiers = demo_catalogue()
    with past.uow() as uow:
        for t in treatments:
            catalogue_repo.save_treatment(uow.session, t)
        for p in products:
            catalogue_repo.save_product(uow.session, p)
        for k in packages:
            catalogue_repo.save_package(uow.session, k)
        for tier in tiers:
            catalogue_repo.save_tier(uow.session, tier)
        uow.commit()

    client_ids = [_add_client(past, rng, i, reception.id) for i in range(clients)]
    member_ids = _sign_up_members(past, rng, client_ids, tiers) if members else []
    history = _History(
        past, clock, rng, reception.id, [p.id for p in practitioners], treatments, products, packages
    )
    history.sell_packages(client_ids)
    for _ in range(HISTORY_DAYS):
        history.run_day(client_ids)
        _collect_due_payments(past, member_ids)
        clock.advance(days=1)
    clock.set(now)
    _collect_due_payments(past, member_ids)
    _a_few_payments_fail(past, rng, member_ids)
    history.book_ahead(client_ids, days=14)
    return DemoSummary(
        clients=clients,
        sales=history.sales,
        appointments=history.appointments,
        members=len(member_ids),
        packages_sold=history.packages_sold,
    )


def _add_client(services: Services, rng: random.Random, index: int, staff_id: str) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email_name = f"{first}.{last}".lower().replace("'", "")
    dob = dt.date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))
    client = clients_service.add_client(
        services,
        staff_id=staff_id,
        first_name=first,
        last_name=last,
        email=f"{email_name}{index}@example.com",
        phone=f"07700 9{index:05d}",
        date_of_birth=dob,
        marketing_consent=rng.random() < 0.6,
    )
    return client.id


def _sign_up_members(
    services: Services, rng: random.Random, client_ids: list[str], tiers: list[Tier]
) -> list[str]:
    """About a fifth of clients are members with an active Direct Debit (no GoCardless account in the demo:
    the states are set as the sync would have set them); ``_collect_due_payments`` keeps them paid."""
    today = services.today()
    ids = []
    with services.uow() as uow:
        for count, client_id in enumerate(rng.sample(client_ids, k=len(client_ids) // 5)):
            tier = rng.choices(tiers, weights=(5, 3, 1))[0]
            started = today - dt.timedelta(days=rng.randint(0, 300))
            m = membership_rules.sign_up(
                tier, membership_id=services.new_id(), client_id=client_id, on=started
            )
            m = membership_rules.mandate_set_up(m, f"MD-DEMO{count:05d}", customer_id=f"CU-DEMO{count:05d}")
            m = membership_rules.mandate_activated(m)
            m = membership_rules.subscription_created(m, f"SB-DEMO{count:05d}")
            repo.save_membership(uow.session, m)
            ids.append(m.id)
        uow.commit()
    _collect_due_payments(services, ids)
    return ids


def _collect_due_payments(services: Services, membership_ids: list[str]) -> None:
    """What GoCardless does each day: collect every monthly payment whose period has started, the first month
    included (a confirmed payment a period)."""
    today = services.today()
    with services.uow() as uow:
        for membership_id in membership_ids:
            m = repo.load_membership(uow.session, membership_id)
            if m.status is not membership_rules.MembershipStatus.ACTIVE and m.paid_through is not None:
                continue
            start, end = billing.next_period(m.started_on, m.paid_through)
            changed = False
            while start <= today:
                amount = (
                    billing.first_payment_amount(m.tier) if start == m.started_on else m.tier.monthly_price
                )
                uow.session.add(
                    MembershipPaymentRow(
                        membership_id=m.id,
                        amount_pence=amount.pence,
                        currency=amount.currency,
                        charge_date=start,
                        period_start=start,
                        period_end=end,
                        status=PaymentStatus.CONFIRMED,
                        source=PaymentSource.DIRECT_DEBIT,
                    )
                )
                m = membership_rules.payment_confirmed(m, end, start)
                start, end = billing.next_period(m.started_on, m.paid_through)
                changed = True
            if changed:
                repo.save_membership(uow.session, m)
        uow.commit()


def _a_few_payments_fail(services: Services, rng: random.Random, membership_ids: list[str]) -> None:
    """One member in twenty has a failed payment in the last fortnight (past due, some beyond the grace)."""
    today = services.today()
    with services.uow() as uow:
        for membership_id in membership_ids:
            if rng.random() >= 0.05:
                continue
            m = repo.load_membership(uow.session, membership_id)
            failed_on = today - dt.timedelta(days=rng.randint(1, 12))
            owed = billing.period_holding(m.started_on, failed_on)
            if owed.start == m.started_on:
                continue  # joined days ago: their first month was just collected
            # That month was collected, then the payment failed late: it is owed again.
            uow.session.execute(
                update(MembershipPaymentRow)
                .where(
                    MembershipPaymentRow.membership_id == m.id,
                    MembershipPaymentRow.period_start == owed.start,
                )
                .values(status=PaymentStatus.FAILED)
            )
            m = membership_rules.payment_charged_back(m, owed.start, failed_on)
            m = membership_rules.daily_review(
                membership_rules.payment_failed(m, failed_on, will_retry=False), today
            )
            repo.save_membership(uow.session, m)
        uow.commit()


class _History:
    def __init__(
        self,
        services: Services,
        clock: FixedClock,
        rng: random.Random,
        reception_id: str,
        practitioner_ids: list[str],
        treatments: list[Treatment],
        products: list[Product],
        packages: list[Package],
    ) -> None:
        self.services, self.clock, self.rng = services, clock, rng
        self.reception_id, self.practitioner_ids = reception_id, practitioner_ids
        self.treatments = [t for t in treatments if t.price.pence > 0]
        self.products, self.packages = products, packages
        self.sales = self.appointments = self.packages_sold = 0
        self.package_clients: dict[str, str] = {}  # client id -> package id bought

    def sell_packages(self, client_ids: list[str]) -> None:
        for client_id in self.rng.sample(client_ids, k=len(client_ids) // 6):
            package = self.rng.choice(self.packages)
            self._sale(client_id, [BasketItem(ItemKind.PACKAGE, package.id)], TenderKind.CARD)
            self.package_clients[client_id] = package.id
            self.packages_sold += 1

    def run_day(self, client_ids: list[str]) -> None:
        today = self.services.today()
        if today.weekday() == 6:  # closed on Sundays
            return
        for appointment in appointments_service.appointments_on(self.services, today):
            if appointment.status.value != "booked" or self.rng.random() < 0.04:
                continue
            items = [BasketItem(ItemKind.TREATMENT, appointment.treatment_id, appointment_id=appointment.id)]
            if self.rng.random() < 0.25:
                items.append(BasketItem(ItemKind.PRODUCT, self.rng.choice(self.products).id))
            self._sale(
                appointment.client_id,
                items,
                self.rng.choice((TenderKind.CARD, TenderKind.CARD, TenderKind.CASH)),
            )
        self.book_ahead(
            client_ids, days=1, per_day=self.rng.randint(6, 12), start_in_days=self.rng.randint(1, 5)
        )

    def book_ahead(
        self, client_ids: list[str], *, days: int, per_day: int = 8, start_in_days: int = 0
    ) -> None:
        today = self.services.today()
        tz = self.services.settings().tz
        for offset in range(start_in_days, start_in_days + days):
            day = today + dt.timedelta(days=offset)
            if day.weekday() == 6:
                continue
            for _ in range(per_day):
                client_id = self.rng.choice(client_ids)
                treatment_id = self._treatment_for(client_id)
                hour, minute = self.rng.randint(9, 17), self.rng.choice((0, 15, 30, 45))
                starts = dt.datetime.combine(day, dt.time(hour, minute), tz)
                if starts <= self.services.now():
                    continue
                try:
                    appointments_service.book_appointment(
                        self.services,
                        client_id=client_id,
                        treatment_id=treatment_id,
                        practitioner_id=self.rng.choice(self.practitioner_ids),
                        starts_at=starts,
                        staff_id=self.reception_id,
                        ask_deposit=False,  # the demo's history has no GoCardless behind it
                    )
                    self.appointments += 1
                except DomainError:
                    continue  # a clash or a step delay: the receptionist would pick another slot

    def _treatment_for(self, client_id: str) -> str:
        package_id = self.package_clients.get(client_id)
        if package_id is not None and self.rng.random() < 0.7:
            package = next(p for p in self.packages if p.id == package_id)
            return self.rng.choice(package.steps).treatment_id
        return self.rng.choice(self.treatments).id

    def _sale(self, client_id: str, items: list[BasketItem], kind: TenderKind) -> None:
        try:
            total = quote_basket(self.services, client_id=client_id, items=items).net
            payments = [Payment(kind, total)] if total.pence else []
            complete_sale(
                self.services,
                client_id=client_id,
                items=items,
                payments=payments,
                staff_id=self.reception_id,
                expected_total=total,
            )
            self.sales += 1
        except DomainError:
            return
