"""What the dashboard shows, computed once by the report's pipelines and cached.

Every function here returns plain Python (numbers, strings, lists, dicts) that both the pages
(:mod:`vru.web.dashboard.views`) and the JSON API (:mod:`vru.web.dashboard.api`) use, so the two
can never disagree. Nothing here reads the warehouse or computes a statistic itself: the figures
come from the pipelines (:mod:`vru.pipelines`: ``run(wh, params)``, whose result's ``as_dict()`` is
the data; :mod:`vru.pipelines.area` for one LSOA), their presentations
(:mod:`vru.outputs.sections`: ``present(result)``, the section HTML and charts that the needs
assessment shows), and the charts from :mod:`vru.outputs.charts`.
"""

from __future__ import annotations

import importlib

from vru import taxonomy
from vru.geography import MPS_BOROUGHS, borough_name  # the City has no MPS figures
from vru.pipelines.base import jsonable
from vru.taxonomy import LEAGUE_MEASURES
from vru.web.dashboard.cache import cached

#: Borough crime measures offered on the overview (MPS detailed classification, no overlaps
#: needed: each is one league table).
LEAGUE_CATEGORIES = (taxonomy.VIOLENCE_AGAINST_THE_PERSON, taxonomy.VIOLENCE_WITH_INJURY,
                     taxonomy.VIOLENCE_WITHOUT_INJURY, taxonomy.ROBBERY, taxonomy.KNIFE_OFFENCES,
                     taxonomy.POSSESSION_OF_WEAPONS, taxonomy.SEXUAL_OFFENCES, taxonomy.HOMICIDE)
DEFAULT_CATEGORY = taxonomy.VIOLENCE_AGAINST_THE_PERSON


class NotFound(LookupError):
    """No such borough or area (the pages and the API answer 404)."""


def _section(sec) -> dict | None:
    return None if sec is None else {"id": sec.id, "title": sec.title, "html": sec.body}


def _results(name: str, p, plain=None) -> dict:
    """``vru.pipelines.<name>.run(wh, p).as_dict()`` (through ``plain`` when given), cached under
    ``name``. The pipeline is imported when first computed, not when the site starts."""

    def compute(wh):
        out = importlib.import_module(f"vru.pipelines.{name}").run(wh, p).as_dict()
        return out if plain is None else plain(out)

    return cached(name, p.as_dict(), compute)


def _report_section(name: str, p) -> dict:
    """The needs assessment's section ``name`` for ``p``: ``vru.outputs.sections.<name>.present`` of
    ``vru.pipelines.<name>.run(wh, p)``, cached under ``<name>-section``."""

    def compute(wh):
        result = importlib.import_module(f"vru.pipelines.{name}").run(wh, p)
        return {"section": _section(importlib.import_module(f"vru.outputs.sections.{name}").present(result))}

    return cached(f"{name}-section", p.as_dict(), compute)


# --- London overview ------------------------------------------------------------------------------


def report_sections() -> dict:
    """The needs assessment's summary, trends, borough league table and maps (the report's code)."""

    def compute(wh):
        from vru.outputs.sections import london as sections
        from vru.pipelines import london

        r = london.run(wh, london.LondonParams.of(parts=("league", "trends", "maps")))
        return {"sections": [_section(s) for s in sections.present(r)],
                "first_month": f"{r.first:%Y-%m}", "last_month": f"{r.last:%Y-%m}"}

    return cached("report-sections", {}, compute)


def league(category: str = DEFAULT_CATEGORY) -> dict:
    """Borough league table of one crime measure: :func:`vru.analysis.needs.league_table` on the
    same inputs as the report (MPS detailed classification, the latest 12 months against the 12
    before, mid-2020 residents, the 32 MPS boroughs), with a bar chart of the rates."""
    if category not in LEAGUE_CATEGORIES:
        raise ValueError(f"unknown measure {category!r}")

    def compute(wh):
        from vru.outputs.sections import london as sections
        from vru.pipelines import london

        r = london.run(wh, london.LondonParams.of(measures=(category,), parts=("league",)))
        t = r.league[category]
        lo, hi = r.window
        label = taxonomy.label(category)
        rows = [{"code": r.area_code, "name": borough_name(r.area_code), "rank": int(r.rank),
                 "count": int(r.count), "previous": int(r.previous), "change_pct": r.change_pct,
                 "population": int(r.population), "rate_per_1000": r.rate_per_1000}
                for r in t.itertuples()]
        return jsonable({
            "category": category, "label": label, "source": r.params.source,
            "window_start": f"{lo:%Y-%m}", "window_end": f"{hi:%Y-%m}",
            "population_year": r.params.pop_year, "rows": rows,
            "chart_html": sections.league_chart(r),
        })

    return cached("league", {"category": category}, compute)


# --- borough and area pages -----------------------------------------------------------------------


def borough_trends(code: str) -> dict:
    """Monthly offences in one borough by the report's trend groups, with 12-month rolling means:
    :func:`vru.pipelines.london.run` with ``borough``, presented by the report's
    :func:`vru.outputs.sections.london.trends` for that place."""

    def compute(wh):
        from vru.outputs.sections import london as sections
        from vru.pipelines import london

        r = london.run(wh, london.LondonParams.of(borough=code, parts=("trends",)))
        return {"html": sections.trends(r, place=borough_name(code)).body}

    return cached("borough-trends", {"code": code}, compute)


def area_facts(code: str) -> dict:
    """One 2011 LSOA: name, borough, annual violence against the person with the rate per 1,000
    residents, and its IMD 2019 score, rank and decile (:func:`vru.pipelines.area.run`, whose
    residents and LSOA series are those of the report's map). Raises :class:`NotFound` for an
    unknown LSOA."""
    from vru.pipelines import area as pa
    from vru.pipelines.base import ParamsError

    try:
        p = pa.AreaParams(code=code)
    except ParamsError:  # not an LSOA code at all
        raise NotFound(code) from None

    def compute(wh):
        try:
            r = pa.run(wh, p).as_dict()
        except pa.UnknownArea:
            raise NotFound(code) from None
        return {"code": code, "name": r["name"], "borough": r["borough"],
                "borough_name": borough_name(r["borough"]), "population": r["population"],
                "population_year": p.pop_year, "source": p.lsoa_source, "category": p.category,
                "series": r["series"], **{m: r[m] for m in pa.IMD_MEASURES}}

    return cached("area", p.as_dict(), compute)  # NotFound (not cached): unknown LSOA


def lsoa_scores() -> dict:
    """Targeting scores of every 2011 LSOA as a candidate (``TargetParams(level="lsoa")``, the
    default weights): :func:`vru.pipelines.targeting.run`'s scored candidates."""

    def compute(wh):
        from vru.pipelines import targeting as pt

        t = pt.run(wh, pt.TargetParams(level="lsoa"))
        c = t.candidates.sort_values("score", ascending=False)
        rows = {}
        for i, (a, r) in enumerate(c.iterrows(), start=1):
            rows[str(a)] = {"score": r["score"], "rank": i, "borough": str(r["borough"]),
                            "sustained": r["sustained"], "harm_rate_per_1000": r["harm"],
                            "imd_score": r["deprivation"], "youth_share": r["youth"],
                            **{f"z_{k}": r[f"z_{k}"] for k in
                               ("sustained", "harm", "deprivation", "youth")},
                            "shortlisted": bool(a in t.shortlist.index)}
        return jsonable({"parameters": t.params.as_dict(), "candidates": len(c), "scores": rows})

    return cached("lsoa-scores", {}, compute)


# --- hot spots ---------------------------------------------------------------------------------


def hotspot_results(p) -> dict:
    """:func:`vru.pipelines.hotspots.run`'s area table as rows (no geometry) with its
    parameters, periods, notes and weights."""

    def compute(wh):
        from vru.pipelines import hotspots as ph

        out = ph.run(wh, p, compare=False).as_dict()
        rows = out.pop("areas")
        return jsonable(out | {"rows": rows})

    return cached("hotspots", p.as_dict(), compute)


def hotspot_section(p) -> dict:
    """The needs assessment's hot spot section (map, tables, method) for these parameters."""
    return _report_section("hotspots", p)


# --- drivers, targeting, evaluation --------------------------------------------------------------


def drivers_results(p) -> dict:
    """:func:`vru.pipelines.drivers.run` for ``p`` (a ``DriverParams``), as plain data."""
    return _results("drivers", p)


def drivers_section(p) -> dict:
    """The report's drivers section for ``p`` (``vru.outputs.sections.drivers.present``)."""
    return _report_section("drivers", p)


def targeting_results(p) -> dict:
    """:func:`vru.pipelines.targeting.run` of these parameters, as plain data."""
    return _results("targeting", p, jsonable)


def targeting_section(p) -> dict:
    """The needs assessment's targeting section (:mod:`vru.outputs.sections.targeting`) for these
    parameters (the pipeline's ``MissingData`` names what the warehouse lacks)."""
    return _report_section("targeting", p)


def evaluation_results(p) -> dict:
    """:func:`vru.pipelines.evaluation.run` of these parameters (an ``EvalParams``), as plain
    data."""
    return _results("evaluation", p)


def evaluation_section(p) -> dict:
    """The needs assessment's evaluation section (:mod:`vru.outputs.sections.evaluation`) for
    these parameters (the pipeline's ``MissingData`` says why the evaluation cannot run)."""
    return _report_section("evaluation", p)


# --- pages that combine results ------------------------------------------------------------------

#: The measures on each borough page (the report's league table measures).
BOROUGH_MEASURES = LEAGUE_MEASURES


def borough_detail(code: str) -> dict:
    """A borough: its rank and rate on each league measure, its LSOAs' hot spot patterns and
    targeting scores (all from the cached results above)."""
    from vru.pipelines.hotspots import HotspotParams

    if code not in MPS_BOROUGHS:
        raise NotFound(code)
    measures = []
    for cat in BOROUGH_MEASURES:
        t = league(cat)
        row = next(r for r in t["rows"] if r["code"] == code)
        measures.append({"category": cat, "label": t["label"], "window_start": t["window_start"],
                         "window_end": t["window_end"], "of": len(t["rows"]), **row})
    hs = hotspot_results(HotspotParams())
    mine = [r for r in hs["rows"] if r["borough"] == code]
    patterns: dict[str, int] = {}
    for r in mine:
        k = r["category"] or "no result (island)"
        patterns[k] = patterns.get(k, 0) + 1
    scores = lsoa_scores()["scores"]
    lsoas = []
    for r in mine:
        s = scores.get(r["code"], {})
        lsoas.append({"code": r["code"], "name": r["name"], "ward_name": r["ward_name"],
                      "hotspot_category": r["category"], "n_hot": r["n_hot"],
                      "n_periods": r["n_periods"], "mean_offences": r["mean_value"],
                      "targeting_score": s.get("score"), "targeting_rank": s.get("rank")})
    lsoas.sort(key=lambda x: (x["targeting_rank"] is None, x["targeting_rank"] or 0))
    return {"code": code, "name": borough_name(code), "measures": measures,
            "hotspot_periods": hs["periods"], "hotspot_patterns": patterns,
            "lsoas": lsoas, "targeting_candidates": lsoa_scores()["candidates"]}


def area_detail(code: str) -> dict:
    """An LSOA: annual violence, IMD, its hot spot pattern and targeting score, its borough."""
    from vru.pipelines.hotspots import HotspotParams

    facts = area_facts(code)
    hs = hotspot_results(HotspotParams())
    row = next((r for r in hs["rows"] if r["code"] == code), None)
    s = lsoa_scores()
    score = s["scores"].get(code)
    return {k: v for k, v in facts.items() if not k.startswith("_")} | {
        "ward_name": row["ward_name"] if row else None,
        "hotspot": None if row is None else {
            "category": row["category"], "n_hot": row["n_hot"], "n_periods": row["n_periods"],
            "trend_tau": row["trend_tau"], "trend_p": row["trend_p"], "last_z": row["last_z"],
            "periods": hs["periods"]},
        "targeting": None if score is None else score | {"of": s["candidates"]},
    }


def default_jobs():
    """(label, callable) for every default view: what :func:`vru.web.dashboard.cache.warm` runs."""
    from vru.pipelines.drivers import DriverParams
    from vru.pipelines.evaluation import EvalParams
    from vru.pipelines.hotspots import HotspotParams
    from vru.pipelines.targeting import TargetParams

    jobs = [("overview", report_sections)]
    jobs += [(f"league {c}", lambda c=c: league(c)) for c in LEAGUE_CATEGORIES]
    jobs += [("hot spots", lambda: hotspot_results(HotspotParams())),
             ("hot spot section", lambda: hotspot_section(HotspotParams())),
             ("LSOA targeting scores", lsoa_scores),
             ("targeting", lambda: targeting_results(TargetParams())),
             ("targeting section", lambda: targeting_section(TargetParams())),
             ("evaluation", lambda: evaluation_results(EvalParams())),
             ("evaluation section", lambda: evaluation_section(EvalParams())),
             ("drivers", lambda: drivers_results(DriverParams())),
             ("drivers section", lambda: drivers_section(DriverParams()))]
    jobs += [(f"borough {borough_name(c)}", lambda c=c: borough_trends(c)) for c in MPS_BOROUGHS]
    return jobs
