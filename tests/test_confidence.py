"""vru.analysis.confidence (PAS borough trends, London comparison, changes with significance,
rankings, relationships), its pipeline vru.pipelines.confidence and the section that presents it
(vru.outputs.sections.confidence).

Hand-computed answers on small frames; a simulation showing that the change test holds its 5%
false-positive rate on rolling estimates built like the PAS; documented facts of the real file."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vru.analysis import confidence as c
from vru.sources import pas
from vru.sources import pas_microdata as pm
from vru.synthetic import pas_microdata as syn

REAL = Path(pas.__file__).parents[1] / "data" / "bundled" / "mopac_pas_borough" / \
    "PAS_Dashboard_Borough.csv.gz"
N_EFF = 400 / 1.5
ROUND_VAR = 0.01**2 / 12


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return pas.load(REAL).tables["survey"]


def frame(series: dict[str, list[float]], london: list[float], start="2020-12-31",
          measure="good_job_local") -> pd.DataFrame:
    """Survey rows: one value per quarter from ``start`` for each area."""
    qs = pd.period_range(pd.Timestamp(start).to_period("Q"), periods=len(london), freq="Q")
    ends = qs.end_time.normalize()
    rows = []
    for area, vals in series.items():
        for e, v, lv in zip(ends, vals, london, strict=True):
            rows.append({"source": "mopac_pas", "level": "borough", "area_code": area,
                         "period_end": e, "measure": measure, "value": v, "london_value": lv})
    return pd.DataFrame(rows)


def test_assumptions():
    a = c.Assumptions()
    assert a.borough_n == 400 and a.borough_n_eff == pytest.approx(N_EFF)
    assert a.london_n_eff == pytest.approx(32 * N_EFF)
    assert a.z == pytest.approx(1.959964, abs=1e-6)
    text = a.describe()
    assert "100 interviews per borough per quarter" in text and "400" in text and "1.5" in text
    assert "12,800" in text and "non-overlapping" in text
    with pytest.raises(ValueError):
        c.Assumptions(design_effect=0.8)
    with pytest.raises(ValueError):
        c.Assumptions(alpha=0)


def test_compare_by_hand():
    # 0.6 vs 0.5 on 400 interviews each, deff 1.5: var = (.24 + .25)/266.67 + 2 * .0001/12
    # = 0.00185417, se = 0.0430600, z = 2.32234, two-sided p = 0.020215
    r = c.compare(0.6, 0.5, N_EFF, N_EFF).iloc[0]
    assert r["diff"] == pytest.approx(0.1)
    assert r["se"] == pytest.approx(0.0430600356, rel=1e-8)
    assert r["z"] == pytest.approx(2.32233900, rel=1e-6)
    assert r["p_value"] == pytest.approx(0.0202147, rel=1e-4)
    assert r["significant"]
    assert r["ci_low"] == pytest.approx(0.1 - 1.959964 * 0.04306004, rel=1e-5)
    assert not c.compare(0.55, 0.5, N_EFF, N_EFF).iloc[0]["significant"]


def test_vs_london_by_hand():
    # p = .6, London .5 with 32 equal boroughs: rest of London R = (.5 - .6/32)/(31/32) = .4967742
    # var = (31/32)^2 (.24/266.67 + R(1-R)/(31 x 266.67)) + 2 x .0001/12 = 0.00088968, se .029827
    r = c.vs_london([0.6, 0.49], [0.5, 0.5]).iloc[0]
    assert r["diff"] == pytest.approx(0.1)
    assert r["se"] == pytest.approx(0.0298274327, rel=1e-8)
    assert r["p_value"] == pytest.approx(2 * 0.5 * math.erfc(3.3526184 / math.sqrt(2)), rel=1e-5)
    assert r["label"] == "above London"
    assert c.vs_london([0.49], [0.5]).iloc[0]["label"] == "no significant difference"
    assert c.vs_london([0.30], [0.5]).iloc[0]["label"] == "below London"


def test_changes_compare_non_overlapping_windows_by_hand():
    flat = [0.5] * 12
    s = frame({"A": flat + [0.62], "B": flat + [0.55]}, london=flat + [0.52])
    ch = c.changes(s, "good_job_local", years=1)
    last = ch[ch["period_end"] == pd.Timestamp("2023-12-31")].set_index("area_code")
    # A: 0.5 -> 0.62: se = sqrt((.25 + .62 x .38)/266.67 + 2 x .0001/12) = .042868, z = 2.799
    assert last.loc["A", "previous_end"] == pd.Timestamp("2022-12-31")
    assert last.loc["A", "change"] == pytest.approx(0.12)
    assert last.loc["A", "p_value"] == pytest.approx(0.005122, rel=2e-3)
    assert last.loc["A", "label"] == "significant increase"
    # B: +5 points on a borough base is within the noise: no claim
    assert last.loc["B", "change"] == pytest.approx(0.05)
    assert last.loc["B", "label"] == "no significant change"
    # London: +2 points on 12,800 interviews is detectable (se .0086726, z 2.306)
    assert last.loc["E12000007", "label"] == "significant increase"
    assert last.loc["E12000007", "p_value"] == pytest.approx(0.02111, rel=5e-3)
    # no earlier window -> not available; 3-year change uses the window 12 quarters back
    first = ch[ch["period_end"] == pd.Timestamp("2021-03-31")]
    assert (first["label"] == "not available").all() and first["change"].isna().all()
    ch3 = c.changes(s, "good_job_local", years=3)
    a3 = ch3[(ch3["area_code"] == "A") & (ch3["period_end"] == pd.Timestamp("2023-12-31"))].iloc[0]
    assert a3["previous_end"] == pd.Timestamp("2020-12-31") and a3["change"] == pytest.approx(0.12)


def test_overlapping_windows_are_refused():
    s = frame({"A": [0.5] * 13}, london=[0.5] * 13)
    with pytest.raises(ValueError, match="non-overlapping"):
        c.changes(s, "good_job_local", years=1, a=c.Assumptions(window_quarters=8))
    with pytest.raises(ValueError):
        c.changes(s, "good_job_local", years=0)


def test_change_test_holds_its_size_on_simulated_rolling_estimates():
    """Quarterly samples of 100 per area (simple random sampling, so design effect 1), published
    as rolling 4-quarter shares rounded to 2 dp, as in the PAS: with no real change, about 5% of
    the 1-year changes are called significant; with a real change of 15 points, nearly all."""
    rng = np.random.default_rng(20240601)
    areas, quarters, n = 300, 16, 100

    def rolling(p_by_quarter):
        hits = rng.binomial(n, p_by_quarter, size=(areas, quarters))
        roll = np.lib.stride_tricks.sliding_window_view(hits, 4, axis=1).sum(axis=2) / (4 * n)
        return np.round(roll, 2)

    a = c.Assumptions(design_effect=1.0)
    for p_q, expect in ((np.full(quarters, 0.55), "null"),
                        (np.r_[np.full(8, 0.45), np.full(8, 0.60)], "change")):
        vals = rolling(p_q)
        series = {f"X{i:03d}": list(v) for i, v in enumerate(vals)}
        s = frame(series, london=list(vals.mean(axis=0)), start="2019-12-31")
        ch = c.changes(s, "good_job_local", 1, a)
        ch = ch[(ch["area_code"] != "E12000007") & ch["previous"].notna()]
        rate = (ch["p_value"] < 0.05).mean()
        if expect == "null":
            assert 0.03 < rate < 0.075, rate
        else:
            # rolling value 8 (quarters 8-11, all after the step) against value 4 (quarters
            # 4-7, all before it): the 9th published quarter, 2021-12-31
            full = ch[ch["period_end"] == pd.Timestamp("2021-12-31")]
            assert (full["previous_end"] == pd.Timestamp("2020-12-31")).all()
            assert (full["label"] == "significant increase").mean() > 0.95


def test_ranking_by_hand():
    r = c.ranking(pd.Series([0.8, 0.5, 0.49, 0.2], index=list("abcd")))
    # a beats all; b and c are indistinguishable; d is below all
    assert r["rank"].tolist() == [1, 2, 3, 4]
    assert r["rank_best"].tolist() == [1, 2, 2, 4]
    assert r["rank_worst"].tolist() == [1, 3, 3, 4]


def test_relationships_by_hand():
    y = pd.Series([0.4, 0.5, 0.6, 0.7, 0.8], index=list("abcde"))
    cov = pd.DataFrame({"up": [1, 2, 3, 4, 10], "down": [5, 4, 3, 2, 1], "flat": [1] * 5},
                       index=list("abcde"))
    r = c.relationships(y, cov).set_index("covariate")
    assert r.loc["up", "spearman"] == pytest.approx(1.0)
    assert r.loc["up", "pearson"] < 1.0  # the outlier 10 bends the straight line, not the ranks
    assert r.loc["down", "spearman"] == pytest.approx(-1.0)
    assert np.isnan(r.loc["flat", "spearman"]) and r.loc["flat", "n"] == 5


def test_detectable_change_by_hand():
    # p = .5: se = sqrt(2 x .25/266.67 + 2 x .0001/12) = .0434933; x (1.959964 + 0.841621)
    assert c.detectable_change(0.5) == pytest.approx(0.0434933 * 2.801585, rel=1e-5)
    assert c.detectable_change(0.5, london=True) < 0.03


# -- the real PAS file ---------------------------------------------------------------------------


def test_trend_matches_documented_yearly_means(real):
    t = c.trend(real, "good_job_local")
    boroughs = t.drop(columns=["E12000007"])
    assert boroughs.shape == (37, 32)
    by_year = boroughs.stack().groupby(level=0).mean().groupby(lambda d: d.year).mean()
    # SOURCE.md: mean borough "Good Job" local by year: 2015 0.67, 2019 0.60, 2021 0.54, 2023 0.49
    for year, v in {2015: 0.67, 2019: 0.60, 2021: 0.54, 2023: 0.49}.items():
        assert round(by_year[year], 2) == v
    assert c.quarters(real, "trust_mps")[0] == pd.Timestamp("2016-03-31")
    assert len(c.quarters(real, "trust_mps")) == 32


def test_borough_summary_on_the_real_file(real):
    s = c.borough_summary(real, "trust_mps")
    assert len(s) == 32 and s["period_end"].eq(pd.Timestamp("2023-12-31")).all()
    assert s["rank"].is_monotonic_increasing
    assert (s["rank_best"] <= s["rank"]).all() and (s["rank"] <= s["rank_worst"]).all()
    assert (s["ci_low"] < s["value"]).all() and (s["value"] < s["ci_high"]).all()
    bd = s.set_index("borough").loc["Barking and Dagenham"]
    # file: 0.71 (Dec 2023), 0.73 (Dec 2022), 0.84 (Dec 2020); London 0.69
    assert bd["value"] == 0.71 and bd["london_value"] == 0.69
    assert bd["change_1y"] == pytest.approx(-0.02) and bd["change_1y_label"] == "no significant change"
    # 3 years: se = sqrt((.71 x .29 + .84 x .16)/266.67 + 2 x .0001/12) = .0359554, z = -3.6156
    assert bd["change_3y"] == pytest.approx(-0.13)
    assert bd["change_3y_p"] == pytest.approx(2 * 0.5 * math.erfc(3.6155892 / math.sqrt(2)), rel=1e-5)
    assert bd["change_3y_label"] == "significant decrease"
    # every label is one of the four, and no claim without significance
    for k in ("change_1y", "change_3y"):
        labels = set(s[f"{k}_label"])
        assert labels <= {"significant increase", "significant decrease", "no significant change"}
        sig = s[f"{k}_label"].str.startswith("significant")
        assert (s.loc[sig, f"{k}_p"] < 0.05).all() and (s.loc[~sig, f"{k}_p"] >= 0.05).all()
        assert ((s[f"{k}_low"] > 0) | (s[f"{k}_high"] < 0)).eq(sig).all()


def test_as_of(real):
    s = c.borough_summary(real, "trust_mps", as_of="2016-03-31")
    assert (s["change_1y_label"] == "not available").all()
    s = c.borough_summary(real, "good_job_local", as_of=pd.Timestamp("2018-12-31"))
    assert s["change_3y"].notna().all() and s["change_1y"].notna().all()
    with pytest.raises(ValueError, match="31 Mar 2016 to 31 Dec 2023"):
        c.borough_summary(real, "trust_mps", as_of="2015-12-31")
    with pytest.raises(ValueError, match="no survey rows"):
        c.borough_summary(real, "happiness")


@pytest.mark.slow
def test_london_summary_on_the_real_file(real):
    ls = c.london_summary(real).set_index("measure")
    assert len(ls) == 8
    g = ls.loc["good_job_local"]
    # MPS column: 0.47 (Dec 2023), 0.49 (Dec 2022), 0.56 (Dec 2020)
    assert g["value"] == 0.47
    assert g["change_1y"] == pytest.approx(-0.02) and g["change_3y"] == pytest.approx(-0.09)
    assert g["change_3y_label"] == "significant decrease"
    counts = ls[["change_3y_boroughs_up", "change_3y_boroughs_down", "change_3y_boroughs_same"]]
    assert (counts.sum(axis=1) == 32).all()


def test_mixed_sources_are_refused(real):
    other = real.head(3).assign(source="pas_microdata")
    with pytest.raises(ValueError, match="more than one source"):
        c.trend(pd.concat([real, other]), "good_job_local")


# -- the pipeline and its section -----------------------------------------------------------------


@pytest.fixture(scope="module")
def result(wh):
    from vru.pipelines import confidence as pc

    return pc.run(wh)


@pytest.mark.slow
def test_section_from_the_real_warehouse(wh, result):
    from vru.outputs.sections import confidence as sc
    from vru.pipelines import confidence as pc

    sec = sc.present(result)
    assert sec.id == "confidence"
    body = sec.body
    assert body.count("<svg") >= 6
    assert "100 interviews per borough per quarter" in body
    assert "no significant change" in body and "significant decrease" in body
    assert "Correlation is not causation" in body or "correlation is not causation" in body
    assert "ecological fallacy" in body
    assert "Barking and Dagenham" in body
    assert "Dec 2022 – Nov 2023, mid-" in body  # the violence window of the relationships
    # nothing is fetched from outside (XML namespace URIs in the SVG are names, not requests)
    assert not re.search(r'(src|href)=["\']?https?:|url\(\s*["\']?https?:', body)
    assert [b.measure for b in result.measures] == list(c.HEADLINE)
    assert len(result.measures[0].summary) == 32 and result.measures[0].trend is not None
    assert result.microdata is None  # the bundled warehouse holds no respondent-level answers
    summary = pc.borough_table(wh)
    assert len(summary) == 32
    pd.testing.assert_frame_equal(summary, result.measures[0].summary)
    cov, window, year = pc.covariates(wh, pd.Timestamp("2023-12-31"))
    assert cov.shape == (32, 2) and cov.notna().all().all()
    assert window == (pd.Timestamp("2022-12-01"), pd.Timestamp("2023-11-01")) and year >= 2020
    rel = result.relationships
    assert rel is not None and list(rel.correlations) == [m for m in c.MEASURE_LABELS
                                                          if m in rel.correlations]
    assert set(rel.scatter.index) == {"violence_rate", "imd_score"}


@pytest.mark.slow
def test_present_needs_no_warehouse(london_warehouse):
    """The result holds every number of the section: it is presented after the warehouse is closed."""
    from vru.outputs.sections import confidence as sc
    from vru.pipelines import confidence as pc
    from vru.warehouse.store import Warehouse

    w = Warehouse.open(london_warehouse, read_only=True)
    res = pc.run(w, pc.ConfidenceParams.of(measures="trust_mps"))
    w.close()
    body = sc.present(res).body
    assert "<h3>Trust the MPS</h3>" in body and "Good job" not in body.split("<h3>")[1]
    assert "Confidence, violence and deprivation" in body


@pytest.mark.slow
def test_result_as_dict_is_json(result):
    import json

    d = json.loads(json.dumps(result.as_dict()))
    assert d["params"]["measures"] == list(c.HEADLINE)
    assert d["params"]["assumptions"]["design_effect"] == 1.5
    assert len(d["measures"][0]["boroughs"]) == 32
    assert d["relationships"]["violence_window"] == ["2022-12-01", "2023-11-01"]
    assert d["microdata"] is None
    assert 0 < d["detectable_change"] < 0.2 and d["detectable_change_london"] < d["detectable_change"]


def test_params_are_checked_and_frozen():
    import dataclasses

    from vru.pipelines import confidence as pc
    from vru.pipelines.base import ParamsError

    p = pc.ConfidenceParams.of(by="age_band, sex", measures="trust_mps,good_job_local", as_of="2023-12-31",
                               min_n=np.int64(20))
    assert p.by == ("age_band", "sex") and p.measures == ("trust_mps", "good_job_local")
    assert p.as_of == pd.Timestamp("2023-12-31") and p.min_n == 20 and type(p.min_n) is int
    assert pc.ConfidenceParams.of(by=["sex"]).by == ("sex",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_n = 10  # type: ignore[misc]
    for bad, field in [({"colour": "blue"}, "colour"), ({"measure": "happiness"}, "measure"),
                       ({"measures": "trust_mps,happiness"}, "measures"), ({"measures": ()}, "measures"),
                       ({"min_n": 0}, "min_n"), ({"min_n": 2.5}, "min_n"), ({"min_n": True}, "min_n"),
                       ({"as_of": "banana"}, "as_of"), ({"by": "colour"}, "by"), ({"by": "sex,sex"}, "by"),
                       ({"by": ("sex", "age_band", "ethnicity")}, "by"), ({"by": "sex,"}, "by"),
                       ({"assumptions": {"design_effect": 2}}, "assumptions"),
                       ({"dont_know_in_base": "no"}, "dont_know_in_base")]:
        with pytest.raises(ParamsError, match=field):
            pc.ConfidenceParams.of(**bad)


def test_params_refuse_unhashable_measures_and_numeric_dates():
    import datetime as dt

    from vru.pipelines import confidence as pc
    from vru.pipelines.base import ParamsError

    for bad, message in [({"measure": ["trust_mps"]}, "^measure: \\['trust_mps'\\] is not a PAS measure"),
                         ({"measures": [["trust_mps"]]}, "^measures: \\['trust_mps'\\] is not a PAS"),
                         ({"measure": {"a": 1}}, "^measure: "), ({"as_of": 5}, "^as_of: "),
                         ({"as_of": 2023.5}, "^as_of: "), ({"as_of": np.int64(5)}, "^as_of: "),
                         ({"as_of": True}, "^as_of: ")]:
        with pytest.raises(ParamsError, match=message):
            pc.ConfidenceParams.of(**bad)
    assert pc.ConfidenceParams(as_of=dt.date(2023, 12, 31)).as_of == pd.Timestamp("2023-12-31")


def test_section_is_absent_without_pas_data(tmp_path):
    from vru.pipelines import confidence as pc
    from vru.pipelines.base import MissingData
    from vru.warehouse.store import Warehouse

    w = Warehouse.create(tmp_path / "empty.duckdb")
    try:
        with pytest.raises(MissingData, match="no MOPAC PAS data"):
            pc.run(w)
        with pytest.raises(MissingData, match="no MOPAC PAS data"):
            pc.borough_table(w)
    finally:
        w.close()


def _microdata_html(resp, **params) -> str:
    from vru.outputs.sections import confidence as sc
    from vru.pipelines import confidence as pc

    md = pc.microdata(resp, pc.ConfidenceParams.of(**params))
    return "".join(b["groups"] + b["gaps"] for b in sc.microdata_blocks(md))


@pytest.mark.slow
def test_microdata_tables_suppress_small_groups(tmp_path):
    df = syn.generate(seed=11)
    resp = pm.read(syn.write_csv(df, tmp_path / "syn.csv.gz"))
    html = _microdata_html(resp)
    assert "Ethnicity: Black" in html and "Sex: Female" in html and "Age: 65+" in html
    assert "Black − White" in html and "White higher" in html
    # "Not stated" groups have about 1% of 12,800 respondents per answer: over 50, shown
    assert ">suppressed<" not in html
    strict = _microdata_html(resp, min_n=200)  # Not stated (~125) hidden, with a complement
    assert strict.count(">suppressed<") >= 2 * 3


def test_group_table_dont_know_choice(tmp_path):
    from vru.pipelines import confidence as pc

    resp = pm.read(syn.write_csv(syn.generate(seed=4, per_borough=30), tmp_path / "s.csv"))
    p = pc.ConfidenceParams.of(measure="trust_mps", by="sex")
    inc = pc.group_table(resp, p).set_index("sex")
    exc = pc.group_table(resp, p.of(p, dont_know_in_base=False)).set_index("sex")
    x = resp[resp["measure"] == "trust_mps"]
    assert inc.loc["All", "n"] == len(x)
    assert exc.loc["All", "n"] == (x["answer"] != "don't know").sum()
    agree = x["answer"].isin(pm.AGREE)
    assert inc.loc["All", "p"] == pytest.approx(np.average(agree, weights=x["weight"]))
    kept = x["answer"] != "don't know"
    assert exc.loc["All", "p"] == pytest.approx(np.average(agree[kept], weights=x["weight"][kept]))
    with pytest.raises(ValueError, match="no answers for measure 'informed_local'"):
        pc.group_table(resp[resp["measure"] != "informed_local"], p.of(p, measure="informed_local"))


@pytest.mark.slow
def test_respondent_data_read_back_from_a_warehouse(tmp_path):
    """The pipeline reads ``survey_responses`` when a warehouse has it (the schema entry is
    ``vru.sources.pas_microdata.TABLE``) and the section renders the group tables from it."""
    from vru.outputs.sections import confidence as sc
    from vru.pipelines import confidence as pc
    from vru.warehouse.store import Warehouse

    resp = pm.read(syn.write_csv(syn.generate(seed=2, per_borough=40), tmp_path / "s.csv"))
    w = Warehouse.create(tmp_path / "wh.duckdb")
    try:
        assert pc.responses(w) is None
        if "survey_responses" not in w.tables():
            w.con.register("resp_df", resp)
            w.con.execute("CREATE TABLE survey_responses AS SELECT * FROM resp_df")
        else:
            w.write([(pm.load(tmp_path / "s.csv"), "x")])
        back = pc.responses(w)
        assert len(back) == len(resp)
        md = pc.microdata(back)
        assert md.respondents == back["respondent_id"].nunique() and md.min_n == 50
        assert [g.measure for g in md.measures] == list(c.HEADLINE)
        html = "".join(b["groups"] for b in sc.microdata_blocks(md))
        assert "Ethnicity: White" in html and "Trust the MPS" in html
    finally:
        w.close()
