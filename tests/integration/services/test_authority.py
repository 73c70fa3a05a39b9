"""Authority belongs to the services (DESIGN.md §7): every public use case declares who may run it, and each one
that needs an action is refused — with nothing written — for every role the permission matrix does not allow.

A public use case is a function of ``aestheticc_pos/services/`` whose first parameter is ``services`` (functions
named ``…_in`` run inside their caller's use case and are covered by it). A new service without a declaration
fails here, so none can forget it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text, update

import aestheticc_pos.services as services_package
from aestheticc_pos.domain.errors import NotPermitted
from aestheticc_pos.domain.staff import Action, Role, can
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.authority import Audience, permission_of
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import StaffRow


def _use_cases() -> Iterator[tuple[str, Callable[..., Any]]]:
    for module_info in pkgutil.iter_modules(services_package.__path__):
        if module_info.name == "authority":  # the check itself
            continue
        module = importlib.import_module(f"{services_package.__name__}.{module_info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or getattr(inspect.unwrap(fn), "__module__", None) != module.__name__:
                continue
            parameters = list(inspect.signature(fn).parameters)
            if parameters[:1] == ["services"]:
                yield f"{module_info.name}.{name}", fn


USE_CASES = dict(_use_cases())
GUARDED = {name: fn for name, fn in USE_CASES.items() if isinstance(permission_of(fn), Action)}


def test_the_services_have_use_cases_to_check() -> None:
    assert len(USE_CASES) > 60 and len(GUARDED) > 40


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_every_public_use_case_declares_who_may_run_it(name: str) -> None:
    permission = permission_of(USE_CASES[name])
    assert isinstance(permission, Action | Audience), (
        f"{name} has no permission decision (services/authority.py)"
    )


@pytest.fixture
def team(services: Services) -> dict[Role, str]:
    manager = staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="135790", by_staff_id=None
    ).id
    team = {Role.MANAGER: manager}
    for role, name in ((Role.RECEPTIONIST, "Rita Reception"), (Role.PRACTITIONER, "Pat Practitioner")):
        team[role] = staff_service.add_staff(
            services, name=name, role=role, pin="2468", by_staff_id=manager
        ).id
    return team


def _fingerprint(services: Services) -> str:
    """Every row of every table, hashed: equal before and after means nothing was written."""
    digest = hashlib.sha256()
    with services.uow(read_only=True) as uow:
        connection = uow.session.connection()
        for table in sorted(sa_inspect(connection).get_table_names()):
            for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):  # noqa: S608
                digest.update(repr((table, tuple(row))).encode())
    return digest.hexdigest()


def _call_as(fn: Callable[..., Any], services: Services, staff_id: str) -> Any:
    """Call ``fn`` as ``staff_id`` with placeholder arguments: the permission is checked before they are read."""
    staff_parameter = fn.staff_parameter  # type: ignore[attr-defined]
    args: list[Any] = [services]
    kwargs: dict[str, Any] = {}
    for parameter in list(inspect.signature(fn).parameters.values())[1:]:
        if parameter.name == staff_parameter:
            value: Any = staff_id
        elif parameter.default is not inspect.Parameter.empty or parameter.kind is parameter.VAR_KEYWORD:
            continue
        else:
            value = "placeholder"
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and not kwargs:
            args.append(value)
        else:
            kwargs[parameter.name] = value
    return fn(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_a_role_the_matrix_does_not_allow_is_refused_and_nothing_is_written(
    name: str, services: Services, team: dict[Role, str]
) -> None:
    fn = GUARDED[name]
    action = permission_of(fn)
    assert isinstance(action, Action)
    refused = [role for role in Role if not can(role, action)]
    before = _fingerprint(services)
    for role in refused:
        with pytest.raises(NotPermitted) as refusal:
            _call_as(fn, services, team[role])
        assert str(refusal.value).startswith("Only a manager")
        assert _fingerprint(services) == before, f"{name} wrote something for a {role.value}"


@pytest.mark.parametrize("name", ["clients.add_client", "catalogue.add_treatment", "checkout.complete_sale"])
def test_someone_who_left_or_never_signed_in_is_refused(
    name: str, services: Services, team: dict[Role, str]
) -> None:
    fn = GUARDED[name]
    with services.uow() as uow:
        uow.session.execute(update(StaffRow).where(StaffRow.id == team[Role.MANAGER]).values(active=False))
        uow.commit()
    before = _fingerprint(services)
    with pytest.raises(NotPermitted, match="no longer works here"):
        _call_as(fn, services, team[Role.MANAGER])
    for nobody in ("", "no-such-person"):
        with pytest.raises(NotPermitted, match="Sign in first"):
            _call_as(fn, services, nobody)
    assert _fingerprint(services) == before
    with services.uow(read_only=True) as uow:
        assert uow.session.scalar(select(StaffRow.active).where(StaffRow.id == team[Role.MANAGER])) is False
