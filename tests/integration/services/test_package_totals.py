"""What the write paths keep beside a client package's counters for the reports (migration 0015): the sessions
summed over its steps, each step's days from the step before, each ledger entry's package price and sessions
sold. After every kind of change they must say what working them out again from the steps and the ledger says
(``package_repo.rebuild_package_totals``, what the migration and the benchmark's generator run).

The clock stands at 09:00 on Tuesday 24 Nov 2026 in London (GMT) until the test moves it.
"""

from __future__ import annotations

import datetime as dt

from catalogue_fixtures import (
    DemoCatalogue,
    add_client,
    assert_counters_match_ledger,
    at,
    save_demo_catalogue,
    sell_package,
)
from sqlalchemy import select

from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import package_refunds
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.package_repo import rebuild_package_totals
from aestheticc_pos.store.tables import ClientPackageRow, ClientPackageStepRow, SessionLedgerRow


def _kept(services: Services) -> tuple[list, list, list]:
    cp, st, ledger = ClientPackageRow, ClientPackageStepRow, SessionLedgerRow
    with services.uow(read_only=True) as uow:
        s = uow.session
        packages = s.execute(
            select(
                cp.id,
                cp.sessions_sold,
                cp.sessions_adjusted,
                cp.sessions_redeemed,
                cp.sessions_reserved,
                cp.sessions_refunded,
            ).order_by(cp.id)
        ).all()
        steps = s.execute(
            select(st.client_package_id, st.position, st.package_id, st.days_after_previous).order_by(
                st.client_package_id, st.position
            )
        ).all()
        entries = s.execute(
            select(ledger.seq, ledger.package_price_pence, ledger.package_sessions).order_by(ledger.seq)
        ).all()
    return [tuple(r) for r in packages], [tuple(r) for r in steps], [tuple(r) for r in entries]


def test_every_change_keeps_the_reports_copies_as_rebuilding_them_would(
    services, clock, manager, receptionist, practitioner
) -> None:
    catalogue: DemoCatalogue = save_demo_catalogue(services)
    ada = add_client(services, "Ada", "Lovelace")
    starter = sell_package(services, catalogue.botox_starter, ada)
    course = sell_package(services, catalogue.microneedling_course, ada)

    def book(treatment_id: str, starts_at: dt.datetime) -> str:
        return appointments_service.book_appointment(
            services,
            client_id=ada,
            treatment_id=treatment_id,
            practitioner_id=practitioner,
            starts_at=starts_at,
            staff_id=receptionist,
        ).appointment.id

    def attend(treatment_id: str, starts_at: dt.datetime) -> str:
        appointment_id = book(treatment_id, starts_at)
        clock.set(starts_at + dt.timedelta(minutes=40))
        appointments_service.attend_appointment(
            services, appointment_id=appointment_id, staff_id=receptionist
        )
        return appointment_id

    # The starter: consultation on the 24th, treatment three days later, the review booked then cancelled.
    attend(catalogue.consultation.id, at(2026, 11, 24, 10))
    attend(catalogue.botox.id, at(2026, 11, 27, 10))
    review = book(catalogue.review.id, at(2026, 12, 14, 10))
    appointments_service.cancel_appointment(services, appointment_id=review, staff_id=receptionist)
    # The course: two sessions, the second undone by a manager, then sessions added and the rest refunded.
    attend(catalogue.microneedling.id, at(2026, 11, 27, 11))
    undone = attend(catalogue.microneedling.id, at(2026, 12, 28, 11))
    packages_service.void_redemption(
        services, client_package_id=course, appointment_id=undone, reason="Wrong client", staff_id=manager
    )
    packages_service.adjust_sessions(
        services, client_package_id=course, step_position=1, delta=2, reason="Goodwill", staff_id=manager
    )
    package_refunds.refund_unused_sessions(
        services, client_package_id=course, reason="Moving away", staff_id=manager
    )
    for client_package_id in (starter, course):
        assert_counters_match_ledger(services, client_package_id)

    packages, steps, entries = _kept(services)
    assert packages == sorted(
        [(starter, 3, 0, 2, 0, 0), (course, 6, 2, 1, 0, 7)]
    )  # by hand: the course's 6 + 2 less the one used, all refunded
    assert (starter, 2, catalogue.botox_starter.id, 3) in steps  # three days from consultation to treatment
    assert (starter, 3, catalogue.botox_starter.id, None) in steps  # the review never took place
    assert {(price, sold) for _, price, sold in entries} == {(30000, 3), (100000, 6)}

    with services.uow() as uow:
        rebuild_package_totals(uow.session.connection())
        uow.commit()
    assert _kept(services) == (packages, steps, entries)
