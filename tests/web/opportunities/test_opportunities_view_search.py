"""The ``opportunities:search`` view, ``/opportunities/``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from factories import LAMBETH, opportunity, org
from opportunities_helpers import _error

from vru.web.opportunities import search

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("params, field, message", [
    ({"lat": "51.46"}, "lon", "both latitude and longitude"),
    ({"lat": "53.48", "lon": "-2.24"}, "lat", "not in London"),  # Manchester
    ({"radius": "2"}, "radius", "latitude and longitude, or choose a borough"),
    ({"sort": "distance"}, "sort", "sort by distance"),
    ({"date_from": "2030-05-02", "date_to": "2030-05-01"}, "date_to", "after the 'from' date"),
    ({"age": "9"}, "age", "greater than or equal to 10"),
    ({"radius": "500", "borough": LAMBETH}, "radius", "less than or equal to 50"),
])
def test_search_form_rejects_bad_input_next_to_the_field(params, field, message):
    r = Client().get(reverse("opportunities:search"), params)
    assert r.status_code == 200
    html = r.content.decode()
    err = _error(html, field)
    assert err and message in err, html[:3000]
    assert "There is a problem" in html


def test_search_page_query_count_does_not_grow_with_results(django_assert_max_num_queries):
    p = org()
    for i in range(25):
        opportunity(provider=p, title=f"Session {i}")
    with django_assert_max_num_queries(6):
        r = Client().get(reverse("opportunities:search"), {"q": "session", "age": 15})
    assert r.status_code == 200
    assert r.content.decode().count('class="lvn-card"') == search.PAGE_SIZE
    assert "25 results" in r.content.decode()
    page2 = Client().get(reverse("opportunities:search"), {"q": "session", "age": 15, "page": 2})
    assert page2.content.decode().count('class="lvn-card"') == 5


def test_search_count_stops_at_the_cap_and_says_so(monkeypatch):
    p = org()
    for i in range(7):
        opportunity(provider=p, title=f"Session {i}")
    monkeypatch.setattr(search, "MAX_RESULTS", 5)
    html = Client().get(reverse("opportunities:search"), {"q": "session"}).content.decode()
    assert "More than 5 results" in html
    assert "Showing the first 5." in html
    # the results stop at the cap: one page of 5, not 7
    assert html.count('class="lvn-card"') == 5
    monkeypatch.setattr(search, "MAX_RESULTS", 7)
    html = Client().get(reverse("opportunities:search"), {"q": "session"}).content.decode()
    assert "7 results" in html and "More than" not in html
