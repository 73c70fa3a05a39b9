"""Where the GoCardless access token lives: the ``SecretStore`` port and its two implementations (DESIGN.md §5).

One token per environment ("sandbox", "live"), entered in Settings. It is kept in the OS password store through
``keyring`` and nowhere else: never the database, a settings file or a log. Where the computer has no password
store, ``available()`` says so in a sentence for staff and the app runs offline; there is no plain-text fallback.

``MemorySecretStore`` is the working fake for tests (and for the simulator's training mode).
"""

from __future__ import annotations

from typing import Protocol

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

SERVICE_NAME = "Aestheticc POS GoCardless"
ENVIRONMENTS = ("sandbox", "live")
NO_KEYRING = (
    "This computer has no password store (keyring), so the GoCardless token cannot be kept safely. "
    "The till works offline; ask your IT support to set one up."
)


class SecretStoreUnavailable(Exception):
    """The password store is missing, locked or refused; ``str(error)`` is a sentence for staff."""


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
        self._backend = backend

    def __repr__(self) -> str:
        return f"KeyringSecretStore(backend={type(self._keyring()).__name__})"

    def available(self) -> tuple[bool, str]:
        if _is_real(self._keyring()):
            return True, ""
        return False, NO_KEYRING

    def get_token(self, environment: str) -> str | None:
        _check(environment)
        with self._guard():
            return self._keyring().get_password(SERVICE_NAME, environment) or None

    def set_token(self, environment: str, token: str) -> None:
        _check(environment)
        token = token.strip()
        if not token:
            raise ValueError("an empty token cannot be kept; use delete_token to remove one")
        with self._guard():
            self._keyring().set_password(SERVICE_NAME, environment, token)

    def delete_token(self, environment: str) -> None:
        _check(environment)
        try:
            with self._guard():
                self._keyring().delete_password(SERVICE_NAME, environment)
        except SecretStoreUnavailable as exc:
            if isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                return  # nothing was kept: deleting is already done
            raise

    def _keyring(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def _guard(self) -> _KeyringGuard:
        if not _is_real(self._keyring()):
            raise SecretStoreUnavailable(NO_KEYRING)
        return _KeyringGuard()


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


class _KeyringGuard:
    """Turns keyring's own errors (locked, refused, no backend) into ``SecretStoreUnavailable``."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, keyring.errors.KeyringLocked):
            raise SecretStoreUnavailable(
                "The computer's password store is locked. Unlock it (log in again) and try once more."
            ) from exc
        if isinstance(exc, keyring.errors.KeyringError):
            raise SecretStoreUnavailable(
                "The computer's password store refused to keep or read the GoCardless token. "
                "Try again; if it keeps failing, ask your IT support."
            ) from exc
        return False


def _is_real(backend: KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


def _check(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {environment!r}")
