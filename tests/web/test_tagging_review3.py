"""Review 3 of the tagging app: a zone rule that never ends, values that overflowed into 500s, reasons of
invisible characters, the 48-hour trail limit across the clock changes, feed values the database refuses,
stored copies of fixes kept past retention."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from django.urls import reverse
from test_tagging_util import client, make_world

from vru.web.tagging import forms as F
from vru.web.tagging.models import DeviceActivation, Wearer, Zone

pytestmark = pytest.mark.django_db
BNG_SQUARE = ('{"type":"Polygon","coordinates":[[[530000,180000],[530100,180000],[530100,180100],'
              '[530000,180100],[530000,180000]]]}')


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def _errors(r) -> dict[str, str]:
    """field id -> its error message, from the GOV.UK markup."""
    html = r.content.decode()
    return {m[0]: re.sub(r"<.*?>|\s+", " ", m[1]).strip()
            for m in re.findall(r'id="id_(\w+)-error"[^>]*>(.*?)</p>', html, re.S)}


def _post_zone(world, name, rrule="FREQ=DAILY", start="2024-03-04T19:00", dur="60"):
    return client(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": name, "geojson": BNG_SQUARE, "crs": "BNG", "rrule": rrule,
        "local_start": start, "duration_minutes": dur})


# ------------------------------------------------------------------ 1: rules that never end
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


@pytest.mark.parametrize("rrule", ["FREQ=DAILY;INTERVAL=2", "FREQ=WEEKLY;BYDAY=MO,FR;COUNT=40",
                                   "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "FREQ=DAILY;UNTIL=20240401"])
def test_bounded_rules_are_accepted(world, rrule):
    r = _post_zone(world, "Good rule", rrule=rrule)
    assert r.status_code == 302, _errors(r)
    assert Zone.objects.filter(name="Good rule").exists()


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


# ------------------------------------------------------------------ 2: values that overflowed
@pytest.mark.parametrize("dur", ["99999999999999", "10081", "0", "-5"])
def test_a_duration_out_of_range_is_a_message_not_a_500(world, dur):
    r = _post_zone(world, "Long", dur=dur)
    assert r.status_code == 200
    assert "Enter a duration from 1 to 10,080 minutes" in _errors(r).get("duration_minutes", ""), _errors(r)
    assert "rrule" not in _errors(r)  # no second, misleading message about a missing duration
    assert not Zone.objects.filter(name="Long").exists()


@pytest.mark.parametrize("start", ["9999-12-31T23:30", "0001-01-01T00:10", "1999-12-31T23:00"])
def test_a_first_occurrence_out_of_range_is_a_message_not_a_500(world, start):
    r = _post_zone(world, "Far", start=start)
    assert r.status_code == 200
    assert "Enter a date from 2000-01-01 to" in _errors(r).get("local_start", ""), _errors(r)
    assert not Zone.objects.filter(name="Far").exists()


def test_last_day_is_five_years_ahead():
    assert F.last_day(date(2026, 12, 6)) == date(2031, 12, 6)
    assert F.last_day(date(2028, 2, 29)) == date(2033, 2, 28)


# ------------------------------------------------------------------ 3: reasons of invisible characters
INVISIBLE = ["\u200b" * 12, "\u200b\u200c\u200d\u2060\ufeff" * 3, "\u00a0\u2003\u3000" * 5, ". . . . . . . ."]


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_justification_of_invisible_characters_is_refused(text):
    f = F.JustificationForm({"purpose": "crime investigation", "justification": text})
    assert not f.is_valid()
    assert "justification" in f.errors


def test_a_justification_is_kept_without_its_invisible_characters():
    f = F.JustificationForm({"purpose": "crime investigation",
                             "justification": "Crime\u200b ref  01/234567/24"})
    assert f.is_valid(), f.errors
    assert f.purpose_text() == "crime investigation: Crime ref 01/234567/24"


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_review_reason_of_invisible_characters_is_refused(text):
    f = F.ReviewForm({"decision": "dismissed", "reason": text})
    assert not f.is_valid() and "reason" in f.errors


def test_the_api_refuses_a_reason_of_invisible_characters(world):
    w = world.wearers[0]
    r = client(world.om).get(f"/api/v1/tagging/wearers/{w.pk}/trail/", {
        "purpose": "crime investigation", "reason": "\u200b" * 20,
        "start": "2024-03-04T09:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 400
    assert "reason" in r.json()


# ------------------------------------------------------------------ 4: 48 hours across the clock changes
def _trail_form(start, end):
    w, new = Wearer.objects.get_or_create(ref="W-CLOCK", defaults={
        "order_type": "knife_licence", "order_start": date(2024, 1, 1),
        "organisation": Wearer.objects.first().organisation})
    if new:
        DeviceActivation.objects.create(wearer=w, device_id="DEV-CLOCK",
                                        active_from=datetime.fromisoformat("2024-01-01T00:00+00:00"))
    return F.TrailForm({"purpose": "crime investigation", "justification": "Crime ref 01/234567/24",
                        "start": start, "end": end}, wearer=w)


def test_forty_eight_wall_clock_hours_over_the_october_change_are_49_real_hours_and_refused(world):
    f = _trail_form("2024-10-26T12:00", "2024-10-28T12:00")  # clocks go back at 02:00 BST on the 27th
    assert not f.is_valid()
    assert f.errors["end"] == ["The search window must not exceed 48 hours"]
    assert _trail_form("2024-10-26T13:00", "2024-10-28T12:00").is_valid()  # 48 real hours


def test_forty_nine_wall_clock_hours_over_the_march_change_are_48_real_hours_and_allowed(world):
    f = _trail_form("2024-03-30T11:00", "2024-04-01T12:00")  # clocks go forward at 01:00 GMT on the 31st
    assert f.is_valid(), f.errors
    assert not _trail_form("2024-03-30T10:59", "2024-04-01T12:00").is_valid()


def test_a_trail_window_out_of_range_is_a_message(world):
    f = _trail_form("9999-12-31T22:00", "9999-12-31T23:30")
    assert not f.is_valid() and "Enter a date from 2000-01-01" in f.errors["start"][0]


# ------------------------------------------------------------------ 5: feed values the table refuses
def test_the_importer_and_the_match_point_table_share_their_bounds():
    from vru.tagging import positions
    from vru.web.tagging import models

    assert models.MAX_SPEED_KMH is positions.MAX_SPEED_KMH
    assert models.MAX_PRECISION_M is positions.MAX_PRECISION_M


@pytest.mark.parametrize("col, val", [("speed_kmh", 1500.0), ("precision_m", 150_000.0)])
def test_a_stored_fix_past_the_bounds_does_not_fail_a_matching_run(settings, tmp_path, col, val):
    """A store written before the importer's check: the run succeeds; the speed is stored as unknown, a fix
    with such a precision is left out of the stored copy."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from test_tagging_util import ingest, planted

    from vru.tagging import store
    from vru.web.tagging.models import Match, MatchPoint, MatchRun

    w = make_world(settings, tmp_path)
    files = store.partition_files(settings.VRU_TAGGING_STORE)
    assert files
    for f in files:  # rewritten round the importer, as a store written before its check
        t = pq.read_table(f)
        i = t.schema.get_field_index(col)
        pq.write_table(t.set_column(i, col, pa.array([val] * t.num_rows, t.schema.field(i).type)), f)
    ingest(planted(2, decoys=0), w.pa)
    assert list(MatchRun.objects.values_list("status", flat=True)) == ["SUCCESS"]
    assert Match.objects.exists()
    if col == "speed_kmh":
        assert MatchPoint.objects.exists()
        assert not MatchPoint.objects.filter(speed_kmh__isnull=False).exists()
    else:
        assert not MatchPoint.objects.exists()


# ------------------------------------------------------------------ 6: stored copies of fixes
def test_the_purge_deletes_the_copies_of_dismissed_and_expired_pending_matches(settings, tmp_path):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone
    from test_tagging_util import ingest, planted

    from vru.web.tagging import services
    from vru.web.tagging.models import Match, MatchPoint

    w = make_world(settings, tmp_path)
    ingest(planted(3, decoys=0), w.pa)
    ms = list(Match.objects.filter(points__isnull=False).distinct().order_by("pk"))
    assert len(ms) >= 3
    qualified, dismissed, pending = ms[0], ms[1], ms[2:]
    services.review_match(qualified, w.reviewer, "qualified", "corroborated by a witness")
    services.review_match(dismissed, w.reviewer, "dismissed", "a bus passing the scene")
    held = {m.pk: m.points.count() for m in ms}

    r = services.purge(days=90)  # today: the crimes are old but the run has just ended
    assert r.match_points_deleted == held[dismissed.pk]
    assert not dismissed.points.exists()
    assert all(m.points.count() == held[m.pk] for m in [qualified, *pending])

    out = __import__("io").StringIO()
    call_command("tagging_purge", "--now", (timezone.now() + timedelta(days=91)).isoformat(), stdout=out)
    assert f"{sum(held[m.pk] for m in pending)} stored copies of fixes" in out.getvalue()
    assert not MatchPoint.objects.filter(match__in=pending).exists()
    assert qualified.points.count() == held[qualified.pk]  # the evidence of a qualified match stays
