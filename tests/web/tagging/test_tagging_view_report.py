"""The ``tagging:report`` page, /tagging/matches/<pk>/report/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from tagging_util import JUSTIFY, QUALIFY, _justify, _pending_with_points

from vru.web.tagging.models import MatchPoint

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_a_dismissed_match_has_no_report(world):
    c = signed_in(world.reviewer)
    _justify(c, world.match)
    c.post(reverse("tagging:match_review", args=[world.match.pk]), {"decision": "dismissed",
                                                                    "reason": "a bus passing by"})
    assert c.get(reverse("tagging:report", args=[world.match.pk])).status_code == 404
    assert c.get(reverse("tagging:report_pdf", args=[world.match.pk])).status_code == 404


@pytest.mark.world("ingested")
def test_the_report_of_a_qualified_match_without_fixes_is_a_plain_page_not_a_500(world):
    m = _pending_with_points()
    c = signed_in(world.reviewer)
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
