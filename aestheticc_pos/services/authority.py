"""Who may run each use case, checked before anything else, and running it again when another till got in the
way (DESIGN.md §4 "every service runs through the unit of work's retry", §7 the permission matrix).

Every public use case — a function of ``services/`` whose first parameter is ``services`` — is declared with
``@use_case(permission)``:

- an ``Action`` of ``domain.staff``: the acting staff member, named by the ``staff`` parameter (``staff_id`` by
  default), must exist, still work here, and have a role that allows it. This is checked first, in a short
  read of its own, so a refusal says *who may* before anything is parsed, priced or written. A use case on the
  till's hot path declares ``in_transaction=True`` instead and makes the same check itself, as the first read
  of its own unit of work (``permitted_staff_in``): one transaction, and the staff row it reads is the one it
  uses. The refusal is the same, and nothing is written;
- ``Audience.ANY_STAFF``: what everyone signed in may see (Today, a client's record, the catalogue…);
- ``Audience.TILL``: what the till runs for itself (start-up, the sync, the daily review, the demo).

A test walks every public use case and fails for one with no declaration, and calls every declared one as each
role that must not use it: refused, nothing written (``tests/integration/services/test_authority.py``).

Retry: a use case that meets a serialization failure or a deadlock (PostgreSQL), or a database that stayed
locked for the whole busy timeout (SQLite), is run again from the start, up to ``RETRIES`` more times, then
refused with ``ConcurrencyConflict`` (a sentence staff can act on). A use case that does anything but database
work (files, the keyring) declares ``retry=False``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from aestheticc_pos.domain.errors import ConcurrencyConflict, NotPermitted
from aestheticc_pos.domain.staff import Action, Role, require
from aestheticc_pos.store.db import is_retryable
from aestheticc_pos.store.tables import StaffRow

P = ParamSpec("P")
T = TypeVar("T")
RETRIES = 3
_staff = StaffRow.__table__.c
_STAFF = select(_staff.id, _staff.name, _staff.role, _staff.active).where(_staff.id == bindparam("id"))


class Audience(enum.StrEnum):
    """Use cases that need no particular action."""

    ANY_STAFF = "anyone signed in"
    TILL = "the till itself"


Permission = Action | Audience


def use_case(
    permission: Permission,
    *,
    staff: str = "staff_id",
    retry: bool = True,
    first_run: bool = False,
    in_transaction: bool = False,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Declare (and enforce) who may run the decorated use case; see the module docstring.

    ``first_run``: a missing staff member is allowed (the clinic's first manager is made before anyone can
    sign in); the use case itself refuses that once staff exist. ``in_transaction``: the use case checks
    ``permission`` itself with ``permitted_staff_in``, first thing in its unit of work.
    """

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        signature = inspect.signature(fn)
        if isinstance(permission, Action) and staff not in signature.parameters:
            raise TypeError(f"{fn.__qualname__} needs a {staff!r} parameter to check {permission.name}")

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            if isinstance(permission, Action) and not in_transaction:
                bound = signature.bind_partial(*args, **kwargs)
                services = bound.arguments.get("services", args[0] if args else None)
                staff_id = bound.arguments.get(staff)
                if staff_id is not None or not first_run:
                    require_permission(services, staff_id, permission)
            return _with_retries(fn, args, kwargs) if retry else fn(*args, **kwargs)

        run.permission = permission  # type: ignore[attr-defined]
        run.staff_parameter = staff  # type: ignore[attr-defined]
        return run

    return decorate


def require_permission(services: Any, staff_id: object, action: Action) -> Role:
    """Refuse (``NotPermitted``) unless ``staff_id`` names a working staff member whose role allows ``action``."""
    if not isinstance(staff_id, str) or not staff_id:
        raise NotPermitted("Sign in first: every change at the till is made by someone.")
    with services.uow(read_only=True) as uow:
        return Role(permitted_staff_in(uow.session, staff_id, action).role)


def permitted_staff_in(session: Session, staff_id: object, action: Action) -> Row[Any]:
    """``require_permission`` inside the caller's unit of work: the staff member (``id``, ``name``, ``role``),
    once their role is known to allow ``action`` (a use case declared ``in_transaction=True`` calls it before
    anything else)."""
    if not isinstance(staff_id, str) or not staff_id or "\x00" in staff_id:
        raise NotPermitted("Sign in first: every change at the till is made by someone.")
    row = session.execute(_STAFF, {"id": staff_id}).first()
    if row is None:
        raise NotPermitted("Sign in first: every change at the till is made by someone.")
    if not row.active:
        raise NotPermitted(f"{row.name} no longer works here, so they cannot {action.value}.")
    require(Role(row.role), action)
    return row


def permission_of(fn: Callable[..., Any]) -> Permission | None:
    """What a use case declared (None: nothing; the layers test refuses that)."""
    return getattr(fn, "permission", None)


def _with_retries(fn: Callable[P, T], args: Any, kwargs: Any) -> T:
    for attempt in range(RETRIES + 1):
        try:
            return fn(*args, **kwargs)
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            if attempt == RETRIES:
                raise ConcurrencyConflict(
                    "Another till was saving at the same moment and this could not be saved. Try again."
                ) from error
            time.sleep(0.05 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
