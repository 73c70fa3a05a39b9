"""Databases for integration tests: an SQLite file, and PostgreSQL when ``AESTHETICC_TEST_PG_URL`` names a server.

Every test that takes ``db_url`` (or a fixture built on it) runs once per backend. On PostgreSQL each test
gets a database of its own, created on the server and dropped afterwards, so tests never see each other's rows.

Fixtures: ``db_url`` (an empty database), ``migrated_url`` (at head), ``engine``, ``uow_factory``, and
``make_client_package`` (a client with a package whose steps have the given session counts).

``migrated_url`` is not migrated by the test: it is a copy of a database migrated once per run (an SQLite file
copied; on PostgreSQL ``CREATE DATABASE … TEMPLATE``). ``test_migrations.py`` runs the migrations on ``db_url``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from aestheticc_pos.store.db import create_engine_for, sqlite_path_from_url
from aestheticc_pos.store.migrate import upgrade_to_head
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    PackageRow,
    PackageStepRow,
    TreatmentRow,
    new_id,
)
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

PG_URL_ENV = "AESTHETICC_TEST_PG_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not os.environ.get(PG_URL_ENV), reason=f"set {PG_URL_ENV} to test on PostgreSQL"
            ),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'aestheticc.db'}"
    else:
        with fresh_postgres_database(os.environ[PG_URL_ENV]) as url:
            yield url


@pytest.fixture
def migrated_url(
    db_url: str, copy_migrated_sqlite: Callable[[Path], str], request: pytest.FixtureRequest
) -> str:
    """``db_url``'s database at head, as a copy of a database migrated once per run."""
    path = sqlite_path_from_url(db_url)
    if path is not None:
        copy_migrated_sqlite(path)
    else:  # asked for only here, so that a run without PostgreSQL never connects to it
        recreate_postgres_database(db_url, template=request.getfixturevalue("postgres_template"))
    return db_url


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of a database on the test server migrated to head once per run, for ``CREATE DATABASE … TEMPLATE``
    (nothing may be connected to it then: it is only ever copied)."""
    with fresh_postgres_database(os.environ[PG_URL_ENV]) as url:
        upgrade_to_head(url)  # closes its connections
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_engine_for(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine)


@pytest.fixture
def make_client_package(uow_factory: UnitOfWorkFactory) -> Callable[..., str]:
    """``make_client_package(3, 1)`` → the id of a new client package whose step 1 has 3 sessions and step 2 one."""

    def make(*sessions: int) -> str:
        today = dt.date(2026, 11, 24)
        treatment_id = new_id()
        steps = list(enumerate(sessions, start=1))
        with uow_factory() as uow:
            treatment = TreatmentRow(
                id=treatment_id,
                name="Microneedling",
                price_pence=25_000,
                currency="GBP",
                vat_rate_bp=2000,
                duration_minutes=60,
            )
            package = PackageRow(
                name="Course",
                price_pence=120_000,
                currency="GBP",
                vat_rate_bp=2000,
                validity_days=365,
                steps=[
                    PackageStepRow(position=i, treatment_id=treatment_id, name="Microneedling", sessions=n)
                    for i, n in steps
                ],
            )
            client = ClientRow(id=new_id(), first_name="Ada", last_name="Lovelace")
            uow.session.add_all([treatment, package, client])
            uow.session.flush()
            bought = ClientPackageRow(
                client_id=client.id,
                package_id=package.id,
                name=package.name,
                price_pence=package.price_pence,
                currency="GBP",
                vat_rate_bp=2000,
                validity_days=365,
                purchased_on=today,
                expires_on=today + dt.timedelta(days=365),
                status="active",
                sessions_sold=sum(n for _, n in steps),
                steps=[
                    ClientPackageStepRow(
                        position=i,
                        treatment_id=treatment_id,
                        name="Microneedling",
                        sessions=n,
                        package_id=package.id,
                    )
                    for i, n in steps
                ],
            )
            uow.session.add(bought)
            uow.commit()
            return bought.id

    return make


def recreate_postgres_database(url: str, *, template: str) -> None:
    """Replace the database of ``url`` (nothing connected to it) with a copy of the database ``template``."""
    name = make_url(url).database
    admin = create_engine(os.environ[PG_URL_ENV], isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        admin.dispose()


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server at ``server_url``; drop it (and its connections) after."""
    name = f"aestheticc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
