"""How the front desk writes money, dates and times: £1,234.56, 24 Nov 2026, 09:30 — on every screen, receipt
and invoice. A negative amount has a true minus sign (−£12.50); an amount in a field to edit has no symbol
(1234.56), as staff type it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aestheticc_pos.domain.money import Money

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def money(amount: Money | None) -> str:
    """ "£1,234.56"; a negative amount "−£12.50"; None as an empty string."""
    if amount is None:
        return ""
    whole, pence = divmod(abs(amount.pence), 100)
    symbol = _SYMBOLS.get(amount.currency)
    text = f"{symbol}{whole:,}.{pence:02d}" if symbol else f"{whole:,}.{pence:02d} {amount.currency}"
    return f"−{text}" if amount.pence < 0 else text


def editable_amount(amount: Money) -> str:
    """An amount as staff type it in a field: "1200.00" (no symbol, no thousands separator)."""
    whole, pence = divmod(abs(amount.pence), 100)
    return f"{'-' if amount.pence < 0 else ''}{whole}.{pence:02d}"


def date(day: dt.date | None) -> str:
    """ "24 Nov 2026" (never the system locale's month names)."""
    if day is None:
        return ""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def editable_date(day: dt.date | None) -> str:
    """A date as staff type it in a field: "17/05/1990"; None as an empty string."""
    return "" if day is None else f"{day:%d/%m/%Y}"


def long_date(day: dt.date) -> str:
    """ "Tuesday 24 Nov 2026"."""
    return f"{_DAYS[day.weekday()]} {date(day)}"


def time(moment: dt.datetime, tz: ZoneInfo) -> str:
    """ "09:30" in the clinic's time zone."""
    return moment.astimezone(tz).strftime("%H:%M")


def date_time(moment: dt.datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{date(local.date())} {local:%H:%M}"


def percent(basis_points: int) -> str:
    """ "20%", "12.5%"."""
    whole, part = divmod(basis_points, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


def editable_percent(basis_points: int) -> str:
    """Basis points as staff type them in a field: 2000 → "20", 1250 → "12.5"."""
    return percent(basis_points).removesuffix("%")
