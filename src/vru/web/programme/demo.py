"""Demo content for the programme register: ``seed(stdout=None) -> dict``. Idempotent.

What is real and what is invented (also in docs/web-programme.md):

- **Real**: the eight boroughs funded in the first MyEnds round (2021: Brent, Croydon, Hackney,
  Haringey, Lambeth, Newham, Southwark, Tower Hamlets), the programme's size (GBP 6m, up to
  GBP 750,000 per consortium, so eight grants at the cap), the names of the Southwark estates
  (Rockingham, North Peckham, Brandon and Aylesbury), the LSOA boundaries (ONS, bundled), and the
  order of magnitude of the first year's monitoring figures (120+ interventions, 3,100 people
  reached, 1,331 after-school sessions, 1,900 mentoring sessions): the demo's first-year totals are
  exactly 128, 3,100, 1,331 and 1,900.
- **Invented**: every organisation and consortium (names end in "(demo)"), the other seven areas
  (named "<borough> demo area"), which LSOAs make up each area (for Southwark: the LSOAs containing
  an approximate point of each estate, not the estates' real outlines), grant references, dates,
  amounts requested, the split of sessions and people over interventions and age bands.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import shapely
import shapely.geometry
from django.db import transaction

from vru.geography.boroughs import BOROUGHS, MYENDS_BOROUGHS, borough_code

from .models import AGE_BAND_FIELDS, Consortium, Grant, Intervention, ProgrammeArea

# the eight boroughs of the first round, by name (the one list: vru.geography.MYENDS_BOROUGHS)
BOROUGHS_2021 = [BOROUGHS[c] for c in MYENDS_BOROUGHS]
# Approximate points (longitude, latitude) of the four Southwark estates named in public sources; the
# area is the set of 2011 LSOAs containing them (an approximation, not the estates' outlines).
SOUTHWARK_ESTATES = {
    "Rockingham": (-0.0955, 51.4972),
    "North Peckham": (-0.0725, 51.4790),
    "Brandon": (-0.1000, 51.4830),
    "Aylesbury": (-0.0870, 51.4858),
}
SOUTHWARK_AREA = "Rockingham, North Peckham, Brandon and Aylesbury estates"
CLUSTER_SIZE = 6
SEED = 20210901
# Per borough: (kind, name); 16 per borough, 128 in all ("120+").
PLAN = [
    ("mentoring", "One-to-one mentoring"), ("mentoring", "Peer mentoring"),
    ("mentoring", "Mentoring in school"), ("mentoring", "Detached mentoring"),
    ("after_school", "After-school club"), ("after_school", "Homework club"),
    ("after_school", "Holiday and after-school programme"), ("after_school", "Coding club"),
    ("parent_support", "Parenting group"), ("parent_support", "Family support"),
    ("youth_work", "Detached youth work"), ("youth_work", "Youth club nights"),
    ("training", "Employability training"), ("sport", "Football sessions"),
    ("arts", "Music studio"), ("other", "Community events"),
]
# Share of each kind's participants by age band (under 10, 10-13, 14-17, 18-24, 25+).
AGE_MIX = {
    "mentoring": [0.0, 0.25, 0.50, 0.25, 0.0],
    "after_school": [0.20, 0.45, 0.35, 0.0, 0.0],
    "parent_support": [0.0, 0.0, 0.0, 0.10, 0.90],
    "youth_work": [0.0, 0.30, 0.45, 0.25, 0.0],
    "training": [0.0, 0.0, 0.30, 0.70, 0.0],
    "sport": [0.10, 0.40, 0.40, 0.10, 0.0],
    "arts": [0.0, 0.30, 0.45, 0.25, 0.0],
    "other": [0.20, 0.20, 0.20, 0.10, 0.30],
}
TOTAL_PEOPLE = 3100
TOTAL_SESSIONS = {"after_school": 1331, "mentoring": 1900}
OTHER_SESSIONS_PER_INTERVENTION = (12, 60)
AWARD = Decimal("750000.00")
YEAR = 2022


def _say(stdout, msg: str) -> None:
    if stdout is not None:
        stdout.write(msg + "\n")


def _lsoas():
    from vru.sources.boundaries import read_bundled

    return read_bundled("lsoa2011")


def _cluster(lsoas, code: str, name: str):
    """(codes, GeoJSON) of the demo area in a borough."""
    mine = lsoas[lsoas["parent_code"] == code]
    if name == "Southwark":
        chosen = mine[mine.intersects(shapely.geometry.MultiPoint(_project(SOUTHWARK_ESTATES.values())))]
    else:
        # a compact cluster: the LSOA nearest the borough's centre and its nearest neighbours
        centre = mine.union_all().representative_point()
        d = mine.geometry.centroid.distance(centre)
        seed = mine.loc[d.idxmin()].geometry.centroid
        chosen = mine.loc[mine.geometry.centroid.distance(seed).nsmallest(CLUSTER_SIZE).index]
    geom = chosen.geometry.union_all().simplify(5)
    wgs = shapely.geometry.mapping(_unproject(geom))
    return sorted(chosen["code"]), _round(wgs)


def _project(lonlats):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    return [shapely.geometry.Point(*t.transform(x, y)) for x, y in lonlats]


def _unproject(geom):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _round(obj):
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, 6)
    return obj


def _split(total: int, weights, rng) -> list[int]:
    """``total`` split over ``weights`` into whole numbers that add up to it exactly."""
    w = np.asarray(weights, dtype=float)
    return [int(x) for x in rng.multinomial(total, w / w.sum())]


def _figures():
    """{(borough index, plan index): (sessions, [people by age band])}, deterministic."""
    rng = np.random.default_rng(SEED)
    n_b, n_p = len(BOROUGHS_2021), len(PLAN)
    out: dict = {}
    sessions: dict = {}
    for kind, total in TOTAL_SESSIONS.items():
        slots = [(b, i) for b in range(n_b) for i, (k, _) in enumerate(PLAN) if k == kind]
        for slot, s in zip(slots, _split(total, rng.uniform(0.6, 1.4, len(slots)), rng), strict=True):
            sessions[slot] = s
    lo, hi = OTHER_SESSIONS_PER_INTERVENTION
    slots = [(b, i) for b in range(n_b) for i in range(n_p)]
    people = _split(TOTAL_PEOPLE, rng.uniform(0.5, 1.5, len(slots)), rng)
    for slot, p in zip(slots, people, strict=True):
        kind = PLAN[slot[1]][0]
        s = sessions.get(slot) or int(rng.integers(lo, hi + 1))
        out[slot] = (s, _split(p, np.asarray(AGE_MIX[kind]) + 1e-9, rng))
    return out


@transaction.atomic
def seed(stdout=None) -> dict:
    """Create the demo register (areas, organisations, consortia, grants, interventions) if absent.
    Running it again changes nothing. Returns counts of what was created."""
    from vru.web.accounts.models import Organisation

    created = {"areas": 0, "organisations": 0, "consortia": 0, "grants": 0, "interventions": 0}
    try:
        lsoas = _lsoas()
    except Exception as e:  # the bundled boundaries are package data; say so if they are missing
        _say(stdout, f"programme demo: no LSOA boundaries ({e}); areas get no geometry")
        lsoas = None
    figures = _figures()
    for b, name in enumerate(BOROUGHS_2021):
        code = borough_code(name)
        assert code in BOROUGHS, name
        area_name = SOUTHWARK_AREA if name == "Southwark" else f"{name} demo area"
        area = ProgrammeArea.objects.filter(borough=code, name=area_name).first()
        if area is None:
            codes, geometry = _cluster(lsoas, code, name) if lsoas is not None else ([], None)
            area = ProgrammeArea(
                name=area_name, borough=code, kind="estate" if name == "Southwark" else "lsoa_cluster",
                lsoa_codes=codes, geometry=geometry, selected_year=2021, funding_round=1)
            area.full_clean()
            area.save()
            created["areas"] += 1
        orgs = []
        for suffix in ("Youth Collective", "Mentoring Network", "Families Together"):
            org, new = Organisation.objects.get_or_create(
                name=f"{name} {suffix} (demo)",
                defaults={"kind": "provider", "description": "Fictional organisation for the demo."})
            created["organisations"] += new
            orgs.append(org)
        consortium = Consortium.objects.filter(name=f"{name} MyEnds Consortium (demo)").first()
        if consortium is None:
            consortium = Consortium.objects.create(
                name=f"{name} MyEnds Consortium (demo)", area=area, lead=orgs[0])
            created["consortia"] += 1
        for org in orgs:  # one at a time: the memberships' ids follow the list
            consortium.members.add(org)
        ref = f"MYE-2021-{code[-3:]}"
        grant = Grant.objects.filter(reference=ref).first()
        if grant is None:
            grant = Grant.objects.create(reference=ref, consortium=consortium, amount_requested=AWARD)
            grant.record_status("", note="Demo: bid to the first round")
            grant.transition(Grant.AWARDED, note="Demo: funded in the first round",
                             amount_awarded=AWARD,
                             start_date=dt.date(2021, 9, 1), end_date=dt.date(2022, 8, 31))
            if b % 2 == 0:
                grant.transition(Grant.EXTENDED, note="Demo: extended to the end of the financial year",
                                 end_date=dt.date(2023, 3, 31))
            created["grants"] += 1
        for i, (kind, label) in enumerate(PLAN):
            sessions, bands = figures[(b, i)]
            _, new = Intervention.objects.get_or_create(
                grant=grant, name=label, year=YEAR,
                defaults={"kind": kind, "sessions_delivered": sessions,
                          **dict(zip(AGE_BAND_FIELDS, bands, strict=True))})
            created["interventions"] += new
    _say(stdout, "programme demo: " + ", ".join(f"{v} {k}" for k, v in created.items()) + " created")
    return created
