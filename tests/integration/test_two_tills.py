"""Two tills, two OS processes, one database: the last session of a package is taken exactly once.

Each till is a separate process with its own engine on the same URL, as on a clinic's network
(``tests/twotills.py``). They leave a barrier together and redeem in the same instant; the winner keeps its
transaction open a moment so the other really has to wait for it (SQLite: for the write lock; PostgreSQL: for
the row lock).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twotills import run_tills

from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import ClientPackageStepRow
from aestheticc_pos.store.unit_of_work import UnitOfWork, UnitOfWorkFactory, run_in_transaction

HOLD_SECONDS = 0.3


def checkout(services: Services, client_package_id: str) -> tuple[str, str]:
    """One till's checkout: redeem a session of step 1 and number the sale, in one transaction."""

    def redeem(uow: UnitOfWork) -> str:
        uow.redeem_sessions(client_package_id, 1)
        return uow.next_number("sale:A", "A-{n:06d}")

    return ("redeemed", run_in_transaction(services.uow, redeem))


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
    outcomes = run_tills(migrated_url, checkout, [package_id] * tills, hold=HOLD_SECONDS)

    redeemed = sorted(number for kind, number, *_ in outcomes if kind == "redeemed")
    refused = [sentence for kind, *_, sentence in outcomes if kind == "refused"]
    assert redeemed == [f"A-{n:06d}" for n in range(1, sessions + 1)]  # and the sale numbers stay gap-free
    assert refused == ["There are no sessions left on this step of the package."] * (tills - sessions)
    with uow_factory(read_only=True) as uow:
        step = uow.session.get(ClientPackageStepRow, (package_id, 1))
        assert step is not None and (step.redeemed, step.remaining) == (sessions, 0)
