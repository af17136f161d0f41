"""The dates the platform accepts for an opportunity: from 1 January 2000 to 5 years from today.

One rule for every way in (the provider's form, the moderator's approval, the Open Referral UK import).
Without it a date of year 1 or 9999 went through to date arithmetic (a day after 31 December 9999) and
time-zone conversion at the edges of what Python and the databases hold.
"""

from __future__ import annotations

import datetime as dt

EARLIEST = dt.date(2000, 1, 1)
YEARS_AHEAD = 5


def latest(today: dt.date) -> dt.date:
    """``YEARS_AHEAD`` years after ``today`` (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def problem(day: dt.date | dt.datetime, today: dt.date, what: str) -> str | None:
    """A message if ``day`` (a date, or a datetime: its date) is outside the window, else None."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if day < EARLIEST or day > latest(today):
        return f"{what} must be between {_long(EARLIEST)} and {_long(latest(today))}"
    return None
