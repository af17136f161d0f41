"""The ``dashboard:targeting`` view, ``/dashboard/targeting/``, and its API (``dashboard-api-targeting``):
the shortlist is the targeting section's, the filters change it, and a refusal is shown."""

from __future__ import annotations

import json

import pytest
from dashboard_helpers import page_text
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_targeting_and_evaluation_api_equal_section_results(analyst, wh):
    from vru.pipelines import evaluation as pe

    api = analyst.get(reverse("dashboard-api-targeting")).json()
    assert api["allocation_total_pence"] == 900_000_000 and len(api["shortlist"]) == 8
    page = page_text(analyst.get(reverse("dashboard:targeting")))  # the report section's table
    for s in api["shortlist"]:
        assert s["label"] in page
    e = pe.run(wh).as_dict()
    api = analyst.get(reverse("dashboard-api-evaluation")).json()
    assert api["rate"] == json.loads(json.dumps(e["rate"]))
    page = page_text(analyst.get(reverse("dashboard:evaluation")))
    assert "Did violence fall where MyEnds went?" in page


def test_targeting_filter_changes_the_shortlist(analyst):
    q = {"n": 3, "level": "lsoa", "budget": 3_000_000}
    api = analyst.get(reverse("dashboard-api-targeting"), q).json()
    assert api["parameters"]["n"] == 3 and api["parameters"]["level"] == "lsoa"
    assert len(api["shortlist"]) == 3 and api["allocation_total_pence"] == 300_000_000
    page = page_text(analyst.get(reverse("dashboard:targeting"), q))
    assert "The 3 chosen areas" in page
    for s in api["shortlist"]:
        assert s["label"] in page


def test_analysis_refusal_is_shown_not_crashed(analyst):
    # GBP 9m over 3 years with 3 areas capped at GBP 500,000 a year cannot be allocated
    q = {"n": 3, "level": "lsoa"}
    r = analyst.get(reverse("dashboard:targeting"), q)
    assert r.status_code == 200
    assert "exceeds 3 areas x cap" in page_text(r)
    r = analyst.get(reverse("dashboard-api-targeting"), q)
    assert r.status_code == 400 and "exceeds 3 areas x cap" in r.json()["detail"]
