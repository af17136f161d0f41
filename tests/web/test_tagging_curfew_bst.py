"""A curfew timetable entered on the page (London wall-clock time) keeps its hours across both changes
of clocks, end to end: the form, the stored zone and the schedule breach detection reads
(``services.build_zone``). 19:00-07:00 London is 19:00-07:00 UTC in winter and 18:00-06:00 UTC in summer;
the night of the change lasts 11 hours in March and 13 in October."""

from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse
from test_tagging_util import client, make_world

from vru.web.tagging import services
from vru.web.tagging.models import Zone

pytestmark = pytest.mark.django_db


def _utc(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


@pytest.mark.parametrize("first", ["2024-01-08T19:00", "2024-07-01T19:00"])  # entered in winter or summer
def test_a_curfew_set_on_the_page_stays_19_to_07_london_time_across_both_clock_changes(settings, tmp_path,
                                                                                       first):
    w = make_world(settings, tmp_path, store=False)
    url = reverse("tagging:zone_create", args=[w.wearers[0].pk])
    r = client(w.om).post(url, {"kind": "curfew", "name": "Home curfew", "rrule": "FREQ=DAILY",
                                "local_start": first, "duration_minutes": "720", "curfew_easting": "531000",
                                "curfew_northing": "179000", "curfew_radius_m": "50", "crs": "WGS84"})
    assert r.status_code == 302, r.content.decode()[:2000]
    zone = services.build_zone(Zone.objects.get(name="Home curfew"))
    (sched,) = zone.schedules
    starts, ends = sched.intervals(_utc("2024-03-29 12:00"), _utc("2024-04-01 12:00"))
    got = [(str(pd.Timestamp(a, tz="UTC")), str(pd.Timestamp(b, tz="UTC"))) for a, b in zip(starts, ends,
                                                                                            strict=True)]
    expect = {("2024-03-29 19:00:00+00:00", "2024-03-30 07:00:00+00:00"),  # GMT
              ("2024-03-30 19:00:00+00:00", "2024-03-31 06:00:00+00:00"),  # the change: 11 hours
              ("2024-03-31 18:00:00+00:00", "2024-04-01 06:00:00+00:00")}  # BST
    if first.startswith("2024-07"):  # a timetable that starts in July has no March occurrences
        expect = set()
    assert set(got) == expect
    starts, ends = sched.intervals(_utc("2024-10-25 12:00"), _utc("2024-10-28 12:00"))
    got = {(str(pd.Timestamp(a, tz="UTC")), str(pd.Timestamp(b, tz="UTC"))) for a, b in zip(starts, ends,
                                                                                            strict=True)}
    assert got == {("2024-10-25 18:00:00+00:00", "2024-10-26 06:00:00+00:00"),  # BST
                   ("2024-10-26 18:00:00+00:00", "2024-10-27 07:00:00+00:00"),  # the change: 13 hours
                   ("2024-10-27 19:00:00+00:00", "2024-10-28 07:00:00+00:00")}  # GMT
    # what detection does with it: inside the curfew hours by London time, on both sides of the change
    times = pd.Series([_utc("2024-10-26 18:30"), _utc("2024-10-27 18:30"), _utc("2024-10-27 19:30")])
    assert (zone.active_interval(times) >= 0).tolist() == [True, False, True]
