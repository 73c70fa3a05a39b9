"""The hash-chained audit log (DESIGN.md §7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from aestheticc_pos.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    BreakKind,
    ChainBreak,
    chain_entry,
    check_chain,
    verify_chain,
)
from aestheticc_pos.domain.errors import InvalidInput

T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def log(n: int = 4) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        entries.append(
            chain_entry(
                entries[-1] if entries else None,
                at=T0 + dt.timedelta(minutes=i),
                staff_id="staff-mgr",
                action="sale.refunded",
                record_type="sale",
                record_id=f"sale-{i}",
                reason="Client reaction to the peel",
                details={"amount_pence": 9000 + i, "till": "A"},
            )
        )
    return entries


def test_entries_are_numbered_and_chained() -> None:
    entries = log()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert verify_chain(entries) is None
    assert verify_chain([]) is None


def test_an_edited_entry_is_found() -> None:
    entries = log()
    entries[2] = replace(entries[2], reason="Changed my mind")
    assert verify_chain(entries) == 3


def test_edited_details_are_found() -> None:
    entries = log()
    entries[1] = replace(entries[1], details={"amount_pence": 1, "till": "A"})
    assert verify_chain(entries) == 2


def test_a_removed_entry_is_found() -> None:
    entries = log()
    del entries[1]
    assert verify_chain(entries) == 3


def test_a_rehashed_forgery_breaks_the_next_link() -> None:
    entries = log()
    forged = chain_entry(
        entries[0], at=T0, staff_id="staff-x", action="sale.refunded", record_type="sale", record_id="sale-1"
    )
    entries[1] = forged
    assert verify_chain(entries) == 3


def test_the_time_is_kept_in_utc_and_naive_times_from_the_store_still_verify() -> None:
    london = dt.datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    entry = chain_entry(
        None, at=london, staff_id="s", action="settings.changed", record_type="settings", record_id=""
    )
    assert entry.at == dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
    from_sqlite = replace(entry, at=entry.at.replace(tzinfo=None))
    assert verify_chain([from_sqlite]) is None


def test_details_cannot_be_changed_in_place() -> None:
    entry = log(1)[0]
    with pytest.raises(TypeError):
        entry.details["till"] = "B"  # type: ignore[index]


def test_refusals() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        chain_entry(
            None, at=dt.datetime(2026, 1, 1), staff_id="s", action="a", record_type="r", record_id="1"
        )
    with pytest.raises(InvalidInput, match="staff_id"):
        chain_entry(None, at=T0, staff_id="", action="a", record_type="r", record_id="1")
    with pytest.raises(InvalidInput, match="details"):
        chain_entry(None, at=T0, staff_id="s", action="a", record_type="r", record_id="1", details={"x": 1.5})  # type: ignore[dict-item]


# --- Checking the whole log: every break, where it is, and the head kept outside it ----------------------------


def test_an_intact_log_is_counted_with_its_last_entry() -> None:
    entries = log()

    check = check_chain(entries, AuditHead(4, entries[-1].hash))

    assert check.intact and check.entries == 4 and check.last_seq == 4
    assert check.last_at == T0 + dt.timedelta(minutes=3)


def test_every_break_is_reported_once_and_the_walk_goes_on() -> None:
    entries = log(8)
    entries[1] = replace(entries[1], reason="Changed my mind")  # edited in place
    del entries[4]  # entry 5 removed from the middle

    check = check_chain(entries)

    assert check.breaks == (
        ChainBreak(BreakKind.CHANGED, 2),
        ChainBreak(BreakKind.MISSING, 6, first_missing=5),
    )
    assert verify_chain(entries) == 2


def test_a_rewritten_entry_shows_on_the_entry_after_it() -> None:
    entries = log()
    entries[1] = chain_entry(
        entries[0], at=T0, staff_id="staff-x", action="sale.refunded", record_type="sale", record_id="sale-1"
    )

    assert check_chain(entries).breaks == (ChainBreak(BreakKind.UNLINKED, 3),)


def test_newest_entries_removed_are_found_by_the_head_kept_outside_or_by_the_numbering() -> None:
    entries = log(6)
    head = AuditHead(6, entries[-1].hash)

    assert check_chain(entries[:4], head).breaks == (ChainBreak(BreakKind.TRUNCATED, 6, first_missing=5),)
    assert check_chain(entries[:4], numbered_up_to=6).breaks == (
        ChainBreak(BreakKind.TRUNCATED, 6, first_missing=5),
    )
    assert check_chain([], head).breaks == (ChainBreak(BreakKind.TRUNCATED, 6, first_missing=1),)
    assert check_chain(entries, head, numbered_up_to=6).intact


def test_a_replaced_newest_entry_is_found_by_the_head() -> None:
    entries = log(3)
    head = AuditHead(3, entries[-1].hash)
    entries[2] = chain_entry(
        entries[1], at=T0, staff_id="staff-x", action="sale.refunded", record_type="sale", record_id="other"
    )

    assert check_chain(entries, head).breaks == (ChainBreak(BreakKind.REPLACED_HEAD, 3),)


def test_after_a_loss_the_next_entry_keeps_the_gap_visible() -> None:
    entries = log(6)[:4]  # 5 and 6 were removed; the next entry is numbered above them

    nxt = chain_entry(
        entries[-1], at=T0, staff_id="s", action="sale.refunded", record_type="sale", record_id="x", seq=7
    )

    assert nxt.prev_hash == entries[-1].hash
    assert check_chain([*entries, nxt]).breaks == (ChainBreak(BreakKind.MISSING, 7, first_missing=5),)
    with pytest.raises(ValueError):
        chain_entry(entries[-1], at=T0, staff_id="s", action="a", record_type="r", record_id="1", seq=4)


def test_the_breaks_listed_are_capped_and_the_rest_counted() -> None:
    entries = [replace(e, reason="edited") for e in log(30)]

    check = check_chain(entries, limit=5)

    assert len(check.breaks) == 5 and check.more_breaks == 25 and not check.intact
