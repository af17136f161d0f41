"""Dashboard pages and JSON API: access, numbers equal the analysis, filters, errors, caching.

The analysis results are cached in the session's temporary cache directory (tests/web/conftest.py),
so each expensive result is computed once for the whole module.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pandas as pd
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from factories import signed_in, user

from vru.geography import MPS_BOROUGHS
from vru.web.accounts.roles import ROLES
from vru.web.dashboard import cache as dcache

pytestmark = pytest.mark.django_db

SOUTHWARK = "E09000028"
AREA = "E01003968"  # Southwark 015C
PAGES = [("dashboard:overview", ()), ("dashboard:borough", (SOUTHWARK,)),
         ("dashboard:area", (AREA,)), ("dashboard:hotspots", ()), ("dashboard:drivers", ()),
         ("dashboard:targeting", ()), ("dashboard:evaluation", ())]
API = [("dashboard-api-boroughs", ()), ("dashboard-api-borough", (SOUTHWARK,)),
       ("dashboard-api-area", (AREA,)), ("dashboard-api-hotspots", ()),
       ("dashboard-api-targeting", ()), ("dashboard-api-evaluation", ()),
       ("dashboard-api-drivers", ())]


@pytest.fixture(autouse=True)
def _warehouse(settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)


@pytest.fixture
def analyst() -> Client:
    return signed_in(user("analyst@example.org", "analyst"))


@pytest.fixture
def norole() -> Client:
    return signed_in(user("nobody@example.org"))


def _text(resp) -> str:
    return unescape(re.sub(r"\s+", " ", resp.content.decode()))


def _field_error(resp, field: str) -> str:
    """The GOV.UK error message shown next to ``field`` (empty if none)."""
    m = re.search(rf'<p id="id_{field}-error" class="govuk-error-message">(.*?)</p>',
                  resp.content.decode(), re.S)
    return unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else ""


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args", PAGES)
def test_pages_send_anonymous_visitors_to_sign_in(name, args):
    r = Client().get(reverse(name, args=args))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,args", PAGES + API)
def test_signed_in_user_without_a_role_gets_403(norole, name, args):
    assert norole.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name,args", API)
def test_api_refuses_anonymous_requests(name, args):
    r = Client().get(reverse(name, args=args))
    assert r.status_code in (401, 403)


def test_every_role_holds_the_dashboard_permission():
    assert all("accounts.view_dashboard" in perms for perms in ROLES.values())
    for role in ROLES:
        assert Group.objects.get(name=role).permissions.filter(codename="view_dashboard").exists()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_sees_the_overview(role):
    r = signed_in(user(f"{role.replace(' ', '-')}@example.org", role)).get(reverse("dashboard:overview"))
    assert r.status_code == 200
    assert "Borough league table" in _text(r)


@pytest.mark.parametrize("name,args", PAGES)
def test_every_page_renders_with_charts_as_images_with_alt_text(analyst, name, args):
    r = analyst.get(reverse(name, args=args))
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" not in html  # inline SVG would break the CSP (style attributes)
    assert ' style="' not in html
    for img in re.findall(r"<img [^>]*>", html):
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and len(alt.group(1)) > 15, img
    if name != "dashboard:area":
        assert 'class="vru-chart"' in html


@pytest.mark.parametrize("name,args", API)
def test_every_api_endpoint_answers_json(analyst, name, args):
    r = analyst.get(reverse(name, args=args))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert r.json()


def test_chart_is_served_as_svg_to_permitted_users_only(analyst, norole):
    html = analyst.get(reverse("dashboard:overview")).content.decode()
    src = re.search(r'<img class="vru-chart" src="([^"]+)"', html).group(1)
    r = analyst.get(src)
    assert r.status_code == 200 and r["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in r.content
    assert norole.get(src).status_code == 403
    assert Client().get(src).status_code == 302
    assert analyst.get(reverse("dashboard:chart", args=["0" * 64])).status_code == 404


def test_unknown_borough_and_area_are_404(analyst):
    assert analyst.get(reverse("dashboard:borough", args=["E09999999"])).status_code == 404
    assert analyst.get(reverse("dashboard:area", args=["E01999999"])).status_code == 404
    assert analyst.get(reverse("dashboard-api-borough", args=["E09999999"])).status_code == 404
    assert analyst.get(reverse("dashboard-api-area", args=["nonsense"])).status_code == 404


# --- the numbers are the analysis's numbers -------------------------------------------------------


@pytest.fixture(scope="module")
def league_vap(wh):
    from vru.analysis import needs
    from vru.geography import MPS_BOROUGHS
    from vru.pipelines.london import LondonParams
    from vru.warehouse import queries as q

    p = LondonParams()
    s = q.crime_series(wh, source=p.source, level="borough", category="robbery")
    pop = q.population(wh, level="borough", year=p.pop_year).set_index("area_code")["population"]
    last = q.crime_months(wh, p.source)[1]
    return needs.league_table(s, pop, last, areas=list(MPS_BOROUGHS))


def test_league_table_equals_needs_league_table(analyst, league_vap):
    api = analyst.get(reverse("dashboard-api-boroughs"), {"category": "robbery"}).json()
    assert api["category"] == "robbery"
    assert [r["code"] for r in api["rows"]] == list(league_vap["area_code"])
    for row, ref in zip(api["rows"], league_vap.itertuples(), strict=True):
        assert row["rank"] == ref.rank and row["count"] == ref.count
        assert row["rate_per_1000"] == pytest.approx(ref.rate_per_1000)
    page = _text(analyst.get(reverse("dashboard:overview"), {"category": "robbery"}))
    top = league_vap.iloc[0]
    assert "Borough league table: robbery" in page
    assert f"{top.rate_per_1000:,.2f}" in page
    href = reverse("dashboard:borough", args=[top.area_code])
    assert f'href="{href}"' in analyst.get(reverse("dashboard:overview"),
                                           {"category": "robbery"}).content.decode()


def test_borough_page_shows_its_rank_and_its_lsoas(analyst, league_vap):
    ref = league_vap.set_index("area_code").loc[SOUTHWARK]
    api = analyst.get(reverse("dashboard-api-borough", args=[SOUTHWARK])).json()
    robbery = next(m for m in api["measures"] if m["category"] == "robbery")
    assert robbery["rank"] == ref["rank"]
    assert robbery["rate_per_1000"] == pytest.approx(ref["rate_per_1000"])
    assert api["lsoas"] and all(r["code"].startswith("E01") for r in api["lsoas"])
    page = analyst.get(reverse("dashboard:borough", args=[SOUTHWARK])).content.decode()
    assert f"Rank {int(ref['rank'])} of 32: {ref['rate_per_1000']:,.2f}" in unescape(page)
    assert reverse("dashboard:area", args=[AREA]) in page


def test_borough_trends_and_league_chart_are_the_reports(analyst, wh):
    """The borough page's trends are the report's trend section for that borough, and the
    overview's chart is the report's league chart of the chosen measure."""
    from vru.outputs.sections import london as sections
    from vru.pipelines import london

    page = analyst.get(reverse("dashboard:borough", args=[SOUTHWARK])).content.decode()
    r = london.run(wh, london.LondonParams(borough=SOUTHWARK, parts=("trends",)))
    body = sections.trends(r, place="Southwark").body
    # the same words and captions (a chart's SVG element ids differ from one drawing to the next)
    words = re.findall(r"<p>.*?</p>|<figcaption>.*?</figcaption>", body)
    assert words[0].startswith("<p>Monthly recorded offences in Southwark")
    assert len(words) == 1 + len(r.trends) and all(w in page for w in words)
    t = london.run(wh, london.LondonParams(measures=("robbery",), parts=("league",)))
    overview = analyst.get(reverse("dashboard:overview"), {"category": "robbery"}).content.decode()
    chart = sections.league_chart(t)
    for w in re.findall(r"<figcaption>.*?</figcaption>|<title[^>]*>.*?</title>", chart):
        assert w in overview, w


def test_area_page_equals_the_analysis(analyst, wh, hotspots_ref):
    from vru.pipelines import targeting as pt
    from vru.warehouse import queries as q

    api = analyst.get(reverse("dashboard-api-area", args=[AREA])).json()
    a = q.crime_annual(wh, source="mps_lsoa_annual_millington", level="lsoa",
                       category="violence_against_the_person")
    mine = a[a["area_code"] == AREA].set_index("year")["count"]
    got = {s["year"]: s["count"] for s in api["series"]}
    assert got == {int(y): (None if pd.isna(v) else int(v)) for y, v in mine.items()}
    assert got[2020] is None  # known wrong in the source
    hs = hotspots_ref.areas.set_index("code")
    assert api["hotspot"]["category"] == hs.loc[AREA, "category"]
    assert api["hotspot"]["n_hot"] == hs.loc[AREA, "n_hot"]
    cand = pt.run(wh, pt.TargetParams(level="lsoa")).candidates
    assert api["targeting"]["score"] == pytest.approx(cand.loc[AREA, "score"])
    imd = q.deprivation(wh, level="lsoa", measure="imd_score").set_index("area_code")["value"]
    assert api["imd_score"] == pytest.approx(imd[AREA])
    page = _text(analyst.get(reverse("dashboard:area", args=[AREA])))
    assert "Southwark 015C" in page and f"{cand.loc[AREA, 'score']:+.2f}" in page
    assert reverse("dashboard:borough", args=[SOUTHWARK]) in page


@pytest.fixture(scope="module")
def hotspots_ref(wh):
    from vru.pipelines import hotspots as ph

    return ph.run(wh, compare=False)


def test_hotspot_rows_equal_section_results(analyst, hotspots_ref):
    ref = hotspots_ref.areas
    api = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 5000}).json()
    assert api["count"] == len(ref) and len(api["results"]) == len(ref)
    got = {r["code"]: r["category"] for r in api["results"]}
    assert got == dict(zip(ref["code"], ref["category"], strict=True))
    assert api["periods"] == list(hotspots_ref.periods)
    paged = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 10, "offset": 10}).json()
    assert [r["code"] for r in paged["results"]] == [r["code"] for r in api["results"][10:20]]


def test_targeting_and_evaluation_api_equal_section_results(analyst, wh):
    from vru.pipelines import evaluation as pe

    api = analyst.get(reverse("dashboard-api-targeting")).json()
    assert api["allocation_total_pence"] == 900_000_000 and len(api["shortlist"]) == 8
    page = _text(analyst.get(reverse("dashboard:targeting")))  # the report section's table
    for s in api["shortlist"]:
        assert s["label"] in page
    e = pe.run(wh).as_dict()
    api = analyst.get(reverse("dashboard-api-evaluation")).json()
    assert api["rate"] == json.loads(json.dumps(e["rate"]))
    page = _text(analyst.get(reverse("dashboard:evaluation")))
    assert "Did violence fall where MyEnds went?" in page


# --- filters -------------------------------------------------------------------------------------


def test_hotspot_filters_change_the_results(analyst):
    base = analyst.get(reverse("dashboard-api-hotspots"), {"limit": 5000}).json()
    harm = analyst.get(reverse("dashboard-api-hotspots"),
                       {"weighting": "css", "limit": 5000}).json()
    assert base["parameters"]["weighting"] == "count" and harm["parameters"]["weighting"] == "css"
    assert harm["weights"]
    assert ({r["code"]: r["category"] for r in base["results"]}
            != {r["code"]: r["category"] for r in harm["results"]})
    b = analyst.get(reverse("dashboard-api-hotspots"), {"borough": SOUTHWARK}).json()
    assert b["count"] == sum(r["borough"] == SOUTHWARK for r in base["results"])
    assert {r["borough"] for r in b["results"]} == {SOUTHWARK}
    page = _text(analyst.get(reverse("dashboard:hotspots"), {"borough": SOUTHWARK}))
    assert "Every LSOA in Southwark" in page and f"{b['count']} LSOAs" in page


def test_invalid_filters_are_reported_next_to_the_field(analyst):
    r = analyst.get(reverse("dashboard:hotspots"), {"weighting": "guess"})
    assert r.status_code == 200
    assert "valid choice" in _field_error(r, "weighting")
    assert "There is a problem" in _text(r)
    r = analyst.get(reverse("dashboard:targeting"),
                    {"w_sustained": 0, "w_harm": 0, "w_deprivation": 0, "w_youth": 0})
    assert "at least one weight" in _field_error(r, "w_sustained")
    r = analyst.get(reverse("dashboard:targeting"), {"n": "many"})
    assert "whole number" in _field_error(r, "n")
    r = analyst.get(reverse("dashboard:evaluation"), {"start": "2021-13"})
    assert "year and month" in _field_error(r, "start")
    r = analyst.get(reverse("dashboard:drivers"), {"start": "2021-03", "end": "2020-04"})
    assert "not be before" in _field_error(r, "end")
    r = analyst.get(reverse("dashboard:overview"), {"category": "jaywalking"})
    assert "valid choice" in _field_error(r, "category")


def test_api_answers_400_with_the_field_for_invalid_filters(analyst):
    r = analyst.get(reverse("dashboard-api-hotspots"), {"weighting": "guess"})
    assert r.status_code == 400 and "weighting" in r.json()
    r = analyst.get(reverse("dashboard-api-targeting"), {"n": 0})
    assert r.status_code == 400 and "n" in r.json()
    r = analyst.get(reverse("dashboard-api-evaluation"), {"treated": ["E09000999"]})
    assert r.status_code == 400 and "treated" in r.json()


def test_targeting_filter_changes_the_shortlist(analyst):
    q = {"n": 3, "level": "lsoa", "budget": 3_000_000}
    api = analyst.get(reverse("dashboard-api-targeting"), q).json()
    assert api["parameters"]["n"] == 3 and api["parameters"]["level"] == "lsoa"
    assert len(api["shortlist"]) == 3 and api["allocation_total_pence"] == 300_000_000
    page = _text(analyst.get(reverse("dashboard:targeting"), q))
    assert "The 3 chosen areas" in page
    for s in api["shortlist"]:
        assert s["label"] in page


def test_analysis_refusal_is_shown_not_crashed(analyst):
    # GBP 9m over 3 years with 3 areas capped at GBP 500,000 a year cannot be allocated
    q = {"n": 3, "level": "lsoa"}
    r = analyst.get(reverse("dashboard:targeting"), q)
    assert r.status_code == 200
    assert "exceeds 3 areas x cap" in _text(r)
    r = analyst.get(reverse("dashboard-api-targeting"), q)
    assert r.status_code == 400 and "exceeds 3 areas x cap" in r.json()["detail"]


# --- caching and a missing warehouse --------------------------------------------------------------


def test_cached_page_is_served_without_the_warehouse(analyst, monkeypatch):
    first = analyst.get(reverse("dashboard:hotspots"))

    def refuse():
        raise AssertionError("the warehouse was opened for a cached page")

    monkeypatch.setattr(dcache, "open_warehouse", refuse)
    second = analyst.get(reverse("dashboard:hotspots"))

    def main(r):  # the page without the per-request CSRF token of the sign-out form
        return re.search(r"<main.*</main>", r.content.decode(), re.S).group(0)

    assert second.status_code == 200 and main(second) == main(first)


def test_warehouse_version_changes_when_the_file_changes(settings, tmp_path):
    import os

    p = tmp_path / "w.duckdb"
    p.write_bytes(b"x")
    settings.VRU_WAREHOUSE = str(p)
    v1 = dcache.warehouse_version()
    os.utime(p, ns=(1, 1))
    assert dcache.warehouse_version() != v1
    assert dcache.key("league", {"category": "a"}, v1) != dcache.key("league", {"category": "a"},
                                                                       dcache.warehouse_version())


def test_missing_warehouse_says_how_to_build_it(analyst, settings, tmp_path):
    settings.VRU_WAREHOUSE = str(tmp_path / "none.duckdb")
    r = analyst.get(reverse("dashboard:overview"))
    assert r.status_code == 503
    assert "vru init" in _text(r)
    r = analyst.get(reverse("dashboard-api-boroughs"))
    assert r.status_code == 503 and "vru init" in r.json()["detail"]
    out = []

    class W:
        def write(self, s):
            out.append(s)

    assert dcache.warm(W()) == {"computed": 0, "failed": 0}
    assert "vru init" in "".join(out)


# --- the OpenAPI description -----------------------------------------------------------------------


def test_openapi_schema_describes_the_dashboard_api(analyst):
    r = analyst.get(reverse("api-schema"), {"format": "json"})
    assert r.status_code == 200
    doc = json.loads(r.content)
    paths = doc["paths"]
    for p in ("/api/v1/dashboard/boroughs/", "/api/v1/dashboard/boroughs/{code}/",
              "/api/v1/dashboard/areas/{code}/", "/api/v1/dashboard/hotspots/",
              "/api/v1/dashboard/targeting/", "/api/v1/dashboard/evaluation/",
              "/api/v1/dashboard/drivers/"):
        assert "get" in paths[p], p
    params = {q["name"]: q for q in paths["/api/v1/dashboard/hotspots/"]["get"]["parameters"]}
    assert params["weighting"]["schema"]["enum"] == ["count", "css"]
    assert {"categories", "borough", "scheme", "limit", "offset"} <= set(params)
    ok = paths["/api/v1/dashboard/boroughs/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "rate_per_1000" in json.dumps(doc["components"]["schemas"][ref]) or \
        "rows" in doc["components"]["schemas"][ref]["properties"]


# --- bad query parameters: a message next to the field (pages) or 400 (API), never a 500 ------------

TWICE = ["robbery", "robbery"]
FULLWIDTH = "\uff12\uff10\uff12\uff10-04"  # "2020-04" in full-width digits (\d would match them)
ALL_BUT_3 = sorted(MPS_BOROUGHS)[:29]
BAD_FILTERS = [
    ("overview", {"category": "jaywalking"}, "category"),
    ("overview", {"category": "x" * 5000}, "category"),
    ("overview", {"category": "\x00"}, "category"),
    ("hotspots", {"categories": "jaywalking"}, "categories"),
    ("hotspots", {"categories": TWICE}, "categories"),
    ("hotspots", {"weighting": "guess"}, "weighting"),
    ("hotspots", {"scheme": "sometimes"}, "scheme"),
    ("hotspots", {"borough": "E09999999"}, "borough"),
    ("hotspots", {"borough": "E09000001"}, "borough"),  # the City: no MPS figures
    ("targeting", {"n": "many"}, "n"),
    ("targeting", {"n": "0"}, "n"),
    ("targeting", {"n": "21"}, "n"),
    ("targeting", {"n": "9" * 40}, "n"),
    ("targeting", {"n": "9" * 5000}, "n"),  # past Python's int() digit limit
    ("targeting", {"n": "1.5"}, "n"),
    ("targeting", {"w_sustained": "nan"}, "w_sustained"),
    ("targeting", {"w_harm": "inf"}, "w_harm"),
    ("targeting", {"w_deprivation": "1e400"}, "w_deprivation"),
    ("targeting", {"w_youth": "-1"}, "w_youth"),
    ("targeting", {"w_sustained": 0, "w_harm": 0, "w_deprivation": 0, "w_youth": 0}, "w_sustained"),
    ("targeting", {"budget": "9" * 40}, "budget"),
    ("targeting", {"years": "11"}, "years"),
    ("targeting", {"cap": "999"}, "cap"),
    ("targeting", {"level": "borough"}, "level"),
    ("targeting", {"max_per_borough": "0"}, "max_per_borough"),
    ("evaluation", {"treated": "E09999999"}, "treated"),
    ("evaluation", {"treated": "E09000001"}, "treated"),
    ("evaluation", {"treated": [SOUTHWARK, SOUTHWARK]}, "treated"),
    ("evaluation", {"treated": ALL_BUT_3}, "treated"),
    ("evaluation", {"start": "2021-13"}, "start"),
    ("evaluation", {"start": "July"}, "start"),
    ("evaluation", {"start": "9999-12"}, "start"),
    ("evaluation", {"start": "x" * 5000}, "start"),
    ("evaluation", {"start": FULLWIDTH}, "start"),
    ("evaluation", {"category": "jaywalking"}, "category"),
    ("drivers", {"start": "2020-13"}, "start"),
    ("drivers", {"start": FULLWIDTH}, "start"),
    ("drivers", {"end": "soon"}, "end"),
    ("drivers", {"start": "2021-03", "end": "2020-04"}, "end"),
    ("drivers", {"n": "2"}, "n"),
    ("drivers", {"n": "17"}, "n"),
    ("drivers", {"n": "ten"}, "n"),
    ("drivers", {"categories": "jaywalking"}, "categories"),
    ("drivers", {"categories": TWICE}, "categories"),
]
API_OF = {"overview": "dashboard-api-boroughs", "hotspots": "dashboard-api-hotspots",
          "targeting": "dashboard-api-targeting", "evaluation": "dashboard-api-evaluation",
          "drivers": "dashboard-api-drivers"}


@pytest.mark.parametrize("page,query,field", BAD_FILTERS,
                         ids=[f"{p}-{f}-{i}" for i, (p, _, f) in enumerate(BAD_FILTERS)])
def test_bad_filter_is_a_field_error_on_the_page_and_400_in_the_api(analyst, page, query, field):
    r = analyst.get(reverse(f"dashboard:{page}"), query)
    assert r.status_code == 200
    assert _field_error(r, field), _text(r)[:2000]
    assert "There is a problem" in _text(r)
    r = analyst.get(reverse(API_OF[page]), query)
    assert r.status_code == 400 and field in r.json(), r.json()


@pytest.mark.parametrize("page,query,message", [
    ("drivers", {"start": "1900-01", "end": "1900-12"}, "does not cover"),
    ("evaluation", {"category": "homicide"}, "not balanced"),
])
def test_parameters_the_analysis_refuses_are_a_message_and_400(analyst, page, query, message):
    r = analyst.get(reverse(f"dashboard:{page}"), query)
    assert r.status_code == 200 and message in _text(r)
    r = analyst.get(reverse(API_OF[page]), query)
    assert r.status_code == 400 and message in r.json()["detail"]


@pytest.mark.parametrize("code", ["E09999999", "E01999999", "nonsense", "x" * 3000, "\x00", "E0100396８"])
@pytest.mark.parametrize("name", ["dashboard:borough", "dashboard:area", "dashboard-api-borough",
                                  "dashboard-api-area"])
def test_unknown_codes_are_404(analyst, name, code):
    assert analyst.get(reverse(name, args=[code]), {"category": "jaywalking"}).status_code == 404


@pytest.mark.parametrize("query", [{"limit": "abc"}, {"limit": "-1"}, {"limit": "9" * 40},
                                   {"offset": "-1"}, {"offset": "abc"}, {"offset": "9" * 40}])
def test_bad_paging_values_keep_the_defaults_or_are_bounded(analyst, query):
    r = analyst.get(reverse("dashboard-api-hotspots"), query)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] > 1000 and len(body["results"]) <= body["count"]
    if query.get("offset", "").startswith("9"):  # past the end, not an error
        assert body["results"] == []
