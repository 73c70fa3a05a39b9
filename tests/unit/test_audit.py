"""The hash-chained audit log (DESIGN.md §7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from aestheticc_pos.domain.audit import GENESIS_HASH, AuditEntry, chain_entry, verify_chain
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
