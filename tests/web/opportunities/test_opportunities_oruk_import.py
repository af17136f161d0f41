"""The opportunities web app: importing Open Referral UK feeds (the service and the management command)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from vru.web.accounts.models import Organisation
from vru.web.opportunities import oruk, oruk_import
from vru.web.opportunities.models import ModerationEvent, Opportunity

pytestmark = pytest.mark.django_db


def _nest(n: int) -> dict:
    doc: dict = {}
    cur = doc
    for _ in range(n):
        cur["x"] = {}
        cur = cur["x"]
    return doc


BAD_RECORDS = [
    ("NaN age", lambda d: d.update(minimum_age=float("nan")), "$.minimum_age", "not a number"),
    ("infinite age", lambda d: d.update(maximum_age=float("inf")), "$.maximum_age", "not a number"),
    ("offset +99:00", lambda d: d["schedules"][0].update(opens_at="10:00+99:00"), "$.schedules[0].opens_at",
     "not a UTC offset"),
    ("year 9999", lambda d: d["schedules"][0].update(valid_to="9999-12-31"), "$.schedules[0].valid_to",
     "must be between 1 January 2000 and"),
    ("year 1", lambda d: d["schedules"][0].update(valid_from="0001-01-01"), "$.schedules[0].valid_from",
     "must be between 1 January 2000 and"),
    ("lone surrogate", lambda d: d.update(description="Football \ud800"), "$.description", "not text"),
    ("NUL", lambda d: d.update(name="Foot\x00ball"), "$.name", "not text"),
    ("surrogate in a key", lambda d: d.update({"\udfff": 1}), "$", "not text"),
    ("deep nesting", lambda d: d.update(extra=_nest(5000)), "$.extra.x.x.x.x.x.x.x.x.x.x.x", "nested more"),
    ("deep in a term", lambda d: d["attributes"][0]["taxonomy_term"].update(name=_nest(3000)),
     "$.attributes[0].taxonomy_term.name.x.x.x.x.x.x.x.x", "nested more"),
    ("NaN price", lambda d: d["cost_options"][0].update(amount=float("nan")), "$.cost_options[0].amount",
     "not a number"),
    ("NaN latitude", lambda d: d["service_at_locations"][0]["location"].update(latitude=float("nan")),
     "$.service_at_locations[0].location.latitude", "not a number"),
]


EXAMPLES = oruk.SCHEMA_ROOT / "examples"


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="Feed Youth Trust", kind="provider", verified=True)


def service(n: int, **kw) -> dict:
    """A good service for the platform: in Lambeth, ages 14-17, weekly this summer, free football."""
    start = timezone.localdate() + dt.timedelta(days=5)
    sid = f"0c0ffee0-0000-4000-8000-{n:012d}"
    doc = {
        "id": sid, "name": f"Football night {n}", "status": "active", "description": "Coached football.",
        "url": "https://feed.example.org/football", "minimum_age": 14, "maximum_age": 17,
        "schedules": [{"id": f"5c4ed01e-0000-4000-8000-{n:012d}", "valid_from": start.isoformat(),
                       "valid_to": (start + dt.timedelta(days=28)).isoformat(), "freq": "WEEKLY",
                       "interval": 1, "byday": "TU,TH", "opens_at": "17:00", "closes_at": "19:00",
                       "attending_type": "Turn up, or book on our site."}],
        "service_areas": [{"id": f"a4ea0000-0000-4000-8000-{n:012d}", "name": "Lambeth"}],
        "service_at_locations": [{"id": f"5a100000-0000-4000-8000-{n:012d}", "location": {
            "id": f"10ca7100-0000-4000-8000-{n:012d}", "location_type": "physical", "name": "Pitches",
            "latitude": 51.4613, "longitude": -0.1156,
            "addresses": [{"id": f"addae550-0000-4000-8000-{n:012d}", "address_1": "1 Pitch Lane",
                           "city": "London", "state_province": "Greater London", "postal_code": "SW2 1AA",
                           "country": "GB", "address_type": "physical"}]}}],
        "cost_options": [{"id": f"c0570000-0000-4000-8000-{n:012d}", "option": "Free", "amount": 0}],
        "attributes": [{"id": f"a7700000-0000-4000-8000-{n:012d}", "taxonomy_term": {
            "id": "11111111-1111-4111-8111-111111111111", "name": "Activity", "description": "",
            "taxonomy": "vru-lvn-kind"}},
            {"id": f"a7710000-0000-4000-8000-{n:012d}", "taxonomy_term_id": oruk.term("vru-lvn-topic",
                                                                                      "football")["id"]}],
    }
    doc.update(kw)
    return doc


@pytest.mark.parametrize(("change", "path", "words"), [b[1:] for b in BAD_RECORDS],
                         ids=[b[0] for b in BAD_RECORDS])
def test_a_bad_import_record_is_reported_and_the_dry_run_finds_the_same(change, path, words):
    from test_opportunities_oruk_import import service

    from vru.web.accounts.models import Organisation
    from vru.web.opportunities import oruk_import
    from vru.web.opportunities.models import ModerationEvent, Opportunity

    org = Organisation.objects.create(name="Feed Youth Trust", kind="provider", verified=True)
    bad = service(2)
    change(bad)
    feed = [service(1), bad, service(3)]
    dry = oruk_import.import_feed(feed, provider=org, source="feed", dry_run=True)
    real = oruk_import.import_feed(feed, provider=org, source="feed")
    assert [str(p) for p in dry.problems] == [str(p) for p in real.problems]
    assert real.problems and {(p.index, p.id) for p in real.problems} == {(1, bad["id"])}
    assert any(p.path.startswith(path) and words in p.message for p in real.problems), \
        [str(p) for p in real.problems]
    assert all(str(p).encode("utf-8") for p in real.problems)  # printable, whatever the record held
    assert Opportunity.objects.count() == 0 and ModerationEvent.objects.count() == 0


def test_import_command_reports_an_unreadable_record_and_writes_nothing(tmp_path):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError
    from test_opportunities_oruk_import import service

    from vru.web.accounts.models import Organisation
    from vru.web.opportunities.models import Opportunity

    Organisation.objects.create(name="Feed Youth Trust", kind="provider", verified=True)
    bad = service(2, description="Football \ud800")
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([service(1), bad]), encoding="utf-8")  # json writes "\\ud800"
    for dry in (["--dry-run"], []):
        import io

        err = io.StringIO()
        with pytest.raises(CommandError, match="1 bad record"):
            call_command("import_oruk", str(path), "--provider-org", "Feed Youth Trust", *dry, stderr=err)
        assert f"record 1 (id {bad['id']}): $.description:" in err.getvalue()
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match="nested too deeply"):
        call_command("import_oruk", str(deep), "--provider-org", "Feed Youth Trust")
    assert Opportunity.objects.count() == 0


def test_a_database_refusal_is_a_per_record_problem_in_the_dry_run_too(monkeypatch):
    """Whatever the database refuses when writing, the dry run (which writes, then rolls back) reports too."""
    from django.db import DataError
    from test_opportunities_oruk_import import service

    from vru.web.accounts.models import Organisation
    from vru.web.opportunities import oruk_import
    from vru.web.opportunities.models import Opportunity

    org = Organisation.objects.create(name="Feed Youth Trust", kind="provider", verified=True)
    save = Opportunity.save

    def refuse_the_second(self, *args, **kwargs):
        if self.external_id == service(2)["id"]:
            raise DataError("value too long")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Opportunity, "save", refuse_the_second)
    feed = [service(1), service(2)]
    dry = oruk_import.import_feed(feed, provider=org, source="feed", dry_run=True)
    real = oruk_import.import_feed(feed, provider=org, source="feed")
    assert [str(p) for p in dry.problems] == [str(p) for p in real.problems] != []
    assert real.problems[0].index == 1 and "database refused" in real.problems[0].message
    assert (dry.created, real.created) == (0, 0) and Opportunity.objects.count() == 0


def test_good_feed_is_imported_pending_with_a_moderation_event(org):
    feed = {"total_items": 2, "total_pages": 1, "page_number": 1, "size": 2, "first_page": True,
            "last_page": True, "empty": False, "contents": [service(1), service(2)]}
    report = oruk_import.import_feed(feed, provider=org, source="https://feed.example.org/oruk")
    assert report.ok and (report.created, report.updated, report.unchanged) == (2, 0, 0)
    opp = Opportunity.objects.get(external_id=service(1)["id"])
    assert (opp.status, opp.provider, opp.source) == ("pending", org, "https://feed.example.org/oruk")
    assert (opp.kind, opp.topic, opp.borough, opp.min_age, opp.max_age) == ("activity", "football",
                                                                             "E09000022", 14, 17)
    assert (opp.recurrence, opp.days_of_week, opp.start_time, opp.end_time) == ("weekly", "TU,TH",
                                                                                 dt.time(17), dt.time(19))
    assert opp.is_free and opp.price is None and opp.postcode == "SW2 1AA"
    assert opp.how_to_apply == "Turn up, or book on our site." and opp.apply_url.endswith("/football")
    (event,) = ModerationEvent.objects.filter(opportunity=opp)
    assert (event.from_status, event.to_status, event.by) == ("", "pending", None)


def test_reimport_is_idempotent_and_a_change_goes_back_to_moderation(org):
    oruk_import.import_feed([service(1), service(2)], provider=org, source="feed")
    Opportunity.objects.update(status="published")
    events = ModerationEvent.objects.count()
    again = oruk_import.import_feed([service(1), service(2)], provider=org, source="feed")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert ModerationEvent.objects.count() == events
    assert set(Opportunity.objects.values_list("status", flat=True)) == {"published"}
    changed = service(2, maximum_age=18)
    report = oruk_import.import_feed([service(1), changed], provider=org, source="feed")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    opp = Opportunity.objects.get(external_id=changed["id"])
    assert opp.max_age == 18 and opp.status == "pending"
    assert ModerationEvent.objects.filter(opportunity=opp).last().from_status == "published"
    assert Opportunity.objects.count() == 2


def test_a_bad_record_is_reported_and_nothing_of_the_batch_is_imported(org):
    bad = service(3, minimum_age=8)
    bad["service_at_locations"][0]["location"].update(latitude=53.4808, longitude=-2.2426)  # Manchester
    bad["schedules"][0]["byday"] = "TUESDAY"
    report = oruk_import.import_feed([service(1), service(2), bad], provider=org, source="feed")
    assert not report.ok
    assert {p.index for p in report.problems} == {2}
    assert all(p.id == bad["id"] for p in report.problems)
    paths = {p.path: p.message for p in report.problems}
    assert "not in a London borough" in paths["$.service_at_locations[0].location.latitude"]
    assert "10 to 25" in paths["$.minimum_age"]
    assert "MO,TU" in paths["$.schedules[0].byday"]
    assert Opportunity.objects.count() == 0 and ModerationEvent.objects.count() == 0
    assert str(report.problems[0]).startswith(f"record 2 (id {bad['id']}): $.")


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda d: d.update(id="football-1"), "$.id", "is not a 'uuid'"),
    (lambda d: d.update(status="open"), "$.status", "is not one of"),
    (lambda d: d.update(maximum_age=12), "$.minimum_age", "above maximum age"),
    (lambda d: d.pop("minimum_age"), "$.minimum_age", "missing"),
    (lambda d: d.update(service_areas=[{"id": "a4ea0000-0000-4000-8000-000000000009", "name": "Hackney"}]),
     "$.service_areas[0].name", "location is in Lambeth"),
    (lambda d: d["schedules"][0].update(valid_to="2020-01-01"), "$.schedules[0].valid_to", ""),
    (lambda d: d["schedules"][0].update(valid_from="next week"), "$.schedules[0].valid_from", "not a date"),
    (lambda d: d["schedules"][0].update(freq="MONTHLY"), "$.schedules[0].freq", "weekly schedules"),
    (lambda d: d["schedules"][0].update(closes_at="16:00"), "$.schedules[0].closes_at", "not after"),
    (lambda d: d["schedules"][0].update(opens_at="5pm"), "$.schedules[0].opens_at", "not a time"),
    (lambda d: d.update(schedules=[]), "$.schedules", "exactly one"),
    (lambda d: d.update(service_at_locations=[]), "$.service_at_locations", "no physical location"),
    (lambda d: d["service_at_locations"][0]["location"]["addresses"][0].update(postal_code="ABC 1234"),
     "$.service_at_locations[0].location.addresses[0].postal_code", "not a UK postcode"),
    (lambda d: d["cost_options"][0].update(amount=-5), "$.cost_options[0].amount", "price"),
    (lambda d: d.update(url="ftp://feed.example.org/x"), "$.url", "http(s)"),
    (lambda d: d.update(attributes=[]), "$.attributes", "no kind of opportunity"),
    (lambda d: d.update(name=""), "$.name", "empty"),
])
def test_each_rule_names_the_field(org, change, path, words):
    doc = service(1)
    change(doc)
    report = oruk_import.import_feed([doc], provider=org, source="feed")
    assert path in {p.path for p in report.problems}, [str(p) for p in report.problems]
    assert words in next(p.message for p in report.problems if p.path == path)
    assert Opportunity.objects.count() == 0


def test_published_example_service_is_schema_valid_but_not_a_london_opportunity(org):
    """The profile's example (a US counselling service at latitude 100, ages 12-100, dated 2005) passes
    the schema and fails the platform's rules, each reported."""
    doc = json.loads((EXAMPLES / "service_full.json").read_text())
    assert oruk.schema_errors("compiled/service.json", doc) == []
    report = oruk_import.import_feed(doc, provider=org, source="example")
    paths = {p.path for p in report.problems}
    assert {"$.service_at_locations[0].location.latitude", "$.maximum_age", "$.schedules[0].valid_to",
            "$.attributes"} <= paths
    assert {p.index for p in report.problems} == {0} and Opportunity.objects.count() == 0


def test_published_example_service_list_lacks_what_an_opportunity_needs(org):
    doc = json.loads((EXAMPLES / "service_list.json").read_text())
    report = oruk_import.import_feed(doc, provider=org, source="example")
    paths = {p.path for p in report.problems}
    assert {"$.service_at_locations", "$.schedules"} <= paths and Opportunity.objects.count() == 0


def test_inactive_services_are_skipped_and_duplicates_refused(org):
    closed = service(2, status="defunct")
    report = oruk_import.import_feed([service(1), closed], provider=org, source="feed")
    assert report.ok and report.created == 1 and len(report.skipped) == 1 and "defunct" in report.skipped[0]
    dup = oruk_import.import_feed([service(5), copy.deepcopy(service(5))], provider=org, source="feed2")
    assert [(p.index, p.path) for p in dup.problems] == [(1, "$.id")]


def test_unknown_format_and_unverified_provider_are_refused(org):
    with pytest.raises(oruk_import.FeedError, match="unknown format"):
        oruk_import.records({"services": []})
    with pytest.raises(oruk_import.FeedError, match="unknown format"):
        oruk_import.records("a string")
    org.verified = False
    org.save()
    with pytest.raises(oruk_import.FeedError, match="not a verified provider"):
        oruk_import.import_feed([service(1)], provider=org, source="feed")


def test_another_providers_record_is_not_overwritten(org):
    oruk_import.import_feed([service(1)], provider=org, source="shared-feed")
    other = Organisation.objects.create(name="Other Trust", kind="provider", verified=True)
    report = oruk_import.import_feed([service(1, maximum_age=19)], provider=other, source="shared-feed")
    assert [p.path for p in report.problems] == ["$.id"] and "another provider" in report.problems[0].message
    assert Opportunity.objects.get().max_age == 17


def test_command_reports_each_bad_record_and_exits_with_an_error(org, tmp_path):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([service(1), service(2, minimum_age=5), service(3, name="")]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 bad record"):
        call_command("import_oruk", str(path), provider_org=org.name, stderr=err, stdout=io.StringIO())
    lines = err.getvalue().splitlines()
    assert any("record 1" in x and "$.minimum_age" in x for x in lines)
    assert any("record 2" in x and "$.name" in x for x in lines)
    assert Opportunity.objects.count() == 0


def test_command_imports_a_good_feed_and_refuses_bad_files(org, tmp_path):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([service(1), service(2)]))
    out = io.StringIO()
    call_command("import_oruk", str(path), provider_org=str(org.pk), dry_run=True, stdout=out)
    assert "2 created" in out.getvalue() and Opportunity.objects.count() == 0
    call_command("import_oruk", str(path), provider_org=org.name, stdout=out)
    assert Opportunity.objects.filter(source=f"oruk:{org.pk}", status="pending").count() == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"contents": [\n  {"id": 1,}\n]}')
    with pytest.raises(CommandError, match="not JSON.*line 2"):
        call_command("import_oruk", str(broken), provider_org=org.name)
    with pytest.raises(CommandError, match="unknown format"):
        other = tmp_path / "other.json"
        other.write_text('{"organizations": []}')
        call_command("import_oruk", str(other), provider_org=org.name)
    with pytest.raises(CommandError, match="no organisation"):
        call_command("import_oruk", str(path), provider_org="Nobody")
