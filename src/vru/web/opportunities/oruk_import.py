"""Import an Open Referral UK feed of services as opportunities (``manage.py import_oruk``).

A feed is one JSON document: a paginated service list (the profile's ``Page`` with ``contents``, as
``examples/service_list.json``), a JSON array of services, or one service. Any other shape is refused.

Every record is checked, and every problem reported (record index, service id, JSON path, message):

1. against the profile's published schema ``schema/compiled/service.json`` (shipped, offline);
2. against the platform's rules (:func:`_to_fields`): an active service; one physical location whose
   latitude/longitude is inside a London borough (the bundled ONS boundaries, 250 m tolerance at the
   border), and which agrees with a service area that names a London borough; numeric minimum and
   maximum ages between 10 and 25; exactly one schedule with ISO dates ``valid_from`` <= ``valid_to``,
   not already over, weekly (or one-off: no ``freq``), times ``HH:MM``; costs not negative; an
   ``http(s)`` url; a kind from the platform's taxonomy (``vru-lvn-kind``), matched by term id or by
   the term's name; and the model's own validation (``full_clean``).

If any record is bad nothing is written. Otherwise, in one transaction, each service is created or
updated by ``(source, external_id)`` = (the feed's source, the service id): re-importing the same feed
changes nothing; a changed service is updated and goes back to moderation. New and changed records
are ``pending`` (moderators approve them as any other), with a ``ModerationEvent`` each. Services whose
status is not ``active`` are skipped and listed (a closed service is not an opportunity).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, transaction
from django.utils import timezone

from vru.geography.boroughs import BOROUGHS, borough_code

from . import dates, oruk

# fields compared to decide "unchanged" (everything the feed sets)
FIELDS = ("kind", "topic", "title", "description", "borough", "address", "postcode", "latitude", "longitude",
          "min_age", "max_age", "start_date", "end_date", "recurrence", "days_of_week", "start_time",
          "end_time", "is_free", "price", "accessibility", "how_to_apply", "apply_url", "visible_to")
POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})")
MAX_DEPTH = 12  # a service record of the profile is at most 6 levels deep
CLOCK = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?")


class FeedError(Exception):
    """The feed cannot be read at all (not JSON, unknown shape); nothing was imported."""


@dataclass
class Problem:
    index: int
    id: str | None
    path: str
    message: str

    def __str__(self) -> str:
        text = f"record {self.index} (id {self.id or '?'}): {self.path}: {self.message}"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate, shown as \ud800


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load(path: str | Path) -> object:
    """The JSON document in ``path``; a clear :class:`FeedError` if it is not JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FeedError(f"{path}: cannot read the file ({e})") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FeedError(f"{path}: not JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
    except RecursionError as e:
        raise FeedError(f"{path}: nested too deeply to read (a service is at most {MAX_DEPTH} levels "
                        "deep)") from e


def records(document) -> list:
    """The services of a feed document, or :class:`FeedError` for an unknown shape."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return document["contents"]
    if isinstance(document, dict) and {"id", "name", "status"} <= set(document):
        return [document]
    raise FeedError("unknown format: expected an Open Referral UK paginated service list (an object with "
                    "'contents'), a JSON array of services, or one service (an object with id, name and "
                    "status)")


def _path(parent: str, key) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def _shown(value, limit: int = 40) -> str:
    """``value`` for a message: short, and printable whatever it holds."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def unreadable(rec) -> list[tuple[str, str]]:
    """What no later check can take: nesting deeper than ``MAX_DEPTH``, text that cannot be stored
    (a lone surrogate such as "\\ud800", a NUL character) and numbers that are not numbers (NaN,
    Infinity, which Python's JSON reader accepts). Walked without recursion, so any depth is safe."""
    problems: list[tuple[str, str]] = []
    stack = [("$", rec, 0)]
    while stack and len(problems) < 20:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems.append((path, f"nested more than {MAX_DEPTH} levels deep: not a service record"))
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                if not _storable(k):
                    problems.append((path, f"a key {_shown(k)} holds a character that is not text "
                                           "(a lone surrogate or NUL)"))
                    continue
                stack.append((_path(path, k), v, depth + 1))
        elif isinstance(value, list):
            stack.extend((_path(path, i), v, depth + 1) for i, v in enumerate(value))
        elif isinstance(value, str) and not _storable(value):
            problems.append((path, f"{_shown(value)} holds a character that is not text (a lone "
                                   "surrogate or NUL)"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append((path, f"{value} is not a number"))
    return sorted(problems)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _date(value, path, problems) -> dt.date | None:
    if not isinstance(value, str):
        problems.append((path, "missing: a date YYYY-MM-DD is needed"))
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append((path, f"{value!r} is not a date YYYY-MM-DD"))
        return None


def _clock(value, day: dt.date | None, path, problems) -> dt.time | None:
    """``HH:MM[:SS][Z|+hh:mm]`` -> London local time on ``day``."""
    m = CLOCK.fullmatch(value) if isinstance(value, str) else None
    if not m:
        problems.append((path, f"{value!r} is not a time HH:MM (optionally with seconds and a UTC offset)"))
        return None
    h, mi, sec, tz = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), m.group(4)
    if h > 23 or mi > 59 or sec > 59:
        problems.append((path, f"{value!r} is not a time of day"))
        return None
    t = dt.time(h, mi, sec)
    if tz and tz != "Z" and (int(tz[1:3]) > 14 or int(tz[4:6]) > 59):
        problems.append((path, f"{value!r}: {tz} is not a UTC offset (from -14:00 to +14:00)"))
        return None
    if tz and day is not None:
        zone = dt.UTC if tz == "Z" else dt.datetime.strptime(tz.replace(":", ""), "%z").tzinfo
        t = dt.datetime.combine(day, t, tzinfo=zone).astimezone(oruk.LONDON).time().replace(tzinfo=None)
    return t


def _match_term(attr: dict) -> tuple[str, str] | None:
    """(taxonomy code, term code) of the platform's taxonomy that an attribute names, by the term's id
    or by its name/term text; None if it names none."""
    term = attr.get("taxonomy_term") or {}
    ids = {attr.get("taxonomy_term_id"), term.get("id")} - {None}
    for t in oruk.terms():
        if t["id"] in ids:
            return t["taxonomy"], t["code"]
    texts = {str(term.get(k, "")).strip().lower() for k in ("name", "term")} - {""}
    wanted = str(term.get("taxonomy", "")).strip().lower()
    for t in oruk.terms():
        if wanted and wanted not in (t["taxonomy"], ""):
            continue
        if {t["code"], t["name"].lower()} & texts:
            return t["taxonomy"], t["code"]
    return None


def _to_fields(rec: dict, now: dt.datetime) -> tuple[dict | None, list[tuple[str, str]]]:
    """The platform's rules: ``(fields for Opportunity, [])`` or ``(None, [(path, message), ...])``."""
    from . import geo

    problems: list[tuple[str, str]] = []
    out: dict = {"title": (rec.get("name") or "").strip(),
                 "description": (rec.get("description") or "").strip()}
    if not out["title"]:
        problems.append(("$.name", "empty: a service needs a name"))
    elif len(out["title"]) > 200:
        problems.append(("$.name", f"{len(out['title'])} characters: at most 200"))
    if not out["description"]:
        problems.append(("$.description", "missing: a service needs a description"))

    # ages
    for key, target in (("minimum_age", "min_age"), ("maximum_age", "max_age")):
        v = rec.get(key)
        if v is None:
            problems.append((f"$.{key}", "missing: young people search by age, so the ages are needed"))
        elif (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v)
              or not 10 <= v <= 25):
            problems.append((f"$.{key}", f"{_shown(v)} is not a whole number of years from 10 to 25 (the "
                                         "platform is for young people aged 14 to 24)"))
        else:
            out[target] = int(v)
    if "min_age" in out and "max_age" in out and out["min_age"] > out["max_age"]:
        problems.append(("$.minimum_age",
                         f"minimum age {out['min_age']} is above maximum age {out['max_age']}"))

    # the place
    sals = rec.get("service_at_locations") or []
    physical = [(i, s.get("location") or {}) for i, s in enumerate(sals)
                if (s.get("location") or {}).get("location_type") == "physical"]
    if not physical:
        problems.append(("$.service_at_locations", "no physical location: an opportunity needs a place with "
                                                   "latitude and longitude"))
    elif len(physical) > 1:
        problems.append(("$.service_at_locations",
                         f"{len(physical)} physical locations: the platform holds one place per "
                         "opportunity; send one service per place"))
    else:
        i, loc = physical[0]
        base = f"$.service_at_locations[{i}].location"
        lat, lon = loc.get("latitude"), loc.get("longitude")
        if lat is None or lon is None:
            problems.append((f"{base}.latitude", "missing latitude/longitude"))
        else:
            numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                          for x in (lat, lon))
            found = geo.borough_at(lat, lon) if numbers and -90 <= lat <= 90 and -180 <= lon <= 180 else []
            if not found:
                problems.append((f"{base}.latitude", f"({lat}, {lon}) is not in a London borough"))
            else:
                out.update(latitude=round(float(lat), 6), longitude=round(float(lon), 6), borough=found[0])
                named = [(j, borough_code(a.get("name") or a.get("service_area") or ""))
                         for j, a in enumerate(rec.get("service_areas") or [])]
                named = [(j, c) for j, c in named if c in BOROUGHS]
                if named and not any(c in found for _, c in named):
                    j, c = named[0]
                    problems.append((f"$.service_areas[{j}].name",
                                     f"names {BOROUGHS[c]}, but the location is in {BOROUGHS[found[0]]}"))
        addresses = loc.get("addresses") or []
        if addresses:
            a = addresses[0]
            line = ", ".join(x for x in (a.get("address_1"), a.get("city")) if x)
            out["address"] = line[:300]
            pc = (a.get("postal_code") or "").strip().upper()
            if pc and not POSTCODE.fullmatch(pc):
                problems.append((f"{base}.addresses[0].postal_code", f"{pc!r} is not a UK postcode"))
            else:
                out["postcode"] = pc
        else:
            out["address"] = (loc.get("name") or "")[:300]
        access = [x.get("description") for x in loc.get("accessibility") or [] if x.get("description")]
        out["accessibility"] = " ".join(access)

    # when
    schedules = rec.get("schedules") or []
    if len(schedules) != 1:
        problems.append(("$.schedules", f"{len(schedules)} schedules: exactly one is needed (the dates and "
                                        "times of the opportunity)"))
    else:
        s = schedules[0]
        start = _date(s.get("valid_from"), "$.schedules[0].valid_from", problems)
        end = _date(s.get("valid_to"), "$.schedules[0].valid_to", problems)
        for day, where in ((start, "valid_from"), (end, "valid_to")):
            if day and (msg := dates.problem(day, timezone.localdate(now), where)):
                problems.append((f"$.schedules[0].{where}", msg))
                start = end = None
        if start and end:
            if start > end:
                problems.append(("$.schedules[0].valid_to", f"{end} is before valid_from {start}"))
            elif end < timezone.localdate(now):
                problems.append(("$.schedules[0].valid_to", f"{end} has passed: nothing to offer"))
            else:
                out.update(start_date=start, end_date=end)
        freq = s.get("freq")
        days = [d.strip() for d in (s.get("byday") or "").split(",") if d.strip()]
        if freq is None:
            out.update(recurrence="one_off", days_of_week="")
        elif freq != "WEEKLY" or s.get("interval", 1) != 1:
            problems.append(("$.schedules[0].freq",
                             f"{freq} every {s.get('interval', 1)}: the platform holds weekly schedules "
                             "(interval 1) and one-off dates"))
        elif not days or any(d not in oruk.DAY_CODES for d in days):
            problems.append(("$.schedules[0].byday",
                             f"{s.get('byday')!r}: give the days as MO,TU,WE,TH,FR,SA,SU"))
        elif set(days) == set(oruk.DAY_CODES):
            out.update(recurrence="daily", days_of_week="")
        else:
            out.update(recurrence="weekly", days_of_week=",".join(d for d in oruk.DAY_CODES if d in days))
        opens, closes = s.get("opens_at"), s.get("closes_at")
        if (opens is None) != (closes is None):
            problems.append(("$.schedules[0].opens_at", "give both opens_at and closes_at, or neither"))
        elif opens is not None:
            t0 = _clock(opens, start, "$.schedules[0].opens_at", problems)
            t1 = _clock(closes, start, "$.schedules[0].closes_at", problems)
            if t0 and t1 and t0 >= t1:
                problems.append(("$.schedules[0].closes_at", f"{closes} is not after opens_at {opens}"))
            out.update(start_time=t0, end_time=t1)
        else:
            out.update(start_time=None, end_time=None)
        how = (s.get("attending_type") or "").strip()

    # cost
    amounts = []
    for j, c in enumerate(rec.get("cost_options") or []):
        a = c.get("amount")
        if a is None:
            continue
        try:
            d = Decimal(str(a))
            d = d.quantize(Decimal("0.01")) if d.is_finite() and abs(d) < 10**9 else Decimal(-1)
        except (InvalidOperation, ValueError):
            d = Decimal(-1)
        if d < 0 or d >= Decimal("100000"):
            problems.append((f"$.cost_options[{j}].amount",
                             f"{a} is not a price in pounds from 0 to 99999.99"))
        elif d > 0:
            amounts.append(d)
    out.update(is_free=not amounts, price=min(amounts) if amounts else None)

    # url and how to apply
    url = rec.get("url") or ""
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
            out["apply_url"] = url
        except ValidationError:
            problems.append(("$.url", f"{url!r} is not an http(s) web address"))
    else:
        out["apply_url"] = ""
    if len(schedules) == 1:
        out["how_to_apply"] = how or (f"Apply on the provider's website: {url}" if url else "")
        if not out["how_to_apply"]:
            problems.append(("$.url", "no way to apply: give the service a url or the schedule an "
                                      "attending_type"))

    # kind and topic
    found_terms = [m for m in (_match_term(a) for a in rec.get("attributes") or []) if m]
    kinds = [c for t, c in found_terms if t == oruk.KIND_TAXONOMY]
    topics = [c for t, c in found_terms if t == oruk.TOPIC_TAXONOMY]
    if not kinds:
        names = ", ".join(t["code"] for t in oruk.terms() if t["taxonomy"] == oruk.KIND_TAXONOMY)
        problems.append(("$.attributes",
                         f"no kind of opportunity: add an attribute whose taxonomy_term is a vru-lvn-kind "
                         f"term ({names}; see /api/v1/opportunities/taxonomy_terms)"))
    elif len(set(kinds)) > 1:
        problems.append(("$.attributes", f"more than one kind ({', '.join(sorted(set(kinds)))}): give one"))
    else:
        out["kind"] = kinds[0]
    out["topic"] = topics[0] if topics else ""
    return (None, problems) if problems else (out, [])


def import_feed(document, *, provider, source: str, now: dt.datetime | None = None,
                dry_run: bool = False) -> Report:
    """Check every record of ``document``; if all are good (and not ``dry_run``), write them all in one
    transaction for ``provider`` (an ``Organisation``, verified) under ``source``. Returns the
    :class:`Report`; nothing is written when ``report.problems`` is not empty."""
    from .models import ModerationEvent, Opportunity

    if not provider.verified:
        raise FeedError(f"{provider.name} is not a verified provider: an administrator verifies it first")
    if not source or len(source) > 200:
        raise FeedError("the source (where the feed comes from) must be 1 to 200 characters")
    now = now or timezone.now()
    recs = records(document)
    report = Report()
    good: list[tuple[int, str, dict]] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(recs):
        if not isinstance(rec, dict):
            report.problems.append(Problem(i, None, "$", "not a JSON object (a service)"))
            continue
        rid = rec.get("id") if isinstance(rec.get("id"), str) else None
        errors = unreadable(rec)
        if errors:
            report.problems.extend(Problem(i, rid, p, m) for p, m in errors)
            continue
        errors = oruk.schema_errors("compiled/service.json", rec)
        if errors:
            report.problems.extend(Problem(i, rid, p, m) for p, m in errors)
            continue
        if rid in seen:
            report.problems.append(Problem(i, rid, "$.id", f"the same id as record {seen[rid]}"))
            continue
        seen[rid] = i
        if rec["status"] != "active":
            report.skipped.append(f"record {i} (id {rid}): status {rec['status']!r}, not imported")
            continue
        fields, problems = _to_fields(rec, now)
        if problems:
            report.problems.extend(Problem(i, rid, p, m) for p, m in problems)
            continue
        good.append((i, rid, fields))
    if report.problems:
        return report

    with transaction.atomic():
        existing = {o.external_id: o for o in Opportunity.objects.select_for_update().filter(
            source=source, external_id__in=[rid for _, rid, _ in good])}
        plan = []
        for i, rid, fields in good:
            fields["visible_to"] = dt.datetime.combine(fields["end_date"] + dt.timedelta(days=1), dt.time(0),
                                                       tzinfo=oruk.LONDON)
            opp = existing.get(rid)
            if opp is not None and opp.provider_id != provider.pk:
                report.problems.append(Problem(i, rid, "$.id", f"already imported from {source} for another "
                                                               "provider"))
                continue
            if opp is None:
                opp = Opportunity(provider=provider, source=source, external_id=rid, status="pending",
                                  visible_from=now, **fields)
                action = "created"
            else:
                if all(getattr(opp, k) == v for k, v in fields.items()):
                    report.unchanged += 1
                    continue
                for k, v in fields.items():
                    setattr(opp, k, v)
                action = "updated"
            try:
                opp.full_clean()
            except ValidationError as e:
                for name, messages in e.message_dict.items():
                    report.problems.append(Problem(i, rid, f"$ ({name})", "; ".join(messages)))
                continue
            plan.append((i, rid, action, opp))
        if report.problems:
            transaction.set_rollback(True)
            return report
        # A dry run writes exactly as the real run does and then rolls back, so it finds every problem
        # the real run would, the database's own refusals included.
        for i, rid, action, opp in plan:
            before = existing[opp.external_id].status if action == "updated" else ""
            opp.status = "pending"
            reason = (f"Imported from the Open Referral UK feed {source}" if action == "created"
                      else f"Changed in the Open Referral UK feed {source}: moderated again")
            try:
                with transaction.atomic():  # a savepoint: one refused record does not hide the others
                    opp.save()
                    ModerationEvent.objects.create(opportunity=opp, from_status=before or "",
                                                   to_status="pending", reason=reason)
            except DatabaseError as e:
                report.problems.append(Problem(i, rid, "$", f"the database refused it: {e}"))
                continue
            setattr(report, action, getattr(report, action) + 1)
        if report.problems:
            report.created = report.updated = 0
        if report.problems or dry_run:
            transaction.set_rollback(True)
    return report
