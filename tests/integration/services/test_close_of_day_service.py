"""Close of day through the services, worked by hand: an X report during the day, visits left booked refused,
the drawer counted, the Z report, and a closed day kept as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from catalogue_fixtures import add_client, at, save_demo_catalogue

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.close_of_day import ReportKind
from aestheticc_pos.domain.errors import NotPermitted, RuleViolation
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import close_of_day
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store.audit_repo import audit_entries

DAY = dt.date(2026, 11, 24)


@pytest.fixture
def day_of_sales(services: Services, receptionist: str, clock) -> dict[str, str]:
    """Consultation £50 paid £60 cash (£10 change); Botox £250 by card; a consultation £50 cash+card 20/30."""
    catalogue = save_demo_catalogue(services)
    ada, bea = add_client(services), add_client(services, "Bea", "Stone")
    sale = complete_sale(
        services,
        client_id=ada,
        items=[BasketItem(ItemKind.TREATMENT, catalogue.consultation.id)],
        payments=[Payment("cash", "60")],
        staff_id=receptionist,
    )
    clock.advance(hours=2)
    complete_sale(
        services,
        client_id=bea,
        items=[BasketItem(ItemKind.TREATMENT, catalogue.botox.id)],
        payments=[Payment("card", "250")],
        staff_id=receptionist,
    )
    clock.advance(hours=2)
    complete_sale(
        services,
        client_id=bea,
        items=[BasketItem(ItemKind.TREATMENT, catalogue.consultation.id)],
        payments=[Payment("cash", "20"), Payment("card", "30")],
        staff_id=receptionist,
    )
    return {"first": sale.number, "ada": ada, "consultation": catalogue.consultation.id}


def test_the_x_report_adds_up_the_day_per_tender(
    services: Services, receptionist: str, day_of_sales: dict[str, str]
) -> None:
    report = close_of_day.day_report(services, DAY, receptionist)
    assert report.kind is ReportKind.X and report.closure is None
    assert (report.sales, report.refunds, report.first_number) == (3, 0, day_of_sales["first"])
    cash, card = report.takings.line(TenderKind.CASH), report.takings.line(TenderKind.CARD)
    assert (cash.taken.pence, card.taken.pence, report.takings.net.pence) == (
        7000,
        28000,
        35000,
    )  # 50+20, 250+30
    assert close_of_day.day_report(services, DAY + dt.timedelta(days=1), receptionist).sales == 0


def test_closing_counts_the_drawer_and_writes_the_z_report_once(
    services: Services, receptionist: str, day_of_sales: dict[str, str], clock
) -> None:
    clock.set(at(2026, 11, 24, 18))
    with pytest.raises(RuleViolation, match="£2.00 short"):
        close_of_day.close_day(services, DAY, opening_float="100", counted="168", staff_id=receptionist)

    z = close_of_day.close_day(
        services,
        DAY,
        opening_float="100",
        counted="168",
        reason="£2 given as change twice",
        staff_id=receptionist,
    )
    assert z.kind is ReportKind.Z and z.closure is not None
    assert (z.closure.z_number, z.closure.cash.expected.pence, z.closure.cash.difference.pence) == (
        1,
        17000,
        -200,
    )
    assert z.closure.staff_name == "Rita Reception"
    assert close_of_day.day_report(services, DAY, receptionist).closure == z.closure  # the Z, again
    with pytest.raises(RuleViolation, match=r"already closed \(Z 1\)"):
        close_of_day.close_day(services, DAY, opening_float="100", counted="170", staff_id=receptionist)
    with services.uow(read_only=True) as uow:
        [entry] = audit_entries(uow.session, record_type="day")
    assert (entry.action, entry.reason, entry.details["difference_pence"]) == (
        "day.closed",
        "£2 given as change twice",
        -200,
    )


def test_a_visit_left_booked_in_the_past_must_be_settled_first(
    services: Services, receptionist: str, practitioner: str, day_of_sales: dict[str, str], clock
) -> None:
    booked = appointments_service.book_appointment(
        services,
        client_id=day_of_sales["ada"],
        treatment_id=day_of_sales["consultation"],
        practitioner_id=practitioner,
        starts_at=at(2026, 11, 24, 15),
        staff_id=receptionist,
    ).appointment
    clock.set(at(2026, 11, 24, 18))
    assert [v.appointment_id for v in close_of_day.visits_to_settle(services, receptionist)] == [booked.id]
    with pytest.raises(RuleViolation, match="1 appointment is still booked"):
        close_of_day.close_day(services, DAY, opening_float="100", counted="170", staff_id=receptionist)

    appointments_service.mark_no_show(services, appointment_id=booked.id, staff_id=receptionist)
    assert close_of_day.visits_to_settle(services, receptionist) == []
    close_of_day.close_day(services, DAY, opening_float="100", counted="170", staff_id=receptionist)


def test_only_the_front_desk_closes_and_never_a_day_to_come(
    services: Services, receptionist: str, practitioner: str, clock
) -> None:
    with pytest.raises(NotPermitted, match="Only a manager or a receptionist"):
        close_of_day.day_report(services, DAY, practitioner)
    with pytest.raises(RuleViolation, match="once it has begun"):
        close_of_day.close_day(
            services, DAY + dt.timedelta(days=1), opening_float="0", counted="0", staff_id=receptionist
        )


def test_the_z_report_stays_as_written_and_the_till_takes_no_sale_after_the_close(
    services: Services, receptionist: str, day_of_sales: dict[str, str], clock
) -> None:
    clock.set(at(2026, 11, 24, 18))
    z = close_of_day.close_day(services, DAY, opening_float="100", counted="170", staff_id=receptionist)
    clock.set(at(2026, 11, 24, 19))
    with pytest.raises(RuleViolation, match="Today is already closed at this till"):  # it would be in no Z
        complete_sale(
            services,
            client_id=day_of_sales["ada"],
            items=[BasketItem(ItemKind.TREATMENT, day_of_sales["consultation"])],
            payments=[Payment("cash", "50")],
            staff_id=receptionist,
        )
    again = close_of_day.day_report(services, DAY, receptionist)
    assert again == z
    assert (again.sales, again.takings.line(TenderKind.CASH).taken.pence, again.takings.net.pence) == (
        3,
        7000,
        35000,
    )


def test_next_morning_the_till_asks_only_about_visits_of_earlier_days(
    services: Services, receptionist: str, practitioner: str, day_of_sales: dict[str, str], clock
) -> None:
    def book(hour: int, day: int) -> str:
        return appointments_service.book_appointment(
            services,
            client_id=day_of_sales["ada"],
            treatment_id=day_of_sales["consultation"],
            practitioner_id=practitioner,
            starts_at=at(2026, 11, day, hour),
            staff_id=receptionist,
        ).appointment.id

    yesterday, this_morning = book(15, 24), book(9, 25)
    clock.set(at(2026, 11, 25, 10))
    assert [v.appointment_id for v in close_of_day.visits_to_settle(services, receptionist)] == [
        yesterday,
        this_morning,
    ]
    earlier = close_of_day.visits_to_settle(services, receptionist, from_earlier_days=True)
    assert [v.appointment_id for v in earlier] == [yesterday]
    assert (earlier[0].client_name, earlier[0].practitioner_name) == ("Ada Lovelace", "Dr Priya Patel")
