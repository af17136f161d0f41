"""The programme web app: the programme API and its OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client
from factories import SQUARE, signed_in

pytestmark = pytest.mark.django_db


def test_api_filters_per_organisation(world):
    ga, gb = world["grants"]
    alpha = signed_in(world["users"]["alpha"])
    refs = [g["reference"] for g in alpha.get("/api/v1/programme/grants/").json()["results"]]
    assert refs == ["T-A"]
    assert alpha.get(f"/api/v1/programme/grants/{gb.pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/consortia/{world['consortia'][1].pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/areas/{world['areas'][1].pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/interventions/{world['interventions'][1].pk}/").status_code == 404
    names = [i["name"] for i in alpha.get("/api/v1/programme/interventions/").json()["results"]]
    assert names == ["Mentoring"]
    roll = alpha.get("/api/v1/programme/rollups/area/").json()
    assert roll["total"]["amount_awarded"] == "650000.50" and len(roll["rows"]) == 1
    g = alpha.get(f"/api/v1/programme/grants/{ga.pk}/").json()
    assert g["status"] == "awarded" and [h["to_status"] for h in g["history"]] == ["awarded"]


def test_api_managers_and_analysts_see_all_and_others_are_refused(world):
    for who in ("pm", "analyst"):
        data = signed_in(world["users"][who]).get("/api/v1/programme/grants/").json()
        assert data["count"] == 2
    assert Client().get("/api/v1/programme/areas/").status_code == 403
    assert signed_in(world["users"]["caseworker"]).get("/api/v1/programme/rollups/year/").status_code == 403
    assert signed_in(world["users"]["pm"]).get("/api/v1/programme/rollups/colour/").status_code == 404
    area = signed_in(world["users"]["pm"]).get(f"/api/v1/programme/areas/{world['areas'][0].pk}/").json()
    assert area["geometry"] == SQUARE and area["borough_name"] == "Southwark"


def test_openapi_schema_describes_the_programme_endpoints(world):
    r = signed_in(world["users"]["pm"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    for p in ("/api/v1/programme/grants/{id}/", "/api/v1/programme/rollups/{by}/", "ProgrammeRollupRow"):
        assert p in text, p
