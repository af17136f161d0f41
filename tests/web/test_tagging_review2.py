"""The second review of the tagging pages and API: police analysts never learn how many matches the hub
has not shared (nor a failed run's error text); match lists name no wearer; every tagging page and API
answer is ``Cache-Control: no-store``; of two reviewers deciding one match at once, one wins and the
other is told; a crime window across midnight shows both dates."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone
from test_tagging_util import START, client, ingest, make_world, planted, user

from vru.web.accounts.models import AuditLog
from vru.web.tagging import api, demo, services, urls, views
from vru.web.tagging.models import Match, MatchRun, Zone

pytestmark = pytest.mark.django_db
MATCH_POST = {"purpose": "crime investigation", "justification": "Robbery SIM000001, officer in case request"}
MATCH_Q = {"purpose": "crime investigation", "reason": "Robbery SIM000001, officer in case request"}


@pytest.fixture
def world(settings, tmp_path):
    w = make_world(settings, tmp_path)
    w.batch = ingest(planted(3, decoys=1), w.pa)
    w.matches = list(Match.objects.filter(run__batch=w.batch).order_by("pk"))
    assert len(w.matches) >= 2 and all(m.status == "pending" for m in w.matches)
    return w


def _runs(body: str) -> str:
    return re.search(r'<ul class="govuk-list" id="runs">(.*?)</ul>', body, re.S).group(1)


# --- 2: no count of unshared matches, no error text for the police -------------------------------------
def test_a_police_analyst_sees_only_the_count_of_qualified_matches_of_a_run(world):
    url = reverse("tagging:batch", args=[world.batch.pk])
    runs = _runs(client(world.pa).get(url).content.decode())
    assert "0 qualified matches" in runs and f"{len(world.matches)} match" not in runs
    services.review_match(world.matches[0], world.reviewer, "qualified", "corroborated by CCTV")
    services.review_match(world.matches[1], world.reviewer, "dismissed", "a bus passing by")
    runs = _runs(client(world.pa).get(url).content.decode())
    assert "1 qualified match," not in runs and re.search(r"\b1 qualified match\b", runs)


def test_a_failed_runs_error_text_is_not_shown_to_the_police(world):
    MatchRun.objects.create(algorithm_version="x", trigger="MANUAL", started=timezone.now(), status="FAILURE",
                            error="OSError: /srv/vru/tagging-positions/day=2024-03-04 unreadable",
                            batch=world.batch)
    body = client(world.pa).get(reverse("tagging:batch", args=[world.batch.pk])).content.decode()
    assert "FAILURE" in _runs(body) and "/srv/vru" not in body and "unreadable" not in body


def test_the_batches_api_carries_no_match_count(world):
    data = client(world.pa).get(f"/api/v1/tagging/batches/{world.batch.pk}/").json()
    assert not {k for k in data if "match" in k or "run" in k}


# --- 3: match lists name no wearer -----------------------------------------------------------------------
def test_match_lists_name_no_wearer_and_the_justified_match_does(world):
    refs = {m.wearer.ref for m in world.matches}
    devices = {m.device_id for m in world.matches}
    c = client(world.reviewer)
    body = c.get(reverse("tagging:matches")).content.decode()
    assert all(m.crime_version.version_id in body for m in world.matches)
    assert not any(r in body for r in refs) and not any(d in body for d in devices)
    data = c.get("/api/v1/tagging/matches/").json()["results"]
    assert {m["id"] for m in data} == {m.pk for m in world.matches}
    assert all("wearer" not in m and "device_id" not in m for m in data)
    assert not any(r in str(data) for r in refs | devices)
    rows = AuditLog.objects.filter(action="list matches", user=world.reviewer)
    assert rows.count() == 2 and all(r.purpose.startswith(api.LIST_PURPOSE) for r in rows)
    # the wearer is on the match itself, after a justification, audited
    m = world.matches[0]
    assert c.post(reverse("tagging:match", args=[m.pk]), MATCH_POST).status_code == 302
    assert m.wearer.ref in c.get(reverse("tagging:match", args=[m.pk])).content.decode()
    one = c.get(f"/api/v1/tagging/matches/{m.pk}/", MATCH_Q).json()
    assert (one["wearer"], one["device_id"]) == (m.wearer.ref, m.device_id)
    assert AuditLog.objects.filter(action="view match", user=world.reviewer).count() == 2


# --- 4: no-store everywhere --------------------------------------------------------------------------------
def _no_store(r) -> bool:
    return "no-store" in r.get("Cache-Control", "")


def test_every_tagging_page_and_api_answer_is_no_store(world):
    m = world.matches[0]
    services.review_match(m, world.reviewer, "qualified", "corroborated by CCTV")
    Zone.objects.create(wearer=world.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(world.sim, world.wearers[0].ref))
    breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    w = world.wearers[0]
    # every route, for a signed-in user of each kind: every answer the view gives (200, 302, 400) is
    # no-store; a 403 or 404 (raised before the view answers) shows nothing to keep
    pks = {"wearer": w.pk, "trail": w.pk, "zone_create": w.pk, "breach": breach.pk, "batch": world.batch.pk,
           "match": m.pk, "match_review": m.pk, "report": m.pk, "report_pdf": m.pk}
    answered = 0
    for u in (world.om, world.pa, world.reviewer, user("nobody@test.test", None)):
        c = client(u)
        for p in urls.urlpatterns:
            url = reverse(f"tagging:{p.name}", args=[pks[p.name]] if p.name in pks else [])
            r = c.get(url)
            assert r.status_code in (403, 404) or _no_store(r), (u.email, url)
            answered += r.status_code not in (403, 404)
        for p in api.urlpatterns:
            url = reverse(p.name, args=[pks.get(p.name.rsplit("-", 1)[1], 1)] if "<int:pk>" in str(p.pattern)
                          else [])
            r = c.get(url)
            assert r.status_code in (403, 404) or _no_store(r), (u.email, url)
            answered += r.status_code not in (403, 404)
    assert answered >= 12
    # the answers that show personal data, each 200
    om = client(world.om)
    shown = [om.post(reverse("tagging:wearer", args=[w.pk]),
                     {"purpose": "licence compliance", "justification": "Home visit planned, case 24/1234"}),
             om.post(reverse("tagging:trail", args=[w.pk]), {
                 "purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
                 "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"}),
             om.get(f"/api/v1/tagging/wearers/{w.pk}/trail/", {
                 "purpose": "breach review", "reason": "Alert on 4 March, case 24/1234",
                 "start": "2024-03-04T08:00:00Z", "end": "2024-03-04T10:00:00Z"})]
    pa = client(world.pa)
    pa.post(reverse("tagging:match", args=[m.pk]), MATCH_POST)
    shown += [pa.get(reverse(n, args=[m.pk])) for n in ("tagging:match", "tagging:report",
                                                        "tagging:report_pdf")]
    shown.append(pa.get(f"/api/v1/tagging/matches/{m.pk}/", MATCH_Q))
    assert [r.status_code for r in shown] == [200] * len(shown)
    assert all(_no_store(r) for r in shown)


# --- 5: two reviewers at once ------------------------------------------------------------------------------
def test_a_stale_review_does_not_overwrite_the_decision_that_stands(world):
    m = world.matches[0]
    stale = Match.objects.get(pk=m.pk)  # read while pending
    services.review_match(Match.objects.get(pk=m.pk), world.reviewer, "qualified", "corroborated by CCTV")
    with pytest.raises(services.AlreadyReviewed, match="already qualified by reviewer@test.test"):
        services.review_match(stale, user("rv2@test.test", "tagging reviewer"), "dismissed", "a bus")
    m.refresh_from_db()
    assert (m.status, m.reason, m.reviewed_by) == ("qualified", "corroborated by CCTV", world.reviewer)
    assert stale.status == "qualified"  # refreshed to the decision that stands


def test_the_reviewer_who_loses_the_race_on_the_page_is_told(world, monkeypatch):
    m = world.matches[0]
    second = user("rv2@test.test", "tagging reviewer")
    c = client(second)
    assert c.post(reverse("tagging:match", args=[m.pk]), MATCH_POST).status_code == 302
    real = views.scope.match_or_404

    def read_then_the_other_decides(u, pk):
        got = real(u, pk)  # the page read the match while still pending ...
        services.review_match(Match.objects.get(pk=pk), world.reviewer, "qualified", "corroborated")
        return got  # ... and the first reviewer decided before the save

    monkeypatch.setattr(views.scope, "match_or_404", read_then_the_other_decides)
    r = c.post(reverse("tagging:match_review", args=[m.pk]), {"decision": "dismissed",
                                                              "reason": "a bus passing"})
    monkeypatch.undo()
    assert r.status_code == 302
    m.refresh_from_db()
    assert (m.status, m.reviewed_by) == ("qualified", world.reviewer)
    assert "already qualified by reviewer@test.test" in c.get(r["Location"]).content.decode()
    assert not AuditLog.objects.filter(action="dismiss match").exists()


# --- 8: a window across midnight ------------------------------------------------------------------------
def test_a_window_across_midnight_shows_both_dates_in_the_list(world):
    cv = world.matches[0].crime_version
    cv.time_from = dt.datetime(2024, 3, 4, 23, 30, tzinfo=dt.UTC)
    cv.time_to = dt.datetime(2024, 3, 5, 0, 45, tzinfo=dt.UTC)
    cv.save(update_fields=["time_from", "time_to"])
    body = client(world.reviewer).get(reverse("tagging:matches")).content.decode()
    assert "2024-03-04 23:30 to 2024-03-05 00:45" in body


# --- zones uploaded as a GeoJSON file ----------------------------------------------------------------------
GJ = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'


@pytest.fixture
def people(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def _zone(people, **data):
    return client(people.om).post(reverse("tagging:zone_create", args=[people.wearers[0].pk]),
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
