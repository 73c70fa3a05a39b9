"""The store's guarantees on a real database: pragmas, UTC timestamps, the session counters and their CHECK,
gap-free numbers, retries, and index-backed client search."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import psycopg.errors
import pytest
from sqlalchemy import Engine, Select, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from aestheticc_pos.domain.catalogue import (
    BenefitsStart,
    DepositKind,
    DepositRule,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.errors import ConcurrencyConflict, InvalidInput, NoSessionsRemaining, NotFound
from aestheticc_pos.domain.money import Money
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.db import create_engine_for, is_retryable
from aestheticc_pos.store.tables import (
    ClientPackageStepRow,
    ClientRow,
    SettingRow,
    StaffRow,
    client_search_columns,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork, UnitOfWorkFactory, run_in_transaction

# --- SQLite set-up ------------------------------------------------------------------------------------------


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine_for(f"sqlite:///{tmp_path / 'till.db'}")
    try:
        with engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 10_000
            assert pragma("cache_size") == -4096  # 4 MiB
            assert pragma("mmap_size") == 0  # a mapped page would count in memory once per connection
            assert pragma("temp_store") == 2  # MEMORY
    finally:
        engine.dispose()


def test_sqlite_writers_take_the_write_lock_at_begin_and_readers_never_wait(migrated_url: str) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("SQLite's locking")
    engine = create_engine_for(migrated_url)
    other = sqlite3.connect(migrated_url.removeprefix("sqlite:///"), timeout=0.1, isolation_level=None)
    factory = UnitOfWorkFactory(engine)
    try:
        with factory() as writer:
            writer.session.execute(select(1))  # only reads, yet already holds the write lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            with factory(read_only=True) as reader:
                assert reader.session.scalar(select(1)) == 1
        other.execute("BEGIN IMMEDIATE")  # free again once the unit of work ended
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


# --- Rows ---------------------------------------------------------------------------------------------------


def test_timestamps_come_back_as_the_same_moment_in_utc(uow_factory: UnitOfWorkFactory) -> None:
    london_summer = dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London"))
    with uow_factory() as uow:
        staff = _staff(locked_until=london_summer)
        uow.session.add(staff)
        uow.commit()
    with uow_factory() as uow:
        locked_until = uow.session.get(StaffRow, staff.id).locked_until  # type: ignore[union-attr]
    assert locked_until == london_summer
    assert locked_until.tzinfo == dt.UTC
    assert locked_until.hour == 8


def test_a_naive_timestamp_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.session.add(_staff(locked_until=dt.datetime(2026, 7, 1, 9, 30)))
        with pytest.raises(StatementError, match="naive datetime"):
            uow.session.flush()


def test_a_nul_character_is_refused_with_a_sentence_on_both_databases(migrated_url: str) -> None:
    """PostgreSQL cannot keep a NUL in text; the engine refuses it before the server sees it, reads and writes
    alike, and the connection goes on working. SQLite keeps it as it is."""
    engine = create_engine_for(migrated_url)
    try:
        with engine.begin() as connection:
            read = select(StaffRow.id).where(StaffRow.id == "a\x00b")
            write = insert(SettingRow).values(key="note", value="a\x00b")
            if engine.dialect.name == "postgresql":
                with pytest.raises(InvalidInput, match="hidden character"):
                    connection.execute(read)
                with pytest.raises(InvalidInput, match="hidden character"):
                    connection.execute(write)
                connection.execute(insert(SettingRow), [{"key": "ok", "value": "1"}])
                with pytest.raises(InvalidInput):
                    connection.execute(
                        insert(SettingRow), [{"key": "a", "value": "2"}, {"key": "b\x00", "value": ""}]
                    )
            else:
                assert connection.execute(read).first() is None
                connection.execute(write)
            assert connection.execute(select(SettingRow.key)).scalars().all()
    finally:
        engine.dispose()


def test_the_database_refuses_a_negative_remaining(
    uow_factory: UnitOfWorkFactory, make_client_package: Callable[..., str]
) -> None:
    package_id = make_client_package(1)
    with uow_factory() as uow, pytest.raises(IntegrityError, match="remaining_not_negative"):
        uow.session.execute(
            update(ClientPackageStepRow)
            .where(ClientPackageStepRow.client_package_id == package_id)
            .values(redeemed=1, reserved=1)
        )
    with uow_factory() as uow, pytest.raises(IntegrityError, match="reserved_not_negative"):
        uow.session.execute(
            update(ClientPackageStepRow)
            .where(ClientPackageStepRow.client_package_id == package_id)
            .values(reserved=-1)
        )


# --- Session counters ---------------------------------------------------------------------------------------


def test_sessions_are_reserved_redeemed_released_and_voided_by_conditional_updates(
    uow_factory: UnitOfWorkFactory, make_client_package: Callable[..., str]
) -> None:
    package_id = make_client_package(2)
    with uow_factory() as uow:
        assert uow.reserve_sessions(package_id, 1).remaining == 1
        assert uow.reserve_sessions(package_id, 1).remaining == 0
        with pytest.raises(NoSessionsRemaining):
            uow.reserve_sessions(package_id, 1)
        with pytest.raises(NoSessionsRemaining):
            uow.redeem_sessions(package_id, 1)

        counts = uow.redeem_sessions(package_id, 1, from_reserved=True)
        assert (counts.reserved, counts.redeemed, counts.remaining) == (1, 1, 0)
        assert uow.release_sessions(package_id, 1).remaining == 1
        with pytest.raises(ConcurrencyConflict):
            uow.release_sessions(package_id, 1)
        assert uow.void_redemption(package_id, 1).remaining == 2
        with pytest.raises(ConcurrencyConflict):
            uow.void_redemption(package_id, 1)

        step = uow.lock_client_package_step(package_id, 1)  # the session sees the counters as they are now
        assert (step.redeemed, step.reserved, step.remaining) == (0, 0, 2)
        uow.commit()


def test_adjustments_and_refunds_never_take_remaining_below_zero(
    uow_factory: UnitOfWorkFactory, make_client_package: Callable[..., str]
) -> None:
    package_id = make_client_package(3, 1)
    with uow_factory() as uow:
        assert uow.adjust_sessions(package_id, 1, +1).remaining == 4
        assert uow.adjust_sessions(package_id, 1, -2).remaining == 2
        with pytest.raises(NoSessionsRemaining):
            uow.adjust_sessions(package_id, 1, -3)
        with pytest.raises(NoSessionsRemaining):
            uow.refund_sessions(package_id, 1, 3)
        assert uow.refund_sessions(package_id, 1, 2).remaining == 0
        assert uow.refund_sessions(package_id, 2, 1).refunded == 1
        uow.commit()


def test_a_refused_change_leaves_the_counters_alone_and_an_unknown_step_is_not_found(
    uow_factory: UnitOfWorkFactory, make_client_package: Callable[..., str]
) -> None:
    package_id = make_client_package(1)
    with uow_factory() as uow:
        uow.redeem_sessions(package_id, 1)
        with pytest.raises(NoSessionsRemaining):
            uow.redeem_sessions(package_id, 1)
        with pytest.raises(NotFound):
            uow.redeem_sessions(package_id, 2)
        with pytest.raises(NotFound):
            uow.lock_client_package_step("no-such-package", 1)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        step = uow.session.get(ClientPackageStepRow, (package_id, 1))
        assert step is not None and (step.redeemed, step.remaining) == (1, 0)


# --- Catalogue rows ↔ domain values -------------------------------------------------------------------------


def test_the_catalogue_round_trips_through_its_rows(uow_factory: UnitOfWorkFactory) -> None:
    gbp = lambda pence: Money(pence, "GBP")  # noqa: E731
    consult = Treatment("t-consult", "Consultation", gbp(0), vat_rate_bp=0, duration_minutes=15)
    botox = Treatment(
        "t-botox", "Botox", gbp(25_000), deposit_rule=DepositRule(DepositKind.FIXED, gbp(5_000))
    )
    peel = Treatment(
        "t-peel", "Peel", gbp(9_000), deposit_rule=DepositRule(DepositKind.PERCENT, percent_bp=2500)
    )
    serum = Product("p-serum", "Serum", gbp(4_500), active=False)
    starter = Package(
        "k-starter",
        "Botox starter",
        gbp(30_000),
        validity_days=90,
        description="Consultation, treatment, review",
        steps=(
            PackageStep(1, "t-consult", "Consultation"),
            PackageStep(2, "t-botox", "Botox", min_days_after_previous=2),
            PackageStep(3, "t-consult", "Consultation", min_days_after_previous=14),
        ),
    )
    gold = Tier(
        "tier-gold", "Gold", gbp(4_900), 2000, covers_products=True, benefits_start=BenefitsStart.SIGN_UP
    )
    with uow_factory() as uow:
        for treatment in (consult, botox, peel):
            catalogue_repo.save_treatment(uow.session, treatment)
        catalogue_repo.save_product(uow.session, serum)
        catalogue_repo.save_package(uow.session, starter)
        catalogue_repo.save_tier(uow.session, gold)
        uow.commit()

    with uow_factory(read_only=True) as uow:
        assert catalogue_repo.load_treatment(uow.session, "t-botox") == botox
        assert catalogue_repo.list_treatments(uow.session) == [botox, consult, peel]
        assert catalogue_repo.list_products(uow.session, active_only=True) == []
        assert catalogue_repo.load_product(uow.session, "p-serum") == serum
        assert catalogue_repo.load_package(uow.session, "k-starter") == starter
        assert catalogue_repo.list_tiers(uow.session) == [gold]
        with pytest.raises(NotFound):
            catalogue_repo.load_package(uow.session, "k-missing")

    shorter = dataclasses.replace(
        starter, price=gbp(27_500), steps=(PackageStep(1, "t-botox", "Botox", sessions=2),)
    )
    with uow_factory() as uow:
        catalogue_repo.save_package(uow.session, shorter)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert catalogue_repo.list_packages(uow.session, active_only=True) == [shorter]


# --- Gap-free numbers ---------------------------------------------------------------------------------------


def test_numbers_are_gap_free_and_unique_across_threads_even_when_transactions_roll_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    threads, per_thread = 4, 12
    committed: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def till(index: int) -> None:
        try:
            start.wait()
            for attempt in range(per_thread):
                with uow_factory() as uow:
                    number = uow.next_number("sale:A", "A-{n:06d}")
                    uow.session.add(SettingRow(key=f"sale {number}", value=f"{index}/{attempt}"))
                    if attempt % 3 == 2:
                        continue  # abandoned: rolled back, so its number is handed out again
                    uow.commit()
                    committed.append(number)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    workers = [threading.Thread(target=till, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    expected = threads * per_thread * 2 // 3
    assert sorted(committed) == [f"A-{n:06d}" for n in range(1, expected + 1)]
    with uow_factory() as uow:
        assert uow.next_number("sale:A", "A-{n:06d}") == f"A-{expected + 1:06d}"
        assert uow.next_number("invoice:2026", "INV-2026-{n:04d}") == "INV-2026-0001"


# --- Retries ------------------------------------------------------------------------------------------------


def test_serialization_failures_and_a_locked_database_are_retryable() -> None:
    assert is_retryable(_wrapped(psycopg.errors.SerializationFailure("could not serialize access")))
    assert is_retryable(_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")))
    assert is_retryable(_wrapped(sqlite3.OperationalError("database is locked")))
    assert not is_retryable(_wrapped(psycopg.errors.UniqueViolation("duplicate key")))
    assert not is_retryable(_wrapped(sqlite3.OperationalError("no such table: sales")))
    assert not is_retryable(ValueError("database is locked"))


def test_run_in_transaction_retries_then_gives_staff_a_sentence(uow_factory: UnitOfWorkFactory) -> None:
    calls: list[int] = []

    def flaky(uow: UnitOfWork) -> str:
        calls.append(1)
        uow.session.add(SettingRow(key=f"try {len(calls)}", value="x"))
        if len(calls) < 3:
            raise _wrapped(sqlite3.OperationalError("database is locked"))
        return "saved"

    assert run_in_transaction(uow_factory, flaky, sleep=lambda _: None) == "saved"
    with uow_factory() as uow:
        assert uow.session.scalars(select(SettingRow.key)).all() == ["try 3"]  # the failed tries rolled back

    def always_locked(uow: UnitOfWork) -> None:
        raise _wrapped(sqlite3.OperationalError("database is locked"))

    with pytest.raises(ConcurrencyConflict, match="Try again"):
        run_in_transaction(uow_factory, always_locked, retries=2, sleep=lambda _: None)


# --- Client search ------------------------------------------------------------------------------------------


def test_client_search_columns_are_derived_on_every_write(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        client = ClientRow(
            first_name="Élodie", last_name="O'Neil", email="Elodie@Example.com", phone="+44 7700 900123"
        )
        uow.session.add(client)
        uow.commit()
        assert (client.search_name, client.search_name_reversed) == ("elodie o'neil", "o'neil elodie")
        assert (client.search_email, client.phone_digits) == ("elodie@example.com", "07700900123")

        client.last_name = "Dupont"
        client.phone = None
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.session.get(ClientRow, client.id)
        assert stored is not None
        assert (stored.search_name_reversed, stored.phone_digits) == ("dupont elodie", None)


def test_a_page_of_a_client_search_reads_one_covering_index_in_order(engine: Engine) -> None:
    with engine.begin() as connection:  # some rows, so that the planner has something to weigh
        connection.execute(
            insert(ClientRow),
            [
                {
                    "id": str(n),
                    "first_name": "A",
                    "last_name": f"{n}",
                    "notes": "",
                    "marketing_consent": False,
                }
                | {"created_at": dt.datetime.now(dt.UTC), "updated_at": dt.datetime.now(dt.UTC)}
                | client_search_columns("A", f"{n}", f"a{n}@b.test", f"0770090{n:04d}")
                for n in range(200)
            ],
        )
    for column, index in (
        ("search_name", "ix_clients_first_name_key"),
        ("search_name_reversed", "ix_clients_surname_key"),
        ("search_email", "ix_clients_email_key"),
        ("phone_digits", "ix_clients_phone_key"),
    ):
        key = getattr(ClientRow, column)
        page = (
            select(ClientRow.id)
            .where(ClientRow.anonymised_at.is_(None), key.like("smi\\_th%", escape="\\"))
            .order_by(key, ClientRow.id)
            .limit(50)
        )
        plan = _explain(engine, page)
        assert "SCAN clients" not in plan and "Seq Scan" not in plan, plan
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # the index gives the list order


def _explain(engine: Engine, query: Select[Any]) -> str:
    """The query plan, with the query's parameters bound as the app binds them."""
    with engine.connect() as connection:
        compiled = query.compile(
            connection
        )  # after connecting: PostgreSQL's string quoting depends on the server
        if engine.dialect.name == "sqlite":
            params = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            return " ".join(row[-1] for row in rows)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a near-empty table is cheaper to scan
        return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))


def _staff(**values: object) -> StaffRow:
    return StaffRow(name="Sam", role="receptionist", pin_hash="h", pin_salt="s", **values)


def _wrapped(error: Exception) -> OperationalError:
    return OperationalError("UPDATE …", {}, error)
