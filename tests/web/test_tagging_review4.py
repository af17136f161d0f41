"""Review 4 of the tagging app: a pending match whose stored fixes retention purged is closed (it cannot
be qualified on evidence that is gone, and its report never fails); a fix whose distance is within the
importer's precision cap plus the largest radius is stored, not a failed run."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pyproj import Transformer
from test_tagging_util import client, ingest, make_world, planted, sim

from vru.tagging import schema as S
from vru.tagging.positions import MAX_PRECISION_M
from vru.web.tagging import demo, services
from vru.web.tagging.models import MAX_DISTANCE_M, MAX_RADIUS_M, Match, MatchPoint, MatchRun

pytestmark = pytest.mark.django_db
JUSTIFY = {"purpose": "crime investigation",
           "justification": "Review of the pending match for crime SIM000001"}
QUALIFY = {"decision": "qualified", "reason": "Seen at the scene on the trail"}


@pytest.fixture
def world(settings, tmp_path):
    w = make_world(settings, tmp_path)
    ingest(planted(2, decoys=0), w.pa)
    return w


def _pending_with_points() -> Match:
    m = Match.objects.filter(status="pending", points__isnull=False).distinct().first()
    assert m is not None and m.points.exists()
    return m


def _purge_past_retention():
    return services.purge(now=timezone.now() + timedelta(days=91), days=90)


# ------------------------------------------------------------------ 1: pending match, fixes purged
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


def test_a_closed_match_cannot_be_qualified_and_its_page_says_why(world):
    m = _pending_with_points()
    _purge_past_retention()
    c = client(world.reviewer)
    c.post(reverse("tagging:match", args=[m.pk]), JUSTIFY)
    page = c.get(reverse("tagging:match", args=[m.pk])).content.decode()
    assert "Closed automatically" in page and "Closed under retention" in page
    assert "Record the decision" not in page
    r = c.post(reverse("tagging:match_review", args=[m.pk]), QUALIFY, follow=True)
    assert r.status_code == 200 and "closed under retention" in r.content.decode()
    m.refresh_from_db()
    assert m.status == "dismissed" and m.reviewed_by is None
    for name in ("tagging:report", "tagging:report_pdf"):
        assert c.get(reverse(name, args=[m.pk])).status_code == 404  # not qualified: no report


def test_a_pending_match_without_stored_fixes_is_refused_qualification(world):
    """A match whose copies went before this fix (or none could be stored) is still pending: qualifying it
    is refused with a message; dismissing it is allowed."""
    m = _pending_with_points()
    MatchPoint.objects.filter(match=m).delete()
    with pytest.raises(services.EvidenceMissing):
        services.review_match(m, world.reviewer, "qualified", "Seen at the scene")
    c = client(world.reviewer)
    c.post(reverse("tagging:match", args=[m.pk]), JUSTIFY)
    r = c.post(reverse("tagging:match_review", args=[m.pk]), QUALIFY, follow=True)
    assert r.status_code == 200 and "cannot be qualified" in r.content.decode()
    m.refresh_from_db()
    assert m.status == "pending"
    c.post(reverse("tagging:match_review", args=[m.pk]), {"decision": "dismissed", "reason": "No evidence"})
    m.refresh_from_db()
    assert (m.status, m.reviewed_by) == ("dismissed", world.reviewer)


def test_the_report_of_a_qualified_match_without_fixes_is_a_plain_page_not_a_500(world):
    m = _pending_with_points()
    c = client(world.reviewer)
    c.post(reverse("tagging:match", args=[m.pk]), JUSTIFY)
    c.post(reverse("tagging:match_review", args=[m.pk]), QUALIFY)
    m.refresh_from_db()
    assert m.status == "qualified"
    assert c.get(reverse("tagging:report", args=[m.pk])).status_code == 200
    MatchPoint.objects.filter(match=m).delete()  # as an older purge could have left it
    for name in ("tagging:report", "tagging:report_pdf"):
        r = c.get(reverse(name, args=[m.pk]))
        assert r.status_code == 410, name
        body = r.content.decode()
        assert "purged under retention" in body and 'id="points"' not in body


def test_a_qualified_match_keeps_its_fixes_and_status_through_the_purge(world):
    m = _pending_with_points()
    services.review_match(m, world.reviewer, "qualified", "Seen at the scene")
    n = m.points.count()
    _purge_past_retention()
    m.refresh_from_db()
    assert m.status == "qualified" and m.reviewed_by == world.reviewer and m.points.count() == n


# ------------------------------------------------------------------ 2: the distance bound
def test_the_distance_bound_covers_the_precision_cap_plus_the_largest_radius():
    assert MAX_DISTANCE_M >= MAX_PRECISION_M + MAX_RADIUS_M


@pytest.mark.parametrize("prec,off", [(MAX_PRECISION_M, MAX_PRECISION_M + 50.0), (9_000.0, 8_000.0)])
def test_an_lbs_fix_far_within_its_precision_is_stored_not_a_failed_run(settings, tmp_path, prec, off):
    w = make_world(settings, tmp_path, store=False)
    s = sim()
    c = planted(2, decoys=0).iloc[0]
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(c.easting + off, c.northing)
    t = c.true_time + pd.Timedelta(seconds=7)
    row = {"device_id": c.device_id, "fix_time": t, "lat": lat, "lon": lon, "precision_m": prec,
           "speed_kmh": None, "heading_deg": None, "mechanism": "LBS",
           "received_time": t + pd.Timedelta(seconds=5)}
    extra = pa.Table.from_pylist([row], schema=s.positions.schema)
    demo.load_store(dataclasses.replace(s, positions=pa.concat_tables([s.positions, extra])))
    ingest(planted(2, decoys=0), w.pa)
    assert list(MatchRun.objects.values_list("status", flat=True)) == ["SUCCESS"]
    far = list(MatchPoint.objects.filter(mechanism="LBS", precision_m=prec)
               .values_list("distance_m", flat=True))
    assert len(far) == 1 and abs(far[0] - off) < 1


def test_the_database_refuses_a_distance_past_the_bound(world):
    p = MatchPoint.objects.first()
    MatchPoint.objects.filter(pk=p.pk).update(distance_m=MAX_DISTANCE_M)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchPoint.objects.filter(pk=p.pk).update(distance_m=MAX_DISTANCE_M + 1)


def test_storable_leaves_out_a_fix_past_the_distance_bound(caplog):
    pts = pd.DataFrame({S.DEVICE_ID: ["D1", "D2", "D3"], S.PRECISION_M: [10.0, 10.0, 10.0],
                        S.DISTANCE_M: [5.0, MAX_DISTANCE_M, MAX_DISTANCE_M + 1], S.SPEED_KMH: [None] * 3,
                        S.HEADING_DEG: [None] * 3})
    kept = services._storable(MatchRun(pk=7), pts)
    assert list(kept[S.DEVICE_ID]) == ["D1", "D2"]
    assert "match run 7: 1 matched fixes" in caplog.text and "D3" in caplog.text
