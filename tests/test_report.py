"""The needs assessment built from the bundled data: contents, reconciliation, offline rendering; the
pipelines of its own sections (``london``, ``sources``) and their presentation."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vru import api
from vru.warehouse import queries as q

MPS = Path(__file__).resolve().parents[1] / "src/vru/data/bundled/mps_crime_borough"


def csv_totals(name: str, major: str) -> dict[str, int]:
    """Per-month London totals of one major category, straight from a source file (csv module)."""
    out: dict[str, int] = {}
    with gzip.open(MPS / name, "rt", newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        months = [(i, h) for i, h in enumerate(header) if re.fullmatch(r"\d{6}", h)]
        for r in rows:
            if r[0] == major:
                for i, h in months:
                    out[h] = out.get(h, 0) + int(r[i])
    return out


@pytest.fixture(scope="module")
def report_html(london_warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "needs.html"
    api.report(out, london_warehouse)
    return out


@pytest.mark.parametrize("source,name,major", [
    ("mps_borough_coarse", "mps_borough_crime_historical_201004_202311.csv.gz",
     "VIOLENCE AGAINST THE PERSON"),
    ("mps_borough_detailed", "mps_borough_crime_detailed_201004_202111.csv.gz",
     "Violence Against the Person"),
    ("mps_borough_detailed", "mps_borough_crime_detailed_202112_202311.csv.gz",
     "Violence Against the Person"),
])
def test_london_vap_per_year_reconciles_with_the_source_file(wh, source, name, major):
    expected = pd.Series(csv_totals(name, major))
    expected.index = pd.to_datetime(expected.index, format="%Y%m")
    got = q.crime_series(wh, source=source, level="borough",
                         category="violence_against_the_person")
    got = got.groupby("month")["count"].sum()
    got = got[(got.index >= expected.index.min()) & (got.index <= expected.index.max())]
    by_year_exp = expected.groupby(expected.index.year).sum()
    by_year_got = got.groupby(got.index.year).sum()
    pd.testing.assert_series_equal(by_year_got, by_year_exp, check_names=False,
                                   check_index_type=False)


def test_documented_totals(wh):
    """The figures quoted in mps_crime_borough/SOURCE.md."""
    def year(source, cat, y):
        s = q.crime_series(wh, source=source, level="borough", category=cat)
        return int(s[s["month"].dt.year == y]["count"].sum())

    assert year("mps_borough_coarse", "violence_against_the_person", 2019) == 222_042
    assert year("mps_borough_coarse", "violence_against_the_person", 2020) == 220_113
    assert year("mps_borough_detailed", "violence_against_the_person", 2019) == 222_106
    assert year("mps_borough_detailed", "possession_of_article_with_blade_or_point", 2020) == 3_029


def test_report_has_every_section_and_states_its_sources(report_html):
    text = report_html.read_text()
    for sec in ("summary", "trends", "league", "maps", "street", "reconciliation", "sources"):
        assert f'id="{sec}"' in text
    assert "Open Government Licence" in text
    assert text.count("<svg") >= 7
    # the league table lists the 32 MPS boroughs, and not the City of London
    league = text[text.index('id="league"'):text.index('id="maps"')]
    assert league.count("<tr>") == 33
    assert "Southwark" in league and ">City of London<" not in league


def test_report_headline_equals_the_source(report_html, wh):
    """The summary's 12-month London VAP figure is the sum of the source's last 12 months."""
    tot = csv_totals("mps_borough_crime_detailed_202112_202311.csv.gz",
                     "Violence Against the Person")
    last12 = sum(v for k, v in tot.items() if "202212" <= k <= "202311")
    assert f"{last12:,} offences in December 2022 – November 2023" in report_html.read_text()


def test_report_is_self_contained(report_html):
    text = report_html.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text)
    assert "@import" not in text and "url(http" not in text
    assert "Content-Security-Policy" in text


def test_report_needs_a_warehouse(tmp_path):
    from vru.errors import WarehouseError

    with pytest.raises(WarehouseError, match="vru init"):
        api.report(tmp_path / "r.html", tmp_path / "missing.duckdb")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_in_chromium_offline(report_html, browser):
    """Every chart and map renders, no console error, no request leaves the machine."""
    shots = os.environ.get("VRU_SCREENSHOTS_DIR")
    for name, viewport in (("phone", {"width": 390, "height": 844}),
                           ("desktop", {"width": 1280, "height": 900})):
        page = browser.new_page(viewport=viewport)
        requests, errors = [], []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.on("console", lambda m, errs=errors: errs.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
        page.goto(report_html.as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all(
            "svg.chart", "els => els.map(e => [e.getBoundingClientRect().width,"
            " e.getBoundingClientRect().height])")
        assert len(sizes) >= 7
        assert all(w > 200 and h > 100 for w, h in sizes), sizes
        # figures fit the viewport: nothing wider than the screen but scrollable tables
        widest = max(w for w, _ in sizes)
        assert widest <= viewport["width"]
        images = page.eval_on_selector_all(
            "svg.chart image", "els => els.map(e => e.getBBox().width)")
        assert images and all(w > 0 for w in images)  # rasterised map layers drawn
        assert errors == []
        outside = [u for u in requests if not u.startswith(("file://", "data:"))]
        assert outside == []
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"report-{name}.png"), full_page=False)
            page.locator("#maps figure").first.screenshot(
                path=str(Path(shots) / f"report-{name}-map.png"))
        page.close()


def test_overlapping_sources_agree_within_documented_bounds(wh):
    """docs/methods.md: LSOA aggregation within 4% of the borough release each year (2020 missing);
    ward sums below borough sums every month (not every offence is assigned to a ward)."""
    vap = "violence_against_the_person"
    b = q.crime_series(wh, source="mps_borough_detailed", level="borough", category=vap)
    by_year = b.groupby(b["month"].dt.year)["count"].sum()
    a = q.crime_annual(wh, source="mps_lsoa_annual_millington", level="lsoa", category=vap)
    lsoa = a.groupby("year")["count"].sum(min_count=1)
    assert pd.isna(lsoa[2020])
    for year in [y for y in range(2011, 2022) if y != 2020]:
        assert abs(lsoa[year] / by_year[year] - 1) < 0.04, year
    w = q.crime_series(wh, source="mps_ward_detailed", level="ward", category=vap)
    wm = w.groupby("month")["count"].sum()
    bm = b.groupby("month")["count"].sum().reindex(wm.index)
    ratio = wm / bm
    assert (ratio < 1).all() and (ratio > 0.9).all(), ratio.describe()


# --- the pipelines of the report's own sections ----------------------------------------------------


@pytest.fixture(scope="module")
def results(london_warehouse):
    """The london and sources results, from a warehouse closed before anything is presented."""
    from vru.pipelines import london, sources
    from vru.warehouse.store import Warehouse

    w = Warehouse.open(london_warehouse, read_only=True)
    out = london.run(w), sources.run(w)
    w.close()
    return out


def test_london_params_are_validated_and_frozen():
    from vru.pipelines.base import ParamsError
    from vru.pipelines.london import LondonParams

    p = LondonParams.of(measures="robbery, knife_offences", parts=["league"])
    assert p.measures == ("robbery", "knife_offences") and p.parts == ("league",)
    for kwargs, field in (({"pop_yeer": 2020}, "pop_yeer"), ({"pop_year": "2020"}, "pop_year"),
                          ({"pop_year": True}, "pop_year"), ({"source": "nope"}, "source"),
                          ({"lsoa_source": "nope"}, "lsoa_source"), ({"measures": ()}, "measures"),
                          ({"measures": ("violence",)}, "measures"),
                          ({"measures": ("robbery", "robbery")}, "measures"),
                          ({"parts": ("league", "charts")}, "parts"), ({"borough": "E01000001"}, "borough"),
                          ({"source": ["mps_borough_detailed"]}, "source"),
                          ({"lsoa_source": {}}, "lsoa_source"), ({"borough": ["E09000028"]}, "borough")):
        with pytest.raises(ParamsError, match=field):
            LondonParams.of(**kwargs)
    assert LondonParams(pop_year=np.int64(2019)).pop_year == 2019
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.pop_year = 2019


def test_sources_params_are_validated_and_frozen():
    from vru.pipelines.base import ParamsError
    from vru.pipelines.sources import SourcesParams

    assert SourcesParams.of(first_year=2015).first_year == 2015
    assert SourcesParams(first_year=np.int64(2015)).first_year == 2015
    for kwargs, field in (({"years": 3}, "years"), ({"first_year": 2011.0}, "first_year"),
                          ({"last_year": 2009}, "last_year"), ({"first_year": 10}, "first_year")):
        with pytest.raises(ParamsError, match=field):
            SourcesParams.of(**kwargs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SourcesParams().first_year = 2012


def test_london_result_holds_the_report_figures(results):
    london, _ = results
    assert london.window == (pd.Timestamp("2022-12-01"), pd.Timestamp("2023-11-01"))
    tot = csv_totals("mps_borough_crime_detailed_202112_202311.csv.gz", "Violence Against the Person")
    assert london.totals["violence_against_the_person"][0] == sum(
        v for k, v in tot.items() if "202212" <= k <= "202311")
    # the change on the previous 12 months is the result's, not the section's
    cur, prev = london.totals["violence_against_the_person"]
    assert london.change_pct["violence_against_the_person"] == pytest.approx(100 * (cur - prev) / prev)
    assert london.as_dict()["totals"]["robbery"]["change_pct"] == pytest.approx(london.change_pct["robbery"])
    assert len(london.ranking) == 32 and list(london.ranking["rank"]) == list(range(1, 33))
    assert london.maps is not None and london.maps.year == 2021 and london.maps.n_lsoas == 4829
    assert round(london.maps.rho, 2) == 0.69
    assert set(london.trends) == set(london.smooth) and not london.street.empty


def test_sources_result_reconciles_the_borough_releases(results):
    _, src = results
    assert src.annual.loc["mps_borough_detailed", 2019] == 222_106
    assert src.annual.loc["mps_borough_coarse", 2019] == 222_042
    assert pd.isna(src.annual.loc["mps_lsoa_annual_millington", 2020])
    assert src.ward is not None and src.ward.ward_total < src.ward.borough_total
    assert any(e.info.licence.startswith("Open Government Licence") for e in src.catalogue)
    assert src.left_out == ()


def test_the_sections_are_presented_from_the_results_alone(results):
    from vru.outputs.sections import london as london_sections
    from vru.outputs.sections import sources as sources_sections

    london, src = results  # the warehouse they came from is closed
    secs = london_sections.present(london) + sources_sections.present(src)
    assert [s.id for s in secs] == ["summary", "trends", "league", "maps", "street", "reconciliation",
                                    "sources"]
    left = dataclasses.replace(src, left_out=(("hotspots", "no ward crime"),))
    body = sources_sections.present(left)[-1].body
    assert "Left out of this report" in body and "hotspots: no ward crime" in body
    assert "file(s)" not in body and re.search(r"\b1 file loaded|\b[02-9][0-9,]* files loaded", body)
    # parts not computed give no section
    less = dataclasses.replace(london, maps=None, street=london.street.iloc[:0])
    assert [s.id for s in london_sections.present(less)] == ["summary", "trends", "league"]


def test_the_results_are_json(results):
    london, src = results
    for r in results:
        json.dumps(r.as_dict())
    d = london.as_dict()
    assert d["window"] == ["2022-12-01", "2023-11-01"] and d["params"]["pop_year"] == 2020
    assert len(d["league"]["violence_against_the_person"]) == 32 and d["maps"]["year"] == 2021
    assert src.as_dict()["annual"][0]["source"] == "mps_borough_coarse"


def test_a_warehouse_without_crime_leaves_the_sections_out_and_says_why(tmp_path):
    from vru.outputs import report
    from vru.pipelines import REPORT, london
    from vru.pipelines.base import MissingData
    from vru.warehouse.store import Warehouse

    with Warehouse.create(tmp_path / "empty.duckdb") as w:
        with pytest.raises(MissingData, match="vru init"):
            london.run(w)
        steps = []
        secs = report.build(w, progress=lambda name, total: steps.append((name, total)))
    assert [s.id for s in secs] == ["sources"]
    assert steps == [(name, len(REPORT)) for name in REPORT]
    assert "london: the warehouse has no monthly borough crime" in secs[0].body
