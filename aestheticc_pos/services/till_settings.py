"""What a manager sets up on this till, outside the clinic's data: the GoCardless token and environment, and
which database the till uses (DESIGN.md §7: only a manager; the secrets go to the OS keyring, never a file).

These are use cases like any other: the permission is checked in the service, whatever the screen shows, and
each change is written to the audit log (which environment, which server — never a token or a password).

The till's link to GoCardless is a port (``GoCardlessLink``), so this module never imports ``sync/``: the app
hands in its ``SyncConnection``, tests a small working fake. Where the computer's password store refuses, the
change is refused with its sentence and nothing else is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.keyring_store import DatabasePasswords, SecretStoreUnavailable
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import (
    POSTGRESQL_PREFIX,
    database_login,
    postgresql_url_problem,
    redact_url,
    split_password,
    write_database_url,
    write_gocardless_environment,
)
from aestheticc_pos.store.audit_repo import append_audit

ENVIRONMENTS = ("sandbox", "live")


class GoCardlessLink(Protocol):
    """The till's connection to GoCardless: which environment it syncs with, and the token kept for each."""

    @property
    def environment(self) -> str: ...

    def set_environment(self, environment: str) -> None: ...

    def save_token(self, environment: str, token: str) -> None: ...

    def remove_token(self, environment: str) -> None: ...


def token_problem(token: str) -> str:
    """Why ``token`` cannot be a GoCardless access token, as a sentence; "" when it can."""
    if not token:
        return "Paste the access token first."
    if any(c.isspace() for c in token):
        return "An access token has no spaces: copy it again from GoCardless."
    if len(token) < 20:
        return "That is too short for a GoCardless access token: copy the whole token."
    if not token.isascii() or not token.isprintable():
        return "That is not a GoCardless access token: copy it again from GoCardless."
    return ""


@use_case(Action.MANAGE_GOCARDLESS, retry=False)
def save_gocardless_token(services: Services, link: GoCardlessLink, token: str, staff_id: str) -> str:
    """Keep ``token`` for the link's current environment in the keyring and reconnect. Returns the environment."""
    token = token.strip() if isinstance(token, str) else ""
    problem = token_problem(token)
    if problem:
        raise InvalidInput(problem)
    environment = link.environment
    try:
        link.save_token(environment, token)
    except SecretStoreUnavailable as error:
        raise RuleViolation(str(error)) from None
    _audit(services, staff_id, "gocardless.token_saved", "gocardless", environment, {})
    return environment


@use_case(Action.MANAGE_GOCARDLESS, retry=False)
def remove_gocardless_token(services: Services, link: GoCardlessLink, staff_id: str) -> str:
    """Forget the token of the link's current environment; the till stops syncing. Returns the environment."""
    environment = link.environment
    try:
        link.remove_token(environment)
    except SecretStoreUnavailable as error:
        raise RuleViolation(str(error)) from None
    _audit(services, staff_id, "gocardless.token_removed", "gocardless", environment, {})
    return environment


@use_case(Action.MANAGE_GOCARDLESS, retry=False)
def choose_gocardless_environment(
    services: Services, link: GoCardlessLink, data_dir: Path | None, environment: str, staff_id: str
) -> bool:
    """Sync with ``environment`` ("live" or "sandbox") from now on, and at every start (kept in settings.json
    when ``data_dir`` is given). Returns whether anything changed."""
    if environment not in ENVIRONMENTS:
        raise InvalidInput("Choose the live or the sandbox environment.")
    before = link.environment
    if environment == before:
        return False
    if data_dir is not None:
        _write(lambda: write_gocardless_environment(data_dir, environment))
    link.set_environment(environment)
    details = {"from": before, "to": environment}
    _audit(services, staff_id, "gocardless.environment_changed", "gocardless", environment, details)
    return True


@use_case(Action.CHANGE_DATABASE, retry=False)
def change_database(
    services: Services,
    data_dir: Path,
    url: str,
    staff_id: str,
    passwords: DatabasePasswords | None = None,
) -> str:
    """Use the PostgreSQL server at ``url`` from the next start ("" for this PC's own database again).

    A password in ``url`` goes to the keyring (``passwords``, by default the OS's), never to settings.json.
    Audited in the database in use now, with the address only. Returns the address as it may be shown.
    """
    url = url.strip() if isinstance(url, str) else ""
    if url:
        problem = postgresql_url_problem(url) or _control_character_problem(url)
        if problem:
            raise InvalidInput(problem)
    _write(lambda: write_database_url(data_dir, url, passwords))
    shown = redact_url(split_password(url)[0]) if url else "this PC's own database"
    details = {"to": shown} if url else {"to": "this PC"}
    _audit(services, staff_id, "database.url_changed", "database", database_login(url) or "local", details)
    return shown


def _control_character_problem(url: str) -> str:
    if url.startswith(POSTGRESQL_PREFIX) and (not url.isprintable() or any(c.isspace() for c in url)):
        return "A server address has no spaces or hidden characters: type it again."
    return ""


def _write(action: Callable[[], None]) -> None:
    """Run a write to the data folder; a full disk or a locked folder becomes a sentence."""
    try:
        action()
    except OSError:
        raise RuleViolation(
            "The setting could not be saved in this computer's data folder. Check there is free space and try again."
        ) from None


def _audit(
    services: Services, staff_id: str, action: str, record_type: str, record_id: str, details: dict[str, str]
) -> None:
    with services.uow() as uow:
        append_audit(
            uow.session,
            at=services.now(),
            staff_id=staff_id,
            action=action,
            record_type=record_type,
            record_id=record_id,
            details=details,
        )
        uow.commit()
