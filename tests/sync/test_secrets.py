"""The secret store port: the in-memory fake, the keyring store over a test backend, and no keyring at all."""

from __future__ import annotations

import logging

import keyring
import keyring.errors
import pytest
from keyring.backends import chainer, fail
from memory_keyring import InMemoryKeyring

from aestheticc_pos.sync.gateway import AuthenticationFailed, PermanentGatewayError
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.secrets import (
    NO_KEYRING,
    SERVICE_NAME,
    KeyringSecretStore,
    MemorySecretStore,
    SecretStoreUnavailable,
)
from aestheticc_pos.sync.simulator import Simulator


class LockedKeyring(InMemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


def test_memory_store_keeps_one_token_per_environment() -> None:
    store = MemorySecretStore()

    store.set_token("sandbox", " sandbox_token ")
    store.set_token("live", "live_token")

    assert store.available() == (True, "")
    assert store.get_token("sandbox") == "sandbox_token"
    assert store.get_token("live") == "live_token"
    store.delete_token("live")
    store.delete_token("live")
    assert store.get_token("live") is None
    assert "sandbox_token" not in repr(store)


def test_memory_store_refuses_unknown_environments_and_empty_tokens() -> None:
    store = MemorySecretStore()

    with pytest.raises(ValueError):
        store.get_token("production")
    with pytest.raises(ValueError):
        store.set_token("live", "   ")


def test_memory_store_can_play_a_computer_without_keyring() -> None:
    store = MemorySecretStore(available=False)

    assert store.available() == (False, NO_KEYRING)
    with pytest.raises(SecretStoreUnavailable, match="no password store"):
        store.get_token("sandbox")


def test_keyring_store_keeps_the_token_under_the_service_and_environment(
    memory_keyring: InMemoryKeyring,
) -> None:
    store = KeyringSecretStore()

    store.set_token("sandbox", "sandbox_secret_123")

    assert store.available() == (True, "")
    assert memory_keyring.passwords == {(SERVICE_NAME, "sandbox"): "sandbox_secret_123"}
    assert store.get_token("sandbox") == "sandbox_secret_123"
    assert store.get_token("live") is None
    assert "sandbox_secret_123" not in repr(store)


def test_keyring_store_deletes_and_deleting_nothing_is_fine(memory_keyring: InMemoryKeyring) -> None:
    store = KeyringSecretStore()
    store.set_token("live", "live_secret")

    store.delete_token("live")
    store.delete_token("live")

    assert store.get_token("live") is None
    assert memory_keyring.passwords == {}


def test_the_fail_backend_means_no_keyring_with_a_sentence_for_staff(installed: None) -> None:
    keyring.set_keyring(fail.Keyring())
    store = KeyringSecretStore()

    ok, sentence = store.available()

    assert ok is False
    assert sentence == NO_KEYRING
    assert "The till works offline" in sentence
    with pytest.raises(SecretStoreUnavailable) as raised:
        store.set_token("sandbox", "would_be_lost")
    assert str(raised.value) == NO_KEYRING


def test_a_chainer_with_no_backends_means_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    store = KeyringSecretStore(chainer.ChainerBackend())

    assert store.available() == (False, NO_KEYRING)
    with pytest.raises(SecretStoreUnavailable):
        store.get_token("live")


def test_a_locked_keyring_says_so() -> None:
    store = KeyringSecretStore(LockedKeyring())

    assert store.available() == (True, "")
    with pytest.raises(SecretStoreUnavailable, match="locked"):
        store.get_token("sandbox")


def test_the_token_never_reaches_a_repr_an_error_or_a_log(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    token = "sandbox_tok_DO_NOT_LEAK_8f3a"
    store = MemorySecretStore({"sandbox": token})
    gateway = GoCardlessGateway(store.get_token("sandbox") or "", base_url=simulator.base_url, timeout=2)
    caplog.set_level(logging.DEBUG)

    gateway.create_customer(
        {"given_name": "Ada", "family_name": "Lovelace"}, "membership-m1-create_customer-v1"
    )
    raised: list[Exception] = []
    with pytest.raises(PermanentGatewayError) as refused:
        gateway.create_customer({"given_name": "Ada"}, "membership-m2-create_customer-v1")
    raised.append(refused.value)
    simulator.access_token = "another-token"
    with pytest.raises(AuthenticationFailed) as rejected:
        gateway.list_events()
    raised.append(rejected.value)

    assert caplog.records  # logging was on while the calls were made
    for text in (
        repr(gateway),
        str(gateway),
        caplog.text,
        *map(str, raised),
        *(e.detail or "" for e in raised),
    ):
        assert token not in text
    assert token not in repr(vars(gateway))
