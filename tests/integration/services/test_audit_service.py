"""The audit log at the service layer: checked whole, its end compared with the head kept outside the database,
read page by page; appending never blocked by a broken log (DESIGN.md §7). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.services import audit
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.audit_repo import append_audit, audit_entries
from aestheticc_pos.store.tables import AuditLogRow, NumberSequenceRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "till"


@pytest.fixture
def uow_factory(engine, data_dir: Path) -> UnitOfWorkFactory:
    """Wired as the app wires it: the audit head and the number floor are kept in the data folder."""
    return UnitOfWorkFactory(engine, data_dir=data_dir)


def _act(services: Services, staff_id: str, action: str, record_id: str, **details: str | int) -> int:
    with services.uow() as uow:
        entry = append_audit(
            uow.session,
            at=services.now(),
            staff_id=staff_id,
            action=action,
            record_type=action.split(".")[0],
            record_id=record_id,
            reason="test",
            details=details,
        )
        uow.commit()
    return entry.seq


def _delete_entries_after(services: Services, seq: int) -> None:
    with services.uow() as uow:
        uow.session.execute(delete(AuditLogRow).where(AuditLogRow.seq > seq))
        uow.commit()


def test_an_intact_log_says_so_with_its_count_and_last_entry(services: Services, manager: str) -> None:
    for n in range(4):
        _act(services, manager, "sale.refunded", f"sale-{n}")

    check = audit.verify_audit_log(services, manager)

    assert check.intact and check.entries == 5 and check.last_seq == 5  # with "staff.added"
    assert check.problems == () and check.notes == ()
    assert check.summary("24 Nov 2026 09:00") == "Audit log intact: 5 entries, last on 24 Nov 2026 09:00."


def test_deleting_the_newest_entries_is_found_and_the_till_keeps_auditing(
    services: Services, manager: str, uow_factory: UnitOfWorkFactory
) -> None:
    for n in range(6):
        _act(services, manager, "sale.refunded", f"sale-{n}")  # entries 2..7
    _delete_entries_after(services, 4)

    cut = audit.verify_audit_log(services, manager)
    assert not cut.intact and cut.entries == 4
    assert cut.problems == (
        "Entries 5 to 7 are missing from the end of the log: the newest entries were removed.",
    )

    after = _act(services, manager, "price.overridden", "sale-9")  # used to fail: IntegrityError

    assert after == 8  # above every number handed out: the gap stays in the log
    later = audit.verify_audit_log(services, manager)
    assert later.problems == ("Entries 5 to 7 are missing: removed from the middle of the log.",)
    assert later.summary("x").startswith("Audit log broken in 1 place (5 entries checked")
    assert json.loads(uow_factory.audit_head.path.read_text())["seq"] == 8  # type: ignore[union-attr]


def test_rows_and_the_counter_removed_together_are_still_found_by_the_head_kept_outside(
    services: Services, manager: str
) -> None:
    for n in range(4):
        _act(services, manager, "sale.refunded", f"sale-{n}")
    _delete_entries_after(services, 2)
    with services.uow() as uow:  # covering the tracks in the database too
        uow.session.execute(
            update(NumberSequenceRow).where(NumberSequenceRow.name == "audit_log").values(next_value=3)
        )
        uow.commit()

    assert audit.verify_audit_log(services, manager).problems == (
        "Entries 3 to 5 are missing from the end of the log: the newest entries were removed.",
    )
    assert _act(services, manager, "sale.refunded", "again") == 6  # never 3 again


def test_an_edited_entry_is_named_by_its_number(services: Services, manager: str) -> None:
    for n in range(3):
        _act(services, manager, "sale.refunded", f"sale-{n}")
    with services.uow() as uow:
        uow.session.execute(update(AuditLogRow).where(AuditLogRow.seq == 3).values(reason="nothing to see"))
        uow.commit()

    check = audit.verify_audit_log(services, manager)

    assert check.problems == (
        "Entry 3 was changed after it was written: its contents no longer match its hash.",
    )


def test_a_rolled_back_entry_never_reaches_the_head_kept_outside(
    services: Services, manager: str, uow_factory: UnitOfWorkFactory
) -> None:
    head = uow_factory.audit_head
    assert head is not None
    _act(services, manager, "sale.refunded", "kept")
    before = head.path.read_text()

    with services.uow() as uow:
        append_audit(
            uow.session, at=services.now(), staff_id=manager, action="a.b", record_type="a", record_id="1"
        )  # and not committed

    assert head.path.read_text() == before
    assert audit.verify_audit_log(services, manager).intact
    assert head.path.stat().st_mode & 0o777 == 0o600


def test_only_a_manager_checks_or_reads_the_log(services: Services, manager: str, receptionist: str) -> None:
    for call in (
        lambda: audit.verify_audit_log(services, receptionist),
        lambda: audit.find_audit_entries(services, receptionist),
        lambda: audit.audit_log_rows(services, receptionist, [1]),
        lambda: audit.audit_log_choices(services, receptionist),
    ):
        with pytest.raises(NotPermitted, match="Only a manager can see the audit log"):
            call()


def test_the_log_is_read_page_by_page_with_filters(
    services: Services, manager: str, receptionist: str, clock: FixedClock
) -> None:
    _act(services, manager, "sale.refunded", "sale-1", amount_pence=9000)
    clock.advance(days=1)
    _act(services, manager, "package.extended", "cp-7")
    clock.advance(days=1)
    _act(services, receptionist, "sale.refunded", "sale-2")
    everything = audit.find_audit_entries(services, manager)

    assert everything == sorted(everything, reverse=True) and len(everything) == 5  # 2 x staff.added
    refunds = audit.find_audit_entries(services, manager, action="sale.refunded")
    assert len(refunds) == 2
    assert audit.find_audit_entries(services, manager, done_by=receptionist) == [everything[0]]
    assert len(audit.find_audit_entries(services, manager, record_id="sale-")) == 2
    assert len(audit.find_audit_entries(services, manager, record_type="package")) == 1
    the_25th = dt.date(2026, 11, 25)
    assert len(audit.find_audit_entries(services, manager, from_day=the_25th, to_day=the_25th)) == 1
    assert len(audit.find_audit_entries(services, manager, from_day=the_25th)) == 2
    assert audit.find_audit_entries(services, manager, from_day=dt.date.max, to_day=dt.date.max) == []
    assert len(audit.find_audit_entries(services, manager, to_day=dt.date.max)) == 5
    with pytest.raises(InvalidInput, match="cannot be typed"):
        audit.find_audit_entries(services, manager, record_id="sale\x00")

    page = audit.audit_log_rows(services, manager, refunds)
    newest = page[refunds[0]]
    assert (newest.staff_name, newest.action, newest.record_id) == (
        "Rita Reception",
        "sale.refunded",
        "sale-2",
    )
    assert page[refunds[1]].details == {"amount_pence": 9000}
    assert page[refunds[1]].at == dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    assert audit.audit_log_rows(services, manager, [999]) == {}
    choices = audit.audit_log_choices(services, manager)
    assert choices.actions == ("package.extended", "sale.refunded", "staff.added")
    assert [name for _id, name in choices.staff] == ["Mia Manager", "Rita Reception"]
    assert choices.record_types == ("package", "sale", "staff")


def test_a_log_from_before_heads_were_kept_checks_with_a_note(services: Services, manager: str) -> None:
    bare = Services(uow=UnitOfWorkFactory(services.uow.engine), clock=services.clock)  # type: ignore[attr-defined]
    with bare.uow() as uow:
        append_audit(
            uow.session, at=bare.now(), staff_id=manager, action="a.b", record_type="a", record_id="1"
        )
        uow.commit()
    head = services.uow.audit_head  # type: ignore[attr-defined]
    head.path.unlink()

    check = audit.verify_audit_log(services, manager)

    assert check.intact and check.notes and "No head of the log" in check.notes[0]
    with services.uow(read_only=True) as uow:
        assert len(audit_entries(uow.session)) == 2
