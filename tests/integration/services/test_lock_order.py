"""One lock order for every use case that locks more than one row (DESIGN.md §4), so tills never deadlock.

Checking out a visit locks its client, then the appointment; cancelling it used to lock the appointment, then
the client: on PostgreSQL two tills doing both at once deadlocked (staff saw "Something went wrong"). Now both
take the client first, so one waits for the other and the loser gets a sentence.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from catalogue_fixtures import add_client
from sqlalchemy import Engine
from twotills import LingeringUnitsOfWork

from aestheticc_pos.domain.catalogue import ItemKind, Treatment
from aestheticc_pos.domain.errors import ConcurrencyConflict, DomainError
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo

ROUNDS = 12
HOLD_SECONDS = 0.05


def _run(start: threading.Barrier, results: dict[str, tuple[str, str]], name: str, work: Any) -> None:
    """One till's attempt, started at the same moment as the other's; its outcome goes to ``results``."""
    start.wait(timeout=30)
    try:
        work()
        results[name] = ("done", "")
    except ConcurrencyConflict as conflict:  # the retries ran out: a lock order problem
        results[name] = ("conflict", str(conflict))
    except DomainError as refusal:
        results[name] = ("refused", str(refusal))
    except Exception as error:  # noqa: BLE001 - anything else fails the test with its reason
        results[name] = ("error", repr(error))


def test_a_visit_checked_out_on_one_till_and_cancelled_on_another_never_deadlocks(
    services: Services, engine: Engine, receptionist: str, practitioner: str
) -> None:
    peel = Treatment(id="t-peel", name="Chemical peel", price=Money(9000), duration_minutes=30)
    with services.uow() as uow:
        catalogue_repo.save_treatment(uow.session, peel)
        uow.commit()
    tills = Services(uow=LingeringUnitsOfWork(engine, HOLD_SECONDS), clock=services.clock)
    client = add_client(services, "Ada", "Lovelace")
    outcomes: list[tuple[str, str]] = []
    for n in range(ROUNDS):
        visit = appointments_service.book_appointment(
            services,
            client_id=client,
            treatment_id=peel.id,
            practitioner_id=practitioner,
            starts_at=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=30 * n),
            staff_id=receptionist,
        ).appointment
        start = threading.Barrier(2)
        results: dict[str, tuple[str, str]] = {}

        checkout = threading.Thread(
            target=_run,
            args=(
                start,
                results,
                "checkout",
                lambda v=visit: complete_sale(
                    tills,
                    client_id=client,
                    items=[BasketItem(ItemKind.TREATMENT, peel.id, appointment_id=v.id)],
                    payments=[Payment("card", "90")],
                    staff_id=receptionist,
                ),
            ),
        )
        cancel = threading.Thread(
            target=_run,
            args=(
                start,
                results,
                "cancel",
                lambda v=visit: appointments_service.cancel_appointment(
                    tills, appointment_id=v.id, staff_id=receptionist
                ),
            ),
        )
        for thread in (checkout, cancel):
            thread.start()
        for thread in (checkout, cancel):
            thread.join(timeout=60)
        outcomes.extend(results.values())
        assert sorted(kind for kind, _ in results.values()) in (["done", "refused"], ["refused", "done"]), (
            results
        )

    assert [o for o in outcomes if o[0] in ("error", "conflict")] == []
    assert sum(1 for kind, _ in outcomes if kind == "done") == ROUNDS
