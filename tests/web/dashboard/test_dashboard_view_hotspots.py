"""The ``dashboard:hotspots`` view, ``/dashboard/hotspots/``, and its API (``dashboard-api-hotspots``):
the rows are the hot spot section's, and the filters change them."""

from __future__ import annotations

import pytest
from dashboard_helpers import page_text
from django.urls import reverse
from factories import SOUTHWARK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_hotspot_rows_equal_section_results(analyst, hotspots_ref):
    ref = hotspots_ref.areas
    api = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 5000}).json()
    assert api["count"] == len(ref) and len(api["results"]) == len(ref)
    got = {r["code"]: r["category"] for r in api["results"]}
    assert got == dict(zip(ref["code"], ref["category"], strict=True))
    assert api["periods"] == list(hotspots_ref.periods)
    paged = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 10, "offset": 10}).json()
    assert [r["code"] for r in paged["results"]] == [r["code"] for r in api["results"][10:20]]


def test_hotspot_filters_change_the_results(analyst):
    base = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 5000}).json()
    harm = analyst.get(reverse("dashboard-api-hotspots"),
                       {"weighting": "css", "limit": 5000}).json()
    assert base["parameters"]["weighting"] == "count" and harm["parameters"]["weighting"] == "css"
    assert harm["weights"]
    assert ({r["code"]: r["category"] for r in base["results"]}
            != {r["code"]: r["category"] for r in harm["results"]})
    b = analyst.get(reverse("dashboard-api-hotspots"), {"borough": SOUTHWARK}).json()
    assert b["count"] == sum(r["borough"] == SOUTHWARK for r in base["results"])
    assert {r["borough"] for r in b["results"]} == {SOUTHWARK}
    page = page_text(analyst.get(reverse("dashboard:hotspots"), {"borough": SOUTHWARK}))
    assert "Every LSOA in Southwark" in page and f"{b['count']} LSOAs" in page
