"""What every use case needs: a way to open units of work, a clock, and the clinic's settings.

``app.py`` builds one ``Services`` from the real parts; tests build one over a temporary database and a
``FixedClock``. Nothing here is a module-level singleton.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.clock import Clock, SystemClock
from aestheticc_pos.domain.appointments import NoShowPolicy
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.store.tables import SettingRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

DEFAULT_TIME_ZONE = "Europe/London"


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    """The clinic's own settings, kept in the database so every till shares them."""

    name: str = ""
    address: str = ""
    vat_number: str = ""
    phone: str = ""
    email: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    till_prefix: str = "A"
    no_show_policy: NoShowPolicy = NoShowPolicy.FORFEIT
    late_cancel_hours: int = 24
    grace_days: int = 7
    currency: str = "GBP"
    late_deposit: str = "keep"  # a paid deposit on a late cancellation or a no-show: "keep" or "refund"
    # A Direct Debit sign-up asks the client to pay the first month by instant bank payment as they authorise
    # (GBP only); off, the first month is a Direct Debit payment on the mandate's earliest charge date.
    instant_first_payment: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_set_up(self) -> bool:
        return bool(self.name.strip())


_INT_FIELDS = {"late_cancel_hours", "grace_days"}
_BOOL_FIELDS = {"instant_first_payment"}


_SETTINGS = select(
    SettingRow.__table__.c.key, SettingRow.__table__.c.value
)  # built once: read by every use case


def read_clinic_settings(session: Session) -> ClinicSettings:
    session.flush()  # settings written earlier in this unit of work are read back (a Core read never autoflushes)
    stored = {key: value for key, value in session.execute(_SETTINGS)}
    values: dict[str, object] = {}
    for name in ClinicSettings.__dataclass_fields__:
        if name not in stored:
            continue
        raw = stored[name]
        if name in _INT_FIELDS:
            values[name] = int(raw)
        elif name in _BOOL_FIELDS:
            values[name] = raw == "True"
        elif name == "no_show_policy":
            values[name] = NoShowPolicy(raw)
        else:
            values[name] = raw
    return ClinicSettings(**values)  # type: ignore[arg-type]


def write_clinic_settings(session: Session, settings: ClinicSettings) -> None:
    check_clinic_settings(settings)
    for name in ClinicSettings.__dataclass_fields__:
        value = getattr(settings, name)
        row = session.get(SettingRow, name) or SettingRow(key=name)
        row.value = str(value.value if hasattr(value, "value") else value)
        session.add(row)


def check_clinic_settings(settings: ClinicSettings) -> None:
    try:
        ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"“{settings.time_zone}” is not a time zone (e.g. Europe/London).", field="time_zone"
        ) from None
    prefix = settings.till_prefix
    if not (1 <= len(prefix) <= 4 and prefix.isalnum() and prefix.isascii()):
        raise InvalidInput("A till prefix is 1 to 4 letters or digits (e.g. A).", field="till_prefix")
    if not 0 <= settings.late_cancel_hours <= 168:
        raise InvalidInput("Late cancellation is between 0 and 168 hours before.", field="late_cancel_hours")
    if not 0 <= settings.grace_days <= 60:
        raise InvalidInput("A grace period is between 0 and 60 days.", field="grace_days")
    if settings.late_deposit not in ("keep", "refund"):
        raise InvalidInput("A late cancellation either keeps or refunds the deposit.", field="late_deposit")


@dataclass
class Services:
    """The wiring every service function receives first.

    ``uow`` opens a new unit of work per call (``with services.uow() as uow: …``). ``new_id`` makes the
    UUIDs records get at the till, so records made offline on two tills never clash.
    """

    uow: Callable[..., UnitOfWork]
    clock: Clock = field(default_factory=SystemClock)
    new_id: Callable[[], str] = field(default_factory=lambda: _uuid4)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def settings(self) -> ClinicSettings:
        with self.uow(read_only=True) as uow:
            return read_clinic_settings(uow.session)

    def today(self, settings: ClinicSettings | None = None) -> dt.date:
        tz = (settings or self.settings()).tz
        return self.now().astimezone(tz).date()


def _uuid4() -> str:
    import uuid

    return str(uuid.uuid4())
