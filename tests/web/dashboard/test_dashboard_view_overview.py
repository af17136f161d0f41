"""The ``dashboard:overview`` view, ``/dashboard/``, and its API (``dashboard-api-boroughs``): the
borough league table is the analysis's league table."""

from __future__ import annotations

import pytest
from dashboard_helpers import page_text
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_league_table_equals_needs_league_table(analyst, league_vap):
    api = analyst.get(reverse("dashboard-api-boroughs"), {"category": "robbery"}).json()
    assert api["category"] == "robbery"
    assert [r["code"] for r in api["rows"]] == list(league_vap["area_code"])
    for row, ref in zip(api["rows"], league_vap.itertuples(), strict=True):
        assert row["rank"] == ref.rank and row["count"] == ref.count
        assert row["rate_per_1000"] == pytest.approx(ref.rate_per_1000)
    page = page_text(analyst.get(reverse("dashboard:overview"), {"category": "robbery"}))
    top = league_vap.iloc[0]
    assert "Borough league table: robbery" in page
    assert f"{top.rate_per_1000:,.2f}" in page
    href = reverse("dashboard:borough", args=[top.area_code])
    assert f'href="{href}"' in analyst.get(reverse("dashboard:overview"),
                                           {"category": "robbery"}).content.decode()
