"""The ``dashboard:borough`` view, ``/dashboard/borough/<code>/``, and its API (``dashboard-api-borough``):
the borough's rank, its LSOAs and the report's trends."""

from __future__ import annotations

import re
from html import unescape

import pytest
from dashboard_helpers import AREA
from django.urls import reverse
from factories import SOUTHWARK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_borough_page_shows_its_rank_and_its_lsoas(analyst, league_vap):
    ref = league_vap.set_index("area_code").loc[SOUTHWARK]
    api = analyst.get(reverse("dashboard-api-borough", args=[SOUTHWARK])).json()
    robbery = next(m for m in api["measures"] if m["category"] == "robbery")
    assert robbery["rank"] == ref["rank"]
    assert robbery["rate_per_1000"] == pytest.approx(ref["rate_per_1000"])
    assert api["lsoas"] and all(r["code"].startswith("E01") for r in api["lsoas"])
    page = analyst.get(reverse("dashboard:borough", args=[SOUTHWARK])).content.decode()
    assert f"Rank {int(ref['rank'])} of 32: {ref['rate_per_1000']:,.2f}" in unescape(page)
    assert reverse("dashboard:area", args=[AREA]) in page


def test_borough_trends_and_league_chart_are_the_reports(analyst, wh):
    """The borough page's trends are the report's trend section for that borough, and the
    overview's chart is the report's league chart of the chosen measure."""
    from vru.outputs.sections import london as sections
    from vru.pipelines import london

    page = analyst.get(reverse("dashboard:borough", args=[SOUTHWARK])).content.decode()
    r = london.run(wh, london.LondonParams(borough=SOUTHWARK, parts=("trends",)))
    body = sections.trends(r, place="Southwark").body
    # the same words and captions (a chart's SVG element ids differ from one drawing to the next)
    words = re.findall(r"<p>.*?</p>|<figcaption>.*?</figcaption>", body)
    assert words[0].startswith("<p>Monthly recorded offences in Southwark")
    assert len(words) == 1 + len(r.trends) and all(w in page for w in words)
    t = london.run(wh, london.LondonParams(measures=("robbery",), parts=("league",)))
    overview = analyst.get(reverse("dashboard:overview"), {"category": "robbery"}).content.decode()
    chart = sections.league_chart(t)
    for w in re.findall(r"<figcaption>.*?</figcaption>|<title[^>]*>.*?</title>", chart):
        assert w in overview, w
