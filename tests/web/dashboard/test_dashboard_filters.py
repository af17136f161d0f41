"""Bad query parameters on every dashboard page and API endpoint: a message next to the field (pages)
or 400 (API), a 404 for an unknown code, bounded paging; never a 500."""

from __future__ import annotations

import pytest
from dashboard_helpers import API_OF, field_error, page_text
from django.urls import reverse
from factories import SOUTHWARK

from vru.geography import MPS_BOROUGHS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_invalid_filters_are_reported_next_to_the_field(analyst):
    r = analyst.get(reverse("dashboard:hotspots"), {"weighting": "guess"})
    assert r.status_code == 200
    assert "valid choice" in field_error(r, "weighting")
    assert "There is a problem" in page_text(r)
    r = analyst.get(reverse("dashboard:targeting"),
                    {"w_sustained": 0, "w_harm": 0, "w_deprivation": 0, "w_youth": 0})
    assert "at least one weight" in field_error(r, "w_sustained")
    r = analyst.get(reverse("dashboard:targeting"), {"n": "many"})
    assert "whole number" in field_error(r, "n")
    r = analyst.get(reverse("dashboard:evaluation"), {"start": "2021-13"})
    assert "year and month" in field_error(r, "start")
    r = analyst.get(reverse("dashboard:drivers"), {"start": "2021-03", "end": "2020-04"})
    assert "not be before" in field_error(r, "end")
    r = analyst.get(reverse("dashboard:overview"), {"category": "jaywalking"})
    assert "valid choice" in field_error(r, "category")


def test_api_answers_400_with_the_field_for_invalid_filters(analyst):
    r = analyst.get(reverse("dashboard-api-hotspots"), {"weighting": "guess"})
    assert r.status_code == 400 and "weighting" in r.json()
    r = analyst.get(reverse("dashboard-api-targeting"), {"n": 0})
    assert r.status_code == 400 and "n" in r.json()
    r = analyst.get(reverse("dashboard-api-evaluation"), {"treated": ["E09000999"]})
    assert r.status_code == 400 and "treated" in r.json()


def test_unknown_borough_and_area_are_404(analyst):
    assert analyst.get(reverse("dashboard:borough", args=["E09999999"])).status_code == 404
    assert analyst.get(reverse("dashboard:area", args=["E01999999"])).status_code == 404
    assert analyst.get(reverse("dashboard-api-borough", args=["E09999999"])).status_code == 404
    assert analyst.get(reverse("dashboard-api-area", args=["nonsense"])).status_code == 404


TWICE = ["robbery", "robbery"]
FULLWIDTH = "\uff12\uff10\uff12\uff10-04"  # "2020-04" in full-width digits (\d would match them)
ALL_BUT_3 = sorted(MPS_BOROUGHS)[:29]
BAD_FILTERS = [
    ("overview", {"category": "jaywalking"}, "category"),
    ("overview", {"category": "x" * 5000}, "category"),
    ("overview", {"category": "\x00"}, "category"),
    ("hotspots", {"categories": "jaywalking"}, "categories"),
    ("hotspots", {"categories": TWICE}, "categories"),
    ("hotspots", {"weighting": "guess"}, "weighting"),
    ("hotspots", {"scheme": "sometimes"}, "scheme"),
    ("hotspots", {"borough": "E09999999"}, "borough"),
    ("hotspots", {"borough": "E09000001"}, "borough"),  # the City: no MPS figures
    ("targeting", {"n": "many"}, "n"),
    ("targeting", {"n": "0"}, "n"),
    ("targeting", {"n": "21"}, "n"),
    ("targeting", {"n": "9" * 40}, "n"),
    ("targeting", {"n": "9" * 5000}, "n"),  # past Python's int() digit limit
    ("targeting", {"n": "1.5"}, "n"),
    ("targeting", {"w_sustained": "nan"}, "w_sustained"),
    ("targeting", {"w_harm": "inf"}, "w_harm"),
    ("targeting", {"w_deprivation": "1e400"}, "w_deprivation"),
    ("targeting", {"w_youth": "-1"}, "w_youth"),
    ("targeting", {"w_sustained": 0, "w_harm": 0, "w_deprivation": 0, "w_youth": 0}, "w_sustained"),
    ("targeting", {"budget": "9" * 40}, "budget"),
    ("targeting", {"years": "11"}, "years"),
    ("targeting", {"cap": "999"}, "cap"),
    ("targeting", {"level": "borough"}, "level"),
    ("targeting", {"max_per_borough": "0"}, "max_per_borough"),
    ("evaluation", {"treated": "E09999999"}, "treated"),
    ("evaluation", {"treated": "E09000001"}, "treated"),
    ("evaluation", {"treated": [SOUTHWARK, SOUTHWARK]}, "treated"),
    ("evaluation", {"treated": ALL_BUT_3}, "treated"),
    ("evaluation", {"start": "2021-13"}, "start"),
    ("evaluation", {"start": "July"}, "start"),
    ("evaluation", {"start": "9999-12"}, "start"),
    ("evaluation", {"start": "x" * 5000}, "start"),
    ("evaluation", {"start": FULLWIDTH}, "start"),
    ("evaluation", {"category": "jaywalking"}, "category"),
    ("drivers", {"start": "2020-13"}, "start"),
    ("drivers", {"start": FULLWIDTH}, "start"),
    ("drivers", {"end": "soon"}, "end"),
    ("drivers", {"start": "2021-03", "end": "2020-04"}, "end"),
    ("drivers", {"n": "2"}, "n"),
    ("drivers", {"n": "17"}, "n"),
    ("drivers", {"n": "ten"}, "n"),
    ("drivers", {"categories": "jaywalking"}, "categories"),
    ("drivers", {"categories": TWICE}, "categories"),
]


@pytest.mark.parametrize("page,query,field", BAD_FILTERS,
                         ids=[f"{p}-{f}-{i}" for i, (p, _, f) in enumerate(BAD_FILTERS)])
def test_bad_filter_is_a_field_error_on_the_page_and_400_in_the_api(analyst, page, query, field):
    r = analyst.get(reverse(f"dashboard:{page}"), query)
    assert r.status_code == 200
    assert field_error(r, field), page_text(r)[:2000]
    assert "There is a problem" in page_text(r)
    r = analyst.get(reverse(API_OF[page]), query)
    assert r.status_code == 400 and field in r.json(), r.json()


@pytest.mark.parametrize("code", ["E09999999", "E01999999", "nonsense", "x" * 3000, "\x00", "E0100396８"])
@pytest.mark.parametrize("name", ["dashboard:borough", "dashboard:area", "dashboard-api-borough",
                                  "dashboard-api-area"])
def test_unknown_codes_are_404(analyst, name, code):
    assert analyst.get(reverse(name, args=[code]), {"category": "jaywalking"}).status_code == 404


@pytest.mark.parametrize("query", [{"limit": "abc"}, {"limit": "-1"}, {"limit": "9" * 40},
                                   {"offset": "-1"}, {"offset": "abc"}, {"offset": "9" * 40}])
def test_bad_paging_values_keep_the_defaults_or_are_bounded(analyst, query):
    r = analyst.get(reverse("dashboard-api-hotspots"), query)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] > 1000 and len(body["results"]) <= body["count"]
    if query.get("offset", "").startswith("9"):  # past the end, not an error
        assert body["results"] == []
