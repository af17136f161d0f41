"""Open Referral UK output (vru.web.opportunities.oruk, .api): the documents and the public API
validate against the profile's published JSON Schemas shipped with the package, and carry the
opportunity's data (ages, place, schedule, cost, taxonomy); only live opportunities are exposed."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import signed_in, superuser

from vru.web.accounts.models import Organisation
from vru.web.opportunities import api, oruk
from vru.web.opportunities.models import Opportunity

ROOT = oruk.SCHEMA_ROOT
# the workplace's copy of the published files, when the project is checked out beside it
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "openreferral_uk"


def _valid(name: str, doc) -> None:
    errors = oruk.schema_errors(name, doc)
    assert errors == [], errors


# --- the shipped schemas --------------------------------------------------------------------------


def test_shipped_schemas_are_the_published_files_with_their_licence():
    text = (ROOT / "SOURCE.md").read_text()
    assert "ecdfabf78944d480d7f580d08b702b08cbec4b09" in text and "CC BY-SA 4.0" in text
    assert "Creative Commons Attribution Share-Alike 4.0" in (ROOT / "LICENSE").read_text()
    rows = re.findall(r"^\| (\S+) \| (\d+) \| ([0-9a-f]{64}) \|$", text, flags=re.M)
    assert len(rows) >= 40
    shipped = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()} - {"SOURCE.md"}
    assert shipped == {r[0] for r in rows}
    compared = 0
    for rel, size, digest in rows:
        data = (ROOT / rel).read_bytes()
        assert len(data) == int(size) and hashlib.sha256(data).hexdigest() == digest, rel
        if SHARED.is_dir() and (SHARED / rel).exists():
            assert (SHARED / rel).read_bytes() == data, rel
            compared += 1
    assert compared >= 40 or not SHARED.is_dir()  # byte for byte the published files


EXAMPLES = {
    "service_full.json": "compiled/service.json",
    "service_list.json": "page:compiled/service_list.json",
    "organization_full.json": "compiled/organization.json",
    "organization_list.json": "page:compiled/organization_list.json",
    "service_at_location_full.json": "compiled/service_at_location.json",
    "service_at_location_list.json": "page:compiled/service_at_location_list.json",
    "taxonomy.json": "taxonomy.json",
    "taxonomy_list.json": "page:taxonomy.json",
    "taxonomy_term.json": "taxonomy_term.json",
    "taxonomy_term_list.json": "page:taxonomy_term.json",
}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_published_examples_validate(example):
    """Positive control: the profile's own examples pass the validator as the platform builds it."""
    _valid(EXAMPLES[example], json.loads((ROOT / "examples" / example).read_text()))


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d.update(status="open"), "$.status"),
    (lambda d: d.update(id="not-a-uuid"), "$.id"),
    (lambda d: d.pop("name"), "$"),
    (lambda d: d.update(minimum_age="twelve"), "$.minimum_age"),
    (lambda d: d["schedules"][0].update(freq="DAILY"), "$.schedules[0].freq"),
    (lambda d: d["service_at_locations"][0]["location"].update(location_type="online"),
     "$.service_at_locations[0].location.location_type"),
    (lambda d: d["cost_options"][0].update(amount="35 pounds"), "$.cost_options[0].amount"),
    (lambda d: d.update(url="not a web address"), "$.url"),
    (lambda d: d.update(last_modified="yesterday"), "$.last_modified"),
    (lambda d: d["attributes"][0]["taxonomy_term"].pop("description"), "$.attributes[0].taxonomy_term"),
])
def test_mutated_example_is_refused_at_the_right_place(mutate, path):
    """Negative control: each mutation of a valid service is caught, at its JSON path."""
    doc = json.loads((ROOT / "examples" / "service_full.json").read_text())
    mutate(doc)
    assert path in [p for p, _ in oruk.schema_errors("compiled/service.json", doc)]


def test_taxonomy_references_resolve_offline():
    """taxonomy.json refers to taxonomy_term.json: a bad term inside a taxonomy is caught through it."""
    doc = json.loads((ROOT / "examples" / "taxonomy.json").read_text())
    doc["taxonomy_terms"][0]["id"] = "nope"
    assert [p for p, _ in oruk.schema_errors("taxonomy.json", doc)] == ["$.taxonomy_terms[0].id"]


# --- documents ------------------------------------------------------------------------------------


@pytest.fixture
def provider(db):
    return Organisation.objects.create(name="Test Youth Trust", kind="provider", verified=True,
                                       website="https://youth.example.org", description="A test provider.")


def make(provider, **kw) -> Opportunity:
    now = timezone.now()
    today = timezone.localdate()
    fields = dict(
        provider=provider, kind="activity", topic="football", title="Free football", description="Football.",
        borough="E09000022", address="Ashgrove Community Pitches", postcode="SW2 1AA",
        latitude=51.4613, longitude=-0.1156, min_age=14, max_age=17,
        start_date=today + dt.timedelta(days=10), end_date=today + dt.timedelta(days=40),
        recurrence="weekly", days_of_week="TU,TH", start_time=dt.time(17, 0), end_time=dt.time(19, 0),
        is_free=True, price=None, capacity=30, places_taken=12, how_to_apply="Book on the site.",
        apply_url="https://youth.example.org/book", status="published",
        visible_from=now - dt.timedelta(days=1), visible_to=now + dt.timedelta(days=60),
    )
    fields.update(kw)
    opp = Opportunity(**fields)
    opp.full_clean()
    opp.save()
    return opp


def test_service_document_carries_the_opportunity(provider):
    opp = make(provider)
    doc = oruk.service(opp)
    _valid("compiled/service.json", doc)
    assert doc["id"] == oruk.entity_id("service", opp.pk)
    assert oruk.parse_entity_id("service", doc["id"]) == opp.pk
    assert oruk.parse_entity_id("location", doc["id"]) is None
    assert (doc["name"], doc["status"], doc["minimum_age"], doc["maximum_age"]) == ("Free football", "active",
                                                                                     14, 17)
    assert doc["organization"]["name"] == "Test Youth Trust"
    assert doc["organization_id"] == doc["organization"]["id"]
    loc = doc["service_at_locations"][0]["location"]
    assert (loc["latitude"], loc["longitude"], loc["location_type"]) == (51.4613, -0.1156, "physical")
    assert loc["addresses"][0]["postal_code"] == "SW2 1AA" and loc["addresses"][0]["region"] == "Lambeth"
    (sched,) = doc["schedules"]
    assert (sched["freq"], sched["interval"], sched["byday"]) == ("WEEKLY", 1, "TU,TH")
    assert sched["valid_from"] == opp.start_date.isoformat() and sched["valid_to"] == opp.end_date.isoformat()
    offset = dt.datetime.combine(opp.start_date, dt.time(17), tzinfo=oruk.LONDON).strftime("%z")
    assert sched["opens_at"] == f"17:00{offset[:3]}:{offset[3:]}" and sched["closes_at"].startswith("19:00")
    assert sched["notes"] == "18 of 30 places left."
    assert doc["cost_options"][0]["amount"] == 0 and doc["cost_options"][0]["option"] == "Free"
    assert doc["service_areas"][0]["name"] == "Lambeth"
    assert doc["service_areas"][0]["uri"].endswith("/E09000022")
    terms = {a["taxonomy_term"]["taxonomy"]: a["taxonomy_term"]["term"] for a in doc["attributes"]}
    assert terms == {"vru-lvn-kind": "activity", "vru-lvn-topic": "football"}
    assert "email" not in doc and "contacts" not in doc  # no personal data
    _valid("compiled/service_list.json", oruk.service_list_item(opp))


@pytest.mark.parametrize("variant", [
    dict(is_free=False, price=Decimal("4.50")),
    dict(recurrence="daily", days_of_week=""),
    dict(recurrence="one_off", days_of_week="", start_time=None, end_time=None),
    dict(address="", postcode="", accessibility="Step-free access."),
    dict(topic="underwater hockey", capacity=None, places_taken=0, apply_url=""),
    dict(kind="apprenticeship", topic="construction", min_age=16, max_age=24),
])
def test_every_kind_of_opportunity_gives_a_valid_service(provider, variant):
    opp = make(provider, **variant)
    doc = oruk.service(opp)
    _valid("compiled/service.json", doc)
    if not opp.is_free:
        assert doc["cost_options"][0]["amount"] == 4.5
        assert "GBP" in doc["cost_options"][0]["amount_description"]
    if opp.recurrence == "daily":
        assert doc["schedules"][0]["byday"] == "MO,TU,WE,TH,FR,SA,SU"
    if opp.recurrence == "one_off":
        assert "freq" not in doc["schedules"][0] and "opens_at" not in doc["schedules"][0]
    if not opp.postcode:
        assert "addresses" not in doc["service_at_locations"][0]["location"]  # the profile needs a full one
    if opp.accessibility:
        access = doc["service_at_locations"][0]["location"]["accessibility"]
        assert access[0]["description"] == "Step-free access."
    if opp.topic == "underwater hockey":  # not in the vocabulary: only the kind term
        assert [a["taxonomy_term"]["taxonomy"] for a in doc["attributes"]] == ["vru-lvn-kind"]
        assert doc["url"] == "https://youth.example.org"  # the provider's site when there is no apply url


def test_vocabulary_covers_every_kind_and_has_stable_unique_ids():
    kinds = {t["code"] for t in oruk.terms() if t["taxonomy"] == oruk.KIND_TAXONOMY}
    assert kinds == {k for k, _ in Opportunity.KINDS}
    ids = [t["id"] for t in oruk.terms()] + [t["id"] for t in oruk.taxonomies()]
    assert len(ids) == len(set(ids))
    namespace = uuid.UUID(json.loads((oruk.DATA / "vru_lvn_taxonomy.json").read_text())["namespace"])
    for t in oruk.terms():  # ids are derived from the code once, and never change
        assert t["id"] == str(uuid.uuid5(namespace, f"{t['taxonomy']}/{t['code']}"))


# --- the API --------------------------------------------------------------------------------------


def get(client: Client, name: str, *args, **params):
    return client.get(reverse(name, args=args), params)


def test_services_lists_only_live_opportunities_as_a_valid_page(provider, client):
    live = make(provider)
    now = timezone.now()
    make(provider, status="pending", title="Pending")
    make(provider, status="rejected", title="Rejected")
    make(provider, title="Not yet", visible_from=now + dt.timedelta(days=1))
    make(provider, title="Window over", visible_from=now - dt.timedelta(days=9),
         visible_to=now - dt.timedelta(days=1))
    make(provider, title="Ended", start_date=timezone.localdate() - dt.timedelta(days=9),
         end_date=timezone.localdate() - dt.timedelta(days=1))
    r = get(client, "oruk-services")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    page = r.json()
    _valid("page:compiled/service_list.json", page)
    assert [s["id"] for s in page["contents"]] == [oruk.entity_id("service", live.pk)]
    assert (page["total_items"], page["total_pages"], page["page_number"], page["size"]) == (1, 1, 1, 1)
    assert page["first_page"] and page["last_page"] and not page["empty"]


def test_services_pagination(provider, client):
    opps = [make(provider, title=f"Session {i}", start_date=timezone.localdate() + dt.timedelta(days=i + 1))
            for i in range(5)]
    page = get(client, "oruk-services", per_page=2, page=2).json()
    _valid("page:compiled/service_list.json", page)
    assert [s["name"] for s in page["contents"]] == ["Session 2", "Session 3"]
    assert (page["total_items"], page["total_pages"], page["page_number"], page["size"]) == (5, 3, 2, 2)
    assert not page["first_page"] and not page["last_page"]
    last = get(client, "oruk-services", per_page=2, page=3).json()
    assert last["last_page"] and last["size"] == 1 and last["contents"][0]["name"] == opps[4].title
    for bad in ({"per_page": 0}, {"per_page": 101}, {"per_page": "ten"}, {"page": 0}):
        r = get(client, "oruk-services", **bad)
        assert r.status_code == 400 and set(r.json()) == set(bad), bad
    assert get(client, "oruk-services", page=9).status_code == 404


def test_empty_list_is_a_valid_empty_page(db, client):
    page = get(client, "oruk-services").json()
    _valid("page:compiled/service_list.json", page)
    assert page["empty"] and page["total_items"] == 0 and page["contents"] == []


def _names(client, **params) -> set[str]:
    r = get(client, "oruk-services", per_page=100, **params)
    assert r.status_code == 200, r.content
    return {s["name"] for s in r.json()["contents"]}


def test_services_filters(provider, client):
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday() + 7)  # a Monday at least a week ahead
    make(provider, title="Football Lambeth", min_age=14, max_age=17)
    make(provider, title="Coding course", kind="training", topic="coding", min_age=16, max_age=24,
         borough="E09000028", latitude=51.4734, longitude=-0.0801, recurrence="weekly", days_of_week="SA",
         start_time=dt.time(10), end_time=dt.time(12), description="Learn Python.")
    make(provider, title="Camp", topic="basketball", recurrence="daily", days_of_week="", min_age=15,
         max_age=19, start_time=dt.time(9), end_time=dt.time(15))
    make(provider, title="One day Wednesday", topic="dance", recurrence="one_off", days_of_week="",
         start_date=monday + dt.timedelta(days=2), end_date=monday + dt.timedelta(days=2))
    make(provider, title="Friday to Sunday", topic="music", recurrence="one_off", days_of_week="",
         start_date=monday + dt.timedelta(days=4), end_date=monday + dt.timedelta(days=6))
    everything = {"Football Lambeth", "Coding course", "Camp", "One day Wednesday", "Friday to Sunday"}
    assert _names(client) == everything
    assert _names(client, search="python") == {"Coding course"}
    assert _names(client, search="football lambeth") == {"Football Lambeth"}
    coding = oruk.term("vru-lvn-topic", "coding")["id"]
    training = oruk.term("vru-lvn-kind", "training")["id"]
    assert _names(client, taxonomy_term_id=coding) == {"Coding course"}
    assert _names(client, taxonomy_term_id=training) == {"Coding course"}
    assert _names(client, taxonomy_term_id="00000000-0000-4000-8000-000000000000") == set()
    topic_tax = next(t["id"] for t in oruk.taxonomies() if t["code"] == "vru-lvn-topic")
    assert _names(client, taxonomy_id=topic_tax) == everything
    # the profile's meaning: minimum_age "at least", maximum_age "at or below"
    assert _names(client, minimum_age=15) == {"Coding course", "Camp"}
    assert _names(client, maximum_age=17) == {"Football Lambeth", "One day Wednesday", "Friday to Sunday"}
    assert _names(client, age=15) == everything - {"Coding course"}
    assert _names(client, age=20) == {"Coding course"}
    assert _names(client, borough="Southwark") == {"Coding course"}
    assert _names(client, borough="E09000022") == everything - {"Coding course"}
    assert _names(client, start_time="10:00") == everything - {"Camp"}  # the camp starts at 9
    assert _names(client, end_time="15:00") == {"Coding course", "Camp"}
    assert _names(client, day="SA") == {"Coding course", "Camp", "Friday to Sunday"}
    assert _names(client, day="wednesday") == {"Camp", "One day Wednesday"}
    assert _names(client, day="TU") == {"Football Lambeth", "Camp"}
    for bad in ({"day": "Someday"}, {"borough": "Gotham"}, {"minimum_age": "old"}, {"start_time": "teatime"},
                {"taxonomy_term_id": "football"}):
        r = get(client, "oruk-services", **bad)
        assert r.status_code == 400 and set(r.json()) == set(bad), (bad, r.content)


def test_service_by_id(provider, client):
    opp = make(provider)
    hidden = make(provider, status="pending")
    r = get(client, "oruk-service", oruk.entity_id("service", opp.pk))
    assert r.status_code == 200
    _valid("compiled/service.json", r.json())
    assert r.json() == json.loads(json.dumps(oruk.service(opp)))
    for bad in (oruk.entity_id("service", hidden.pk), oruk.entity_id("location", opp.pk),
                oruk.entity_id("service", 999999), "nonsense"):
        assert get(client, "oruk-service", bad).status_code == 404, bad


def test_taxonomies_and_terms(db, client):
    page = get(client, "oruk-taxonomies").json()
    _valid("page:taxonomy.json", page)
    assert {t["name"] for t in page["contents"]} == {t["name"] for t in oruk.taxonomies()}
    for t in page["contents"]:
        full = get(client, "oruk-taxonomy", t["id"]).json()
        _valid("taxonomy.json", full)
        assert full["taxonomy_terms"]
    terms = get(client, "oruk-taxonomy-terms", per_page=100).json()
    _valid("page:taxonomy_term.json", terms)
    assert terms["total_items"] == len(oruk.terms()) == len(terms["contents"])
    one = terms["contents"][0]
    assert get(client, "oruk-taxonomy-term", one["id"]).json() == one
    _valid("taxonomy_term.json", one)
    assert get(client, "oruk-taxonomy-term", "nope").status_code == 404
    assert get(client, "oruk-taxonomy", "nope").status_code == 404


def test_api_is_public_and_read_only(provider, client):
    opp = make(provider)
    names = {p.name for p in api.urlpatterns}
    assert names == set(api.PUBLIC_VIEWS)
    sid = oruk.entity_id("service", opp.pk)
    for name, args in (("oruk-root", ()), ("oruk-openapi", ()), ("oruk-services", ()),
                       ("oruk-service", (sid,)), ("oruk-taxonomies", ()), ("oruk-taxonomy-terms", ())):
        url = reverse(name, args=args)
        assert client.get(url).status_code == 200, url  # anonymous
        assert client.post(url, {}).status_code == 405, url
        assert client.delete(url).status_code == 405, url
    root = client.get(reverse("oruk-root")).json()
    assert root["version"] == "3.0" and root["openapi_url"].endswith("/api/v1/opportunities/openapi.json")
    assert client.get(reverse("oruk-openapi")).json()["info"]["title"] == "Open Referral UK Profile"


def test_openapi_schema_of_the_platform_describes_the_services_endpoint(db):
    r = signed_in(superuser()).get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    schema = json.loads(r.content)
    op = schema["paths"]["/api/v1/opportunities/services"]["get"]
    params = {p["name"] for p in op["parameters"]}
    assert {"search", "page", "per_page", "taxonomy_term_id", "minimum_age", "maximum_age", "day",
            "age"} <= params
    assert "/api/v1/opportunities/services/{id}" in schema["paths"]


def test_exported_service_imports_back_to_the_same_opportunity(provider):
    """Round trip: what the API writes, the importer reads back field for field."""
    from vru.web.opportunities import oruk_import

    opp = make(provider, is_free=False, price=Decimal("3.00"), accessibility="Step-free.")
    doc = copy.deepcopy(oruk.service(opp))
    report = oruk_import.import_feed([doc], provider=provider, source="round-trip")
    assert report.ok and report.created == 1, report.problems
    back = Opportunity.objects.get(source="round-trip")
    for f in ("kind", "topic", "title", "description", "borough", "postcode", "latitude", "longitude",
              "min_age", "max_age", "start_date", "end_date", "recurrence", "days_of_week", "start_time",
              "end_time", "is_free", "price", "accessibility", "apply_url", "how_to_apply"):
        assert getattr(back, f) == getattr(opp, f), f
    assert back.status == "pending" and back.external_id == doc["id"]
