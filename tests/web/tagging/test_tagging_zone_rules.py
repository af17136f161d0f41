"""Zone schedules (RRULE): the rules accepted and refused, their expansion, clock changes."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from dateutil.rrule import rrulestr
from django.urls import reverse
from factories import signed_in

from vru.tagging import zones
from vru.tagging.zones import LONDON
from vru.web.tagging import demo, services
from vru.web.tagging import forms as F
from vru.web.tagging.forms import _first_day, _rule_parts, schedule_rule_problem
from vru.web.tagging.models import Zone

pytestmark = pytest.mark.django_db


def test_a_curfew_zone_is_built_with_its_schedule(world):
    w = world.wearers[0]
    import datetime as dt
    z = Zone.objects.create(wearer=w, kind="curfew", name="Curfew", curfew_easting=530000,
                            curfew_northing=180000, curfew_radius_m=50, rrule="FREQ=DAILY",
                            local_start=dt.datetime(2024, 3, 1, 19, 0), duration_minutes=720)
    zone = services.build_zone(z)
    assert zone.kind == "inclusion" and abs(zone.geometry.area - 3.1416 * 2500) < 10
    assert zone.active_interval(pd.Series([pd.Timestamp("2024-03-04T20:00Z")]))[0] >= 0
    assert zone.active_interval(pd.Series([pd.Timestamp("2024-03-04T12:00Z")]))[0] == -1


def test_expansion_is_capped_per_call():
    import pandas as pd

    from vru.tagging import zones

    sc = zones.Schedule("FREQ=DAILY", datetime(2000, 1, 1, 19), pd.Timedelta(hours=1).to_pytimedelta())
    t0 = pd.Timestamp("2099-12-01", tz="UTC")
    starts, _ = sc.intervals(t0, t0 + pd.Timedelta(days=2))  # 36,500 steps from 2000: under the cap
    assert len(starts) == 2
    old = zones.MAX_EXPANSION
    try:
        zones.MAX_EXPANSION = 1_000
        with pytest.raises(zones.ZoneError, match="more than 1,000 occurrences"):
            sc.intervals(t0, t0 + pd.Timedelta(days=2))
    finally:
        zones.MAX_EXPANSION = old


def test_last_day_is_five_years_ahead():
    assert F.last_day(date(2026, 12, 6)) == date(2031, 12, 6)
    assert F.last_day(date(2028, 2, 29)) == date(2033, 2, 28)


SQUARE = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'


@pytest.mark.parametrize("rule, message", [
    ("RRULE:FREQ=DAILY\nEXDATE:20240305T190000Z", "one RRULE line"),
    ("DTSTART:20240302T090000Z\nRRULE:FREQ=DAILY", "one RRULE line"),
    ("FREQ=SECONDLY", "DAILY or WEEKLY"),
])
def test_the_zone_form_refuses_a_rule_breach_detection_cannot_read(world, rule, message):
    r = signed_in(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": "Bad", "geojson": SQUARE, "crs": "WGS84", "rrule": rule,
        "local_start": "2024-03-02T09:00", "duration_minutes": "60"})
    assert r.status_code == 200 and message in r.content.decode()
    assert not Zone.objects.filter(name="Bad").exists()


def _post_zone(world, rule, start="2026-01-05T19:00", name="Ruled"):
    return signed_in(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": name, "geojson": SQUARE, "crs": "WGS84", "rrule": rule,
        "local_start": start, "duration_minutes": "60"})


@pytest.mark.parametrize("rule, start, message", [
    ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-01-05T19:00", "to the end of 2100"),  # every 7th day: Mondays
    ("FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2", "2000-01-05T19:00", "to the end of 2100"),
    ("FREQ=DAILY;BYMONTHDAY=29;BYMONTH=2;UNTIL=20271231T235959", "2026-01-05T19:00",
     "to its UNTIL (31 December 2027)"),  # no 29 February before 2028
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYMONTHDAY=13;UNTIL=20260401", "2026-01-05T19:00", "to its UNTIL"),
])
def test_a_rule_that_never_occurs_is_refused_at_once_without_expanding_it(world, monkeypatch, rule, start,
                                                                         message):
    def expanded(*a, **kw):
        raise AssertionError("the rule was expanded by dateutil (which walks to the year 9999)")

    monkeypatch.setattr(zones, "rrulestr", expanded)
    r = _post_zone(world, rule, start)
    page = r.content.decode()
    assert r.status_code == 200 and "This rule never occurs" in page and message in page
    assert not Zone.objects.filter(name="Ruled").exists()


def test_the_never_occurs_check_takes_milliseconds():
    import time

    t0 = time.perf_counter()
    problem = schedule_rule_problem("FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2", datetime(2000, 1, 5, 19))
    assert problem and time.perf_counter() - t0 < 0.5  # dateutil: about 5 s to the year 9999


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=1MO", "FREQ=DAILY;BYDAY=MO,-1FR",
                                  "FREQ=WEEKLY;BYDAY=+2TU"])
def test_a_numbered_weekday_under_daily_or_weekly_is_refused(world, rule):
    r = _post_zone(world, rule)
    page = r.content.decode()
    assert r.status_code == 200 and "numbers a weekday within a month or year" in page and "RFC 5545" in page
    assert not Zone.objects.filter(name="Ruled").exists()


@pytest.mark.parametrize("rule, start", [
    ("FREQ=DAILY;BYMONTHDAY=29;BYMONTH=2;BYDAY=MO", "2026-01-05T19:00"),  # 29 February 2044
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "2026-01-05T19:00"),
    ("RRULE:FREQ=DAILY;BYMONTHDAY=-1;UNTIL=20260131T190000", "2026-01-05T19:00"),  # 31 January, 19:00
])
def test_rules_that_occur_are_kept(world, rule, start):
    r = _post_zone(world, rule, start)
    assert r.status_code == 302, r.content.decode()[-2000:]
    assert Zone.objects.filter(name="Ruled", rrule=rule).exists()


@pytest.mark.parametrize("rule, first", [
    ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,MO", datetime(2026, 1, 6, 8)),
    ("FREQ=WEEKLY;INTERVAL=3;BYMONTHDAY=-1,15", datetime(2030, 5, 20, 8)),
    ("FREQ=DAILY;INTERVAL=5;BYMONTH=3,11;BYDAY=SA", datetime(2024, 1, 1, 8)),
    ("FREQ=DAILY;BYMONTHDAY=29;BYMONTH=2;BYDAY=MO", datetime(2026, 1, 5, 19)),
    ("FREQ=WEEKLY;BYMONTH=7", datetime(2026, 1, 5, 19)),
    ("FREQ=DAILY;UNTIL=20260105T180000", datetime(2026, 1, 5, 19)),
])
def test_the_first_day_found_is_dateutils_first_occurrence(rule, first):
    parts = _rule_parts(rule)
    end = datetime(2100, 12, 31, 23, 59, 59)
    if "UNTIL" in parts:
        end = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%S")
    o = next(iter(rrulestr(rule, dtstart=first)), None)
    assert _first_day(parts, first, end) == (o.date() if o is not None and o <= end else None)


def test_an_occurrence_in_the_spring_forward_gap_keeps_its_duration(world):
    """Every night 01:30 for an hour: on 29 March 2026 (the clocks go from 01:00 GMT to 02:00 BST), 01:30
    is read with the offset before the change (RFC 5545), 01:30 GMT = 02:30 BST, and the occurrence moves
    forward whole: 02:30 to 03:30 BST (01:30 to 02:30 UTC), not a zero-length 02:30 to 02:30."""
    w = world.wearers[0]
    z = Zone.objects.create(wearer=w, kind="exclusion", name="Night",
                            geometry=demo.zone_on_trail(world.sim, w.ref), rrule="FREQ=DAILY",
                            local_start=datetime(2026, 3, 27, 1, 30, tzinfo=LONDON), duration_minutes=60)
    sched = services.build_zone(z).schedules[0]
    starts, ends = sched.intervals(pd.Timestamp("2026-03-28T00:00Z"), pd.Timestamp("2026-03-30T12:00Z"))
    utc = [(str(s)[:16], str(e)[:16]) for s, e in zip(starts, ends, strict=True)]
    assert utc == [("2026-03-28T01:30", "2026-03-28T02:30"),  # GMT
                   ("2026-03-29T01:30", "2026-03-29T02:30"),  # in the gap: 02:30-03:30 BST
                   ("2026-03-30T00:30", "2026-03-30T01:30")]  # BST
    assert all(e - s == np.timedelta64(60, "m") for s, e in zip(starts, ends, strict=True))
    # the autumn night keeps its first (BST) reading: 01:30 BST on 25 October 2026 is 00:30 UTC
    starts, ends = sched.intervals(pd.Timestamp("2026-10-25T00:00Z"), pd.Timestamp("2026-10-25T03:00Z"))
    assert str(starts[0])[:16] == "2026-10-25T00:30" and ends[0] - starts[0] == np.timedelta64(120, "m")
