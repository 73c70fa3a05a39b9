"""Sending the queued emails in the background, on a thread of its own, so nothing at the till waits for the
mail server (DESIGN.md §5: emails to clients are queued and sent once).

    sender = EmailSender(services).start()   # app.py
    sender.wake()                            # an email was just queued: send it now rather than at the next round
    sender.stop()

Every ``interval`` seconds (and at once when woken) it runs ``services.email.send_queued_emails``, which sends
what is due and marks each message so it is never sent twice, even by two tills sending at the same time.
A round that fails is logged and the next one tries again; the thread never stops the till.
"""

from __future__ import annotations

import logging
import threading

from aestheticc_pos.keyring_store import Passwords
from aestheticc_pos.mailer import SmtpMailer
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.email import SendRound

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0


class EmailSender:
    def __init__(
        self,
        services: Services,
        *,
        interval: float = INTERVAL_SECONDS,
        passwords: Passwords | None = None,
        mailer: SmtpMailer | None = None,
    ) -> None:
        self.services = services
        self.interval = interval
        self._passwords = passwords
        self._mailer = mailer
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # finished rounds, for tests and the log
        self.last_round: SendRound | None = None

    def __repr__(self) -> str:
        return f"EmailSender(every {self.interval:g}s, rounds={self.rounds})"

    def start(self) -> EmailSender:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="email-sender", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Send now (an email was queued, or the settings changed)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.last_round = email_service.send_queued_emails(
                    self.services, mailer=self._mailer, passwords=self._passwords
                )
            except Exception:  # noqa: BLE001 - a round that fails is tried again at the next one
                log.exception("A round of sending emails failed; trying again later")
            self.rounds += 1
            self._wake.wait(self.interval)
            self._wake.clear()
