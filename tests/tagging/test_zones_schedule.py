"""A zone's schedule is one RRULE line of days or weeks, checked as breach detection reads it."""

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


def test_fixes_hours_apart_do_not_make_a_dwell():
    """Three fixes inside a zone hours apart (a tag that went quiet) open no breach; the same three a
    minute apart do."""
    from shapely.geometry import box

    from vru.tagging import zones

    z = zones.Zone("z", zones.EXCLUSION, box(529000, 179000, 531000, 181000))

    def pos(times):
        t = pd.to_datetime(times, utc=True)
        n = len(t)
        return pd.DataFrame({"device_id": ["D"] * n, "wearer_ref": ["W"] * n, "fix_time": t,
                             "received_time": t, "lat": [51.5] * n, "lon": [-0.1] * n,
                             "easting": [530000.0] * n, "northing": [180000.0] * n, "precision_m": [5.0] * n,
                             "speed_kmh": [0.0] * n, "heading_deg": [0.0] * n, "mechanism": ["GPS"] * n})

    sparse = pos(["2024-03-04T08:00Z", "2024-03-04T11:00Z", "2024-03-04T14:00Z"])
    assert zones.detect_breaches(sparse, {"W": z}).empty
    dense = pos(["2024-03-04T08:00Z", "2024-03-04T08:01Z", "2024-03-04T08:02Z"])
    assert len(zones.detect_breaches(dense, {"W": z})) == 1
    assert len(zones.detect_breaches(sparse, {"W": z}, rule=zones.BreachRule(max_gap_s=4 * 3600))) == 1
