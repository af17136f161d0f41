"""The demo catalogue of the Local Village Network: a generated, realistic summer programme.

Everything here is FICTIONAL: the providers and employers (every name ends in "(demo)", websites are
under the reserved ``example.org`` domain), the venues, the sessions, the places taken. The places are
real London: each venue is a point inside its borough's ONS boundary (bundled with the package,
``vru.sources.boundaries``), at least :data:`INSIDE_M` metres from the border.

- :func:`generate` ``(n, seed, year)`` returns ``n`` opportunities as dicts (the fields of
  ``Opportunity``, with the provider's name), deterministically: the same arguments give the same
  catalogue, and a larger ``n`` extends a smaller one (the first records are the same).
- :func:`seed` writes them (``bulk_create``), idempotently: records are keyed by
  ``(source="vru-demo", external_id)``, so seeding again adds nothing and seeding with a larger ``n``
  adds only the missing ones (``manage.py seed_opportunities --n 25000`` for the benchmark).

The programme: the school summer holiday of ``year`` (:func:`summer`), across the 32 boroughs and the
City of London, ages 14 to 24 in bands, mostly free, one-off days, weekly sessions, holiday camps,
summer jobs, apprenticeships, training, volunteering, mentoring and youth clubs. Published and visible
from 1 September of the year before until the day after each one ends.

Fixed records for the browser test of the search (free football for a 15-year-old within 2 km): the
first :data:`LAMBETH_FOOTBALL` records are free football sessions in Lambeth, ages covering 15, all
within 1.5 km of :data:`BRIXTON` (51.4613, -0.1156, Brixton town centre).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from vru.geography.boroughs import BOROUGHS, CITY_OF_LONDON, borough_code

SOURCE = "vru-demo"
LONDON = ZoneInfo("Europe/London")
BRIXTON = (51.4613, -0.1156)
LAMBETH = borough_code("Lambeth")
CITY = CITY_OF_LONDON
INSIDE_M = 60.0
VENUES_PER_BOROUGH = 14

# The fictional providers and employers, PROVIDERS: (name, topics it offers (keys of TOPICS),
# description); the topics, TOPICS: topic -> (kind, titles, what it is). Data in data/demo_catalogue.json.
_CATALOGUE = json.loads((Path(__file__).resolve().parent / "data" / "demo_catalogue.json").read_text(
    encoding="utf-8"))
PROVIDERS: list[tuple[str, tuple[str, ...], str]] = [
    (name, tuple(topics), description) for name, topics, description in _CATALOGUE["providers"]]
TOPICS: dict[str, tuple[str, tuple[str, ...], str]] = {
    topic: (kind, tuple(titles), what) for topic, (kind, titles, what) in _CATALOGUE["topics"].items()}

# topic weights (roughly a London summer programme: lots of sport and arts, then skills and work)
WEIGHTS = {
    "football": 10, "basketball": 5, "boxing": 4, "martial arts": 2, "athletics": 2, "swimming": 2,
    "cricket": 2, "cycling": 2, "fitness": 3, "dance": 5, "drama": 3, "music": 3, "music production": 4,
    "art": 3, "photography": 1, "film": 2, "coding": 4, "digital skills": 2, "cooking": 3,
    "cv and interview skills": 4, "first aid": 2, "employability": 2, "mentoring": 4, "youth club": 5,
    "outdoor": 2, "wellbeing": 2, "environment": 2, "volunteering": 3, "hospitality": 3, "retail": 2,
    "construction": 3, "health and care": 2, "business": 2,
}

AGE_BANDS = {
    "activity": [(14, 17), (14, 18), (15, 19), (14, 19), (16, 24), (14, 24), (14, 16), (16, 19)],
    "event": [(14, 19), (14, 24), (16, 24)],
    "training": [(16, 24), (14, 19), (18, 24), (16, 21)],
    "job": [(16, 24), (18, 24)],
    "apprenticeship": [(16, 24), (18, 24), (16, 19)],
    "volunteering": [(14, 24), (16, 24), (14, 18)],
    "mentoring": [(14, 18), (16, 24), (14, 21)],
    "youth_service": [(14, 19), (14, 24), (14, 17)],
}

VENUE_WORDS = ("Ashgrove", "Beckett", "Calder", "Dunmore", "Eastbrook", "Fairlop", "Garnet", "Holloway",
               "Ivydene", "Jubilee", "Kelvin", "Linden", "Maple", "Norbury", "Orchard", "Primrose", "Quarry",
               "Rowan", "Sycamore", "Tanner", "Upton", "Victoria", "Wharf", "Yew Tree", "Alder", "Bramble",
               "Chestnut", "Damson", "Elder", "Hawthorn", "Larch", "Myrtle", "Poplar", "Rosewood", "Wren")
VENUE_TYPES = ("Community Centre", "Youth Centre", "Leisure Centre", "Sports Hall", "Library", "Arts Centre",
               "Estate Hall", "Community Hub", "Training Centre")
# where an employer's job or apprenticeship is, by topic
WORKPLACES = {"hospitality": "restaurant", "retail": "store", "construction": "site office",
              "health and care": "care home", "business": "office"}
ACCESS = ("Step-free access and an accessible toilet.", "Ground floor, step-free; hearing loop at reception.",
          "Lift to all floors; accessible toilet; quiet room available.", "")

# The fixed Lambeth football sessions: (metres north, metres east of BRIXTON, ages, weekly days, time)
LAMBETH_FOOTBALL_SPECS = [
    (400, 150, (14, 17), "TU,TH", (dt.time(17, 0), dt.time(19, 0))),
    (-650, 350, (15, 18), "MO,WE", (dt.time(16, 0), dt.time(18, 0))),
    (900, -500, (14, 19), "SA", (dt.time(10, 0), dt.time(12, 0))),
    (-300, -800, (15, 16), "", (dt.time(11, 0), dt.time(15, 0))),
    (1100, 300, (14, 24), "FR", (dt.time(18, 0), dt.time(20, 0))),
    (-1000, -200, (14, 16), "WE", (dt.time(14, 0), dt.time(16, 0))),
]
LAMBETH_FOOTBALL = len(LAMBETH_FOOTBALL_SPECS)


def summer(year: int) -> tuple[dt.date, dt.date]:
    """London's school summer holiday of ``year``, as the programme uses it: from the Monday on or
    after 20 July to 31 August."""
    start = dt.date(year, 7, 20)
    start += dt.timedelta(days=(7 - start.weekday()) % 7)
    return start, dt.date(year, 8, 31)


def default_year(today: dt.date | None = None) -> int:
    """The summer still to come (or under way): this year's until 31 August, then next year's."""
    today = today or dt.date.today()
    return today.year if today <= dt.date(today.year, 8, 31) else today.year + 1


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("(demo)", "").replace("&", "and")).strip("-")


def provider_website(name: str) -> str:
    return f"https://{_slug(name)}.example.org"


@functools.lru_cache(maxsize=1)
def _borough_shapes():
    """{code: (polygon in British National Grid shrunk by INSIDE_M, prepared)}, and transformers."""
    import shapely
    from pyproj import Transformer

    from vru.sources.boundaries import read_bundled

    gdf = read_bundled("lad2022")
    gdf = gdf[gdf["level"] == "borough"]
    shapes = {}
    for code, geom in zip(gdf["code"], gdf.geometry, strict=True):
        inner = geom.buffer(-INSIDE_M)
        shapely.prepare(inner)
        shapes[code] = inner
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    return shapes, to_wgs, to_bng


def _point_in(code: str, rng: random.Random) -> tuple[float, float]:
    import shapely

    shapes, to_wgs, _ = _borough_shapes()
    shape = shapes[code]
    x0, y0, x1, y1 = shape.bounds
    while True:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(shape, x, y):
            lon, lat = to_wgs.transform(x, y)
            return round(lat, 5), round(lon, 5)


def _venues(rng: random.Random) -> dict[str, list[tuple[str, float, float]]]:
    out = {}
    for code in sorted(BOROUGHS):
        venues = []
        count = 4 if code == CITY else VENUES_PER_BOROUGH
        for _ in range(count):
            name = f"{rng.choice(VENUE_WORDS)} {rng.choice(VENUE_TYPES)}"
            venues.append((name, *_point_in(code, rng)))
        out[code] = venues
    return out


def _lambeth_point(north_m: float, east_m: float) -> tuple[float, float]:
    import shapely

    shapes, to_wgs, to_bng = _borough_shapes()
    x, y = to_bng.transform(BRIXTON[1], BRIXTON[0])
    x, y = x + east_m, y + north_m
    if not shapely.contains_xy(shapes[LAMBETH], x, y):  # the specs are chosen to be inside; keep it so
        raise AssertionError(f"fixed Lambeth venue {north_m}, {east_m} is not inside Lambeth")
    lon, lat = to_wgs.transform(x, y)
    return round(lat, 5), round(lon, 5)


def _window(year: int, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year - 1, 9, 1, tzinfo=LONDON)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), tzinfo=LONDON)
    return start, stop


def _how_to_apply(kind: str, capacity: int | None) -> str:
    if kind in ("job", "apprenticeship"):
        return "Apply online through the employer's website: a short form and your CV (we can help with it)."
    if capacity is None:
        return "Just turn up: no need to book."
    return "Book a place on this site, or come along to the first session if there is space."


def _record(i: int, rng: random.Random, year: int, venues, providers_by_topic) -> dict:
    s_start, s_end = summer(year)
    if i < LAMBETH_FOOTBALL:
        north, east, ages, days, times = LAMBETH_FOOTBALL_SPECS[i]
        lat, lon = _lambeth_point(north, east)
        provider = "Copperleaf Football Foundation (demo)"
        start = s_start + dt.timedelta(days=7 * (i % 2))
        if days:
            recurrence, end = "weekly", min(s_end, start + dt.timedelta(days=7 * 4 + 6))
        else:
            start += dt.timedelta(days=3)  # a one-day event on a Thursday
            recurrence, end = "one_off", start
        title = ("Free football sessions", "Summer football camp", "Girls' football",
                 "Football fun day", "Five-a-side summer league", "Football for beginners")[i]
        rec = dict(
            kind="activity", topic="football", borough=LAMBETH, title=f"{title} in Brixton",
            address=f"{VENUE_WORDS[i * 5]} Community Pitches, Lambeth",
            latitude=lat, longitude=lon, min_age=ages[0], max_age=ages[1], start_date=start, end_date=end,
            recurrence=recurrence, days_of_week=days, start_time=times[0], end_time=times[1],
            is_free=True, price=None, capacity=30, places_taken=rng.randint(0, 12),
            description=("Free coached football near Brixton for all abilities: drills, small-sided games "
                         "and a match to finish. Boots and shin pads can be borrowed."),
            accessibility=ACCESS[i % 3], eligibility=f"Ages {ages[0]} to {ages[1]}. No experience needed.",
            how_to_apply=_how_to_apply("activity", 30),
            apply_url=provider_website(provider) + "/book",
        )
    else:
        topic = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        kind, titles, what = TOPICS[topic]
        title = rng.choice(titles)
        if "apprenticeship" in title.lower():
            kind = "apprenticeship"
        elif topic in ("hospitality", "retail") or "(summer)" in title or "assistant" in title.lower():
            kind = "job"
        elif "taster" in title.lower() and kind == "apprenticeship":
            kind = "training"
        elif title in ("Careers fair", "Esports careers day") or topic == "outdoor":
            kind = "event"
        provider = rng.choice(providers_by_topic[topic])
        code = rng.choices(sorted(BOROUGHS), weights=[0.25 if c == CITY else 1 for c in sorted(BOROUGHS)])[0]
        venue, lat, lon = rng.choice(venues[code])
        borough = BOROUGHS[code]
        if kind in ("job", "apprenticeship") or topic in WORKPLACES:
            venue = f"{provider.replace(' (demo)', '')} {WORKPLACES[topic]}"
        if kind == "apprenticeship":
            title += ": open day"
        lo, hi = rng.choice(AGE_BANDS[kind])
        week = rng.randrange(0, 6)
        start = s_start + dt.timedelta(days=7 * week)
        days, recurrence = "", "one_off"
        times = rng.choice([(dt.time(10, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(15, 0)),
                            (dt.time(16, 0), dt.time(18, 0)), (dt.time(18, 0), dt.time(20, 0)),
                            (dt.time(10, 0), dt.time(15, 0))])
        shape = rng.random()
        if kind in ("job", "apprenticeship"):
            times = (dt.time(9, 0), dt.time(17, 0)) if kind == "job" else (dt.time(9, 30), dt.time(16, 30))
            if kind == "job":
                recurrence, days = "weekly", rng.choice(["MO,TU,WE,TH,FR", "TH,FR,SA,SU", "MO,WE,FR"])
                end = min(s_end, start + dt.timedelta(days=7 * rng.randint(3, 6) - 1))
            else:  # an assessment or open day during the summer
                start += dt.timedelta(days=rng.randrange(0, 5))
                end = start
        elif kind in ("event",):
            start += dt.timedelta(days=rng.randrange(0, 7))
            end = start + dt.timedelta(days=rng.choice([0, 0, 0, 1]))
            times = (dt.time(9, 0), dt.time(18, 0))
        elif kind == "youth_service":
            recurrence, days = "weekly", rng.choice(["MO,WE,FR", "TU,TH", "MO,TU,WE,TH,FR"])
            times = (dt.time(17, 0), dt.time(21, 0))
            start, end = s_start, s_end
        elif shape < 0.45 or kind in ("mentoring", "volunteering"):
            recurrence = "weekly"
            days = rng.choice(["TU,TH", "MO,WE", "SA", "WE", "FR", "MO,WE,FR", "TH"])
            end = min(s_end, start + dt.timedelta(days=7 * rng.randint(2, 6) - 1))
        elif shape < 0.7:  # a holiday camp: every weekday for a week or two
            recurrence, days = "weekly", "MO,TU,WE,TH,FR"
            end = min(s_end, start + dt.timedelta(days=7 * rng.randint(1, 2) - 3))
        else:
            start += dt.timedelta(days=rng.randrange(0, 6))
            end = start
        start = min(start, s_end)  # everything inside the holiday
        end = min(max(end, start), s_end)
        paid_share = {"activity": 0.15, "event": 0.2, "training": 0.1}.get(kind, 0.0)
        is_free = rng.random() >= paid_share
        price = None if is_free else rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 15])
        capacity = {
            "activity": rng.randint(12, 40), "event": rng.choice([50, 80, 120, 200]),
            "training": rng.randint(8, 20), "job": rng.randint(1, 6), "apprenticeship": rng.randint(1, 4),
            "volunteering": rng.randint(4, 15), "mentoring": rng.randint(6, 12), "youth_service": None,
        }[kind]
        if kind == "activity" and rng.random() < 0.1:
            capacity = None
        taken = 0 if capacity is None else rng.randint(0, int(capacity * 0.7))
        extra = {
            "job": " Paid at least the London Living Wage; you will need the right to work in the UK.",
            "apprenticeship": (" Apprentices are paid from day one and study towards a recognised "
                               "qualification; this day is an open day and assessment for September starts."),
        }.get(kind, "")
        name = provider.replace(" (demo)", "")
        rec = dict(
            kind=kind, topic=topic, borough=code, title=f"{title} in {borough}",
            address=f"{venue}, {borough}", latitude=lat, longitude=lon, min_age=lo, max_age=hi,
            start_date=start, end_date=end, recurrence=recurrence, days_of_week=days,
            start_time=times[0], end_time=times[1], is_free=is_free, price=price, capacity=capacity,
            places_taken=taken, description=f"{what} Run by {name} at {venue}.{extra}",
            accessibility=rng.choice(ACCESS),
            eligibility=f"Ages {lo} to {hi}." + (" Right to work in the UK." if kind == "job" else ""),
            how_to_apply=_how_to_apply(kind, capacity),
            apply_url=provider_website(provider) + ("/jobs" if kind in ("job", "apprenticeship")
                                                     else "/book"),
        )
    visible_from, visible_to = _window(year, rec["end_date"])
    rec.update(provider=provider, postcode="", status="published", visible_from=visible_from,
               visible_to=visible_to, source=SOURCE, external_id=f"demo-{i + 1:06d}")
    return rec


def generate(n: int = 2500, seed: int = 7, year: int | None = None) -> list[dict]:
    """``n`` fictional opportunities for the summer of ``year`` (default :func:`default_year`), as
    dicts of ``Opportunity`` fields with ``provider`` the provider's name. Deterministic; a larger
    ``n`` extends a smaller one."""
    year = year or default_year()
    venues = _venues(random.Random(f"venues-{seed}"))
    by_topic: dict[str, list[str]] = {}
    for name, topics, _ in PROVIDERS:
        for topic in topics:
            by_topic.setdefault(topic, []).append(name)
    rng = random.Random(f"opportunities-{seed}-{year}")
    return [_record(i, rng, year, venues, by_topic) for i in range(n)]


def seed(stdout=None, n: int = 2500, year: int | None = None, batch_size: int = 2000) -> dict:
    """Write the demo providers and the first ``n`` demo opportunities that are not there yet, with a
    moderation event each ("published by the demo seed"). Idempotent. Returns what was created."""
    from django.db import transaction
    from django.utils import timezone

    from vru.web.accounts.models import Organisation

    from .models import ModerationEvent, Opportunity

    stdout = stdout or sys.stdout
    now = timezone.now()
    created = {"providers": 0, "opportunities": 0}
    with transaction.atomic():
        orgs = {}
        for name, _group, description in PROVIDERS:
            org, new = Organisation.objects.get_or_create(name=name, defaults={
                "kind": "provider", "verified": True, "verified_at": now, "website": provider_website(name),
                "description": f"Fictional organisation (demo data). {description}"})
            created["providers"] += new
            orgs[name] = org
        have = set(Opportunity.objects.filter(source=SOURCE).values_list("external_id", flat=True))
        todo = [r for r in generate(n, year=year) if r["external_id"] not in have]
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            objs = [Opportunity(**{**r, "provider": orgs[r["provider"]]}) for r in chunk]
            Opportunity.objects.bulk_create(objs, batch_size=batch_size)
            ids = Opportunity.objects.filter(source=SOURCE, external_id__in=[r["external_id"] for r in chunk])
            ModerationEvent.objects.bulk_create(
                [ModerationEvent(opportunity_id=pk, from_status="", to_status="published",
                                 reason="Demo catalogue: published by the demo seed")
                 for pk in ids.values_list("pk", flat=True)], batch_size=batch_size)
            created["opportunities"] += len(chunk)
    stdout.write(f"Demo opportunities: {created['opportunities']} created, {len(have)} already there; "
                 f"{created['providers']} fictional providers created.\n")
    return created
