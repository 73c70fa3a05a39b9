"""A manager's settings of this till (DESIGN.md §7): the GoCardless token and environment, and the database
the till uses. Refused for everyone else in the service; secrets reach the keyring only; every change audited
without the secret.

The GoCardless link is the real ``SyncConnection`` over a memory secret store (its runner never started).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.keyring_store import MemoryDatabasePasswords
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.services.till_settings import (
    change_database,
    choose_gocardless_environment,
    remove_gocardless_token,
    save_gocardless_token,
)
from aestheticc_pos.settings import SETTINGS_FILE
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.sync.secrets import MemorySecretStore

TILL_RECORDS = ("gocardless", "database")
TOKEN = "sandbox_abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
def secrets() -> MemorySecretStore:
    return MemorySecretStore()


@pytest.fixture
def link(services: Services, secrets: MemorySecretStore) -> SyncConnection:
    return SyncConnection(
        services.uow, services.clock, services.today, secrets, "sandbox", bus=MessageBus(services)
    )


def _audit(services: Services) -> list[tuple[str, str, dict[str, object]]]:
    with services.uow(read_only=True) as uow:
        entries = audit_entries(uow.session)
    return [(e.action, e.record_id, dict(e.details)) for e in entries if e.record_type in TILL_RECORDS]


def test_a_manager_keeps_the_token_in_the_keyring_and_the_log_never_holds_it(
    services: Services, manager: str, link: SyncConnection, secrets: MemorySecretStore
) -> None:
    assert save_gocardless_token(services, link, f"  {TOKEN} ", manager) == "sandbox"

    assert secrets.get_token("sandbox") == TOKEN
    assert _audit(services) == [("gocardless.token_saved", "sandbox", {})]

    assert remove_gocardless_token(services, link, manager) == "sandbox"
    assert secrets.get_token("sandbox") is None
    assert [action for action, _, _ in _audit(services)][-1] == "gocardless.token_removed"


@pytest.mark.parametrize("role", ["receptionist", "practitioner"])
def test_no_one_but_a_manager_touches_the_token_or_the_environment(
    role: str,
    request: pytest.FixtureRequest,
    services: Services,
    link: SyncConnection,
    secrets: MemorySecretStore,
    tmp_path: Path,
) -> None:
    secrets.set_token("sandbox", TOKEN)
    staff_id = request.getfixturevalue(role)

    with pytest.raises(NotPermitted, match="Only a manager"):
        save_gocardless_token(services, link, "sandbox_another_token_0123456789", staff_id)
    with pytest.raises(NotPermitted, match="Only a manager"):
        remove_gocardless_token(services, link, staff_id)
    with pytest.raises(NotPermitted, match="Only a manager"):
        choose_gocardless_environment(services, link, tmp_path, "live", staff_id)
    with pytest.raises(NotPermitted, match="Only a manager"):
        change_database(services, tmp_path, "postgresql+psycopg://till@server/clinic", staff_id)

    assert secrets.get_token("sandbox") == TOKEN
    assert link.environment == "sandbox"
    assert not (tmp_path / SETTINGS_FILE).exists()
    assert _audit(services) == []


def test_a_bad_token_or_no_keyring_is_a_sentence_and_nothing_changes(
    services: Services, manager: str
) -> None:
    link = SyncConnection(
        services.uow,
        services.clock,
        services.today,
        MemorySecretStore(available=False),
        bus=MessageBus(services),
    )

    with pytest.raises(InvalidInput, match="too short"):
        save_gocardless_token(services, link, "short", manager)
    with pytest.raises(RuleViolation, match="password store"):
        save_gocardless_token(services, link, TOKEN, manager)
    assert _audit(services) == []


def test_the_environment_is_kept_for_the_next_start_and_audited(
    services: Services, manager: str, link: SyncConnection, tmp_path: Path
) -> None:
    assert choose_gocardless_environment(services, link, tmp_path, "live", manager) is True
    assert choose_gocardless_environment(services, link, tmp_path, "live", manager) is False

    assert link.environment == "live"
    saved = json.loads((tmp_path / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["gocardless_environment"] == "live"
    assert _audit(services) == [("gocardless.environment_changed", "live", {"from": "sandbox", "to": "live"})]
    with pytest.raises(InvalidInput, match="live or the sandbox"):
        choose_gocardless_environment(services, link, tmp_path, "staging", manager)


def test_a_server_password_goes_to_the_keyring_and_nowhere_else(
    services: Services, manager: str, tmp_path: Path
) -> None:
    passwords = MemoryDatabasePasswords()
    url = "postgresql+psycopg://till:s3cret-Pa55@192.168.1.10:5432/clinic?sslmode=require"

    shown = change_database(services, tmp_path, url, manager, passwords)

    assert "s3cret" not in shown
    assert passwords.get_password("till@192.168.1.10:5432/clinic") == "s3cret-Pa55"
    written = (tmp_path / SETTINGS_FILE).read_text(encoding="utf-8")
    assert "s3cret" not in written
    assert json.loads(written)["database_url"] == (
        "postgresql+psycopg://till@192.168.1.10:5432/clinic?sslmode=require"
    )
    [(action, record_id, details)] = _audit(services)
    assert (action, record_id) == ("database.url_changed", "till@192.168.1.10:5432/clinic")
    assert "s3cret" not in repr(details)

    assert change_database(services, tmp_path, "", manager, passwords) == "this PC's own database"
    assert json.loads((tmp_path / SETTINGS_FILE).read_text(encoding="utf-8"))["database_url"] == ""


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("mysql://till@server/clinic", "starts with postgresql"),
        ("postgresql+psycopg://till@/clinic", "Give the server and the database"),
        ("postgresql+psycopg://till@server/cli nic", "no spaces"),
        ("postgresql+psycopg://till@server/clinic\x00", "no spaces or hidden characters"),
    ],
)
def test_a_server_address_that_cannot_work_is_refused_with_a_sentence(
    services: Services, manager: str, tmp_path: Path, url: str, sentence: str
) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        change_database(services, tmp_path, url, manager, MemoryDatabasePasswords())
    assert not (tmp_path / SETTINGS_FILE).exists()
    assert _audit(services) == []


def test_no_keyring_for_a_password_refuses_and_writes_nothing(
    services: Services, manager: str, tmp_path: Path
) -> None:
    with pytest.raises(RuleViolation, match="no password store"):
        change_database(
            services,
            tmp_path,
            "postgresql+psycopg://till:pw@server/clinic",
            manager,
            MemoryDatabasePasswords(available=False),
        )
    assert not (tmp_path / SETTINGS_FILE).exists()
    assert _audit(services) == []
