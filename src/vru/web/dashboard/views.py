"""The dashboard pages: London overview, borough, area, hot spots, drivers, targeting, evaluation.

Every page needs ``accounts.view_dashboard`` (all six roles hold it). The figures, tables and charts
come from :mod:`vru.web.dashboard.data` (the analysis and report code, cached); views only pick
the parameters from the filter forms and format numbers for display. The pages show aggregate
statistics of public data only, so nothing here is personal data and nothing is audited.
"""

from __future__ import annotations

from django.apps import apps
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from vru import format as fmt
from vru.web.core.access import require_perms
from vru.web.core.tables import Column, table
from vru.web.dashboard import data
from vru.web.dashboard.cache import (
    AnalysisError,
    WarehouseMissing,
    WarehouseUnavailable,
    chart_key,
)
from vru.web.dashboard.forms import (
    DriversForm,
    EvaluationForm,
    HotspotForm,
    OverviewForm,
    TargetingForm,
)

PERM = "accounts.view_dashboard"
#: (url name, link text) of the dashboard's own navigation.
PAGES = [
    ("dashboard:overview", "London overview"),
    ("dashboard:hotspots", "Hot spots"),
    ("dashboard:drivers", "Drivers"),
    ("dashboard:targeting", "Targeting"),
    ("dashboard:evaluation", "Evaluation"),
]
#: The order in which the borough page lists hot spot patterns (hot first).
HOT_FIRST = ["Intensifying Hot Spot", "Persistent Hot Spot", "Consecutive Hot Spot",
             "New Hot Spot", "Diminishing Hot Spot", "Sporadic Hot Spot", "Oscillating Hot Spot",
             "Historical Hot Spot"]


def _programme(request, borough: str | None = None) -> dict | None:
    """The MyEnds programme register's roll-ups for this page (people reached by age band, sessions and
    money awarded), over what the user may see of the register, or None when they may not open it.

    London overview: by borough. Borough page: that borough's areas and years. Computed from the
    register on each view (never cached with the analysis: records change and each user sees their
    own scope)."""
    if not apps.is_installed("vru.web.programme"):
        return None
    from vru.web.programme import scope
    from vru.web.programme.models import AGE_BANDS

    if not request.user.has_perm(scope.VIEW_PERM):
        return None
    by = ("area", "year") if borough else ("borough",)
    return {"tables": [scope.rollup_table(request.user, b, borough=borough) for b in by],
            "age_bands": AGE_BANDS, "sees_all": scope.sees_all(request.user)}


def _page(request, template: str, active: str, build, form=None, **extra):
    """Render a page; the filter form's errors, a missing warehouse or an analysis refusal are
    shown as messages instead of results."""
    ctx = {"form": form, "pages": [(reverse(n), t, n == active) for n, t in PAGES], **extra}
    if form is not None and form.is_bound and not form.is_valid():
        return render(request, template, ctx)
    try:
        ctx.update(build())
    except (WarehouseMissing, WarehouseUnavailable) as e:
        return render(request, "dashboard/unavailable.html", ctx | {"message": str(e)},
                      status=503)
    except AnalysisError as e:
        ctx["analysis_error"] = str(e)
    return render(request, template, ctx)


#: The columns of the pages' tables: the borough league table, a borough's LSOAs, the hot spot LSOAs.
LEAGUE_COLUMNS = (Column("Rank", "rank", numeric=True), Column("Borough", "name", header=True),
                  Column("Rate per 1,000", "rate", numeric=True), Column("Offences", "count", numeric=True),
                  Column("Change", "change", numeric=True), Column("Residents", "population", numeric=True))
_LSOA = Column("LSOA", "name", header=True)
_WARD = Column("Ward (2018)", "ward")
_HOT = Column("Years hot", "hot", numeric=True)
BOROUGH_LSOA_COLUMNS = (_LSOA, _WARD, Column("Hot spot pattern", "pattern"), _HOT,
                        Column("Targeting score", "score", numeric=True),
                        Column("London rank", "rank", numeric=True))
HOTSPOT_COLUMNS = (_LSOA, _WARD, Column("Borough", "borough"), Column("Pattern", "pattern"), _HOT,
                   Column("Mean a year", "mean", numeric=True))


@require_perms(PERM)
def overview(request):
    form = OverviewForm(request.GET)

    def build():
        t = data.league(form.params())
        rows = [{"href": reverse("dashboard:borough", args=[r["code"]]), "name": r["name"],
                 "rank": r["rank"], "count": fmt.integer(r["count"]),
                 "change": fmt.change_pct(r["change_pct"], 1), "population": fmt.integer(r["population"]),
                 "rate": fmt.decimal(r["rate_per_1000"], 2)}
                for r in t["rows"]]
        rep = data.report_sections()
        sections = [s for s in rep["sections"] if s["id"] != "league"]
        return {"league": t, "league_table": table(LEAGUE_COLUMNS, rows),
                "sections": sections,
                "api_url": reverse("dashboard-api-boroughs") + _qs(form)}

    return _page(request, "dashboard/overview.html", "dashboard:overview", build, form,
                 programme=_programme(request))


def _qs(form) -> str:
    q = form.query_string() if form is not None else ""
    return f"?{q}" if q else ""


@require_perms(PERM)
def borough(request, code: str):
    if code not in data.MPS_BOROUGHS:
        raise Http404("no such borough (the City of London has no MPS figures)")

    def build():
        d = data.borough_detail(code)
        order = {c: i for i, c in enumerate(HOT_FIRST)}
        lsoas = [{"href": reverse("dashboard:area", args=[r["code"]]), "name": r["name"],
                  "code": r["code"], "ward": r["ward_name"] or "–",
                  "pattern": r["hotspot_category"] or "no result (island)",
                  "hot": f"{r['n_hot']} of {r['n_periods']}",
                  "score": fmt.number(r["targeting_score"], 2, signed=True),
                  "rank": fmt.integer(r["targeting_rank"])} for r in d["lsoas"]]
        patterns = sorted(d["hotspot_patterns"].items(),
                          key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        measures = [m | {"rate": fmt.decimal(m["rate_per_1000"], 2), "count_s": fmt.integer(m["count"]),
                         "change": fmt.change_pct(m["change_pct"], 1)} for m in d["measures"]]
        return {"borough": d, "measures": measures, "patterns": patterns, "lsoas": lsoas,
                "lsoa_table": table(BOROUGH_LSOA_COLUMNS, lsoas),
                "trends": data.borough_trends(code)["html"],
                "hotspots_url": reverse("dashboard:hotspots") + f"?borough={code}",
                "api_url": reverse("dashboard-api-borough", args=[code])}

    return _page(request, "dashboard/borough.html", "", build, title=data.borough_name(code),
                 programme=_programme(request, borough=code))


@require_perms(PERM)
def area(request, code: str):
    def build():
        try:
            d = data.area_detail(code)
        except data.NotFound:
            raise Http404("no such LSOA") from None
        series = [{"year": s["year"], "count": fmt.integer(s["count"]),
                   "rate": fmt.decimal(s["rate_per_1000"], 1)} for s in d["series"]]
        return {"area": d, "series": series,
                "borough_url": reverse("dashboard:borough", args=[d["borough"]])
                if d["borough"] in data.MPS_BOROUGHS else None,
                "score": fmt.number((d["targeting"] or {}).get("score"), 2, signed=True),
                "imd_score": fmt.decimal(d["imd_score"], 1), "imd_rank": fmt.integer(d["imd_rank"]),
                "imd_decile": fmt.integer(d["imd_decile"]),
                "api_url": reverse("dashboard-api-area", args=[code])}

    return _page(request, "dashboard/area.html", "", build, title=code)


@require_perms(PERM)
def hotspots(request):
    form = HotspotForm(request.GET)

    def build():
        p = form.params()
        sec = data.hotspot_section(p)["section"]
        res = data.hotspot_results(p)
        b = form.borough_code()
        if b:
            rows = [r for r in res["rows"] if r["borough"] == b]
        else:
            rows = [r for r in res["rows"] if r["category"] in HOT_FIRST]
        order = {c: i for i, c in enumerate(HOT_FIRST)}
        rows.sort(key=lambda r: (order.get(r["category"], 99), -r["n_hot"], -r["mean_value"]))
        rows = [{"href": reverse("dashboard:area", args=[r["code"]]), "name": r["name"],
                  "code": r["code"], "ward": r["ward_name"] or "–", "borough": r["borough_name"],
                  "pattern": r["category"] or "no result (island)",
                  "hot": f"{r['n_hot']} of {r['n_periods']}",
                  "mean": fmt.decimal(r["mean_value"], 1)} for r in rows]
        return {"section": sec, "rows": rows, "hotspot_table": table(HOTSPOT_COLUMNS, rows),
                "borough_name": data.borough_name(b) if b else "",
                "periods": res["periods"],
                "api_url": reverse("dashboard-api-hotspots") + _qs(form)}

    return _page(request, "dashboard/hotspots.html", "dashboard:hotspots", build, form)


def _section_page(request, form, active: str, section_fn, results_fn, api_name: str,
                  title: str):
    def build():
        p = form.params()
        try:
            sec = section_fn(p)["section"]
        except AnalysisError:
            results_fn(p)  # the results say more precisely why the analysis refused
            raise
        return {"section": sec, "api_url": reverse(api_name) + _qs(form)}

    return _page(request, "dashboard/section.html", active, build, form, title=title)


@require_perms(PERM)
def drivers(request):
    return _section_page(request, DriversForm(request.GET), "dashboard:drivers",
                         data.drivers_section, data.drivers_results, "dashboard-api-drivers",
                         "What drives violence")


@require_perms(PERM)
def targeting(request):
    return _section_page(request, TargetingForm(request.GET), "dashboard:targeting",
                         data.targeting_section, data.targeting_results,
                         "dashboard-api-targeting", "Choosing neighbourhoods to fund")


@require_perms(PERM)
def evaluation(request):
    return _section_page(request, EvaluationForm(request.GET), "dashboard:evaluation",
                         data.evaluation_section, data.evaluation_results,
                         "dashboard-api-evaluation", "Did violence fall where MyEnds went?")


@require_perms(PERM)
def chart(request, sha: str):
    """A chart (SVG) of a cached page, by its SHA-256: shown by the pages as an ``<img>``."""
    svg = cache.get(chart_key(sha))
    if svg is None:
        raise Http404("no such chart (reload the page that showed it)")
    resp = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    resp["Cache-Control"] = "private, max-age=31536000, immutable"  # content-addressed
    return resp
