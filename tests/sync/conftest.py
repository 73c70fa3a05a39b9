"""Fixtures for the GoCardless sync tests: a fresh simulator per test and the real client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import gocardless_pro
import pytest

from aestheticc_pos.sync.simulator import Simulator


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(timeout_fault_seconds=2.0) as sim:
        yield sim


@pytest.fixture
def gc_client(simulator: Simulator) -> gocardless_pro.Client:
    return gocardless_pro.Client(access_token="sim-token", base_url=simulator.base_url, timeout=5)
