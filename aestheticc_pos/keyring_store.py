"""Secrets in the OS password store (``keyring``), behind small ports with working in-memory fakes (DESIGN.md §7).

Three kinds of secret live there and nowhere else (never the database, a settings file or a log): the GoCardless
access token per environment (``sync/secrets.py``), and the passwords of the clinic's PostgreSQL server and of
its mail server (here).
What both share is here too: what "no password store" means, and keyring's errors turned into
``SecretStoreUnavailable``, whose text is a sentence for staff. There is no plain-text fallback.

The database password is kept under the service ``DATABASE_SERVICE`` and the user name
``settings.database_login(url)`` ("till@192.168.1.10:5432/clinic"), so each server and login has its own.
"""

from __future__ import annotations

from typing import Protocol

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

DATABASE_SERVICE = "Aestheticc POS database"
MAIL_SERVICE = "Aestheticc POS email"
NO_KEYRING_FOR_DATABASE = (
    "This computer has no password store (keyring), so the database password cannot be kept safely. "
    "Ask your IT support to set one up, or use a server login that needs no password here."
)


NO_KEYRING_FOR_MAIL = (
    "This computer has no password store (keyring), so the email password cannot be kept safely. "
    "Ask your IT support to set one up, or use a mail server that needs no password from this till."
)


class SecretStoreUnavailable(Exception):
    """The password store is missing, locked or refused; ``str(error)`` is a sentence for staff."""


def keyring_is_real(backend: KeyringBackend) -> bool:
    """Whether ``backend`` keeps secrets (keyring's "fail" and "null" backends, or a chain of none, do not)."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


class KeyringEntries:
    """Secrets kept under one keyring service, by name: what both stores do with the OS password store.

    ``backend`` defaults to whatever ``keyring`` chose for this computer (read on every call, so
    ``keyring.set_keyring`` takes effect at once). Every method raises ``SecretStoreUnavailable`` (with
    ``no_keyring``, or a sentence naming ``what``), nothing else from keyring.
    """

    def __init__(
        self, service: str, *, no_keyring: str, what: str, backend: KeyringBackend | None = None
    ) -> None:
        self.service = service
        self._no_keyring = no_keyring
        self._what = what
        self._backend = backend

    def backend_name(self) -> str:
        return type(self._keyring()).__name__

    def available(self) -> tuple[bool, str]:
        return (True, "") if keyring_is_real(self._keyring()) else (False, self._no_keyring)

    def get(self, name: str) -> str | None:
        with self._guard():
            return self._keyring().get_password(self.service, name) or None

    def set(self, name: str, secret: str) -> None:
        with self._guard():
            self._keyring().set_password(self.service, name, secret)

    def delete(self, name: str) -> None:
        """Forget the secret; deleting one that was never kept is already done."""
        try:
            with self._guard():
                self._keyring().delete_password(self.service, name)
        except SecretStoreUnavailable as exc:
            if isinstance(exc.__cause__, keyring.errors.PasswordDeleteError):
                return
            raise

    def _keyring(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def _guard(self) -> _KeyringGuard:
        if not keyring_is_real(self._keyring()):
            raise SecretStoreUnavailable(self._no_keyring)
        return _KeyringGuard(self._what)


class _KeyringGuard:
    """Turns keyring's own errors (locked, refused, no backend) into ``SecretStoreUnavailable``."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, keyring.errors.KeyringLocked):
            raise SecretStoreUnavailable(
                "The computer's password store is locked. Unlock it (log in again) and try once more."
            ) from exc
        if isinstance(exc, keyring.errors.KeyringError):
            raise SecretStoreUnavailable(
                f"The computer's password store refused to keep or read {self._what}. "
                "Try again; if it keeps failing, ask your IT support."
            ) from exc
        return False


class DatabasePasswords(Protocol):
    """A password per login ("user@host:port/database" for PostgreSQL, "user@host:port" for the mail server).
    Raises ``SecretStoreUnavailable`` only."""

    def available(self) -> tuple[bool, str]:
        """(True, "") when passwords can be kept, else (False, a sentence saying why and what to do)."""
        ...

    def get_password(self, login: str) -> str | None: ...

    def set_password(self, login: str, password: str) -> None: ...

    def delete_password(self, login: str) -> None: ...


Passwords = DatabasePasswords  # the same port, for any login the till keeps a password for


class KeyringPasswords:
    """Passwords per login under one keyring service; ``backend`` defaults to keyring's choice for this computer."""

    def __init__(
        self, service: str, *, no_keyring: str, what: str, backend: KeyringBackend | None = None
    ) -> None:
        self._entries = KeyringEntries(service, no_keyring=no_keyring, what=what, backend=backend)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self._entries.backend_name()})"

    def available(self) -> tuple[bool, str]:
        return self._entries.available()

    def get_password(self, login: str) -> str | None:
        return self._entries.get(_login(login))

    def set_password(self, login: str, password: str) -> None:
        if not password:
            raise ValueError("an empty password cannot be kept; use delete_password to remove one")
        self._entries.set(_login(login), password)

    def delete_password(self, login: str) -> None:
        self._entries.delete(_login(login))


class KeyringDatabasePasswords(KeyringPasswords):
    """Database passwords in the OS password store."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        super().__init__(
            DATABASE_SERVICE,
            no_keyring=NO_KEYRING_FOR_DATABASE,
            what="the database password",
            backend=backend,
        )


class KeyringMailPasswords(KeyringPasswords):
    """The clinic's mail server password in the OS password store."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        super().__init__(
            MAIL_SERVICE, no_keyring=NO_KEYRING_FOR_MAIL, what="the email password", backend=backend
        )


class MemoryDatabasePasswords:
    """A working fake: passwords in a dict. ``available=False`` plays a computer with no password store."""

    def __init__(
        self,
        passwords: dict[str, str] | None = None,
        *,
        available: bool = True,
        no_keyring: str = NO_KEYRING_FOR_DATABASE,
    ) -> None:
        self.passwords = dict(passwords or {})
        self._available = available
        self._no_keyring = no_keyring

    def __repr__(self) -> str:
        return f"MemoryDatabasePasswords(logins={sorted(self.passwords)})"

    def available(self) -> tuple[bool, str]:
        return (True, "") if self._available else (False, self._no_keyring)

    def get_password(self, login: str) -> str | None:
        self._require()
        return self.passwords.get(_login(login))

    def set_password(self, login: str, password: str) -> None:
        self._require()
        if not password:
            raise ValueError("an empty password cannot be kept; use delete_password to remove one")
        self.passwords[_login(login)] = password

    def delete_password(self, login: str) -> None:
        self._require()
        self.passwords.pop(_login(login), None)

    def _require(self) -> None:
        if not self._available:
            raise SecretStoreUnavailable(self._no_keyring)


MemoryPasswords = MemoryDatabasePasswords


def _login(login: str) -> str:
    if not login:
        raise ValueError("a password is kept for a login (user@host)")
    return login
