"""The ``tagging:match_review`` page, /tagging/matches/<pk>/review/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user
from tagging_util import JUSTIFY, MATCH_POST, QUALIFY, _justify, _pending_with_points, _purge_past_retention

from vru.web.accounts.models import AuditLog
from vru.web.tagging import services, views
from vru.web.tagging.models import Match, MatchPoint

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_the_reviewer_qualifies_a_match_with_a_reason_and_its_report_renders(world):
    c = signed_in(world.reviewer)
    _justify(c, world.match)
    review = reverse("tagging:match_review", args=[world.match.pk])
    r = c.post(review, {"decision": "qualified", "reason": ""})
    assert r.status_code == 400 and "Enter the reason" in r.content.decode()
    r = c.post(review, {"decision": "qualified", "reason": "Corroborated by a witness statement"})
    assert r.status_code == 302
    m = Match.objects.get(pk=world.match.pk)
    assert m.status == "qualified" and m.reviewed_by == world.reviewer and m.reason.startswith("Corroborated")
    assert AuditLog.objects.filter(action="qualify match", purpose__contains="Corroborated").exists()
    r = c.get(reverse("tagging:report", args=[m.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "does not confirm that the wearer perpetrated or witnessed" in body
    assert 'id="points"' in body and m.crime_version.version_id in body
    assert AuditLog.objects.filter(action="view match report", object_id=str(m.pk)).exists()
    svg = body.split('id="map"')[1].split("</figure>")[0]
    assert "<svg" in svg and " style=" not in svg and "http" not in svg.replace("http://www.w3.org", "")
    pdf = c.get(reverse("tagging:report_pdf", args=[m.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF")
    assert AuditLog.objects.filter(action="download match report", object_id=str(m.pk)).exists()
    # reviewing twice is refused
    c.post(review, {"decision": "dismissed", "reason": "changed my mind"})
    assert Match.objects.get(pk=m.pk).status == "qualified"


@pytest.mark.world("pending")
def test_the_reviewer_who_loses_the_race_on_the_page_is_told(world, monkeypatch):
    m = world.matches[0]
    second = user("rv2@test.test", "tagging reviewer")
    c = signed_in(second)
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


@pytest.mark.world("ingested")
def test_a_closed_match_cannot_be_qualified_and_its_page_says_why(world):
    m = _pending_with_points()
    _purge_past_retention()
    c = signed_in(world.reviewer)
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


@pytest.mark.world("ingested")
def test_a_pending_match_without_stored_fixes_is_refused_qualification(world):
    """A match whose copies went before this fix (or none could be stored) is still pending: qualifying it
    is refused with a message; dismissing it is allowed."""
    m = _pending_with_points()
    MatchPoint.objects.filter(match=m).delete()
    with pytest.raises(services.EvidenceMissing):
        services.review_match(m, world.reviewer, "qualified", "Seen at the scene")
    c = signed_in(world.reviewer)
    c.post(reverse("tagging:match", args=[m.pk]), JUSTIFY)
    r = c.post(reverse("tagging:match_review", args=[m.pk]), QUALIFY, follow=True)
    assert r.status_code == 200 and "cannot be qualified" in r.content.decode()
    m.refresh_from_db()
    assert m.status == "pending"
    c.post(reverse("tagging:match_review", args=[m.pk]), {"decision": "dismissed", "reason": "No evidence"})
    m.refresh_from_db()
    assert (m.status, m.reviewed_by) == ("dismissed", world.reviewer)
