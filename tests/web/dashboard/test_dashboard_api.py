"""The dashboard's JSON API (``/api/v1/dashboard/``) as a whole: every endpoint answers JSON, and the
OpenAPI description describes each with its parameters."""

from __future__ import annotations

import json

import pytest
from dashboard_helpers import API
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


@pytest.mark.parametrize("name,args", API)
def test_every_api_endpoint_answers_json(analyst, name, args):
    r = analyst.get(reverse(name, args=args))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert r.json()


def test_openapi_schema_describes_the_dashboard_api(analyst):
    r = analyst.get(reverse("api-schema"), {"format": "json"})
    assert r.status_code == 200
    doc = json.loads(r.content)
    paths = doc["paths"]
    for p in ("/api/v1/dashboard/boroughs/", "/api/v1/dashboard/boroughs/{code}/",
              "/api/v1/dashboard/areas/{code}/", "/api/v1/dashboard/hotspots/",
              "/api/v1/dashboard/targeting/", "/api/v1/dashboard/evaluation/",
              "/api/v1/dashboard/drivers/"):
        assert "get" in paths[p], p
    params = {q["name"]: q for q in paths["/api/v1/dashboard/hotspots/"]["get"]["parameters"]}
    assert params["weighting"]["schema"]["enum"] == ["count", "css"]
    assert {"categories", "borough", "scheme", "limit", "offset"} <= set(params)
    ok = paths["/api/v1/dashboard/boroughs/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "rate_per_1000" in json.dumps(doc["components"]["schemas"][ref]) or \
        "rows" in doc["components"]["schemas"][ref]["properties"]
