"""A zone's schedule is one RRULE line of days or weeks, checked as breach detection reads it (review of
issue 13, finding 5)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from vru.tagging.zones import Schedule, ZoneError

START = datetime(2024, 3, 4, 19, 0)


@pytest.mark.parametrize("rule, message", [
    ("RRULE:FREQ=DAILY\nEXDATE:20240305T190000Z", "one RRULE line"),
    ("DTSTART:20240304T190000Z\nRRULE:FREQ=DAILY", "one RRULE line"),
    ("FREQ=SECONDLY", "DAILY or WEEKLY"),
    ("FREQ=DAILY;BYHOUR=1,2,3", "not BYHOUR"),
    ("FREQ=DAILY;UNTIL=20240310T000000Z", "without Z"),
    ("FREQ=DAILY;;", "NAME=VALUE"),
    ("INTERVAL=2", "missing"),
])
def test_rules_breach_detection_cannot_use_are_refused(rule, message):
    with pytest.raises(ZoneError, match=message):
        Schedule(rule, START, timedelta(hours=12))


KEPT = ["FREQ=DAILY", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "freq=daily;until=20240310T235959",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=SA"]


@pytest.mark.parametrize("rule", KEPT)
def test_day_and_week_rules_are_kept_and_give_intervals(rule):
    sc = Schedule(rule, START, timedelta(hours=12))
    s, e = sc.intervals(pd.Timestamp("2024-03-04T00:00Z"), pd.Timestamp("2024-03-20T00:00Z"))
    assert len(s) >= 1 and (e > s).all()
