"""The till's connection to GoCardless: which environment, where the token is, and the background runner.

``app.py`` makes one, with the message bus its engines hand GoCardless's events to, and hands it to the window;
Settings saves or removes the token through it, the Sync screen asks it to sync now, and every state the runner
reports reaches the listeners (``ui/sync_bridge.py``).

The token is read from the ``SecretStore`` on the runner's thread, kept in memory by the gateway only, and
never written anywhere else. The gateway's module (``sync/gocardless.py``: gocardless-pro, requests) is loaded
on that thread too, the first time there is a token to connect with, never while the window opens. In training
mode the connection uses the local simulator with a practice token (nothing real is reachable from it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from aestheticc_pos.clock import Clock
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.bus import MessageBus
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import PaymentGateway
from aestheticc_pos.sync.runner import (
    DEFAULT_INTERVAL,
    Connected,
    ObservedGateway,
    SyncRunner,
    SyncState,
    SyncStatus,
    unavailable_state,
)
from aestheticc_pos.sync.secrets import ENVIRONMENTS, SecretStore, SecretStoreUnavailable


class Practice(Protocol):
    """What training's practice turns (``sync/practice.py``, over the simulator) offer the Sync screen. Named here,
    not imported: the simulator is loaded in training mode only."""

    def members(self) -> list[Any]: ...

    def run(self, turn: str, membership_id: str) -> str: ...


log = logging.getLogger(__name__)

TRAINING_TOKEN = "training-practice-token"  # the simulator's; worthless anywhere else
GATEWAY_TIMEOUT = 20.0  # seconds per request
GATEWAY_MODULE = "aestheticc_pos.sync.gocardless"  # imported on the runner's thread when it first connects


class SyncConnection:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        today: Callable[[], dt.date],
        secrets: SecretStore,
        environment: str = "live",
        *,
        bus: MessageBus,
        base_url: str | None = None,
        training: bool = False,
        interval: float = DEFAULT_INTERVAL,
        rate_share: float = 0.5,
        holder: str | None = None,
    ) -> None:
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}")
        self._uow = uow_factory
        self._clock = clock
        self._bus = bus
        self._secrets = secrets
        self._environment = environment
        self._base_url = base_url
        self.training = training
        self._rate_share = rate_share
        self._holder = holder  # this till's name in the sync lease: the same after a restart
        self._listeners: list[Callable[[SyncState], None]] = []
        # Training mode only: what staff can make the simulated GoCardless do (``app.py`` sets it).
        self.practice: Practice | None = None
        self._lock = threading.Lock()
        self.runner = SyncRunner(
            self._connect, today=today, now=clock.now, on_state=self._tell, interval=interval
        )

    def __repr__(self) -> str:
        return f"SyncConnection(environment={self._environment!r}, training={self.training})"

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.runner.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.runner.stop(timeout)

    def sync_now(self) -> None:
        self.runner.sync_now()

    @property
    def state(self) -> SyncState:
        return self.runner.state

    def add_listener(self, listener: Callable[[SyncState], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    # --- environment and token ---------------------------------------------------------------------------

    @property
    def environment(self) -> str:
        return self._environment

    def set_environment(self, environment: str) -> None:
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}")
        self._environment = environment
        self.runner.reconnect()

    def keyring(self) -> tuple[bool, str]:
        """Whether this computer can keep the token safely, and the sentence to show when it cannot."""
        return self._secrets.available()

    def has_token(self, environment: str) -> bool:
        try:
            return bool(self._secrets.get_token(environment))
        except SecretStoreUnavailable:
            return False

    def save_token(self, environment: str, token: str) -> None:
        """Keep the token in the keyring (raises ``SecretStoreUnavailable`` with a sentence) and reconnect."""
        self._secrets.set_token(environment, token.strip())
        if environment == self._environment:
            self.runner.reconnect()

    def remove_token(self, environment: str) -> None:
        self._secrets.delete_token(environment)
        if environment == self._environment:
            self.runner.reconnect()

    # --- on the runner's thread --------------------------------------------------------------------------

    def _connect(self) -> Connected | SyncState:
        now = self._clock.now()
        if self.training:
            token: str | None = TRAINING_TOKEN
        else:
            available, sentence = self._secrets.available()
            if not available:
                return unavailable_state(SyncStatus.NO_KEYRING, sentence, now)
            try:
                token = self._secrets.get_token(self._environment)
            except SecretStoreUnavailable as error:
                return unavailable_state(SyncStatus.NO_KEYRING, str(error), now)
        if not token:
            return unavailable_state(SyncStatus.NOT_CONFIGURED, None, now)
        gateway_class: Callable[..., PaymentGateway] = importlib.import_module(
            GATEWAY_MODULE
        ).GoCardlessGateway
        gateway = ObservedGateway(
            gateway_class(
                token, environment=self._environment, base_url=self._base_url, timeout=GATEWAY_TIMEOUT
            )
        )
        engine = SyncEngine(
            self._uow,
            gateway,  # type: ignore[arg-type]
            self._clock,
            bus=self._bus,
            rate_share=self._rate_share,
            holder=self._holder,
        )
        log.info(
            "Sync connected to GoCardless (%s)", "training simulator" if self.training else self._environment
        )
        return engine, gateway

    def _tell(self, state: SyncState) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(state)
