"""Callaway-Sant'Anna DiD: hand-computed cells, the `differences` package and statsmodels as
oracles, inference, bad input, and a seeded simulation study."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from vru.analysis import did
from vru.analysis.did import EvaluationError
from vru.errors import VRUError

# --- a panel small enough to do by hand ------------------------------------------------------

# A treated from period 2, B from period 3, C and D never.
HAND = pd.DataFrame({
    "unit": list("AAABBBCCCDDD"),
    "period": [1, 2, 3] * 4,
    "outcome": [1, 2, 4, 2, 2, 5, 0, 1, 1, 2, 2, 4],
    "cohort": [2] * 3 + [3] * 3 + [np.nan] * 6,
})


def _cell(res, cohort, period):
    c = res.cells
    return c[(c["cohort"] == cohort) & (c["period"] == period)].iloc[0]


def test_hand_computed_cells_never_treated():
    r = did.att_gt(HAND)
    # cohort 2: t=2 base 1: (2-1) - mean(1, 0) = 0.5; t=3 base 1: (4-1) - mean(1, 2) = 1.5
    assert _cell(r, 2, 2)["estimate"] == pytest.approx(0.5)
    assert _cell(r, 2, 3)["estimate"] == pytest.approx(1.5)
    # cohort 3: t=2 is pre (base 1): (2-2) - mean(1, 0) = -0.5; t=3 base 2: 3 - mean(0, 2) = 2
    assert _cell(r, 3, 2)["estimate"] == pytest.approx(-0.5)
    assert _cell(r, 3, 3)["estimate"] == pytest.approx(2.0)
    assert _cell(r, 3, 3)["base_period"] == 2
    # simple: post cells weighted by cohort size (1 each): (0.5 + 1.5 + 2) / 3
    assert r.att == pytest.approx(4 / 3)
    ev = r.event.set_index("event_time")["estimate"]
    assert ev.to_dict() == pytest.approx({-1: -0.5, 0: 1.25, 1: 1.5})
    assert r.group.set_index("cohort")["estimate"].to_dict() == pytest.approx({2: 1.0, 3: 2.0})
    assert r.group_overall["estimate"].iloc[0] == pytest.approx(1.5)
    assert r.event_overall["estimate"].iloc[0] == pytest.approx((1.25 + 1.5) / 2)
    # SE of cell (2, 2): one treated unit (no spread); controls' changes 1 and 0 about 0.5:
    # (0.25 + 0.25) / 2^2 -> sqrt(0.125)
    assert _cell(r, 2, 2)["se"] == pytest.approx(math.sqrt(0.125))
    assert (r.n_units, r.n_treated, r.n_never) == (4, 2, 2)


def test_hand_computed_not_yet_treated():
    r = did.att_gt(HAND, control="not_yet_treated")
    # cohort 2, t=2: B (treated from 3) is not yet treated: controls' changes 1, 0, 0
    assert _cell(r, 2, 2)["estimate"] == pytest.approx(1 - 1 / 3)
    assert _cell(r, 2, 2)["n_control"] == 3
    # t=3: nobody is still untreated except C and D
    assert _cell(r, 2, 3)["estimate"] == pytest.approx(1.5)
    # cohort 3's own pre-period: B itself is never its own control
    assert _cell(r, 3, 2)["estimate"] == pytest.approx(-0.5)


def test_hand_computed_universal_base():
    r = did.att_gt(HAND, base_period="universal")
    # cohort 3, t=1 against base 2: (2-2) - mean(0-1, 2-2) = 0.5; t=2 is the reference: 0
    assert _cell(r, 3, 1)["estimate"] == pytest.approx(0.5)
    assert _cell(r, 3, 2)["estimate"] == 0.0
    assert np.isnan(_cell(r, 3, 2)["se"])


def test_hand_computed_poisson():
    r = did.att_gt(HAND, model="poisson")
    c = _cell(r, 2, 3)
    # treated 4/1 against controls (1+4)/2 / ((0+2)/2) = 2.5: ratio 1.6
    assert c["estimate"] == pytest.approx(math.log(1.6))
    assert c["ratio"] == pytest.approx(1.6)
    # level: 4 - 1 * 2.5 / 1
    assert c["level"] == pytest.approx(1.5)
    # a zero control mean in the base period has no ratio: cohort 2 t=2 base 1 has m_C,b = 1,
    # but a panel where the controls are all 0 in the base period is left out (NaN)
    z = HAND.copy()
    z.loc[z["unit"].isin(["C", "D"]) & (z["period"] == 1), "outcome"] = 0
    rz = did.att_gt(z, model="poisson")
    assert np.isnan(_cell(rz, 2, 2)["estimate"])
    assert np.isfinite(rz.att)


# --- oracles --------------------------------------------------------------------------------


def _staggered(seed=1, n=300, T=10, cohorts=(4, 6, 9), effect=1.0, poisson=False):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    coh = rng.choice([np.nan, *cohorts], n)
    c = np.repeat(coh, T)
    fe = np.repeat(rng.normal(size=n), T)
    treated = np.where(t >= c, 1.0, 0.0)
    if poisson:
        y = rng.poisson(np.exp(1 + 0.5 * fe + 0.05 * t) * np.exp(np.log(effect) * treated))
    else:
        y = rng.normal(size=n * T) + fe + 0.1 * t + effect * treated
    return pd.DataFrame({"id": ids, "t": t, "y": y.astype(float), "g": c})


def _differences(df, control, base, est_method="reg"):
    from differences import ATTgt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = ATTgt(data=df.set_index(["id", "t"]), cohort_column="g", base_period=base)
        res = att.fit(formula="y", control_group=control, progress_bar=False,
                      est_method=est_method)
    return att, res


def _flat(df):
    df = df.copy()
    df.columns = [c[-1] for c in df.columns]
    return df


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base", ["varying", "universal"])
def test_equals_differences_package(control, base):
    pytest.importorskip("differences")
    df = _staggered()
    att, ref = _differences(df, control, base)
    mine = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g", control=control,
                      base_period=base)
    theirs = _flat(ref.to_pandas()).reset_index()
    j = mine.cells.merge(theirs, left_on=["cohort", "base_period", "period"],
                         right_on=["cohort", "base_period", "time"], how="outer", indicator=True)
    assert (j["_merge"] == "both").all() and len(j) == len(theirs)
    np.testing.assert_allclose(j["estimate"], j["ATT"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(j["se"].fillna(0), j["std_error"].fillna(0), atol=1e-6, rtol=0)
    for kind, frame in (("simple", mine.simple), ("cohort", mine.group), ("event", mine.event)):
        a = _flat(ref.aggregate(kind))
        np.testing.assert_allclose(frame["estimate"], a["ATT"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(frame["se"].fillna(0), a["std_error"].fillna(0), atol=1e-6,
                                   rtol=0)
    for kind, frame in (("cohort", mine.group_overall), ("event", mine.event_overall)):
        a = _flat(ref.aggregate(kind, overall=True))
        np.testing.assert_allclose(frame["estimate"], a["ATT"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(frame["se"], a["std_error"], atol=1e-6, rtol=0)
    # the pre-trend Wald test over every pre-treatment cell (differences' wald_pre_test; its
    # public wrapper fails in version 0.3.0, so the function is called on the fitted cells)
    from differences.models.attgt.utility_ntl import wald_pre_test

    w = wald_pre_test(att._result_dict["full_sample"]["ATTgt_ntl"])
    mine_w = mine.pretrend(level="cells")
    assert mine_w["statistic"] == pytest.approx(float(w["W"]), abs=1e-5)
    assert mine_w["p_value_asymptotic"] == pytest.approx(float(w["p_value"]), abs=1e-5)


@pytest.mark.parametrize("method", ["dr", "std_ipw"])
def test_without_covariates_dr_and_ipw_are_the_same_estimator(method):
    pytest.importorskip("differences")
    df = _staggered(seed=5, n=120)
    _, ref = _differences(df, "never_treated", "varying", est_method=method)
    mine = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g")
    theirs = _flat(ref.to_pandas()).reset_index()
    np.testing.assert_allclose(mine.cells["estimate"], theirs["ATT"], atol=1e-6, rtol=0)


def test_poisson_cells_equal_ppml_with_cluster_robust_errors():
    sm = pytest.importorskip("statsmodels.api")
    df = _staggered(seed=2, n=120, T=8, cohorts=(4, 6), effect=0.8, poisson=True)
    r = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g", model="poisson")
    for g, t, b in ((4, 6, 3), (6, 3, 2), (6, 8, 5)):
        sub = df[((df["g"] == g) | df["g"].isna()) & df["t"].isin([b, t])].copy()
        sub["D"] = (sub["g"] == g).astype(float)
        sub["P"] = (sub["t"] == t).astype(float)
        sub["DP"] = sub["D"] * sub["P"]
        fit = sm.GLM(sub["y"], sm.add_constant(sub[["D", "P", "DP"]]),
                     family=sm.families.Poisson()).fit(
            cov_type="cluster", cov_kwds={"groups": sub["id"].to_numpy(),
                                          "use_correction": False})
        c = _cell(r, g, t)
        assert c["base_period"] == b
        assert c["estimate"] == pytest.approx(fit.params["DP"], abs=1e-8)
        assert c["se"] == pytest.approx(fit.bse["DP"], rel=1e-6)


def test_cluster_robust_errors_equal_ols_on_the_differences():
    sm = pytest.importorskip("statsmodels.api")
    df = _staggered(seed=3, n=200, T=6, cohorts=(4,))
    df["borough"] = df["id"] // 7  # clusters of 7 areas (the last smaller)
    r = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g", cluster="borough")
    wide = df.pivot(index="id", columns="t", values="y")
    units = df.groupby("id")[["g", "borough"]].first()
    dy = wide[6] - wide[3]
    X = sm.add_constant(units["g"].notna().astype(float).rename("D"))
    fit = sm.OLS(dy, X).fit(cov_type="cluster", cov_kwds={"groups": units["borough"].to_numpy(),
                                                           "use_correction": False})
    G = units["borough"].nunique()
    c = _cell(r, 4, 6)
    assert c["estimate"] == pytest.approx(fit.params["D"], abs=1e-10)
    assert c["se"] == pytest.approx(fit.bse["D"] * math.sqrt(G / (G - 1)), rel=1e-8)
    assert r.settings["n_clusters"] == G


def test_bootstrap_is_seeded_and_close_to_analytic():
    df = _staggered(seed=4, n=600, T=8, cohorts=(4, 6))
    kw = dict(unit="id", period="t", outcome="y", cohort="g", inference="bootstrap", n_boot=999)
    a = did.att_gt(df, **kw, seed=11)
    b = did.att_gt(df, **kw, seed=11)
    c = did.att_gt(df, **kw, seed=12)
    assert a.se == b.se and a.se != c.se
    an = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g")
    # IQR-based bootstrap SE over 999 draws: within 10% of the analytic SE
    assert a.se == pytest.approx(an.se, rel=0.1)
    ev = a.event
    assert {"cband_low", "cband_high"} <= set(ev.columns)
    crit = a.uniform_critical_value
    assert 1.96 < crit < 4  # a simultaneous band is wider than the pointwise one
    assert (ev["cband_high"] - ev["cband_low"] >= ev["ci_high"] - ev["ci_low"]).all()


def test_pretrend_test_detects_a_differential_trend():
    df = _staggered(seed=6, n=400, T=10, cohorts=(7,), effect=0.0)
    ok = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g").pretrend()
    assert ok["p_value"] > 0.01 and ok["df"] == ok["n_restrictions"] == 5
    # random draws stop once 20 statistics reach the observed one (p = 20 / draws)
    assert ok["n_draws"] < 999 and ok["p_value"] == pytest.approx(20 / ok["n_draws"])
    bad = df.copy()
    bad.loc[bad["g"].notna(), "y"] += 0.4 * bad.loc[bad["g"].notna(), "t"]
    r = did.att_gt(bad, unit="id", period="t", outcome="y", cohort="g")
    pt = r.pretrend()
    assert pt["p_value_asymptotic"] < 1e-6
    # the permutation p-value: no reassignment of the treated areas comes close
    assert pt["method"] == "permutation" and pt["n_draws"] == 999 and not pt["exhaustive"]
    assert pt["p_value"] == pytest.approx(1 / 1000)
    assert r.pretrend(max_lead=2)["n_restrictions"] == 2
    assert r.pretrend(max_lead=2)["leads"] == [-2, -1]


def test_pretrend_with_more_leads_than_areas_is_declined():
    df = _staggered(seed=7, n=8, T=30, cohorts=(25,), effect=0.0)
    df.loc[df["id"] < 4, "g"] = 25
    df.loc[df["id"] >= 4, "g"] = np.nan
    r = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g")
    pt = r.pretrend()
    assert pt["n_restrictions"] == 23 and pt["df"] < 23
    assert not pt["computed"] and np.isnan(pt["statistic"]) and np.isnan(pt["p_value"])
    assert pt["reason"] == f"not computed: singular covariance (rank {pt['df']} of 23 " \
                           "pre-treatment effects)"


def test_periods_may_be_months():
    df = _staggered(seed=8, n=60, T=6, cohorts=(3,))
    months = pd.date_range("2021-01-01", periods=6, freq="MS")
    df["t"] = months[df["t"] - 1]
    df["g"] = [months[int(g) - 1] if g == g else pd.NaT for g in df["g"]]
    r = did.att_gt(df, unit="id", period="t", outcome="y", cohort="g")
    assert r.group["cohort"].iloc[0] == pd.Timestamp("2021-03-01")
    assert set(r.event["event_time"]) == {-1, 0, 1, 2, 3}


@pytest.mark.parametrize("model", ["linear", "poisson"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base", ["varying", "universal"])
@pytest.mark.parametrize("cluster", [None, "cl"])
def test_fast_simple_estimate_equals_the_full_one(model, control, base, cluster):
    df = _staggered(seed=9, n=150, poisson=model == "poisson",
                    effect=0.8 if model == "poisson" else 1.0)
    df["cl"] = df["id"] // 5
    pa = did.panel_arrays(df, unit="id", period="t", outcome="y", cohort="g", cluster=cluster)
    full = did.estimate(pa, model=model, control=control, base_period=base)
    est, se, level = did.simple_estimate(pa, model=model, control=control, base_period=base)
    assert est == pytest.approx(full.att, abs=1e-12)
    assert se == pytest.approx(full.se, abs=1e-12)
    post = full.cells[full.cells["event_time"] >= 0]
    assert level > 0 and np.isfinite(level) and len(post)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(index=4), "not balanced"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row"),
    (lambda d: d.assign(cohort=d["cohort"].where(d["unit"] != "A", 7)), "outside the panel"),
    (lambda d: d.assign(cohort=d["cohort"].where(~d["unit"].isin(["A", "B"]), 1)),
     "no treated cohort has a pre-period"),
    (lambda d: d.assign(cohort=np.where(d.index == 0, 3, d["cohort"])), "varies"),
    (lambda d: d.assign(outcome=d["outcome"].where(d.index != 3, np.nan)), "missing 'outcome'"),
    (lambda d: d.assign(outcome=d["outcome"].astype(object).where(d.index != 3, "x")),
     "not a finite number"),
    (lambda d: d.drop(columns="cohort"), "no column 'cohort'"),
    (lambda d: d.assign(cohort=np.nan), "no unit is ever treated"),
])
def test_bad_panels_are_refused(mutate, message):
    with pytest.raises(EvaluationError, match=message):
        did.att_gt(mutate(HAND.copy()))


def test_bad_options_are_refused():
    assert issubclass(EvaluationError, VRUError)
    with pytest.raises(EvaluationError, match="unknown control"):
        did.att_gt(HAND, control="everyone")
    with pytest.raises(EvaluationError, match="never-treated"):
        did.att_gt(HAND.assign(cohort=HAND["cohort"].fillna(3)))
    with pytest.raises(EvaluationError, match="non-negative"):
        did.att_gt(HAND.assign(outcome=HAND["outcome"] - 3), model="poisson")
    with pytest.raises(EvaluationError, match="99 draws"):
        did.att_gt(HAND, inference="bootstrap", n_boot=10)


# --- simulation study -----------------------------------------------------------------------

# R replications. The coverage band 90-99% is [-4.6, +3.7] binomial SEs around 95%
# (SE = sqrt(.95 * .05 / 400) = 1.1 points); the false-positive band 2-9% is [-2.8, +3.7] SEs
# around 5%. Bias: |mean - effect| < 10% of the effect, where the Monte Carlo SE of the mean is
# about 1.6% of the effect for both models at these sizes (checked).
R = 400


def _simulate(model, effect, seed):
    rng = np.random.default_rng(seed)
    n, T = 150, 10
    coh = rng.choice([-1, 4, 7], n)  # period indices; -1 never
    est, lo, hi = [], [], []
    t = np.arange(T)
    for _ in range(R):
        fe = rng.normal(size=(n, 1))
        trend = np.cumsum(rng.normal(scale=0.3, size=T))
        post = (coh[:, None] >= 0) & (t[None, :] >= coh[:, None])
        if model == "linear":
            y = fe + trend + rng.normal(size=(n, T)) + effect * post
        else:
            mu = np.exp(1.5 + 0.5 * fe + 0.3 * trend) * np.where(post, effect, 1.0)
            y = rng.poisson(mu).astype(float)
        pa = did.PanelArrays(pd.RangeIndex(n), pd.RangeIndex(T), y, coh.copy(),
                             np.arange(n))
        r = did.estimate(pa, model=model)
        s = r.simple.iloc[0]
        est.append(s["estimate"])
        lo.append(s["ci_low"])
        hi.append(s["ci_high"])
    return np.array(est), np.array(lo), np.array(hi)


@pytest.mark.slow
@pytest.mark.parametrize("model, effect, truth", [("linear", 0.5, 0.5),
                                                  ("poisson", 0.8, math.log(0.8))])
def test_simulation_recovers_the_effect_with_valid_intervals(model, effect, truth):
    est, lo, hi = _simulate(model, effect, seed=2024)
    assert abs(est.mean() - truth) < 0.1 * abs(truth)
    cover = np.mean((lo <= truth) & (truth <= hi))
    assert 0.90 <= cover <= 0.99, cover


@pytest.mark.slow
@pytest.mark.parametrize("model, null", [("linear", 0.0), ("poisson", 1.0)])
def test_simulation_false_positive_rate_near_5_percent(model, null):
    _, lo, hi = _simulate(model, null, seed=7)
    fpr = np.mean((lo > 0) | (hi < 0))
    assert 0.02 <= fpr <= 0.09, fpr
