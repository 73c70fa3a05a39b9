"""Backing up and restoring the clinic's SQLite database from the Settings screen (manager only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from staffing import front_desk

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.catalogue import ItemKind, Product
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import NotPermitted, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import audit, backups
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.backup import DEFAULT_KEEP, InvalidBackup, list_backups
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Backups from the app are for the embedded SQLite file (PostgreSQL is refused: see below)."""
    return f"sqlite:///{tmp_path / 'data' / 'aestheticc.db'}"


@pytest.fixture
def app_settings(migrated_url: str, tmp_path: Path) -> AppSettings:
    return AppSettings(data_dir=tmp_path / "data", database_url=migrated_url)


@pytest.fixture
def uow_factory(engine, tmp_path: Path) -> UnitOfWorkFactory:
    """Wired as the app wires it: the number floor and the audit head are kept in the data folder."""
    return UnitOfWorkFactory(engine, data_dir=tmp_path / "data")


SERUM = BasketItem(ItemKind.PRODUCT, "p-serum")


@pytest.fixture
def sell(services: Services, receptionist: str):
    """``sell()`` → the number of a new cash sale of a serum at the till."""
    with services.uow() as uow:
        catalogue_repo.save_product(
            uow.session, Product(id="p-serum", name="Serum", price=Money.parse("45.00"))
        )
        uow.commit()

    def sale() -> str:
        payment = Payment(TenderKind.CASH, "45.00")
        return complete_sale(
            services, client_id=None, items=[SERUM], payments=[payment], staff_id=receptionist
        ).number

    return sale


def test_after_a_restore_numbering_carries_on_above_every_receipt_and_invoice_printed(
    services: Services,
    app_settings: AppSettings,
    manager: str,
    receptionist: str,
    clock: FixedClock,
    sell,
) -> None:
    ada = clients_service.add_client(services, staff_id=receptionist, first_name="Ada", last_name="Lovelace")
    assert sell() == "A-000001"
    taken = backups.back_up_now(services, app_settings, manager)
    clock.advance(minutes=5)
    later = [sell() for _ in range(20)]
    draft = invoices_service.create_invoice_draft(
        services, client_id=ada.id, items=[SERUM], staff_id=receptionist
    )
    invoice = invoices_service.issue_invoice(services, draft.id, staff_id=receptionist)
    assert later[-1] == "A-000021"

    restored = backups.restore_backup(services, app_settings, taken.path, manager)

    assert [d.number for d in restored.rolled_back] == [*later, invoice.number]
    assert {(d.kind, d.net_pence, d.currency) for d in restored.rolled_back[:20]} == {("sale", 4500, "GBP")}
    assert restored.rolled_back[0].at == services.now()
    assert restored.rolled_back[-1].kind == "invoice" and restored.rolled_back[-1].issued_on is not None
    assert restored.rolled_back_sentence.startswith("The restore took back 20 sales and 1 invoice made after")
    assert "A-000002, A-000003" in restored.rolled_back_sentence
    assert sell() == "A-000022"  # never a number already printed
    assert sell() == "A-000023"  # and gap-free again from there
    again = invoices_service.create_invoice_draft(
        services, client_id=ada.id, items=[SERUM], staff_id=receptionist
    )
    assert invoices_service.issue_invoice(services, again.id, staff_id=receptionist).number != invoice.number
    assert audit.verify_audit_log(services, manager).intact  # the log's kept head is the restored log's


def test_a_rolled_back_number_is_handed_out_again_and_never_raises_the_floor(
    uow_factory: UnitOfWorkFactory,
) -> None:
    floor = uow_factory.number_floor
    assert floor is not None
    with uow_factory() as uow:
        assert uow.next_number("sale:A", "A-{n:06d}") == "A-000001"  # abandoned: rolled back
    assert floor.read() == {}
    with uow_factory() as uow:
        assert uow.next_number("sale:A", "A-{n:06d}") == "A-000001"
        assert uow.next_number("sale:A", "A-{n:06d}") == "A-000002"
        uow.commit()
    assert floor.read() == {"sale:A": 2}
    assert floor.path.stat().st_mode & 0o777 == 0o600


def test_a_manager_backs_up_and_the_backups_are_listed_newest_first(
    services: Services, app_settings: AppSettings, manager: str, clock: FixedClock
) -> None:
    assert backups.list_backups(app_settings) == []

    first = backups.back_up_now(services, app_settings, manager)
    clock.advance(hours=2)
    second = backups.back_up_now(services, app_settings, manager)

    assert backups.list_backups(app_settings) == [second, first]
    assert first.name == "aestheticc-20261124-090000Z.db"
    assert second.taken_at == services.now()
    assert first.path.parent == app_settings.backups_dir and first.size_bytes > 0
    with services.uow(read_only=True) as uow:
        entries = audit_entries(uow.session, record_type="database")
    assert [(e.action, e.staff_id, e.details["file"]) for e in entries] == [
        ("database.backed_up", manager, first.name),
        ("database.backed_up", manager, second.name),
    ]


def test_restore_brings_the_backup_back_and_keeps_the_data_it_replaced(
    services: Services, app_settings: AppSettings, manager: str, clock: FixedClock
) -> None:
    before = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Before"
    )
    taken = backups.back_up_now(services, app_settings, manager)
    clock.advance(minutes=30)
    after = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Bea", last_name="After"
    )

    restored = backups.restore_backup(services, app_settings, taken.path, manager)

    assert restored.backup == taken
    assert _client_ids(services) == {before.id}  # the same services carry on over the restored file
    assert restored.safety_backup in backups.list_backups(app_settings)
    assert _client_ids_in(restored.safety_backup.path) == {before.id, after.id}
    with services.uow(read_only=True) as uow:
        [entry] = [
            e for e in audit_entries(uow.session, record_type="database") if e.action == "database.restored"
        ]
    assert entry.details == {
        "file": taken.name,
        "safety_backup": restored.safety_backup.name,
        "rolled_back": 0,
    }
    assert restored.rolled_back == () and restored.rolled_back_sentence == ""


def test_restoring_the_oldest_of_a_full_folder_prunes_nothing(
    services: Services, app_settings: AppSettings, manager: str, clock: FixedClock
) -> None:
    for _ in range(DEFAULT_KEEP):
        backups.back_up_now(services, app_settings, manager)
        clock.advance(minutes=1)
    oldest = backups.list_backups(app_settings)[-1]

    restored = backups.restore_backup(services, app_settings, oldest.path, manager)

    assert oldest.path.exists()
    assert len(list_backups(app_settings.backups_dir)) == DEFAULT_KEEP + 1
    assert restored.safety_backup.path.exists()


def test_a_file_that_is_not_a_backup_is_refused_before_anything_changes(
    services: Services, app_settings: AppSettings, manager: str, tmp_path: Path
) -> None:
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Cara", last_name="Stays"
    )
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list")

    with pytest.raises(InvalidBackup, match="not a database file"):
        backups.restore_backup(services, app_settings, notes, manager)

    assert backups.list_backups(app_settings) == []  # no safety backup either
    assert _client_ids(services) == {client.id}


def test_only_a_manager_backs_up_or_restores(
    services: Services, app_settings: AppSettings, manager: str, receptionist: str
) -> None:
    taken = backups.back_up_now(services, app_settings, manager)

    with pytest.raises(NotPermitted, match="Only a manager can take or restore backups"):
        backups.back_up_now(services, app_settings, receptionist)
    with pytest.raises(NotPermitted, match="Only a manager can take or restore backups"):
        backups.restore_backup(services, app_settings, taken.path, receptionist)
    assert backups.list_backups(app_settings) == [taken]


def test_a_postgresql_clinic_is_told_to_use_pg_dump(services: Services, manager: str, tmp_path: Path) -> None:
    server = AppSettings(data_dir=tmp_path, database_url="postgresql+psycopg://till:secret@server/clinic")

    with pytest.raises(RuleViolation, match="pg_dump"):
        backups.back_up_now(services, server, manager)
    with pytest.raises(RuleViolation, match="pg_dump"):
        backups.restore_backup(services, server, tmp_path / "aestheticc-20261124-090000Z.db", manager)
    assert backups.list_backups(server) == []


def _client_ids(services: Services) -> set[str]:
    return set(clients_service.search_client_ids(services, ""))


def _client_ids_in(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM clients")}


def test_the_scheduled_backup_runs_once_a_day(tmp_path) -> None:
    import datetime as dt

    from aestheticc_pos.app import build_services
    from aestheticc_pos.clock import FixedClock
    from aestheticc_pos.services.backups import back_up_if_due, list_backups
    from aestheticc_pos.settings import AppSettings, sqlite_url

    app_settings = AppSettings(data_dir=tmp_path, database_url=sqlite_url(tmp_path / "aestheticc.db"))
    services = build_services(app_settings)
    clock = FixedClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    services.clock = clock
    first = back_up_if_due(services, app_settings)
    assert first is not None
    clock.advance(hours=23)
    assert back_up_if_due(services, app_settings) is None
    clock.advance(hours=2)
    second = back_up_if_due(services, app_settings)
    assert second is not None and second.path != first.path
    assert [b.path for b in list_backups(app_settings)] == [second.path, first.path]
    postgres = AppSettings(data_dir=tmp_path, database_url="postgresql+psycopg://till@server/clinic")
    assert back_up_if_due(services, postgres) is None
