"""The outbox's kinds and the life of a piece of GoCardless work (domain/outbox.py)."""

from __future__ import annotations

import pytest

from aestheticc_pos.domain import outbox
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.outbox import OutboxKind, OutboxStatus

S = OutboxStatus

ALLOWED = {
    (S.PENDING, S.IN_FLIGHT),
    (S.PENDING, S.FAILED),
    (S.PENDING, S.DISCARDED),
    (S.WAITING_FOR_PREREQUISITE, S.PENDING),
    (S.WAITING_FOR_PREREQUISITE, S.DISCARDED),
    (S.IN_FLIGHT, S.DONE),
    (S.IN_FLIGHT, S.PENDING),
    (S.IN_FLIGHT, S.FAILED),
    (S.IN_FLIGHT, S.DISCARDED),
    (S.FAILED, S.PENDING),
    (S.FAILED, S.DISCARDED),
}
EVERY_MOVE = [(a, b) for a in S for b in S]


def test_statuses_are_the_strings_already_stored() -> None:
    assert {s.value for s in S} == {
        "pending",
        "in_flight",
        "done",
        "waiting_for_prerequisite",
        "failed",
        "discarded",
    }


def test_every_kind_is_a_gateway_method_name() -> None:
    assert all(kind.value == kind.name.lower() for kind in OutboxKind)


def test_new_work_waits_for_work_it_depends_on() -> None:
    assert outbox.queued(waits_for_prerequisite=False) is S.PENDING
    assert outbox.queued(waits_for_prerequisite=True) is S.WAITING_FOR_PREREQUISITE


@pytest.mark.parametrize(("start", "to"), sorted(ALLOWED))
def test_allowed_moves(start: OutboxStatus, to: OutboxStatus) -> None:
    assert outbox.can_move(start, to)
    assert outbox.move(start, to) is to


@pytest.mark.parametrize(("start", "to"), [m for m in EVERY_MOVE if m not in ALLOWED])
def test_refused_moves(start: OutboxStatus, to: OutboxStatus) -> None:
    assert not outbox.can_move(start, to)
    with pytest.raises(RuleViolation, match="^This GoCardless work is .+, so it cannot be .+\\.$"):
        outbox.move(start, to)


def test_finished_work_is_never_discarded() -> None:
    assert outbox.discard(S.FAILED) is S.DISCARDED
    with pytest.raises(
        RuleViolation, match="^This GoCardless work is sent already, so it cannot be set aside.$"
    ):
        outbox.discard(S.DONE)
    with pytest.raises(RuleViolation, match="set aside already"):
        outbox.discard(S.DISCARDED)


def test_only_work_never_attempted_counts_as_unsent() -> None:
    assert outbox.is_unsent(S.PENDING, 0)
    assert outbox.is_unsent(S.WAITING_FOR_PREREQUISITE, 0)
    assert not outbox.is_unsent(S.PENDING, 1)  # a send started, perhaps interrupted by a crash
    assert not outbox.is_unsent(S.IN_FLIGHT, 0)
    assert not outbox.is_unsent(S.FAILED, 0)
