"""Members for the tests of what memberships and their payments keep (the repriced flag, the summaries): tiers,
a member whose Direct Debit is set up, and GoCardless's payment events applied by the message bus."""

from __future__ import annotations

import datetime as dt

from staffing import front_desk

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.messages import Message, PaymentConfirmed, PaymentCreated, RemotePayment
from aestheticc_pos.services import catalogue
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as svc
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store import repositories as repo

TODAY = dt.date(2026, 11, 24)  # the services fixture's clock


def gold_and_silver(services: Services, manager: str, *, gold_fee: str = "20.00") -> dict[str, str]:
    """Gold (£49 a month, a sign-up fee of ``gold_fee``) and Silver (£29): their ids by ``gold``, ``silver``."""
    gold = catalogue.add_tier(
        services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20", signup_fee=gold_fee
    )
    silver = catalogue.add_tier(
        services, staff_id=manager, name="Silver", monthly_price="29.00", discount="10"
    )
    return {"gold": gold.id, "silver": silver.id}


def member(services: Services, receptionist: str, tier_id: str, name: str) -> str:
    """A member since today, mandate active, subscription ``SB-<name>``."""
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name=name, last_name="Test"
    )
    membership_id = svc.start_membership(
        services, client_id=client.id, tier_id=tier_id, staff_id=receptionist
    ).id
    with services.uow() as uow:
        m = repo.load_membership(uow.session, membership_id)
        m = ms.subscription_created(ms.mandate_activated(ms.mandate_set_up(m, f"MD-{name}")), f"SB-{name}")
        repo.save_membership(uow.session, m)
        uow.commit()
    return membership_id


def event(services: Services, message: Message) -> None:
    """GoCardless's ``message``, applied as the sync applies it."""
    with services.uow() as uow:
        MessageBus(services).handle(uow, message)
        uow.commit()


def billed(
    services: Services, name: str, payment_id: str, amount: int, charge: dt.date, *, confirm: bool = True
) -> RemotePayment:
    """GoCardless created (and collected) a payment of ``amount`` of subscription ``SB-<name>`` charged on
    ``charge``."""
    payment = RemotePayment(payment_id, charge_date=charge, amount_pence=amount, currency="GBP")
    event(services, PaymentCreated(payment, "pending_submission", TODAY, subscription_id=f"SB-{name}"))
    if confirm:
        event(services, PaymentConfirmed(payment, "confirmed", TODAY))
    return payment
