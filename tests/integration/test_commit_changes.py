"""A committed unit of work tells its listeners which tables it wrote; a rolled-back or read-only one says nothing."""

from __future__ import annotations

from sqlalchemy import update

from aestheticc_pos.store.tables import ClientPackageStepRow, ClientRow, new_id
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory


def _client(uow_factory: UnitOfWorkFactory, *, commit: bool) -> str:
    client_id = new_id()
    with uow_factory() as uow:
        uow.session.add(ClientRow(id=client_id, first_name="Ada", last_name="Lovelace"))
        uow.session.flush()
        if commit:
            uow.commit()
    return client_id


def test_a_commit_names_the_tables_it_wrote_and_nothing_else_is_heard(
    uow_factory, make_client_package
) -> None:
    heard: list[frozenset[str]] = []
    uow_factory.on_commit(heard.append)

    _client(uow_factory, commit=True)
    assert heard == [frozenset({"clients"})]

    _client(uow_factory, commit=False)  # rolled back: nobody is told
    with uow_factory(read_only=True) as uow:
        uow.session.get(ClientRow, "nobody")
    assert heard == [frozenset({"clients"})]

    package_id = make_client_package(3)
    heard.clear()
    with uow_factory() as uow:  # a statement, not an object: still heard
        uow.session.execute(
            update(ClientPackageStepRow)
            .where(ClientPackageStepRow.client_package_id == package_id)
            .values(reserved=ClientPackageStepRow.reserved + 1)
        )
        uow.commit()
    assert heard == [frozenset({"client_package_steps"})]

    heard.clear()
    with uow_factory() as uow:  # a statement that changed no row wrote nothing: nobody is told
        uow.session.execute(update(ClientRow).where(ClientRow.id == "nobody").values(first_name="Grace"))
        uow.commit()
    assert heard == []


def test_a_listener_that_fails_never_undoes_the_commit(uow_factory) -> None:
    def broken(_tables: frozenset[str]) -> None:
        raise RuntimeError("the screen is gone")

    uow_factory.on_commit(broken)
    client_id = _client(uow_factory, commit=True)
    with uow_factory(read_only=True) as uow:
        assert uow.session.get(ClientRow, client_id) is not None
