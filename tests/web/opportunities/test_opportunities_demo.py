"""The demo catalogue (vru.web.opportunities.demo): at least 2,500 fictional summer opportunities across
every borough, each inside its borough, ages 14-24, deterministic, seeded idempotently; the fixed free
football sessions near Brixton that the search's browser test looks for."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse

from vru.geography.boroughs import BOROUGHS
from vru.web.accounts.models import Organisation
from vru.web.opportunities import demo, geo, oruk
from vru.web.opportunities.lifecycle import live_q
from vru.web.opportunities.models import ModerationEvent, Opportunity

YEAR = 2027


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return demo.generate(2500, year=YEAR)


def test_generate_is_deterministic_and_extends(catalogue):
    assert demo.generate(2500, year=YEAR) == catalogue
    assert demo.generate(2600, year=YEAR)[:2500] == catalogue
    assert demo.generate(2500, seed=8, year=YEAR) != catalogue
    assert len({r["external_id"] for r in catalogue}) == 2500


def test_catalogue_covers_london_with_a_realistic_mix(catalogue):
    boroughs = Counter(r["borough"] for r in catalogue)
    assert set(boroughs) == set(BOROUGHS)  # the 32 boroughs and the City of London
    assert min(n for code, n in boroughs.items() if code != demo.CITY) >= 40
    kinds = Counter(r["kind"] for r in catalogue)
    assert set(kinds) == {k for k, _ in Opportunity.KINDS}
    assert kinds["activity"] > kinds["training"] > kinds["job"] >= 50
    topics = Counter(r["topic"] for r in catalogue)
    for topic in ("football", "basketball", "boxing", "dance", "music production", "coding", "art", "cooking",
                  "cv and interview skills", "mentoring", "youth club", "volunteering", "construction"):
        assert topics[topic] >= 10, topic
    assert set(topics) <= set(oruk.topic_codes())  # every topic is a term of the shipped taxonomy
    free = sum(r["is_free"] for r in catalogue) / len(catalogue)
    assert 0.8 < free < 0.97
    assert {r["recurrence"] for r in catalogue} == {"one_off", "weekly"}
    start, end = demo.summer(YEAR)
    for r in catalogue:
        assert 14 <= r["min_age"] <= r["max_age"] <= 24
        assert start <= r["start_date"] <= r["end_date"] <= end
        assert r["is_free"] == (r["price"] is None)
        assert r["capacity"] is None or 0 <= r["places_taken"] <= r["capacity"]
        assert r["provider"].endswith("(demo)") and ".example.org/" in r["apply_url"]
        assert r["visible_from"] < r["visible_to"] and r["status"] == "published"


def test_every_point_is_inside_its_borough(catalogue):
    for r in catalogue:
        inside = geo.borough_at(r["latitude"], r["longitude"], tolerance_m=0)
        assert inside == [r["borough"]], r["external_id"]


def test_free_football_for_a_15_year_old_within_2_km_of_brixton(catalogue):
    near = [r for r in catalogue if r["topic"] == "football" and r["is_free"]
            and r["min_age"] <= 15 <= r["max_age"]
            and geo.haversine_km(*demo.BRIXTON, r["latitude"], r["longitude"]) <= 2.0]
    assert len(near) >= demo.LAMBETH_FOOTBALL >= 5
    assert all(r["borough"] == "E09000022" for r in near[:demo.LAMBETH_FOOTBALL])


def test_summer_is_the_school_holiday():
    assert demo.summer(2027) == (dt.date(2027, 7, 26), dt.date(2027, 8, 31))
    assert demo.default_year(dt.date(2026, 11, 22)) == 2027
    assert demo.default_year(dt.date(2027, 8, 31)) == 2027


@pytest.mark.django_db
def test_seed_writes_the_catalogue_once(client):
    out = io.StringIO()
    year = demo.default_year()
    result = demo.seed(out, year=year)
    assert result == {"providers": len(demo.PROVIDERS), "opportunities": 2500}
    assert Opportunity.objects.filter(source=demo.SOURCE).count() == 2500
    assert ModerationEvent.objects.filter(to_status="published").count() == 2500
    providers = Organisation.objects.filter(name__endswith="(demo)", opportunities__isnull=False).distinct()
    assert providers.count() == len(demo.PROVIDERS) and all(p.verified for p in providers)
    assert all(p.website.endswith(".example.org") and "Fictional" in p.description for p in providers)
    for opp in Opportunity.objects.order_by("?")[:150]:
        opp.full_clean()  # the model's own rules hold for what was bulk-inserted
    assert Opportunity.objects.filter(live_q()).count() > 0
    # idempotent: seeding again adds nothing; a larger n adds only the missing ones
    again = demo.seed(io.StringIO(), year=year)
    assert again == {"providers": 0, "opportunities": 0}
    call_command("seed_opportunities", "--n", "2600", "--year", str(year), stdout=io.StringIO())
    assert Opportunity.objects.filter(source=demo.SOURCE).count() == 2600
    # and the public API finds the free football near Brixton for a 15-year-old
    page = client.get(reverse("oruk-services"), {"age": 15, "borough": "Lambeth", "search": "football",
                                                 "per_page": 100}).json()
    free = [s for s in page["contents"] if oruk.service(Opportunity.objects.get(
        pk=oruk.parse_entity_id("service", s["id"])))["cost_options"][0]["amount"] == 0]
    if dt.date.today() <= demo.summer(year)[0]:  # before the summer every fixed session is still ahead
        assert len(free) >= demo.LAMBETH_FOOTBALL
