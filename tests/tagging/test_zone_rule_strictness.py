"""Zone schedule rules: every BYDAY item is a plain weekday, and a rule that never occurs is refused by
``zones.Schedule`` itself (so every path that builds one, not only the zone form), without expanding it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pandas as pd
import pytest

from vru.tagging import zones

HOUR = timedelta(hours=1)
MONDAY = datetime(2026, 1, 5, 19)


@pytest.mark.parametrize("byday", ["TU(1)", "TU(+1)", "100TU", "MO,TU(-1)", "+1TU", "-1FR", "", "MO,,TU",
                                   "TUE", "1"])
def test_a_byday_item_that_is_not_a_plain_weekday_is_refused_at_once(byday):
    t0 = time.perf_counter()
    with pytest.raises(zones.ZoneError, match="BYDAY"):
        zones.Schedule(f"FREQ=DAILY;INTERVAL=7;BYDAY={byday}", MONDAY, HOUR)
    assert time.perf_counter() - t0 < 0.5  # dateutil walked TU(1) to the year 9999: over a second


def test_a_numbered_weekday_keeps_its_rfc_message():
    with pytest.raises(zones.ZoneError, match=r"numbers a weekday within a month or year.*RFC 5545"):
        zones.Schedule("FREQ=WEEKLY;BYDAY=100TU", MONDAY, HOUR)


def test_a_bad_week_start_is_refused():
    with pytest.raises(zones.ZoneError, match="WKST"):
        zones.Schedule("FREQ=WEEKLY;WKST=XX;BYDAY=MO", MONDAY, HOUR)


@pytest.mark.parametrize("rule, first, message", [
    ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", MONDAY, "to the end of 2100"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;UNTIL=20271231", MONDAY, "to its UNTIL"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYMONTHDAY=13;UNTIL=20260401", MONDAY, "to its UNTIL"),
])
def test_the_schedule_itself_refuses_a_rule_that_never_occurs_without_expanding_it(monkeypatch, rule, first,
                                                                                   message):
    def expanded(*a, **kw):
        raise AssertionError("the rule was expanded by dateutil (which walks to the year 9999)")

    monkeypatch.setattr(zones, "rrulestr", expanded)
    t0 = time.perf_counter()
    with pytest.raises(zones.ZoneError, match="This rule never occurs") as info:
        zones.Schedule(rule, first, HOUR)
    assert message in str(info.value) and time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize("rule, first, expected", [
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", MONDAY, datetime(2044, 2, 29, 19)),  # 18 years on
    ("FREQ=WEEKLY;INTERVAL=365;BYDAY=SU", MONDAY, datetime(2026, 1, 11, 19)),
    ("FREQ=DAILY;INTERVAL=7;BYDAY=MO", MONDAY, MONDAY),
])
def test_rules_that_occur_late_or_soon_are_kept_and_expand_as_dateutil_reads_them(rule, first, expected):
    sc = zones.Schedule(rule, first, HOUR)
    at = pd.Timestamp(expected, tz=zones.LONDON)
    starts, _ = sc.intervals(at - pd.Timedelta(days=1), at + pd.Timedelta(days=1))
    assert len(starts) == 1 and pd.Timestamp(starts[0], tz="UTC") == at.tz_convert("UTC")


def test_the_check_is_cheap_for_a_rule_that_occurs_at_once():
    t0 = time.perf_counter()
    for _ in range(50):
        zones.check_schedule_rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", MONDAY)
    assert (time.perf_counter() - t0) / 50 < 0.02
