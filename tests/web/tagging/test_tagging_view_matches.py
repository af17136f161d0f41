"""The ``tagging:matches`` page, /tagging/matches/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import MATCH_POST, MATCH_Q, _justify, _upload, planted

from vru.web.accounts.models import AuditLog
from vru.web.tagging import api, demo, services
from vru.web.tagging.models import Match, MatchRun

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_a_police_analyst_sees_only_their_forces_matches_and_batches(world):
    services.review_match(world.match, world.reviewer, "qualified", "shared with the force")
    c = signed_in(world.other_pa)
    r = c.get(reverse("tagging:matches"))
    assert world.match.crime_version.version_id not in r.content.decode()
    assert c.get(reverse("tagging:match", args=[world.match.pk])).status_code == 404
    assert _justify(c, world.match).status_code == 404
    assert c.get(reverse("tagging:batch", args=[world.batch.pk])).status_code == 404
    assert c.post(reverse("tagging:match_review", args=[world.match.pk]),
                  {"decision": "qualified", "reason": "not mine"}).status_code == 403  # the reviewer's
    mine = signed_in(world.pa).get(reverse("tagging:matches")).content.decode()
    assert world.match.crime_version.version_id in mine


@pytest.mark.world("pages")
def test_only_qualified_matches_are_shared_with_the_police_and_the_reviewer_sees_every_force(world):
    pending, *others = Match.objects.filter(run__batch=world.batch).order_by("pk")
    assert others, "the world has at least two matches"
    services.review_match(others[0], world.reviewer, "dismissed", "a bus passing by")
    pa, rv = signed_in(world.pa), signed_in(world.reviewer)
    listed = pa.get(reverse("tagging:matches")).content.decode()
    for m in (pending, others[0]):
        assert pa.get(reverse("tagging:match", args=[m.pk])).status_code == 404
        assert _justify(pa, m).status_code == 404
        assert f'href="{reverse("tagging:match", args=[m.pk])}"' not in listed
    listed = rv.get(reverse("tagging:matches")).content.decode()
    assert all(f'href="{reverse("tagging:match", args=[m.pk])}"' in listed for m in (pending, others[0]))
    # a Kent match: the hub reviewer sees it too, the Met's analyst does not
    kent = services.ingest_batch(demo.batch_csv(planted(1, decoys=0), force="Kent", batch_id="KNT20240304"),
                                 "kent.csv", user=world.other_pa, force="Kent", inline=True)
    kent_match = Match.objects.filter(run__batch=kent).first()
    assert kent_match is not None
    assert rv.get(reverse("tagging:match", args=[kent_match.pk])).status_code == 200
    assert pa.get(reverse("tagging:match", args=[kent_match.pk])).status_code == 404
    services.review_match(pending, world.reviewer, "qualified", "corroborated")
    assert pa.get(reverse("tagging:match", args=[pending.pk])).status_code == 200


@pytest.mark.world("pages")
def test_pending_matches_are_listed_first(world):
    c = signed_in(world.reviewer)
    others = list(Match.objects.exclude(pk=world.match.pk))
    services.review_match(world.match, world.pa, "dismissed", "not relevant")
    body = c.get(reverse("tagging:matches")).content.decode()
    assert body.index(others[0].crime_version.version_id) < body.index(world.match.crime_version.version_id)


@pytest.mark.world("worker")
def test_the_reviewer_reads_queued_and_failed_runs_with_their_errors_the_police_do_not(world, monkeypatch):
    _upload(world, name="queued.csv")
    _upload(world, name="failing.csv", bad_row=False)
    queued, failing = MatchRun.objects.order_by("pk")

    def broken(*a, **kw):
        raise OSError("positions store unreadable: /srv/vru/tagging/day=2024-03-04")

    monkeypatch.setattr(services, "_match_grouped", broken)
    with pytest.raises(Exception, match="unreadable"):
        services.run_queued(failing.pk)
    hub = signed_in(world.reviewer).get(reverse("tagging:matches")).content.decode()
    assert f"Run {queued.pk} (AUTO, batch {queued.batch_id} queued.csv of Metropolitan)" in hub
    assert 'data-status="QUEUED"' in hub and 'data-status="FAILURE"' in hub
    assert "positions store unreadable" in hub
    police = signed_in(world.pa).get(reverse("tagging:matches")).content.decode()
    assert "open-runs" not in police and "unreadable" not in police


@pytest.mark.world("pending")
def test_match_lists_name_no_wearer_and_the_justified_match_does(world):
    refs = {m.wearer.ref for m in world.matches}
    devices = {m.device_id for m in world.matches}
    c = signed_in(world.reviewer)
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


@pytest.mark.world("pending")
def test_a_window_across_midnight_shows_both_dates_in_the_list(world):
    cv = world.matches[0].crime_version
    cv.time_from = dt.datetime(2024, 3, 4, 23, 30, tzinfo=dt.UTC)
    cv.time_to = dt.datetime(2024, 3, 5, 0, 45, tzinfo=dt.UTC)
    cv.save(update_fields=["time_from", "time_to"])
    body = signed_in(world.reviewer).get(reverse("tagging:matches")).content.decode()
    assert "2024-03-04 23:30 to 2024-03-05 00:45" in body
