"""The unit of work: one transaction per use case, rolled back unless committed (STYLE.md rule 2).

A service is handed a ``UnitOfWorkFactory`` and does::

    with uow_factory() as uow:
        ...  # load, call the domain, write, queue outbox rows
        uow.commit()

Session counters of client packages change only through the conditional updates here
(``reserve_sessions``, ``redeem_sessions``…): each is a single ``UPDATE … WHERE <enough left>`` whose row count
says whether it happened, so two tills can never both take the last session, on SQLite or on PostgreSQL.
The caller writes the matching session-ledger row in the same unit of work.

Human numbers (``next_number``) are gap-free and never issued twice: the series' row in the database is
locked until the transaction ends, and the highest number each series has issued on this till is also kept
outside the database, in the data folder (``NumberFloor``), so after a backup is restored the numbering
carries on above the receipts and invoices already printed instead of handing their numbers out again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import ColumnElement, Engine, Result, event, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from aestheticc_pos.domain.errors import ConcurrencyConflict, NoSessionsRemaining, NotFound
from aestheticc_pos.settings import make_private_file, write_private_text
from aestheticc_pos.store.audit_repo import AUDIT_HEAD, AuditHeadFile, audit_head_file
from aestheticc_pos.store.db import after_commit, is_retryable, make_session_factory
from aestheticc_pos.store.tables import ClientPackageRow, ClientPackageStepRow

Step = ClientPackageStepRow  # short names for the statements below
Totals = ClientPackageRow

T = TypeVar("T")
log = logging.getLogger(__name__)

NUMBER_FLOOR = "aestheticc_number_floor"  # Session.info key: this till's NumberFloor, when the app keeps one
NUMBER_FLOOR_FILE = "number-floor.json"

# Inserts the series at 1 or takes its next value; either way the row stays locked until the transaction
# ends, so numbers are handed out in commit order and a rolled-back number is handed out again (no gaps).
NEXT_NUMBER = text(
    "INSERT INTO number_sequences (name, next_value) VALUES (:name, 2) "
    "ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1 "
    "RETURNING next_value - 1"
)
_RAISE_NUMBER = text("UPDATE number_sequences SET next_value = :next_value WHERE name = :name")


@dataclass(frozen=True, slots=True)
class StepCounts:
    """A client package step's session counters, as they are after a change."""

    sessions: int
    adjusted: int
    redeemed: int
    reserved: int
    refunded: int

    @property
    def remaining(self) -> int:
        return self.sessions + self.adjusted - self.redeemed - self.reserved - self.refunded


class UnitOfWork:
    """One database transaction. Use it as a context manager; it rolls back on exit unless committed.

    A use case opens one (``with services.uow() as uow:``), does its work and commits. The pieces of work it
    is made of take the open unit of work instead, and are named with the suffix ``_in``:
    ``record_sale_in(uow, …)`` runs inside its caller's transaction and never commits or rolls back, so a use
    case can put several together (a sale, its audit entry, the GoCardless work it queues) and they all happen
    or none does.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()  # a no-op after commit(); otherwise nothing half-done survives
        finally:
            self._session.close()
            self._session = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._session

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    # --- Gap-free human numbers ------------------------------------------------------------------------------

    def next_number(self, series: str, template: str = "{n}") -> str:
        """The next number of ``series`` formatted with ``template`` (``"A-{n:06d}"`` → ``"A-000123"``).

        Numbers start at 1 and have no gaps: the series stays locked until this unit of work ends, and a
        rolled-back number is handed out again. Never one this till has issued before, though: after a restore
        the series carries on above the floor kept in the data folder (a gap there, on purpose, so no receipt
        number is printed twice). Allocate it just before writing the document.
        """
        session = self.session
        value = int(session.execute(NEXT_NUMBER, {"name": series}).scalar_one())
        floor: NumberFloor | None = session.info.get(NUMBER_FLOOR)
        if floor is not None:
            highest = floor.highest(series)
            if value <= highest:
                log.info(
                    "Number series %s continues at %s, above numbers issued before a restore",
                    series,
                    highest + 1,
                )
                value = highest + 1
                session.execute(_RAISE_NUMBER, {"name": series, "next_value": value + 1})
            issued = after_commit(session, "the number floor", floor.raise_to)
            issued[series] = max(int(issued.get(series, 0)), value)
        return template.format(n=value)

    # --- Client package session counters ---------------------------------------------------------------------

    def lock_client_package_step(self, client_package_id: str, position: int) -> ClientPackageStepRow:
        """Read a step and hold it until the transaction ends (``FOR UPDATE``; SQLite holds the write lock)."""
        step = self.session.scalars(
            select(Step)
            .where(Step.client_package_id == client_package_id, Step.position == position)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if step is None:
            raise NotFound("That package step does not exist.")
        return step

    def reserve_sessions(self, client_package_id: str, position: int, count: int = 1) -> StepCounts:
        """Book ``count`` sessions for an appointment. Raises ``NoSessionsRemaining`` if fewer are left."""
        _require_positive(count)
        return self._change(
            client_package_id,
            position,
            {"reserved": count},
            Step.remaining >= count,
            NoSessionsRemaining("There are no sessions left on this step of the package."),
        )

    def release_sessions(self, client_package_id: str, position: int, count: int = 1) -> StepCounts:
        """Give back ``count`` booked sessions (an appointment cancelled in time)."""
        _require_positive(count)
        return self._change(
            client_package_id,
            position,
            {"reserved": -count},
            Step.reserved >= count,
            ConcurrencyConflict("That session was already released on another till. Refresh and try again."),
        )

    def redeem_sessions(
        self, client_package_id: str, position: int, count: int = 1, *, from_reserved: bool = False
    ) -> StepCounts:
        """Use ``count`` sessions: booked ones (``from_reserved``, an attended appointment) or free ones.

        Raises ``NoSessionsRemaining`` when there are not enough (booked ones, with ``from_reserved``).
        """
        _require_positive(count)
        if from_reserved:
            deltas, enough = {"reserved": -count, "redeemed": count}, Step.reserved >= count
        else:
            deltas, enough = {"redeemed": count}, Step.remaining >= count
        refusal = NoSessionsRemaining("There are no sessions left on this step of the package.")
        return self._change(client_package_id, position, deltas, enough, refusal)

    def void_redemption(self, client_package_id: str, position: int, count: int = 1) -> StepCounts:
        """Undo ``count`` redeemed sessions (a voided checkout): they become available again."""
        _require_positive(count)
        return self._change(
            client_package_id,
            position,
            {"redeemed": -count},
            Step.redeemed >= count,
            ConcurrencyConflict("That redemption was already undone on another till. Refresh and try again."),
        )

    def adjust_sessions(self, client_package_id: str, position: int, delta: int) -> StepCounts:
        """A manager's correction: ``delta`` sessions more (or fewer, when negative) on the step."""
        return self._change(
            client_package_id,
            position,
            {"adjusted": delta},
            Step.remaining + delta >= 0,
            NoSessionsRemaining("The step does not have that many sessions left to take away."),
        )

    def refund_sessions(self, client_package_id: str, position: int, count: int) -> StepCounts:
        """Close out ``count`` unused sessions that are being refunded."""
        _require_positive(count)
        return self._change(
            client_package_id,
            position,
            {"refunded": count},
            Step.remaining >= count,
            NoSessionsRemaining("The step does not have that many unused sessions to refund."),
        )

    def _change(
        self,
        client_package_id: str,
        position: int,
        deltas: dict[str, int],
        condition: ColumnElement[bool],
        refusal: Exception,
    ) -> StepCounts:
        """Move the step's counters by ``deltas`` (counter name → change) if ``condition`` holds, then the same
        counters summed on its client package (``sessions_<name>``): the step's row is the one the
        condition guards, and the client's lock (``services.packages.lock_client_packages``) keeps the two in
        step with every other till."""
        statement = (
            update(Step)
            .where(Step.client_package_id == client_package_id, Step.position == position, condition)
            .values({getattr(Step, name): getattr(Step, name) + delta for name, delta in deltas.items()})
            .returning(Step.sessions, Step.adjusted, Step.redeemed, Step.reserved, Step.refunded)
            .execution_options(synchronize_session="fetch")
        )
        row = self.session.execute(statement).one_or_none()
        if row is not None:
            totals = {
                getattr(Totals, f"sessions_{name}"): getattr(Totals, f"sessions_{name}") + delta
                for name, delta in deltas.items()
            }
            self.session.execute(update(Totals).where(Totals.id == client_package_id).values(totals))
            return StepCounts(*row)
        exists = self.session.scalar(
            select(Step.position).where(
                Step.client_package_id == client_package_id, Step.position == position
            )
        )
        if exists is None:
            raise NotFound("That package step does not exist.")
        raise refusal


def _require_positive(count: int) -> None:
    if count < 1:
        raise ValueError(f"a number of sessions to change must be at least 1, not {count}")


class NumberFloor:
    """The highest number each series has issued on this till, in ``number-floor.json`` in the data folder.

    Raised after every commit that issued a number (never for a rolled-back one, so numbers stay gap-free),
    and by a restore from the database it replaces. It only goes up. Safe to use from several threads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        make_private_file(path)

    def __repr__(self) -> str:
        return f"NumberFloor({self.path.name})"

    def highest(self, series: str) -> int:
        """The highest number of ``series`` issued here (0 for none)."""
        return self.read().get(series, 0)

    def read(self) -> dict[str, int]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning(
                "The number floor in the data folder cannot be read; numbering from the database alone"
            )
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {str(k): v for k, v in loaded.items() if isinstance(v, int) and not isinstance(v, bool)}

    def raise_to(self, issued: Mapping[str, Any]) -> None:
        """Keep, for each series, the higher of the number kept and the number in ``issued``."""
        with self._lock:
            kept = self.read()
            merged = dict(kept)
            for series, value in issued.items():
                merged[series] = max(kept.get(series, 0), int(value))
            if merged != kept:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_private_text(self.path, json.dumps(merged, indent=2, sort_keys=True))


class UnitOfWorkFactory:
    """Makes units of work on one engine: ``factory()`` for a use case, ``factory(read_only=True)`` for reads.

    With ``data_dir`` (the app's wiring) it also keeps, outside the database, the number floor
    (``NumberFloor``) and the audit log's head (``store/audit_repo.AuditHeadFile``); without it (a bare test
    wiring) neither is kept.

    What changed: every committed unit of work tells the listeners added with ``on_commit`` the names of the
    tables it wrote (rows added, changed or deleted, and UPDATE/DELETE/INSERT statements), once the database
    has them — whatever use case, the desk's or the sync's, did it. The front desk turns them into the topics its
    screens show (``ui/topics.py``), so no screen depends on a use case remembering to announce its changes.
    """

    def __init__(self, engine: Engine, *, data_dir: Path | None = None) -> None:
        self.engine = engine
        self.number_floor: NumberFloor | None = None
        self.audit_head: AuditHeadFile | None = None
        info: dict[str, object] = {}
        if data_dir is not None:
            self.number_floor = NumberFloor(data_dir / NUMBER_FLOOR_FILE)
            url = engine.url.render_as_string(hide_password=True)
            self.audit_head = audit_head_file(data_dir, url)
            info = {NUMBER_FLOOR: self.number_floor, AUDIT_HEAD: self.audit_head}
        self._write = make_session_factory(engine, info=info)
        self._read = make_session_factory(engine, read_only=True, info=info)
        self._listeners: list[Callable[[frozenset[str]], None]] = []
        event.listen(self._write, "after_flush", self._flushed)
        event.listen(self._write, "do_orm_execute", self._executed)

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self._read if read_only else self._write)

    def on_commit(self, listener: Callable[[frozenset[str]], None]) -> None:
        """Call ``listener(tables)`` after each commit that wrote something (on the committing thread)."""
        self._listeners.append(listener)

    def _flushed(self, session: Session, _context: object) -> None:
        tables = {
            table.name
            for obj in (*session.new, *session.dirty, *session.deleted)
            if (table := getattr(obj, "__table__", None)) is not None
        }
        if tables:
            self._written(session).update(tables)

    def _executed(self, state: ORMExecuteState) -> Result[Any] | None:
        """An UPDATE, DELETE or INSERT statement counts when it changed a row: a round that finds nothing to do
        (the email sender's "anything stuck?") must not tell the screens, nor wake whoever listens, again."""
        if not (state.is_update or state.is_delete or state.is_insert):
            return None
        table = getattr(state.statement, "table", None)
        result = state.invoke_statement()
        if table is not None and getattr(result, "rowcount", -1) != 0:  # -1: the driver cannot tell
            self._written(state.session).add(table.name)
        return result

    def _written(self, session: Session) -> set[str]:
        pending = after_commit(session, "what changed", self._announce)
        tables: set[str] = pending.setdefault("tables", set())
        return tables

    def _announce(self, pending: dict[str, Any]) -> None:
        tables = frozenset(pending.get("tables", ()))
        for listener in list(self._listeners):
            try:
                listener(tables)
            except Exception:  # a screen gone away must never undo or block a commit already made
                log.exception("A listener to committed changes failed")


def run_in_transaction(
    factory: Callable[[], UnitOfWork],
    work: Callable[[UnitOfWork], T],
    *,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work`` in a new unit of work and commit; run it again (up to ``retries`` more times) when the
    database says another transaction got in the way (``is_retryable``).

    ``work`` must do nothing but database work, since it may run more than once. After the last retry the
    caller gets ``ConcurrencyConflict``, a sentence staff can act on.
    """
    for attempt in range(retries + 1):
        try:
            with factory() as uow:
                result = work(uow)
                uow.commit()
                return result
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            if attempt == retries:
                raise ConcurrencyConflict(
                    "Another till was saving at the same moment and this could not be saved. Try again."
                ) from error
            sleep(0.05 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
