"""The GoCardless access token is never written anywhere: no file byte, no database row, no log record.

A full run with a distinctive token: sign-ups, cycles through the real gocardless-pro client and the simulator
(which checks the token), faults of every kind, a refused token (401) and its recovery, with every logger at
DEBUG written to a file under the data directory. Afterwards every byte of every file the run wrote (the SQLite
database, its WAL and shared memory, the log, anything else under the temporary and data directories), every
column of every row and every log record (message and arguments) is searched for the token.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
from pathlib import Path

from harness import clock_seconds
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.services import clients
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.store.tables import MembershipRow, metadata
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.simulator import (
    ERROR_500,
    HTML_502,
    LOST_RESPONSE,
    RATE_LIMIT_429,
    RESET,
    TIMEOUT,
    Simulator,
)

TOKEN = "sandbox_Zq8Xv3-NEVER-STORE-7f1c9e2b44d0"
START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def test_the_token_is_in_no_file_row_or_log_record_after_a_full_run(
    clinic, simulator: Simulator, tmp_path
) -> None:
    data_dir = Path(os.environ["AESTHETICC_DATA_DIR"])
    log_file = data_dir / "sync-debug.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(file_handler)
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        _full_run(clinic, simulator)
    finally:
        root.removeHandler(file_handler)
        root.removeHandler(records)
        root.setLevel(old_level)
        file_handler.close()

    # The run did log, at DEBUG too (the client's HTTP connections), and wrote the files searched below.
    assert any(r.levelno == logging.DEBUG for r in records.records)
    assert any(r.name.startswith("aestheticc_pos.sync") for r in records.records)
    files = _files(tmp_path, data_dir)
    names = {p.name for p in files}
    assert {"till.db", "sync-debug.log"} <= names and log_file.stat().st_size > 0
    assert "till.db-wal" in names  # the WAL is still there: the engine's connections are open

    token = TOKEN.encode()
    for path in files:
        content = path.read_bytes()
        for encoded in (token, TOKEN.encode("utf-16-le"), TOKEN[8:].encode()):
            assert encoded not in content, path
    for record in records.records:
        text = record.getMessage() + repr(record.args) + repr(record.exc_info or "")
        assert TOKEN not in text and TOKEN[8:] not in text, record.name
    with clinic.uow(read_only=True) as uow:
        rows = 0
        for table in metadata.sorted_tables:
            for row in uow.session.execute(select(table)):
                rows += 1
                assert TOKEN[8:] not in repr(tuple(row)), table.name
    assert rows > 50


def _full_run(clinic, simulator: Simulator) -> None:
    simulator.set_clock(START)
    simulator.access_token = TOKEN  # the simulator refuses any other token (401)
    gateway = GoCardlessGateway(TOKEN, base_url=simulator.base_url, timeout=1)
    assert TOKEN not in repr(gateway) and TOKEN not in repr(vars(gateway))
    engine = SyncEngine(
        clinic.uow,
        gateway,
        clinic.clock,
        bus=clinic.bus,
        rng=random.Random(3),
        rate_share=1.0,
        monotonic=clock_seconds(clinic.clock),
    )
    ids = []
    for n in range(6):
        client = clients.add_client(
            clinic.services,
            staff_id=front_desk(clinic.services),
            first_name=f"C{n}",
            last_name="Member",
            email=f"c{n}@example.com",
        )
        ids.append(
            memberships_service.start_membership(
                clinic.services, client_id=client.id, tier_id=clinic.tier_id, staff_id=clinic.receptionist
            ).id
        )
    for fault in (RESET, HTML_502, ERROR_500, RATE_LIMIT_429, LOST_RESPONSE, TIMEOUT):
        simulator.inject(fault)
    engine.run_cycle(clinic.clock.now().date())
    clinic.clock.advance(minutes=31)

    # The token is refused (revoked in GoCardless): the cycle stops and says so; the work waits.
    simulator.access_token = "a-different-token"
    refused = engine.run_cycle(clinic.clock.now().date())
    assert refused.first_drain.authentication_failed or (refused.pull and refused.pull.authentication_failed)
    simulator.access_token = TOKEN

    for _ in range(6):
        engine.run_cycle(clinic.clock.now().date())
        clinic.clock.advance(minutes=31)
        with clinic.uow(read_only=True) as uow:
            flows = uow.session.execute(
                select(MembershipRow.gc_flow_id, MembershipRow.gc_mandate_id).where(MembershipRow.id.in_(ids))
            ).all()
        for flow, mandate in flows:
            if flow and not mandate:
                br = simulator.get("billing_request_flows", flow)["links"]["billing_request"]
                if simulator.get("billing_requests", br)["status"] == "pending":
                    simulator.authorise(flow, account_holder_name="C Member", account_number="55779911")
        simulator.inject(ERROR_500, path_prefix="/subscriptions")
    simulator.clear_faults()
    for _ in range(2):
        final = engine.run_cycle(clinic.clock.now().date())
        assert final.ok, final
        clinic.clock.advance(minutes=31)
    assert simulator.count("subscriptions") == 6
