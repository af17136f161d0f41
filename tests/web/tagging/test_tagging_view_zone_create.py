"""The ``tagging:zone_create`` page, /tagging/wearers/<pk>/zones/new/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import make_world

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
    r = signed_in(w.om).post(url, {"kind": "curfew", "name": "Home curfew", "rrule": "FREQ=DAILY",
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


@pytest.mark.world("no_store")
def test_the_zone_form_carries_the_offline_drawing_map_and_its_script(world):
    r = signed_in(world.om).get(reverse("tagging:zone_create", args=[world.wearers[0].pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert re.search(r'<div class="tagging-draw" id="zone-draw" hidden>', body)  # shown by the script only
    assert '<script type="module" src="/static/tagging/zone-draw.mjs"></script>' in body
    svg = re.search(r'<svg [^>]*id="zone-draw-map".*?</svg>', body, re.S).group(0)
    assert 'data-extent="' in svg and ' style=' not in svg and "http" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    vb = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert 500_000 < vb[0] < 510_000 and -205_000 < vb[1] < -200_000  # London in grid metres, y = -northing
    assert svg.count("<path") > 500  # wards and boroughs
    for field in ('id="id_geojson"', 'id="id_crs"'):
        assert field in body  # the fields the script writes


@pytest.mark.world("no_store")
def test_a_drawn_polygon_is_stored_in_grid_metres_like_pasted_geojson(world):
    ring = [[531950, 178901], [532350, 178953], [532298, 178602], [531897, 178551], [531950, 178901]]
    url = reverse("tagging:zone_create", args=[world.wearers[0].pk])
    r = signed_in(world.om).post(url, {"kind": "exclusion", "name": "Drawn", "crs": "BNG",
                                    "geojson": json.dumps({"type": "Polygon", "coordinates": [ring]})})
    assert r.status_code == 302
    stored = Zone.objects.get(name="Drawn").geometry["coordinates"][0]
    assert sorted(map(tuple, stored[:-1])) == sorted(tuple(map(float, p)) for p in ring[:-1])


@pytest.mark.world("no_store")
def test_a_drawn_polygon_that_crosses_itself_is_refused_next_to_the_field(world):
    bow = [[531000, 179000], [531200, 179200], [531200, 179000], [531000, 179200], [531000, 179000]]
    url = reverse("tagging:zone_create", args=[world.wearers[0].pk])
    r = signed_in(world.om).post(url, {"kind": "exclusion", "name": "Bow", "crs": "BNG",
                                    "geojson": json.dumps({"type": "Polygon", "coordinates": [bow]})})
    assert r.status_code == 200 and not Zone.objects.exists()
    assert "govuk-error-message" in r.content.decode()


@pytest.mark.world("pages")
def test_a_zone_is_uploaded_as_wgs84_geojson_and_stored_in_bng(world):
    gj = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'
    r = signed_in(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": "Park", "geojson": gj, "crs": "WGS84",
        "rrule": "FREQ=WEEKLY;BYDAY=SA,SU", "local_start": "2024-03-02T09:00", "duration_minutes": "600"})
    assert r.status_code == 302
    z = Zone.objects.get(name="Park")
    x, y = z.geometry["coordinates"][0][0]
    assert 520_000 < x < 540_000 and 170_000 < y < 190_000
    services.build_zone(z)


@pytest.mark.world("pages")
@pytest.mark.parametrize("data,message", [
    ({"kind": "exclusion", "geojson": "{not json"}, "not JSON"),
    ({"kind": "exclusion", "geojson": '{"type":"Point","coordinates":[0,51]}'}, "Polygon"),
    ({"kind": "exclusion", "geojson": "[" * 5000 + "]" * 5000}, "GeoJSON"),
    ({"kind": "exclusion", "geojson": '{"type":"Polygon","coordinates":[[[0,0],[1,NaN],[1,1],[0,0]]]}'},
     "NaN"),
    ({"kind": "curfew", "curfew_easting": "530000", "curfew_northing": "180000",
      "curfew_radius_m": "99999"},
     "less than or equal to 5000"),
    ({"kind": "exclusion", "geojson": '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}',
      "rrule": "NOT A RULE", "local_start": "2024-03-02T09:00", "duration_minutes": "60"}, "RRULE"),
])
def test_a_bad_zone_is_a_message_next_to_the_field_and_nothing_is_written(world, data, message):
    r = signed_in(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]),
                              {"name": "Bad", "crs": "WGS84", **data})
    assert r.status_code == 200 and message in r.content.decode()
    assert not Zone.objects.filter(name="Bad").exists()


GJ = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'


@pytest.fixture
def people(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def _zone(people, **data):
    return signed_in(people.om).post(reverse("tagging:zone_create", args=[people.wearers[0].pk]),
                                  {"kind": "exclusion", "name": "Park", "crs": "WGS84", **data})


def test_a_zone_is_uploaded_as_a_geojson_file_and_checked_like_pasted_text(people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = _zone(people, geojson_file=SimpleUploadedFile("park.geojson", b"\xef\xbb\xbf" + GJ.encode()))
    assert r.status_code == 302
    x, y = Zone.objects.get(name="Park").geometry["coordinates"][0][0]
    assert 520_000 < x < 540_000 and 170_000 < y < 190_000
    for upload, extra, message in [
            (b'{"type":"Point","coordinates":[0,51]}', {}, "Polygon"),
            (b"{not json", {}, "not JSON"),
            (b"\xff\xfe\x00bad", {}, "not UTF-8"),
            (b" ", {}, "upload a GeoJSON file"),
            (GJ.encode(), {"geojson": GJ}, "not both"),
            (b" " * 500_001, {}, "at most 500 KB")]:
        r = _zone(people, name="Bad", geojson_file=SimpleUploadedFile("z.geojson", upload), **extra)
        body = r.content.decode()
        assert r.status_code == 200 and message in body, message
        assert 'id="id_geojson_file-error"' in body or "geojson_file-error" in body, message
    assert not Zone.objects.filter(name="Bad").exists()


BNG_SQUARE = ('{"type":"Polygon","coordinates":[[[530000,180000],[530100,180000],[530100,180100],'
              '[530000,180100],[530000,180000]]]}')


def _errors(r) -> dict[str, str]:
    """field id -> its error message, from the GOV.UK markup."""
    html = r.content.decode()
    return {m[0]: re.sub(r"<.*?>|\s+", " ", m[1]).strip()
            for m in re.findall(r'id="id_(\w+)-error"[^>]*>(.*?)</p>', html, re.S)}


def _post_zone(world, name, rrule="FREQ=DAILY", start="2024-03-04T19:00", dur="60"):
    return signed_in(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": name, "geojson": BNG_SQUARE, "crs": "BNG", "rrule": rrule,
        "local_start": start, "duration_minutes": dur})


@pytest.mark.world("no_store")
@pytest.mark.parametrize("rrule, field, message", [
    ("FREQ=DAILY;INTERVAL=0", "rrule", "INTERVAL must be a whole number from 1 to 365"),
    ("FREQ=DAILY;INTERVAL=99999999999999999999", "rrule", "INTERVAL must be a whole number"),
    ("FREQ=WEEKLY;INTERVAL=-1", "rrule", "INTERVAL must be a whole number"),
    ("FREQ=DAILY;COUNT=0", "rrule", "COUNT must be a whole number from 1 to 10,000"),
    ("FREQ=DAILY;COUNT=99999999", "rrule", "COUNT must be a whole number"),
    ("FREQ=DAILY;UNTIL=20241301T000000", "rrule", "UNTIL must be a real local date"),
    ("FREQ=DAILY;UNTIL=99991231T000000", "rrule", "UNTIL must be between 2000 and 2100"),
    ("FREQ=DAILY;UNTIL=20200101T000000", "rrule", "before its first occurrence"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20250101T000000", "rrule", "COUNT or UNTIL, not both"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "rrule", "never occur"),
    ("FREQ=DAILY;BYMONTHDAY=0", "rrule", "BYMONTHDAY must be 1 to 31"),
    ("FREQ=DAILY;BYMONTH=13", "rrule", "BYMONTH must be a whole number from 1 to 12"),
    ("FREQ=WEEKLY;BYDAY=XX", "rrule", "not an iCalendar RRULE"),
])
def test_a_rule_that_would_loop_or_never_occur_is_refused_next_to_the_field(world, rrule, field, message):
    r = _post_zone(world, "Bad rule", rrule=rrule)
    assert r.status_code == 200
    assert message in _errors(r).get(field, ""), _errors(r)
    assert not Zone.objects.filter(name="Bad rule").exists()


@pytest.mark.world("no_store")
@pytest.mark.parametrize("rrule", ["FREQ=DAILY;INTERVAL=2", "FREQ=WEEKLY;BYDAY=MO,FR;COUNT=40",
                                   "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "FREQ=DAILY;UNTIL=20240401"])
def test_bounded_rules_are_accepted(world, rrule):
    r = _post_zone(world, "Good rule", rrule=rrule)
    assert r.status_code == 302, _errors(r)
    assert Zone.objects.filter(name="Good rule").exists()


@pytest.mark.world("no_store")
@pytest.mark.parametrize("dur", ["99999999999999", "10081", "0", "-5"])
def test_a_duration_out_of_range_is_a_message_not_a_500(world, dur):
    r = _post_zone(world, "Long", dur=dur)
    assert r.status_code == 200
    assert "Enter a duration from 1 to 10,080 minutes" in _errors(r).get("duration_minutes", ""), _errors(r)
    assert "rrule" not in _errors(r)  # no second, misleading message about a missing duration
    assert not Zone.objects.filter(name="Long").exists()


@pytest.mark.world("no_store")
@pytest.mark.parametrize("start", ["9999-12-31T23:30", "0001-01-01T00:10", "1999-12-31T23:00"])
def test_a_first_occurrence_out_of_range_is_a_message_not_a_500(world, start):
    r = _post_zone(world, "Far", start=start)
    assert r.status_code == 200
    assert "Enter a date from 2000-01-01 to" in _errors(r).get("local_start", ""), _errors(r)
    assert not Zone.objects.filter(name="Far").exists()
