"""Where the GoCardless access token lives: the ``SecretStore`` port and its two implementations (DESIGN.md §5).

One token per environment ("sandbox", "live"), entered in Settings. It is kept in the OS password store through
``keyring`` and nowhere else: never the database, a settings file or a log. Where the computer has no password
store, ``available()`` says so in a sentence for staff and the app runs offline; there is no plain-text fallback.

``MemorySecretStore`` is the working fake for tests (and for the simulator's training mode). What every secret in
the keyring shares (``SecretStoreUnavailable``, what "no password store" means, keyring's errors as sentences)
is in ``aestheticc_pos/keyring_store.py``, beside the database password.
"""

from __future__ import annotations

from typing import Protocol

from keyring.backend import KeyringBackend

from aestheticc_pos.keyring_store import KeyringEntries, SecretStoreUnavailable

__all__ = [
    "ENVIRONMENTS",
    "NO_KEYRING",
    "SERVICE_NAME",
    "KeyringSecretStore",
    "MemorySecretStore",
    "SecretStore",
    "SecretStoreUnavailable",
]

SERVICE_NAME = "Aestheticc POS GoCardless"
ENVIRONMENTS = ("sandbox", "live")
NO_KEYRING = (
    "This computer has no password store (keyring), so the GoCardless token cannot be kept safely. "
    "The till works offline; ask your IT support to set one up."
)


class SecretStore(Protocol):
    """The GoCardless access token per environment. Methods raise ``SecretStoreUnavailable``, nothing else."""

    def available(self) -> tuple[bool, str]:
        """(True, "") when tokens can be kept, else (False, a sentence saying why and what to do)."""
        ...

    def get_token(self, environment: str) -> str | None: ...

    def set_token(self, environment: str, token: str) -> None: ...

    def delete_token(self, environment: str) -> None: ...


class KeyringSecretStore:
    """The token in the OS password store: service ``SERVICE_NAME``, user name = the environment.

    ``backend`` defaults to whatever ``keyring`` chose for this computer (read on every call, so
    ``keyring.set_keyring`` takes effect at once).
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._entries = KeyringEntries(
            SERVICE_NAME, no_keyring=NO_KEYRING, what="the GoCardless token", backend=backend
        )

    def __repr__(self) -> str:
        return f"KeyringSecretStore(backend={self._entries.backend_name()})"

    def available(self) -> tuple[bool, str]:
        return self._entries.available()

    def get_token(self, environment: str) -> str | None:
        _check(environment)
        return self._entries.get(environment)

    def set_token(self, environment: str, token: str) -> None:
        _check(environment)
        token = token.strip()
        if not token:
            raise ValueError("an empty token cannot be kept; use delete_token to remove one")
        self._entries.set(environment, token)

    def delete_token(self, environment: str) -> None:
        _check(environment)
        self._entries.delete(environment)


class MemorySecretStore:
    """A working fake: tokens in a dict. ``available=False`` behaves like a computer with no password store."""

    def __init__(self, tokens: dict[str, str] | None = None, *, available: bool = True) -> None:
        self._tokens = dict(tokens or {})
        self._available = available

    def __repr__(self) -> str:
        return f"MemorySecretStore(environments={sorted(self._tokens)})"

    def available(self) -> tuple[bool, str]:
        return (True, "") if self._available else (False, NO_KEYRING)

    def get_token(self, environment: str) -> str | None:
        self._require(environment)
        return self._tokens.get(environment)

    def set_token(self, environment: str, token: str) -> None:
        self._require(environment)
        token = token.strip()
        if not token:
            raise ValueError("an empty token cannot be kept; use delete_token to remove one")
        self._tokens[environment] = token

    def delete_token(self, environment: str) -> None:
        self._require(environment)
        self._tokens.pop(environment, None)

    def _require(self, environment: str) -> None:
        _check(environment)
        if not self._available:
            raise SecretStoreUnavailable(NO_KEYRING)


def _check(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {environment!r}")
