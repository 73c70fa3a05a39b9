"""Two tills, two OS processes, one database: the last session of a package is taken exactly once.

Each till is a separate process (``spawn``) with its own engine on the same URL, as on a clinic's network.
They leave a barrier together and redeem in the same instant; the winner keeps its transaction open a
moment so the other really has to wait for it (SQLite: for the write lock; PostgreSQL: for the row lock).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.synchronize import Barrier

import pytest

from aestheticc_pos.domain.errors import NoSessionsRemaining
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.tables import ClientPackageStepRow
from aestheticc_pos.store.unit_of_work import UnitOfWork, UnitOfWorkFactory, run_in_transaction

HOLD_SECONDS = 0.3


def till(url: str, client_package_id: str, start: Barrier, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One till's checkout: redeem a session of step 1 and number the sale, in one transaction."""
    engine = create_engine_for(url)
    factory = UnitOfWorkFactory(engine)

    def checkout(uow: UnitOfWork) -> str:
        uow.redeem_sessions(client_package_id, 1)
        number = uow.next_number("sale:A", "A-{n:06d}")
        time.sleep(HOLD_SECONDS)
        return number

    try:
        start.wait(timeout=60)
        results.put(("redeemed", run_in_transaction(factory, checkout)))
    except NoSessionsRemaining as refusal:
        results.put(("refused", str(refusal)))
    except Exception as error:  # any other outcome fails the test, with its reason
        results.put(("error", repr(error)))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("tills", "sessions"), [(2, 1), (3, 2)], ids=["last-session", "two-left-three-tills"]
)
def test_concurrent_tills_never_take_more_sessions_than_are_left(
    migrated_url: str,
    uow_factory: UnitOfWorkFactory,
    make_client_package: Callable[..., str],
    tills: int,
    sessions: int,
) -> None:
    package_id = make_client_package(sessions)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(tills)
    results = context.Queue()
    processes = [
        context.Process(target=till, args=(migrated_url, package_id, start, results)) for _ in range(tills)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    assert [kind for kind, _ in outcomes if kind == "error"] == [], outcomes
    redeemed = sorted(detail for kind, detail in outcomes if kind == "redeemed")
    refused = [detail for kind, detail in outcomes if kind == "refused"]
    assert redeemed == [f"A-{n:06d}" for n in range(1, sessions + 1)]  # and the sale numbers stay gap-free
    assert refused == ["There are no sessions left on this step of the package."] * (tills - sessions)
    with uow_factory(read_only=True) as uow:
        step = uow.session.get(ClientPackageStepRow, (package_id, 1))
        assert step is not None and (step.redeemed, step.remaining) == (sessions, 0)
