"""Times labelled UTC are UTC on every tagging page, in summer too.

The site's TIME_ZONE is Europe/London; the tagging pages label their times "(UTC)" as the MoJ contract
and the PDF report do, so in British Summer Time a page that converted to London time would be an hour
off the PDF and the batch file. These tests use a simulated day in June (BST, UTC+1)."""

from __future__ import annotations

from datetime import UTC

import pandas as pd
import pytest
from django.urls import reverse
from test_tagging_util import client, ingest, make_world

from vru.tagging import simulate
from vru.web.tagging import demo, services
from vru.web.tagging.models import Match, Zone

pytestmark = pytest.mark.django_db

JUNE = pd.Timestamp("2024-06-10T00:00:00Z")


@pytest.fixture
def june(settings, tmp_path):
    w = make_world(settings, tmp_path)  # March positions; activations open-ended
    s = simulate.simulate(4, 1, start=JUNE, seed=7)
    demo.load_store(s)
    batch = ingest(simulate.plant_crimes(s.truth, 2, seed=7, decoys=0), w.pa, name="june.csv")
    w.match = Match.objects.filter(run__batch=batch).first()
    assert w.match is not None
    w.june = s
    return w


def _utc(t, fmt="%Y-%m-%d %H:%M:%S") -> str:
    return t.astimezone(UTC).strftime(fmt)


def _cell(text: str) -> str:
    return f'<td class="govuk-table__cell">{text}</td>'


def _open_match(c, m):
    r = c.post(reverse("tagging:match", args=[m.pk]),
               {"purpose": "crime investigation", "justification": "Investigating the June crime"})
    assert r.status_code == 302


def test_match_points_window_and_report_are_utc_in_summer(june):
    m = june.match
    services.review_match(m, june.reviewer, "qualified", "checked against the crime report")
    c = client(june.pa)
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


def test_trail_is_utc_in_summer_while_the_window_is_entered_in_london_time(june):
    w = june.wearers[0]
    c = client(june.om)
    # 09:00-10:00 London time on 10 June is 08:00-09:00 UTC
    r = c.post(reverse("tagging:trail", args=[w.pk]), {
        "purpose": "breach review", "justification": "Reviewing the June alert", "start": "2024-06-10T09:00",
        "end": "2024-06-10T10:00"})
    body = r.content.decode()
    assert r.status_code == 200
    pos = services.positions_frame(pd.Timestamp("2024-06-10T08:00Z"), pd.Timestamp("2024-06-10T09:00Z"),
                                   devices=[a.device_id for a in w.activations.all()])
    assert len(pos) > 10
    times = [t.strftime("%Y-%m-%d %H:%M:%S") for t in pos["fix_time"]]
    assert _cell(times[0]) in body and _cell(times[-1]) in body
    assert "2024-06-10 09:30:00" not in body  # no fix after 09:00 UTC is in the window


def test_breach_times_are_utc_in_summer(june):
    w = june.wearers[0]
    geometry = demo.zone_on_trail(june.june, w.ref)
    Zone.objects.create(wearer=w, kind="exclusion", name="Zone J", geometry=geometry)
    one = type(w).objects.filter(pk=w.pk)
    found = services.detect_breaches(JUNE, JUNE + pd.Timedelta(days=1), wearers=one)
    assert found
    b = found[0]
    c = client(june.om)
    body = c.get(reverse("tagging:breach", args=[b.pk])).content.decode()
    assert _utc(b.started_at) in body
    assert _utc(b.alert_at, "%d %b %Y %H:%M").lstrip("0") in body
    body = c.get(reverse("tagging:breaches")).content.decode()
    assert _utc(b.alert_at, "%d %b %Y %H:%M").lstrip("0") in body
