"""The background sync: the states staff see (online, offline, token refused, not set up, no keyring), the
token taken from the secret store only, reconnecting after a new token, and the thread's life."""

from __future__ import annotations

import threading

import pytest
from staffing import front_desk

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_views, memberships, sync_status
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.sync.runner import SyncState, SyncStatus
from aestheticc_pos.sync.secrets import MemorySecretStore
from aestheticc_pos.sync.simulator import Simulator

TOKEN = "sandbox_runner-test-token-0123456789"


def _connection(clinic, secrets, base_url: str | None, **kwargs) -> SyncConnection:
    return SyncConnection(
        clinic.uow,
        clinic.clock,
        clinic.services.today,
        secrets,
        "sandbox",
        bus=clinic.bus,
        base_url=base_url,
        interval=0.05,
        **kwargs,
    )


def _sign_up(clinic) -> str:
    client = clients_service.add_client(
        clinic.services,
        staff_id=front_desk(clinic.services),
        first_name="Amy",
        last_name="Jones",
        email="a@example.com",
    )
    return memberships.start_membership(
        clinic.services, client_id=client.id, tier_id=clinic.tier_id, staff_id=clinic.manager
    ).id


def test_with_no_token_the_till_says_gocardless_is_not_set_up(clinic, simulator) -> None:
    connection = _connection(clinic, MemorySecretStore(), simulator.base_url)

    state = connection.runner.run_once()

    assert state.status is SyncStatus.NOT_CONFIGURED
    assert "Settings" in state.sentence
    assert simulator.requests == []  # nothing was sent without a token


def test_with_no_keyring_the_till_says_so_and_stays_offline(clinic, simulator) -> None:
    connection = _connection(clinic, MemorySecretStore(available=False), simulator.base_url)

    state = connection.runner.run_once()

    assert state.status is SyncStatus.NO_KEYRING
    assert "keyring" in state.sentence
    assert simulator.requests == []


def test_online_sends_the_queued_work_and_records_the_last_successful_sync(clinic, simulator) -> None:
    membership_id = _sign_up(clinic)
    connection = _connection(clinic, MemorySecretStore({"sandbox": TOKEN}), simulator.base_url)

    state = connection.runner.run_once()

    assert state.status is SyncStatus.ONLINE
    assert state.report is not None and state.report.sent == 3
    overview = sync_status.sync_overview(clinic.services)
    assert overview.queued == 0
    assert overview.last_successful_sync == clinic.clock.now()
    view = membership_views.membership_of(clinic.services, clients_id(clinic, membership_id))
    assert view is not None and view.authorisation_url is not None
    assert view.authorisation_url.startswith(simulator.base_url)


def clients_id(clinic, membership_id: str) -> str:
    (view,) = [v for v in membership_views.memberships_list(clinic.services) if v.id == membership_id]
    return view.client_id


def test_offline_keeps_the_work_queued_and_says_the_till_goes_on(clinic) -> None:
    _sign_up(clinic)
    with Simulator() as gone:
        base_url = gone.base_url  # a port nothing listens on once it stops
    connection = _connection(clinic, MemorySecretStore({"sandbox": TOKEN}), base_url)

    state = connection.runner.run_once()

    assert state.status is SyncStatus.OFFLINE
    assert "works as usual" in state.sentence
    assert sync_status.sync_overview(clinic.services).queued == 3
    assert sync_status.sync_overview(clinic.services).last_successful_sync is None


def test_a_refused_token_is_reported_and_a_new_one_reconnects(clinic) -> None:
    _sign_up(clinic)
    secrets = MemorySecretStore({"sandbox": "sandbox_an-old-revoked-token-000000"})
    with Simulator(access_token=TOKEN) as simulator:
        connection = _connection(clinic, secrets, simulator.base_url)

        assert connection.runner.run_once().status is SyncStatus.TOKEN_REFUSED
        assert simulator.count("customers") == 0

        connection.save_token("sandbox", TOKEN)
        state = connection.runner.run_once()

        assert state.status is SyncStatus.ONLINE
        assert simulator.count("customers") == 1
    assert secrets.get_token("sandbox") == TOKEN


def test_the_training_connection_needs_no_token(clinic, simulator) -> None:
    connection = _connection(clinic, MemorySecretStore(available=False), simulator.base_url, training=True)

    assert connection.runner.run_once().status is SyncStatus.ONLINE


def test_the_runner_thread_reports_every_cycle_and_stops_when_asked(clinic, simulator) -> None:
    _sign_up(clinic)
    connection = _connection(clinic, MemorySecretStore({"sandbox": TOKEN}), simulator.base_url)
    seen: list[SyncState] = []
    two = threading.Event()

    def listener(state: SyncState) -> None:
        seen.append(state)
        if len(seen) >= 2:
            two.set()

    connection.add_listener(listener)
    connection.start()
    try:
        assert two.wait(20)
    finally:
        connection.stop(timeout=20)

    assert not connection.runner.running
    assert all(s.status is SyncStatus.ONLINE for s in seen)
    assert simulator.count("customers") == 1  # later cycles sent nothing twice


def test_a_listener_that_fails_does_not_stop_the_sync(clinic, simulator) -> None:
    connection = _connection(clinic, MemorySecretStore({"sandbox": TOKEN}), simulator.base_url)
    calls: list[int] = []
    again = threading.Event()

    def broken(_state: SyncState) -> None:
        calls.append(1)
        if len(calls) >= 2:
            again.set()
        raise RuntimeError("a listener's bug")

    connection.add_listener(broken)
    connection.start()
    try:
        assert again.wait(20)
    finally:
        connection.stop(timeout=20)


@pytest.mark.parametrize("environment", ["staging", ""])
def test_only_gocardless_environments_are_accepted(clinic, environment: str) -> None:
    with pytest.raises(ValueError):
        SyncConnection(
            clinic.uow, clinic.clock, clinic.services.today, MemorySecretStore(), environment, bus=clinic.bus
        )


@pytest.mark.parametrize(
    ("refuse", "words"),
    [
        ("revoked", "has been revoked in GoCardless (GoCardless: Access token not active)"),
        (
            "read_only",
            "may only read, so the till cannot send its work (GoCardless: Insufficient permissions)",
        ),
    ],
)
def test_a_refused_token_is_said_in_gocardless_words_and_not_tried_again_until_asked(
    clinic, refuse: str, words: str
) -> None:
    _sign_up(clinic)
    with Simulator() as simulator:
        if refuse == "revoked":
            simulator.revoke_token(TOKEN)
        else:
            simulator.set_read_only()
        connection = _connection(clinic, MemorySecretStore({"sandbox": TOKEN}), simulator.base_url)

        state = connection.runner.run_once()
        assert state.status is SyncStatus.TOKEN_REFUSED
        assert words in state.sentence and "Settings" in state.sentence
        sent = len(simulator.requests)
        assert sent == 1  # the first request was refused; the cycle stopped there

        for _ in range(3):  # the loop's next cycles: the same token would be refused, nothing is sent
            assert connection.runner.run_once().status is SyncStatus.TOKEN_REFUSED
        assert len(simulator.requests) == sent

        connection.runner.sync_now()  # staff asked: tried once more
        assert connection.runner.run_once().status is SyncStatus.TOKEN_REFUSED
        assert len(simulator.requests) == sent + 1

        simulator.revoked_tokens.clear()
        simulator.set_read_only(False)
        connection.save_token("sandbox", TOKEN)  # a manager enters the token again: it reconnects
        assert connection.runner.run_once().status is SyncStatus.ONLINE
        assert simulator.count("customers") == 1
