"""The message bus port: where the sync hands the domain messages it produces (``domain/messages.py``).

The sync never imports the services (DESIGN.md §1): ``app.py`` gives the engine ``services/handlers.py``'s bus,
and tests give it the same bus over their own services. ``handle`` runs inside the caller's unit of work and
never commits: the event applied (``sync/inbox.py``) or the outbox row being sent (``sync/drain.py``) is written
in the same transaction as what the message changed.
"""

from __future__ import annotations

from typing import Protocol

from aestheticc_pos.domain.messages import Handled, Message
from aestheticc_pos.store.unit_of_work import UnitOfWork


class MessageBus(Protocol):
    def handle(self, uow: UnitOfWork, message: Message) -> Handled:
        """Apply ``message`` in ``uow``. Raises ``NotKnownYet`` (it is about an id nothing knows yet) or a
        ``DomainError`` (the rules refuse it); database errors propagate."""
        ...
