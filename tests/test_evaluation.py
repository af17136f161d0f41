"""Evaluation entry point: input validation, spillover rings, power by placebo assignment, the
statement in words, and the worked MyEnds example on the real London warehouse."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from vru.analysis import did
from vru.analysis import evaluation as ev
from vru.analysis import synth as sy
from vru.analysis.evaluation import EvaluationError
from vru.errors import VRUError

MONTHS = pd.date_range("2019-01-01", periods=36, freq="MS")


def _panel(seed=0, n_treated=6, n_controls=30, T=36, start=24, effect=0.0, noise=1.0,
           level=10.0):
    """Area-months with area and month effects; treated areas t0.. get ``effect`` from
    month ``start`` on (additive)."""
    rng = np.random.default_rng(seed)
    units = [f"t{i}" for i in range(n_treated)] + [f"c{i:02d}" for i in range(n_controls)]
    n = len(units)
    y = (level + rng.normal(size=(n, 1)) + np.cumsum(rng.normal(scale=0.3, size=T))[None, :]
         + rng.normal(scale=noise, size=(n, T)))
    y[:n_treated, start:] += effect
    df = pd.DataFrame({"area_code": np.repeat(units, T), "month": np.tile(MONTHS[:T], n),
                       "value": y.ravel()})
    return df, {u: MONTHS[start] for u in units[:n_treated]}


# --- input ----------------------------------------------------------------------------------


def test_treated_starts_accepts_months_as_text_and_tables():
    s = ev.treated_starts({"a": "2020-03"}, MONTHS, pd.Index(["a", "b"]))
    assert s == {"a": pd.Timestamp("2020-03-01")}
    t = pd.DataFrame({"area": ["a", "b"], "start": ["2020-03", "2021-01-01"]})
    assert ev.treated_starts(t, MONTHS, pd.Index(["a", "b"]))["b"] == pd.Timestamp("2021-01-01")


def test_integer_periods_accept_starts_as_text():
    assert ev.treated_starts({"a": "3"}, pd.Index([1, 2, 3, 4]), None) == {"a": 3}
    with pytest.raises(EvaluationError, match="not a period like 1"):
        ev.treated_starts({"a": "March"}, pd.Index([1, 2, 3, 4]), None)
    with pytest.raises(EvaluationError, match="outside the panel"):
        ev.treated_starts({"a": 9}, pd.Index([1, 2, 3, 4]), None)


@pytest.mark.parametrize("treated, message", [
    ({"zz": "2020-03", "yy": "2020-03"}, "treated areas 'zz', 'yy' not in the panel"),
    ({"a": "2018-06"}, r"outside the panel \(before 2019-01 to 2021-12\)"),
    ({"a": "2022-01"}, r"outside the panel \(after 2019-01 to 2021-12\)"),
    ({"a": "2020-03-15"}, "not one of the panel's periods"),
    ({"a": "2019-01"}, "no pre-period"),
    ({"a": "soon"}, "not a date"),
    ({"a": None}, "no start date"),
    ({}, "no treated areas"),
    (pd.DataFrame({"area": ["a", "a"], "start": ["2020-03", "2020-04"]}), "more than once"),
    (pd.DataFrame({"unit": ["a"], "start": ["2020-03"]}), "needs columns 'area' and 'start'"),
    (["a"], "must be a mapping"),
])
def test_bad_treated_areas_are_refused(treated, message):
    with pytest.raises(EvaluationError, match=message):
        ev.treated_starts(treated, MONTHS, pd.Index(["a", "b"]))


def test_evaluate_refuses_bad_input():
    assert issubclass(EvaluationError, VRUError) and EvaluationError is did.EvaluationError
    df, tr = _panel(n_controls=4)
    with pytest.raises(EvaluationError, match="too few control areas: 4, at least 5 needed"):
        ev.evaluate(df, tr, power=False)
    df, tr = _panel()
    with pytest.raises(EvaluationError, match="not in the panel"):
        ev.evaluate(df, {"nowhere": "2020-06"})
    with pytest.raises(EvaluationError, match="outside the panel"):
        ev.evaluate(df, {"t0": "2030-01"})
    # a cohort in the first period is dropped (as R's did); with nothing left, refused
    with pytest.raises(EvaluationError, match="no treated cohort has a pre-period"):
        ev.evaluate(df, {"t0": "2019-01"})
    with pytest.raises(EvaluationError, match="unknown method"):
        ev.evaluate(df, tr, methods=("rdd",))
    with pytest.raises(EvaluationError, match="unknown spillover"):
        ev.evaluate(df, tr, spillover="ignore")
    with pytest.raises(EvaluationError, match="not balanced"):
        ev.evaluate(df.iloc[5:], tr, power=False)


# --- spillover --------------------------------------------------------------------------------


def test_rings_on_a_chain_by_hand():
    # A - B - C - D - E; C treated from 5, E from 3
    nb = pd.DataFrame({"focal": list("ABCD"), "neighbor": list("BCDE"), "weight": 1.0})
    r = ev.spillover_rings(nb, {"C": 5, "E": 3}, rings=2).set_index("area")
    assert r.loc["B", "ring"] == 1 and r.loc["B", "start"] == 5
    assert r.loc["D", "ring"] == 1 and r.loc["D", "start"] == 3  # next to both: earliest
    assert r.loc["D", "nearest"] == "C;E"
    assert r.loc["A", "ring"] == 2 and r.loc["A", "start"] == 5
    assert set(r.index) == {"A", "B", "D"}  # treated areas are never in a ring
    assert set(ev.spillover_rings(nb, {"C": 5}, rings=1)["area"]) == {"B", "D"}


def test_rings_from_contiguity_weights():
    from vru.model.weights import SpatialWeights

    cells = [(x, y) for y in range(5) for x in range(5)]
    g = gpd.GeoDataFrame({"code": [f"{x}{y}" for x, y in cells]},
                         geometry=[box(x, y, x + 1, y + 1) for x, y in cells], crs=27700)
    nb = SpatialWeights.from_geodataframe(g, "rook")
    r = ev.spillover_rings(nb, {"22": MONTHS[20]}, rings=2)
    ring1 = set(r.loc[r["ring"] == 1, "area"])
    ring2 = set(r.loc[r["ring"] == 2, "area"])
    assert ring1 == {"12", "32", "21", "23"}
    assert ring2 == {"02", "42", "20", "24", "11", "13", "31", "33"}
    q = ev.spillover_rings(SpatialWeights.from_geodataframe(g, "queen"), {"22": MONTHS[20]},
                           rings=1)  # queen: 8 neighbours
    assert len(q) == 8


def test_bad_neighbour_tables_are_refused():
    with pytest.raises(EvaluationError, match="'focal' and 'neighbor'"):
        ev.spillover_rings(pd.DataFrame({"a": [1]}), {"x": 1})
    with pytest.raises(EvaluationError, match="rings"):
        ev.spillover_rings(pd.DataFrame({"focal": [1], "neighbor": [2]}), {1: 1}, rings=0)


def _grid_panel(seed=1, effect=1.0, spill=0.5, noise=0.05):
    """6 x 6 grid of areas; the two centre-left and centre-right cells treated from month 24
    with ``effect``; their rook neighbours get ``spill``."""
    from vru.model.weights import SpatialWeights

    cells = [(x, y) for y in range(6) for x in range(6)]
    codes = [f"a{x}{y}" for x, y in cells]
    g = gpd.GeoDataFrame({"code": codes}, geometry=[box(x, y, x + 1, y + 1) for x, y in cells],
                         crs=27700)
    nb = SpatialWeights.from_geodataframe(g, "rook")
    treated = {"a12": MONTHS[24], "a43": MONTHS[24]}
    rings = ev.spillover_rings(nb, treated, 1)
    rng = np.random.default_rng(seed)
    T = 36
    y = 5 + rng.normal(size=(36, 1)) + np.cumsum(rng.normal(scale=0.3, size=T))[None, :] \
        + rng.normal(scale=noise, size=(36, T))
    for i, c in enumerate(codes):
        if c in treated:
            y[i, 24:] += effect
        elif c in set(rings["area"]):
            y[i, 24:] += spill
    df = pd.DataFrame({"area_code": np.repeat(codes, T), "month": np.tile(MONTHS, 36),
                       "value": y.ravel()})
    return df, treated, nb, rings


def test_spillover_excluded_from_controls():
    df, treated, nb, rings = _grid_panel()
    r = ev.evaluate(df, treated, neighbours=nb, rings=1, methods=("did",), power=False,
                    n_draws=99)
    assert r.design["n_controls"] == 36 - 2 - len(rings) == 26
    assert sorted(r.design["excluded_spillover"]) == sorted(rings["area"])
    assert r.did.att == pytest.approx(1.0, abs=0.15)
    # without the exclusion the contaminated controls pull the estimate down
    plain = ev.evaluate(df, treated, methods=("did",), power=False, n_draws=99)
    assert plain.did.att < r.did.att - 0.05


def test_spillover_estimated_separately():
    df, treated, nb, rings = _grid_panel(effect=1.0, spill=0.5)
    r = ev.evaluate(df, treated, neighbours=nb, spillover="separate", methods=("did",),
                    power=False, n_draws=99)
    assert r.spillover is not None and r.spillover.n_treated == len(rings) == 8
    assert r.spillover.att == pytest.approx(0.5, abs=0.1)
    assert r.did.att == pytest.approx(1.0, abs=0.15)
    assert "Neighbouring areas (8 areas within 1 ring of" in r.statement
    assert "spillover_simple" in r.tables


# --- power ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["linear", "poisson"])
def test_did_power_shift_equals_reestimation_on_injected_data(model):
    df, tr = _panel(seed=3)
    pa, starts, pool = ev._prepare(df, tr, unit="area_code", period="month", outcome="value",
                                   exclude=(), anticipation=0, min_controls=2)
    s_idx = pa.periods.get_indexer(list(starts.values()))
    est, se, lev, _ = ev._did_draws(pa, pool, s_idx, n_draws=5, seed=1, control="never_treated",
                                    base_period="varying", anticipation=0, model=model)
    draws, _ = ev._assignments(len(pool), len(s_idx), 5, 1)
    d = -0.2
    for r in range(5):
        coh = np.full(len(pool), -1, dtype=np.int64)
        coh[draws[r]] = s_idx
        y = pa.y[pool].copy()
        post = (coh[:, None] >= 0) & (np.arange(y.shape[1])[None, :] >= coh[:, None])
        y[post] *= 1 + d
        p = did.PanelArrays(pa.units[pool], pa.periods, y, coh, np.arange(len(pool)))
        again = did.simple_estimate(p, model=model)[0]
        shift = np.log1p(d) if model == "poisson" else d * lev[r]
        assert again == pytest.approx(est[r] + shift, abs=1e-10)


def test_synth_power_shift_equals_refit_on_injected_data():
    df, tr = _panel(seed=4, n_treated=2, n_controls=10)
    Y = df.pivot(index="month", columns="area_code", values="value")
    pool = [c for c in Y.columns if c.startswith("c")]
    starts = list(tr.values())
    d = sy.placebo_assignments(Y, starts, pool, n_draws=20, seed=2)
    delta = -0.15
    s = Y.index.get_loc(starts[0])
    for r in range(5):
        Z = Y.copy()
        for u in d.units[r]:
            Z.iloc[s:, Z.columns.get_loc(u)] *= 1 + delta
        again = sy.placebo_assignments(Z, starts, pool, n_draws=20, seed=2)
        assert again.att[r] == pytest.approx(d.att[r] + delta * d.post_level[r], abs=1e-8)


def test_power_curve_and_mde():
    df, tr = _panel(seed=5, n_treated=8, n_controls=40, noise=1.0)
    p = ev.power(df, tr, n_draws=400, seed=1)
    assert p.n_draws == 400 and p.method == "did"
    assert p.power(0.0) <= 0.06  # the placebo test's size is alpha by construction
    m = p.mde_relative
    assert 0 < m < 1
    assert p.power(-m) >= 0.8 > p.power(-(m - 0.001))
    assert p.mde_absolute == pytest.approx(m * df[df["area_code"].str.startswith("t")
                                                  & (df["month"] < MONTHS[24])]["value"].mean())
    curve = p.curve.set_index("effect")["power"]
    assert curve.loc[0.0] == pytest.approx(p.power(0.0))
    assert curve.loc[-0.5] == 1.0
    # less noise, smaller MDE; and roughly (z_.975 + z_.8) SE / level for a large design
    quiet = ev.power(*_panel(seed=5, n_treated=8, n_controls=40, noise=0.3), n_draws=400,
                     seed=1)
    assert quiet.mde_relative < m
    r = did.att_gt(df.assign(cohort=df["area_code"].map(tr)), unit="area_code",
                   period="month", outcome="value")
    approx = 2.80 * r.se / 10.0
    assert 0.6 < m / approx < 1.6


def test_power_for_synthetic_control_and_too_few_controls():
    df, tr = _panel(seed=6, n_treated=2, n_controls=12)
    p = ev.power(df, tr, method="synth", n_draws=200, seed=0)
    assert p.method == "synth" and 0 < p.mde_relative < 1
    with pytest.raises(EvaluationError, match="too few control areas"):
        ev.power(*_panel(n_treated=6, n_controls=7), n_draws=50)


# --- the whole evaluation -------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_no_effect_reports_the_mde_not_no_effect():
    df, tr = _panel(seed=7, effect=0.0)
    r = ev.evaluate(df, tr, n_draws=200, seed=1, outcome_label="violence",
                    outcome_unit="offences per month")
    assert r.did_placebo["p_value"] > 0.05 and r.synth.p_pooled_att > 0.05
    assert "not evidence that the programme had no effect" in r.statement
    assert "detects a reduction with 80% power" in r.statement
    assert set(r.power) == {"did", "synth"}
    assert any("large-sample" in x for x in r.limits)
    json.dumps(r.as_dict())
    assert {"did_simple", "did_event", "synth_units", "power", "power_curve"} <= set(r.tables)


@pytest.mark.slow
def test_evaluate_large_effect_found_by_both_methods():
    df, tr = _panel(seed=8, effect=-3.0, noise=0.5)
    r = ev.evaluate(df, tr, n_draws=200, seed=1)
    assert r.did.att == pytest.approx(-3.0, abs=0.4)
    assert r.synth.pooled_att == pytest.approx(-3.0, abs=0.6)
    assert r.did_placebo["p_value"] <= 0.05 and r.synth.p_pooled_att <= 0.05
    assert "both methods find a difference" in r.statement


def test_evaluate_poisson_on_counts():
    rng = np.random.default_rng(9)
    units = [f"t{i}" for i in range(8)] + [f"c{i}" for i in range(30)]
    mu = np.exp(3 + rng.normal(scale=0.3, size=(38, 1)) + 0.01 * np.arange(36)[None, :])
    mu[:8, 24:] *= 0.8
    df = pd.DataFrame({"area_code": np.repeat(units, 36), "month": np.tile(MONTHS, 38),
                       "value": rng.poisson(mu).ravel().astype(float)})
    r = ev.evaluate(df, {u: "2021-01" for u in units[:8]}, model="poisson", methods=("did",),
                    n_draws=200)
    s = r.did.simple.iloc[0]
    assert s["ratio"] == pytest.approx(0.8, abs=0.05)
    assert "times what the control areas' trend implies" in r.statement


@pytest.mark.slow
def test_evaluate_synth_with_covariates():
    df, tr = _panel(seed=11, n_treated=2, n_controls=8)
    units = sorted(df["area_code"].unique())
    cov = pd.DataFrame({"x": np.arange(len(units), dtype=float)}, index=units)
    r = ev.evaluate(df, tr, methods=("synth",), covariates=cov, n_draws=25, seed=0)
    assert r.synth.settings["covariates"] == ["x"]
    assert r.synth.units[0].v is not None and "x" in r.synth.units[0].v.index
    assert r.power["synth"].n_draws == 25


def test_pretrend_warning_in_words():
    df, tr = _panel(seed=10)
    treated_rows = df["area_code"].str.startswith("t")
    # a trend strong enough for the permutation pre-trend test (p 0.003 at 0.3; 0.15 gave p 0.24)
    df.loc[treated_rows, "value"] += 0.3 * df.loc[treated_rows, "month"].dt.month.astype(float) \
        + 0.3 * 12 * (df.loc[treated_rows, "month"].dt.year - 2019)
    r = ev.evaluate(df, tr, methods=("did",), n_draws=100, power=False)
    assert r.pretrend["p_value"] < 0.05
    assert "already moved differently" in r.statement


# --- the worked example on real data --------------------------------------------------------


@pytest.fixture(scope="module")
def myends(wh):
    from vru.pipelines import evaluation as pe

    return pe.run(wh, pe.EvalParams.of(n_draws=200))


def test_myends_panel_is_the_32_mps_boroughs(myends):
    from vru.geography import MYENDS_BOROUGHS

    pan = myends.panel
    assert pan["area_code"].nunique() == 32
    assert "E09000001" not in set(pan["area_code"])
    assert not pan["area_code"].str.startswith("X-").any()
    assert pan["month"].min() == pd.Timestamp("2018-07-01")
    assert pan["month"].max() == pd.Timestamp("2023-11-01")  # SOURCE.md: to November 2023
    assert len(pan) == 32 * 65
    assert sorted(myends.codes) == sorted(MYENDS_BOROUGHS)
    d = myends.main.design
    assert (d["n_treated"], d["n_controls"]) == (8, 24)


def test_myends_did_equals_a_direct_computation(myends):
    """One cohort, never-treated controls: the simple ATT is the mean over post months of the
    change since June 2021 in the treated mean minus that in the control mean."""
    pan = myends.panel
    codes = list(myends.codes)
    w = pan.pivot(index="month", columns="area_code", values="rate")
    tr = w[codes].mean(axis=1)
    co = w.drop(columns=codes).mean(axis=1)
    base = pd.Timestamp("2021-06-01")
    post = w.index >= pd.Timestamp("2021-07-01")
    direct = ((tr[post] - tr[base]) - (co[post] - co[base])).mean()
    assert myends.main.did.att == pytest.approx(direct, abs=1e-12)
    # the rate is 1,000 x count / mid-2020 population
    row = pan[(pan["area_code"] == "E09000028") & (pan["month"] == "2021-07-01")].iloc[0]
    assert row["rate"] == pytest.approx(1000 * row["count"] / row["population"])


def test_myends_statement_is_honest(myends):
    main = myends.main
    assert "detects a reduction with 80% power" in main.statement
    assert np.isfinite(main.power["did"].mde_relative)
    assert main.synth is not None and len(main.synth.units) == 8
    assert (main.synth.table["n_donors"] == 24).all()
    assert (main.synth.table["n_pre"] == 36).all()
    p = main.did.simple.iloc[0]
    if main.did_placebo["p_value"] > 0.05:
        assert "not evidence that the programme had no effect" in main.statement
    assert p["ci_low"] < p["ci_high"]
    sp = myends.spillover
    if sp is not None:  # 17 of the 24 other boroughs touch a MyEnds borough (queen)
        assert len(sp.rings) == 17 and sp.design["n_controls"] == 7
        assert "could not be simulated" in sp.statement


def test_myends_results_json_and_section(london_warehouse):
    from vru.outputs.sections import evaluation as presenter
    from vru.pipelines import evaluation as pe
    from vru.pipelines.base import ParamsError
    from vru.warehouse.store import Warehouse

    steps: list[tuple[str, int]] = []
    with Warehouse.open(london_warehouse, read_only=True) as wh:
        r = pe.run(wh, pe.EvalParams.of(n_draws=100, rings=0),
                   progress=lambda stage, total: steps.append((stage, total)))
    # every stage is reported in order, the spillover too when it is skipped
    assert pe.STAGES == ("panel", "DiD and synthetic control", "Poisson DiD", "spillover", "summaries")
    assert steps == [(stage, 5) for stage in pe.STAGES]
    res = r.as_dict()
    json.dumps(res)
    assert res["data"]["areas"] == 32 and res["parameters"]["start"] == "2021-07"
    assert res["parameters"]["starts"] is None and res["parameters"]["treated"] == list(pe.MYENDS)
    assert res["spillover"] is None
    assert any("diluted" in x for x in res["limits"])
    ba = pd.DataFrame(res["before_after"])
    assert set(ba["group"]) == {"MyEnds boroughs", "other boroughs"}
    assert ba.loc[ba["year"] == 0, "period"].iloc[0] == "Jul 2021 – Jun 2022"
    with pytest.raises(ParamsError, match="unknown parameter 'colour'"):
        pe.EvalParams.of(colour="red")
    # the warehouse is closed: the presentation needs the result only
    sec = presenter.present(r)
    assert sec.id == "evaluation" and sec.title == presenter.TITLE
    assert sec.body.count("<svg") == 4
    assert "detects a reduction" in sec.body and "diluted" in sec.body
    assert "2.59 million residents" in sec.body and "266,000 to 389,000 each" in sec.body
    assert "Spillover" not in sec.body  # rings 0: not run


def test_eval_params_are_frozen_and_checked_by_name():
    import dataclasses

    from vru.pipelines.base import ParamsError
    from vru.pipelines.evaluation import MYENDS, EvalParams

    p = EvalParams.of(treated="Brent, Croydon", starts={"Brent": "2021-10"})
    assert p.treated == ("Brent", "Croydon") and p.starts == (("Brent", "2021-10"),)
    assert p.codes == ("E09000005", "E09000008")
    assert p.first_months == {"E09000005": "2021-10", "E09000008": "2021-07"}
    assert p.as_dict()["starts"] == {"Brent": "2021-10"} and p.as_dict()["treated"] == ["Brent", "Croydon"]
    assert EvalParams.of().treated == MYENDS and EvalParams.of(seed=None) == EvalParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_draws = 5
    for kw, field in [({"treated": "Brent,Atlantis"}, "treated: unknown borough 'Atlantis'"),
                      ({"treated": ()}, "treated: name at least one"),
                      ({"treated": "Brent,E09000005"}, "treated: a borough is named twice"),
                      ({"start": "2021-13"}, "start: '2021-13' is not a month"),
                      ({"start": 2021}, "start: a month as text"),
                      ({"starts": {"Atlantis": "2021-07"}}, "starts: unknown borough"),
                      ({"starts": {"Brent": "July"}}, r"starts\['Brent'\]: 'July' is not a month"),
                      ({"category": "violence"}, "category: unknown harmonised category 'violence'"),
                      ({"source": "nope"}, "source: a source of the catalogue"),
                      ({"window_end": "2017-01"}, "window_end: 2017-01 is before window_start"),
                      ({"pop_year": 20}, "pop_year"), ({"per": 0}, "per: a whole number >= 1"),
                      ({"n_draws": 0}, "n_draws"), ({"n_draws": 10.0}, "n_draws"),
                      ({"rings": -1}, "rings: a whole number >= 0"), ({"seed": True}, "seed"),
                      ({"max_lead": 0}, "max_lead"), ({"pre_periods": "36"}, "pre_periods"),
                      ({"alpha": 1}, "alpha: a number between 0 and 1"),
                      ({"target_power": 0}, "target_power")]:
        with pytest.raises(ParamsError, match=f"^{field}"):
            EvalParams.of(**kw)


def test_evaluation_without_the_data_it_needs_is_missing_data(wh, tmp_path):
    from vru.pipelines import evaluation as pe
    from vru.pipelines.base import MissingData
    from vru.warehouse.store import Warehouse

    with Warehouse.create(tmp_path / "empty.duckdb") as empty, \
            pytest.raises(MissingData, match="no violence_with_injury counts from mps_borough_detailed"):
        pe.run(empty)
    with pytest.raises(MissingData, match="start '2040-01' is outside the panel"):
        pe.run(wh, pe.EvalParams.of(start="2040-01", n_draws=20, rings=0))
    with pytest.raises(MissingData, match="no mid-1990 population"):
        pe.run(wh, pe.EvalParams.of(pop_year=1990, n_draws=20, rings=0))


@pytest.fixture(scope="module")
def brent_croydon(wh):
    from vru.pipelines import evaluation as pe

    return pe.run(wh, pe.EvalParams.of(treated=("Brent", "Croydon"), start="2022-01", n_draws=50))


def test_section_for_other_treated_boroughs_names_them_not_myends(brent_croydon):
    import re

    from vru.outputs.sections import evaluation as presenter

    sec = presenter.present(brent_croydon)
    text = re.sub(r"<svg.*?</svg>", "", sec.body, flags=re.S)
    assert "MyEnds" not in sec.title + sec.body and sec.title == presenter.TITLE_OTHER
    assert "in the 2 treated boroughs (Brent, Croydon, together 0.72 million residents) against " \
           "the other 30 boroughs" in text
    assert "with the programme taken to start in January 2022." in text
    assert "In the first year (January 2022 – December 2022) the rate changed by" in text
    assert "July 2021" not in text and "the 8 boroughs" not in text and " 24 " not in text
    ba = brent_croydon.before_after
    change = ba[(ba["year"] == 0) & (ba["group"] == "treated boroughs")]["change_pct"].iloc[0]
    assert f"changed by {change:+.1f}% in the treated boroughs" in text
    assert ba.loc[ba["year"] == 0, "period"].iloc[0] == "Jan 2022 – Dec 2022"
    assert "the 2 boroughs have 0.72 million residents" in text
    assert "the programme is taken to start in January 2022" in text
    assert "years from January" in text and "Synthetic control by treated borough" in text


def test_limits_follow_the_treated_boroughs_and_their_starts():
    from vru.pipelines import evaluation as pe

    pop = pd.Series({"E09000005": 330_000.0})
    geo, timing = pe.borough_limits(pop, "2022-03")
    assert "Brent has 0.33 million residents" in geo and "MyEnds" not in geo + timing
    assert "start in March 2022" in timing
    _, timing = pe.borough_limits(pd.Series({"E09000005": 1.0, "E09000008": 2.0}), "2022-03",
                                  staggered=True)
    assert "in the month given for each borough" in timing
    myends = pd.Series(300_000.0, index=list(reversed(pe.MYENDS_BOROUGHS)))
    geo, timing = pe.borough_limits(myends)
    assert "MyEnds funded" in geo and "July 2021 is used for all" in timing


def test_synth_mean_is_computed_by_the_pipeline(brent_croydon):
    units = brent_croydon.main.synth.units
    mean = brent_croydon.synth_mean
    assert list(mean.columns) == ["actual", "synthetic", "gap"]
    month = mean.index[5]
    assert mean.loc[month, "gap"] == pytest.approx(np.mean([u.gap[month] for u in units]))
    assert mean.loc[month, "actual"] == pytest.approx(np.mean([u.actual[month] for u in units]))


def test_starts_must_name_treated_boroughs_once():
    from vru.pipelines.base import ParamsError
    from vru.pipelines.evaluation import MAX_DRAWS, EvalParams

    with pytest.raises(ParamsError, match="^starts: 'Ealing' is not one of the treated boroughs"):
        EvalParams(treated="Brent,Croydon", starts={"Ealing": "2021-09"})
    with pytest.raises(ParamsError, match="^starts: Brent is named twice"):
        EvalParams(treated="Brent,Croydon", starts=(("Brent", "2021-09"), ("E09000005", "2021-10")))
    assert EvalParams(pop_year=np.int64(2019)).pop_year == 2019
    assert type(EvalParams(pop_year=np.int64(2019)).pop_year) is int
    with pytest.raises(ParamsError, match="^n_draws: at most"):
        EvalParams(n_draws=MAX_DRAWS + 1)
