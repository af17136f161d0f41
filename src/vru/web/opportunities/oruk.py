"""Open Referral UK (the HSDS UK profile, version 3.0): the platform's opportunities as services.

- The profile's published JSON Schemas ship with the package (``data/openreferral_uk``, CC BY-SA 4.0,
  unchanged; see its SOURCE.md). :func:`validator` validates a document against one of them, offline:
  every ``$ref`` resolves from the shipped files through a ``referencing`` registry, with the draft the
  profile names (its OpenAPI document's ``jsonSchemaDialect``: JSON Schema draft 2020-12) and formats
  checked (``uuid``, ``email``, ``uri``, ``date-time``, ``date``).
- :func:`service` and :func:`service_list_item` map an ``Opportunity`` (and its provider
  ``Organisation``) to a full service and to the one-to-one list form (docs/web-oruk.md has the table).
- The taxonomy of kinds and topics is the platform's own, shipped as ``data/vru_lvn_taxonomy.json``
  (:data:`TAXONOMIES`, :data:`TERMS`).
- Identifiers: HSDS wants UUIDs; every record the platform writes has a UUID that encodes what it is
  and the opportunity's (or organisation's) primary key (:func:`entity_id`, :func:`parse_entity_id`),
  so the same opportunity always has the same ids and ``/services/{id}`` needs no extra column.

Only live opportunities are exposed (:func:`public_opportunities`, the search's own rule
``lifecycle.live_q``); nothing personal is ever written (no email, no contact, no registration).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from vru.geography.boroughs import BOROUGHS

DATA = Path(__file__).resolve().parent / "data"
SCHEMA_ROOT = DATA / "openreferral_uk"
# The base the profile's own OpenAPI document uses for its schemas; the shipped files are registered
# under it so that those references resolve offline.
SCHEMA_BASE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
LONDON = ZoneInfo("Europe/London")
ONS_GEOGRAPHY = "http://statistics.data.gov.uk/id/statistical-geography/"

# RFC 5545 day codes, in ISO weekday order (Monday = 0).
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


# --- schemas --------------------------------------------------------------------------------------


def _is_uri(value) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or "")) and bool(
        parts.netloc or parts.path)


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _is_date_time(value) -> bool:
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def format_checker() -> FormatChecker:
    """Draft 2020-12's format checker, plus ``uri`` (absolute URI: scheme and a rest, no spaces) and
    ``date-time`` (RFC 3339), which jsonschema checks only with optional packages."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("uri")(_is_uri)
    checker.checks("date-time")(_is_date_time)
    return checker


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """Every shipped schema (``schema/*.json``, ``schema/compiled/*.json``, ``schema/openapi.json``)
    as a draft 2020-12 resource under :data:`SCHEMA_BASE`."""
    resources = []
    for path in sorted((SCHEMA_ROOT / "schema").rglob("*.json")):
        rel = path.relative_to(SCHEMA_ROOT / "schema").as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        resources.append((SCHEMA_BASE + rel, resource))
    return Registry().with_resources(resources)


@functools.lru_cache(maxsize=32)
def validator(name: str) -> Draft202012Validator:
    """A validator for the shipped schema ``name`` (relative to ``schema/``, e.g.
    ``"compiled/service.json"``, ``"taxonomy_term.json"``), or for a paginated list of it when
    ``name`` is ``"page:<name>"``: the profile's ``Page`` envelope (every field of it required) with
    ``contents`` an array of ``<name>``."""
    if name.startswith("page:"):
        item = name[len("page:"):]
        page = SCHEMA_BASE + "openapi.json#/components/schemas/Page"
        schema = {
            "allOf": [{"$ref": page}],
            "required": ["total_items", "total_pages", "page_number", "size", "first_page", "last_page",
                         "empty", "contents"],
            "properties": {"contents": {"type": "array", "items": {"$ref": SCHEMA_BASE + item}}},
        }
    else:
        schema = {"$ref": SCHEMA_BASE + name}
    return Draft202012Validator(schema, registry=registry(), format_checker=format_checker())


def json_path(error) -> str:
    """``$.service_at_locations[0].location.latitude`` for a jsonschema error."""
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(name: str, document) -> list[tuple[str, str]]:
    """``[(json path, message), ...]`` of ``document`` against the shipped schema ``name``, in
    document order; empty when it is valid."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [(json_path(e), e.message) for e in errors]


# --- the platform's taxonomy ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _vocabulary() -> dict:
    return json.loads((DATA / "vru_lvn_taxonomy.json").read_text(encoding="utf-8"))


def taxonomies() -> list[dict]:
    """The platform's taxonomies (``code``, ``id``, ``name``, ``description``, ``version``)."""
    return _vocabulary()["taxonomies"]


def terms() -> list[dict]:
    """Every term (``taxonomy`` code, ``code``, ``id``, ``name``, ``description``)."""
    return _vocabulary()["terms"]


KIND_TAXONOMY, TOPIC_TAXONOMY = "vru-lvn-kind", "vru-lvn-topic"


def term(taxonomy: str, code: str) -> dict | None:
    """The term ``code`` of ``taxonomy`` (``vru-lvn-kind`` or ``vru-lvn-topic``), or None."""
    return _term_index()[(taxonomy, code)] if (taxonomy, code) in _term_index() else None


@functools.lru_cache(maxsize=1)
def _term_index() -> dict:
    return {(t["taxonomy"], t["code"]): t for t in terms()}


def topic_codes() -> list[str]:
    """The topics of the platform's vocabulary (values of ``Opportunity.topic`` that map to a term)."""
    return [t["code"] for t in terms() if t["taxonomy"] == TOPIC_TAXONOMY]


def taxonomy_document(tax: dict, *, with_terms: bool = False) -> dict:
    doc = {"id": tax["id"], "name": tax["name"], "description": tax["description"], "version": tax["version"]}
    if with_terms:
        doc["taxonomy_terms"] = [term_document(t) for t in terms() if t["taxonomy"] == tax["code"]]
    return doc


def term_document(t: dict) -> dict:
    tax = next(x for x in taxonomies() if x["code"] == t["taxonomy"])
    return {"id": t["id"], "name": t["name"], "description": t["description"], "taxonomy": tax["code"],
            "taxonomy_id": tax["id"], "term": t["code"]}


# --- identifiers ----------------------------------------------------------------------------------

# Our UUIDs: "1e7a0c5e-KKKK-8000-8000-PPPPPPPPPPPP", K = the kind of record, P = the primary key in
# hex. Version 8 (RFC 9562 custom UUIDs: the layout is ours), RFC variant.
_PREFIX = "1e7a0c5e"
ENTITIES = {
    "organization": 1, "service": 2, "location": 3, "service_at_location": 4, "schedule": 5,
    "cost_option": 6, "service_area": 7, "address": 8, "accessibility": 9, "attribute_kind": 10,
    "attribute_topic": 11,
}
_ID = re.compile(r"1e7a0c5e-([0-9a-f]{4})-8000-8000-([0-9a-f]{12})")


def entity_id(entity: str, pk: int) -> str:
    return f"{_PREFIX}-{ENTITIES[entity]:04x}-8000-8000-{pk:012x}"


def parse_entity_id(entity: str, value: str) -> int | None:
    """The primary key in one of our ids of kind ``entity``; None for anything else."""
    m = _ID.fullmatch((value or "").lower())
    if not m or int(m.group(1), 16) != ENTITIES[entity]:
        return None
    return int(m.group(2), 16)


# --- documents ------------------------------------------------------------------------------------


def public_opportunities(now: dt.datetime | None = None):
    """The opportunities the API exposes: live ones (the search's rule), with their provider."""
    from .lifecycle import live_q
    from .models import Opportunity

    return Opportunity.objects.filter(live_q(now)).select_related("provider")


def _timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as the profile asks for ``last_modified``."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clock(day: dt.date, t: dt.time) -> str:
    """``HH:MM`` with London's UTC offset on ``day`` (the profile wants the time zone)."""
    offset = dt.datetime.combine(day, t, tzinfo=LONDON).strftime("%z")
    return f"{t:%H:%M}{offset[:3]}:{offset[3:]}"


def organization(org) -> dict:
    doc = {
        "id": entity_id("organization", org.pk),
        "name": org.name,
        "description": org.description or f"{org.name}: a verified provider on the Local Village Network.",
    }
    if org.website:
        doc["website"] = org.website
    return doc


def _one_to_one(opp) -> dict:
    sid = entity_id("service", opp.pk)
    doc = {
        "id": sid,
        "organization_id": entity_id("organization", opp.provider_id),
        "name": opp.title,
        "description": opp.description,
        "status": "active",
        "minimum_age": opp.min_age,
        "maximum_age": opp.max_age,
        "last_modified": _timestamp(opp.updated),
    }
    url = opp.apply_url or opp.provider.website
    if url:
        doc["url"] = url
    return doc


def service_list_item(opp) -> dict:
    """The one-to-one form of a service, as in a paginated ``/services`` list
    (``schema/compiled/service_list.json``)."""
    doc = _one_to_one(opp)
    doc["organization"] = organization(opp.provider)
    return doc


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def schedule(opp) -> dict:
    sid = entity_id("service", opp.pk)
    doc = {
        "id": entity_id("schedule", opp.pk),
        "service_id": sid,
        "valid_from": opp.start_date.isoformat(),
        "valid_to": opp.end_date.isoformat(),
        "dtstart": opp.start_date.isoformat(),
    }
    if opp.recurrence == "weekly" and opp.days_of_week:
        doc.update(freq="WEEKLY", interval=1, byday=opp.days_of_week)
        names = ", ".join(dt.date(2024, 1, 1 + DAY_CODES.index(d)).strftime("%A")
                          for d in opp.days_of_week.split(","))
        when = f"Every week on {names}"
    elif opp.recurrence == "daily":
        doc.update(freq="WEEKLY", interval=1, byday=",".join(DAY_CODES))
        when = "Every day"
    elif opp.start_date == opp.end_date:
        when = f"Once, on {opp.start_date:%A} {_day(opp.start_date)}"
    else:
        when = f"From {_day(opp.start_date)} to {_day(opp.end_date)}"
    if opp.recurrence != "one_off":
        when += f", from {_day(opp.start_date)} to {_day(opp.end_date)}"
    if opp.start_time and opp.end_time:
        doc["opens_at"] = _clock(opp.start_date, opp.start_time)
        doc["closes_at"] = _clock(opp.start_date, opp.end_time)
        when += f", {opp.start_time:%H:%M} to {opp.end_time:%H:%M} (London time)"
    doc["description"] = when + "."
    if opp.capacity is not None:
        doc["notes"] = f"{opp.remaining} of {opp.capacity} places left."
    doc["attending_type"] = opp.how_to_apply
    return doc


def location(opp) -> dict:
    lid = entity_id("location", opp.pk)
    borough = BOROUGHS[opp.borough]
    loc = {
        "id": lid,
        "location_type": "physical",
        "name": opp.address or f"{opp.title}, {borough}",
        "latitude": opp.latitude,
        "longitude": opp.longitude,
    }
    # The profile requires address_1, city and postal_code in an address: only a full one is written.
    if opp.address and opp.postcode:
        loc["addresses"] = [{
            "id": entity_id("address", opp.pk), "location_id": lid, "address_1": opp.address,
            "city": "London", "region": borough, "state_province": "Greater London",
            "postal_code": opp.postcode, "country": "GB", "address_type": "physical",
        }]
    if opp.accessibility:
        loc["accessibility"] = [{"id": entity_id("accessibility", opp.pk), "location_id": lid,
                                 "description": opp.accessibility}]
    return loc


def cost_options(opp) -> list[dict]:
    base = {"id": entity_id("cost_option", opp.pk), "service_id": entity_id("service", opp.pk),
            "valid_from": opp.start_date.isoformat(), "valid_to": opp.end_date.isoformat()}
    if opp.is_free:
        return [{**base, "option": "Free", "amount": 0, "amount_description": "Free of charge"}]
    price = Decimal(opp.price)
    return [{**base, "option": "Standard price", "amount": float(price),
             "amount_description": f"£{price:.2f} (GBP) per person"}]


def attributes(opp) -> list[dict]:
    sid = entity_id("service", opp.pk)
    out = []
    for entity, taxonomy, code, link_type in (("attribute_kind", KIND_TAXONOMY, opp.kind, "service_type"),
                                              ("attribute_topic", TOPIC_TAXONOMY, opp.topic, "topic")):
        t = term(taxonomy, code)
        if t is not None:
            out.append({"id": entity_id(entity, opp.pk), "link_id": sid, "taxonomy_term_id": t["id"],
                        "link_type": link_type, "taxonomy_term": term_document(t)})
    return out


def service(opp) -> dict:
    """The full service (``schema/compiled/service.json``) for an opportunity."""
    sid = entity_id("service", opp.pk)
    doc = _one_to_one(opp)
    borough = BOROUGHS[opp.borough]
    doc.update(
        schedules=[schedule(opp)],
        service_areas=[{"id": entity_id("service_area", opp.pk), "service_id": sid, "name": borough,
                        "service_area": borough, "uri": ONS_GEOGRAPHY + opp.borough}],
        service_at_locations=[{"id": entity_id("service_at_location", opp.pk), "service_id": sid,
                               "location_id": entity_id("location", opp.pk), "location": location(opp)}],
        organization=organization(opp.provider),
        cost_options=cost_options(opp),
        attributes=attributes(opp),
    )
    return doc
