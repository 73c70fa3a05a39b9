"""Working days for Bacs charge dates: weekdays that are not England & Wales bank holidays.

GoCardless collects only on working days and rolls a charge date that is not one forward to the next one, so the
simulator needs the bank holidays of any year a test or a training session may reach: New Year's Day, Good Friday,
Easter Monday, the early May (first Monday), spring (last Monday of May) and summer (last Monday of August) bank
holidays, Christmas Day and Boxing Day. A fixed-date holiday that falls on a weekend is replaced by the next weekday
that is not already a holiday (so Christmas on a Saturday gives Monday 27 and Tuesday 28 December).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

# One-off changes by royal proclamation since GoCardless began (2011): holidays moved, and extra ones.
_MOVED = {
    date(2012, 5, 28): date(2012, 6, 4),  # Diamond Jubilee
    date(2020, 5, 4): date(2020, 5, 8),  # VE Day 75
    date(2022, 5, 30): date(2022, 6, 2),  # Platinum Jubilee
}
_EXTRA = {
    date(2011, 4, 29),  # royal wedding
    date(2012, 6, 5),  # Diamond Jubilee
    date(2022, 6, 3),  # Platinum Jubilee
    date(2022, 9, 19),  # state funeral of Queen Elizabeth II
    date(2023, 5, 8),  # coronation of King Charles III
}


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous "Meeus/Jones/Butcher" algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England & Wales bank holidays in ``year``."""
    easter = easter_sunday(year)
    days = {
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    for fixed in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        day = fixed
        while day.weekday() >= 5 or day in days:  # the substitute day
            day += timedelta(days=1)
        days.add(day)
    days = {_MOVED.get(day, day) for day in days}
    days |= {day for day in _EXTRA if day.year == year}
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, otherwise the first working day after it (how GoCardless rolls a
    charge date forward)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (before it when ``days`` is negative); ``start`` itself
    for 0, working day or not."""
    step = timedelta(days=1 if days >= 0 else -1)
    current, left = start, abs(days)
    while left > 0:
        current += step
        if is_working_day(current):
            left -= 1
    return current
