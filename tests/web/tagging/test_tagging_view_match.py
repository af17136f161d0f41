"""The ``tagging:match`` page, /tagging/matches/<pk>/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import MATCH_Q, _cell, _justify, _utc

from vru.web.accounts.models import AuditLog
from vru.web.tagging import services

pytestmark = pytest.mark.django_db


@pytest.mark.world("api")
def test_every_justified_view_of_a_match_on_the_pages_leaves_one_audit_row(world):
    c = signed_in(world.pa)
    m = world.qualified
    r = c.post(reverse("tagging:match", args=[m.pk]), {"purpose": "crime investigation",
                                                       "justification": MATCH_Q["reason"]})
    assert r.status_code == 302
    for name in ("tagging:match", "tagging:report", "tagging:report_pdf", "tagging:match"):
        before = AuditLog.objects.count()
        assert c.get(reverse(name, args=[m.pk])).status_code == 200, name
        rows = AuditLog.objects.order_by("-pk")[: AuditLog.objects.count() - before]
        assert len(rows) == 1, name
        assert rows[0].object_id == str(m.pk) and rows[0].user == world.pa
        assert MATCH_Q["reason"] in rows[0].purpose


@pytest.mark.world("pages")
def test_a_match_is_shown_only_after_a_justification_and_every_view_is_audited(world):
    c = signed_in(world.reviewer)
    url = reverse("tagging:match", args=[world.match.pk])
    r = c.get(url)
    assert "Why do you need to see match" in r.content.decode() and 'id="points"' not in r.content.decode()
    assert not AuditLog.objects.filter(action="view match").exists()
    r = c.post(url, {"purpose": "crime investigation", "justification": "short"})
    assert "at least 10 characters" in r.content.decode()
    r = _justify(c, world.match)
    assert r.status_code == 302
    r = c.get(url)
    assert 'id="points"' in r.content.decode() and 'id="explanation"' in r.content.decode()
    c.get(url)
    rows = AuditLog.objects.filter(action="view match", object_id=str(world.match.pk))
    assert rows.count() == 2
    assert all(x.purpose == "crime investigation: Investigating crime SIM000001 for the review" for x in rows)


def _open_match(c, m):
    r = c.post(reverse("tagging:match", args=[m.pk]),
               {"purpose": "crime investigation", "justification": "Investigating the June crime"})
    assert r.status_code == 302


def test_match_points_window_and_report_are_utc_in_summer(june):
    m = june.match
    services.review_match(m, june.reviewer, "qualified", "checked against the crime report")
    c = signed_in(june.pa)
    _open_match(c, m)
    cv = m.crime_version
    for url in (reverse("tagging:match", args=[m.pk]), reverse("tagging:report", args=[m.pk])):
        body = c.get(url).content.decode()
        assert _utc(cv.time_from) in body and _utc(cv.time_to) in body, url
        for p in m.points.all():
            assert _cell(p.label) + _cell(_utc(p.fix_time)) in body, (url, p.label)
        # the London reading (an hour later in June) is not what the page shows under "(UTC)"
        p = m.points.first()
        london = p.fix_time.astimezone(pd.Timestamp(0, tz="Europe/London").tzinfo)
        assert london.utcoffset().total_seconds() == 3600
        assert _cell(p.label) + _cell(london.strftime("%Y-%m-%d %H:%M:%S")) not in body
    body = c.get(reverse("tagging:matches")).content.decode()
    assert _utc(cv.time_from, "%Y-%m-%d %H:%M") in body
