"""Retention (``services.purge`` and ``tagging_purge``): what goes, what a match or breach keeps."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from django.core.management import CommandError, call_command
from pyproj import Transformer
from tagging_util import (
    START,
    _pending_with_points,
    _purge_past_retention,
    _zone_on_trail,
    ingest,
    make_world,
    planted,
)

from vru.tagging import schema as S
from vru.tagging import store
from vru.web.tagging import services
from vru.web.tagging.models import DeviceActivation, Match

pytestmark = pytest.mark.django_db


def test_purge_deletes_old_positions_but_keeps_a_qualified_match_and_a_breach(world):
    crimes = planted(2, decoys=0)
    batch = ingest(crimes, world.pa)
    matches = list(Match.objects.filter(run__batch=batch))
    qualified, pending = matches[0], matches[1]
    services.review_match(qualified, world.pa, "qualified", "seen on CCTV too")
    w = world.wearers[3]
    _zone_on_trail(world, w)
    breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    root = services.store_root()
    before = store.read_positions(root).to_pandas()
    assert len(before)
    out = io.StringIO()
    call_command("tagging_purge", "--now", "2025-01-01T00:00:00Z", stdout=out)
    after = store.read_positions(root).to_pandas()
    assert 0 < len(after) < len(before)
    q_dev = after[after["device_id"] == qualified.device_id]
    cv = qualified.crime_version
    assert ((q_dev["fix_time"] >= cv.time_from) & (q_dev["fix_time"] <= cv.time_to)).any()
    for p in qualified.points.filter(interpolated=False):
        assert (q_dev["fix_time"] == pd.Timestamp(p.fix_time)).any()
    b_dev = after[after["device_id"].isin([a.device_id for a in w.activations.all()])]
    for t in breach.proof_fixes:
        assert (b_dev["fix_time"] == pd.Timestamp(t)).any()
    # the pending match's fixes were not kept (unless they also fall in a kept interval)
    p_dev = after[(after["device_id"] == pending.device_id)
                  & (after["fix_time"] >= pending.crime_version.time_from)
                  & (after["fix_time"] <= pending.crime_version.time_to)]
    if pending.device_id not in (qualified.device_id,) + tuple(a.device_id for a in w.activations.all()):
        assert p_dev.empty
    assert "deleted" in out.getvalue()


def test_purge_keeps_everything_inside_the_retention_period(world):
    root = services.store_root()
    n = len(store.read_positions(root))
    services.purge(now=START + pd.Timedelta(days=3), days=90)
    assert len(store.read_positions(root)) == n


@pytest.mark.parametrize("days", ["0", "-5"])
def test_the_purge_refuses_a_retention_under_a_day(world, days):
    before = services.positions_frame(None, None)
    with pytest.raises(CommandError, match="at least 1"):
        call_command("tagging_purge", "--days", days)
    with pytest.raises(ValueError, match="at least 1 day"):
        services.purge(days=int(days))
    assert len(services.positions_frame(None, None)) == len(before) > 0


_TO_WGS = Transformer.from_crs(27700, 4326, always_xy=True)


LATER = pd.Timestamp("2025-01-01T00:00Z")  # the February fixes are long past a 90-day retention


def _write(fixes: list[tuple[str, str, float, float]]) -> None:
    dev = [f[0] for f in fixes]
    t = pd.to_datetime([f[1] for f in fixes], utc=True).astype("datetime64[us, UTC]")
    xs, ys = np.array([f[2] for f in fixes]), np.array([f[3] for f in fixes])
    lon, lat = _TO_WGS.transform(xs, ys)
    n = len(fixes)
    tbl = pa.table({"device_id": dev, "fix_time": pa.array(t), "received_time": pa.array(t), "lat": lat,
                    "lon": lon, "easting": xs, "northing": ys, "precision_m": [5.0] * n,
                    "speed_kmh": [6.0] * n, "heading_deg": [90.0] * n, "mechanism": ["GPS"] * n})
    store.write_positions(services.store_root(), tbl.select(S.POSITIONS.names).cast(S.POSITIONS))


def _qualify_the_match(world, csv: bytes) -> Match:
    b = services.ingest_batch(csv, "b.csv", user=world.pa, force="Metropolitan", inline=True)
    m = Match.objects.get(run__batch=b, wearer=world.wearers[1])
    services.review_match(m, world.pa, "qualified", "checked against the crime report")
    return m


def _left(device: str) -> list[str]:
    df = store.read_positions(services.store_root(), devices=[device]).to_pandas()
    return [t.strftime("%H:%M") for t in df["fix_time"]]


def test_the_two_fixes_behind_an_interpolated_point_survive_the_purge(world):
    DeviceActivation.objects.create(wearer=world.wearers[1], device_id="D-SPARSE",
                                    active_from=datetime(2024, 2, 1, tzinfo=UTC))
    # two GPS fixes 20 minutes apart, 1 km either side of the crime: only interpolation finds the pass
    _write([("D-SPARSE", "2024-02-10T08:00Z", 529000.0, 180000.0),
            ("D-SPARSE", "2024-02-10T09:58Z", 529000.0, 180000.0),
            ("D-SPARSE", "2024-02-10T10:18Z", 531000.0, 180000.0)])
    m = _qualify_the_match(world, b"Metropolitan,RB,,MPS20240210,X1,20240210100700,20240210100900,"
                                  b"530000,180000,,,OSGB36,x\n")
    assert m.points.filter(interpolated=True).exists() and not m.points.filter(interpolated=False).exists()
    services.purge(now=LATER, days=90)
    assert _left("D-SPARSE") == ["09:58", "10:18"]  # 08:00 is behind no point: purged


def test_every_device_the_wearer_wore_during_the_match_is_kept(world):
    w = world.wearers[1]
    swap = datetime(2024, 2, 10, 10, 8, tzinfo=UTC)
    DeviceActivation.objects.create(wearer=w, device_id="D-OLD", active_from=datetime(2024, 2, 1, tzinfo=UTC),
                                    active_to=swap)
    DeviceActivation.objects.create(wearer=w, device_id="D-NEW", active_from=swap)
    _write([("D-OLD", "2024-02-10T08:00Z", 529000.0, 180000.0),
            ("D-OLD", "2024-02-10T10:06Z", 530030.0, 180000.0),
            ("D-NEW", "2024-02-10T10:09Z", 530040.0, 180010.0),
            ("D-NEW", "2024-02-10T10:30Z", 530500.0, 180500.0),
            ("D-NEW", "2024-02-10T12:00Z", 531000.0, 181000.0)])
    _qualify_the_match(world, b"Metropolitan,RB,,MPS20240210,X2,20240210100500,20240210101000,"
                              b"530000,180000,,,OSGB36,x\n")
    services.purge(now=LATER, days=90)
    assert _left("D-OLD") == ["10:06"]
    assert _left("D-NEW") == ["10:09", "10:30"]  # 12:00 is past the window, its tolerance and gap


def test_the_purge_deletes_the_copies_of_dismissed_and_expired_pending_matches(settings, tmp_path):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone
    from tagging_util import ingest, planted

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


@pytest.mark.world("ingested")
def test_the_purge_closes_a_pending_match_whose_fixes_it_deletes(world):
    m = _pending_with_points()
    others = set(Match.objects.filter(status="pending").exclude(pk=m.pk).values_list("pk", flat=True))
    r = _purge_past_retention()
    assert r.match_points_deleted > 0
    m.refresh_from_db()
    assert (m.status, m.reviewed_by, m.reason) == ("dismissed", None, services.RETENTION_REASON)
    assert m.reviewed_at is not None and not m.points.exists()
    # every pending match that lost its copies is closed; none is left pending without them
    for pk in others:
        mm = Match.objects.get(pk=pk)
        assert mm.status == "dismissed" or mm.points.exists()


@pytest.mark.world("ingested")
def test_a_qualified_match_keeps_its_fixes_and_status_through_the_purge(world):
    m = _pending_with_points()
    services.review_match(m, world.reviewer, "qualified", "Seen at the scene")
    n = m.points.count()
    _purge_past_retention()
    m.refresh_from_db()
    assert m.status == "qualified" and m.reviewed_by == world.reviewer and m.points.count() == n
