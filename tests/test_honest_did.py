"""Difference-in-differences that says no more than the data support: single-unit cohorts,
a singular pre-trend covariance, anticipation that leaves a cohort without a pre-period.

Hand-made panels whose answers are computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vru.analysis import did
from vru.analysis import evaluation as ev
from vru.analysis.did import EvaluationError


def _long(y: dict, cohort: dict, periods) -> pd.DataFrame:
    return pd.DataFrame([{"unit": u, "period": p, "outcome": float(v), "cohort": cohort.get(u)}
                         for u, ys in y.items() for p, v in zip(periods, ys, strict=True)])


# --- a cohort with a single treated area -------------------------------------------------------
# Two periods, A treated in period 2, B-E never treated. Changes: A +5, B +1, C -1, D +2, E -2.
# DiD(A) = 5 - mean(1, -1, 2, -2) = 5. Analytic SE: A's influence is 0 (its change equals its
# own mean), each control's is (dy - 0) / 4: SE = sqrt((1 + 1 + 4 + 4) / 16) = 0.79, far below
# the spread of the placebo estimates. Every area in turn as the treated one (5 assignments,
# enumerated): B 1 - 1 = 0, C -1 - 1.5 = -2.5, D 2 - 0.75 = 1.25, E -2 - 1.75 = -3.75, A 5.
# Placebo p = #{|est| >= 5} / 5 = 0.2; at alpha = 0.2 the critical value is the largest |est|,
# 5, so the randomisation interval is 5 +/- 5 = [0, 10].
SINGLE = pd.DataFrame({"area": list("AABBCCDDEE"), "t": [1, 2] * 5,
                       "y": [0, 5, 0, 1, 0, -1, 0, 2, 0, -2]}, dtype=object).astype(
    {"t": int, "y": float})


def test_single_unit_cohort_makes_placebo_inference_the_headline():
    r = ev.evaluate(SINGLE, {"A": 2}, unit="area", period="t", outcome="y", methods=("did",),
                    power=False, min_controls=4, alpha=0.2, n_draws=100)
    assert r.did.att == pytest.approx(5.0)
    assert r.did.se == pytest.approx(np.sqrt(10 / 16))
    pl = r.did_placebo
    assert pl["exhaustive"] and pl["n_draws"] == 5 and pl["p_value"] == pytest.approx(0.2)
    assert pl["critical_value"] == pytest.approx(5.0)
    assert (pl["ci_low"], pl["ci_high"]) == pytest.approx((0.0, 10.0))
    d = r.as_dict()["design"]
    assert d["headline_inference"] == "placebo"
    assert "single treated area" in d["headline_reason"]
    assert "randomisation interval" in r.statement and "placebo p = 0.20" in r.statement
    assert "not reliable here" in r.statement  # the analytic interval is secondary
    # the analytic interval comes after the randomisation one
    assert r.statement.index("randomisation interval") < r.statement.index("analytic 95% CI")


def test_cohorts_of_several_areas_keep_the_analytic_headline():
    df = SINGLE.copy()
    r = ev.evaluate(df, {"A": 2, "B": 2}, unit="area", period="t", outcome="y",
                    methods=("did",), power=False, min_controls=3, n_draws=100)
    assert r.design["headline_inference"] == "analytic"
    assert "(95% CI" in r.statement and "randomisation interval" not in r.statement


# --- the pre-trend test with a singular covariance ----------------------------------------------
# 3 areas, 7 periods, one treated from period 6: 4 pre-treatment event times (-4..-1; period 1
# has no base period). The treated area's influence is 0 (its change is its own cohort mean) and
# the two controls' are opposite (deviations from their mean), so the 4 x 4 covariance has rank
# 1. R's did and csdid decline the test; a pseudo-inverse would give a number.
SING = _long({"T": [1, 3, 2, 5, 4, 9, 9], "C1": [0, 1, 1, 2, 2, 2, 3],
              "C2": [2, 2, 4, 3, 5, 5, 4]}, {"T": 6}, range(1, 8))


def test_singular_pretrend_covariance_is_declined():
    pt = did.att_gt(SING).pretrend()
    assert pt["n_restrictions"] == 4 and pt["df"] == 1
    assert pt["computed"] is False
    assert np.isnan(pt["statistic"]) and np.isnan(pt["p_value"])
    assert pt["reason"] == "not computed: singular covariance (rank 1 of 4 pre-treatment effects)"
    r = ev.evaluate(SING, {"T": 6}, unit="unit", period="period", outcome="outcome",
                    methods=("did",), power=False, min_controls=2)
    assert "not computed: singular covariance (rank 1 of 4" in r.statement
    assert "parallel trends are untested" in r.statement
    assert r.as_dict()["did"]["pretrend"]["statistic"] is None


def test_full_rank_pretrend_is_still_computed():
    pt = did.att_gt(SING).pretrend(max_lead=1)  # 1 restriction, rank 1
    assert pt["computed"] is True and pt["df"] == 1 and 0 <= pt["p_value"] <= 1


# --- anticipation --------------------------------------------------------------------------------
# Periods 1-5. A treated from 2, B from 4, C, D, E never. With one period of anticipation A's base
# period would be period 0, which does not exist: A's cohort is dropped and named; B's base is
# period 2. Controls' mean: 1, 2, 3, 4, 5 (+1 each period). ATT(4, 4) = (7 - 2) - (4 - 2) = 3,
# ATT(4, 5) = (9 - 2) - (5 - 2) = 4; simple = 3.5.
ANT = _long({"A": [1, 5, 6, 7, 8], "B": [1, 2, 3, 7, 9], "C": [1, 2, 3, 4, 5],
             "D": [2, 3, 4, 5, 6], "E": [0, 1, 2, 3, 4]}, {"A": 2, "B": 4}, range(1, 6))


def test_anticipation_drops_and_names_the_cohort_without_a_pre_period():
    r = did.att_gt(ANT, anticipation=1)
    assert r.settings["dropped_cohorts"] == [{"cohort": 2, "n_units": 1}]
    assert r.n_treated == 1 and r.n_units == 4
    assert r.att == pytest.approx(3.5)
    ev_post = r.event.set_index("event_time")["estimate"]
    assert ev_post[0] == pytest.approx(3.0) and ev_post[1] == pytest.approx(4.0)


def test_anticipation_refuses_only_when_no_cohort_remains():
    with pytest.raises(EvaluationError) as e:
        did.att_gt(ANT.assign(cohort=ANT["cohort"].where(ANT["unit"] != "B")), anticipation=1)
    assert str(e.value) == ("no treated cohort has a pre-period: every cohort (2: 1 unit) starts "
                            "within the first 2 periods (anticipation of 1) of the panel, from 1")


def test_evaluate_names_the_dropped_cohort():
    r = ev.evaluate(ANT, {"A": 2, "B": 4}, unit="unit", period="period", outcome="outcome",
                    methods=("did",), power=False, min_controls=3, anticipation=1)
    assert r.design["dropped_cohorts"] == [{"cohort": "2", "areas": ["A"]}]
    assert r.design["n_treated"] == 1 and r.design["starts"] == {"B": 4}
    assert "Left out: the cohort starting 2 (A) has no pre-period" in r.statement
    assert r.did.settings["dropped_cohorts"] == [{"cohort": 2, "n_units": 1}]
    assert r.did.att == pytest.approx(3.5)


# --- the pre-trend test's headline p-value: permutation, by hand ---------------------------------
# Three periods, B treated from period 3, A, C, D never treated: one lead (event time -1, the cell
# t = 2 with base 1). Changes from period 1 to 2: A +5, B 0, C +1, D +3. The lead is
# a = dB - mean(dA, dC, dD) = 0 - 3 = -3. Influence functions: B's is 0, a control's is
# -N (d - 3) / 3, so V = psi'psi / N = N SS / 9 with SS = 4 + 4 + 0 = 8 and
# W = N a^2 / V = 9 a^2 / SS = 81 / 8 = 10.125 (chi-squared p on 1 df = 0.00146).
# Permutation: every area in turn as the treated one (4 assignments, enumerated), W = 9 a^2 / SS
#   A: a = 5 - 4/3 = 11/3, SS = 42/9   -> W = 1089/42 = 25.93
#   B: 81/8 = 10.125 (observed)
#   C: a = 1 - 8/3 = -5/3, SS = 114/9  -> W = 225/114 = 1.97
#   D: a = 3 - 2 = 1, SS = 14          -> W = 9/14 = 0.64
# p = #{W >= 10.125} / 4 = 2 / 4 = 0.5: the chi-squared test would call this a clear pre-trend,
# but one control in four gives a larger statistic when it is taken as the treated area.
PERM = _long({"A": [0, 5, 6], "B": [0, 0, 9], "C": [0, 1, 2], "D": [0, 3, 4]}, {"B": 3},
             range(1, 4))


def test_pretrend_permutation_p_value_by_hand():
    from scipy import stats

    pt = did.att_gt(PERM).pretrend()
    assert pt["leads"] == [-1] and pt["n_restrictions"] == 1 and pt["computed"]
    assert pt["statistic"] == pytest.approx(81 / 8)
    assert pt["p_value_asymptotic"] == pytest.approx(stats.chi2.sf(81 / 8, 1))
    assert pt["method"] == "permutation" and pt["exhaustive"] and pt["n_draws"] == 4
    assert pt["p_value"] == pytest.approx(0.5)
    # the same at the level of the cells (one cell here) and whatever the seed: enumerated
    assert did.att_gt(PERM).pretrend(level="cells", seed=7)["p_value"] == pytest.approx(0.5)
    # the evaluation's words use the permutation p-value, not the chi-squared one
    r = ev.evaluate(PERM, {"B": 3}, unit="unit", period="period", outcome="outcome",
                    methods=("did",), power=False, min_controls=3)
    assert r.pretrend["p_value"] == pytest.approx(0.5)
    assert "p = 0.50" in r.statement and "already moved differently" not in r.statement


# Clustered results (borough clusters of LSOAs) are not permuted: units in a cluster share
# shocks. The test is then Hotelling's small-sample F: with G clusters and k effects,
# F = W (G - k) / (k (G - 1)) on (k, G - k) degrees of freedom.
def test_clustered_pretrend_uses_the_hotelling_f():
    from scipy import stats

    rng = np.random.default_rng(3)
    T, n = 8, 24
    y = rng.normal(size=(n, T)) + rng.normal(size=(n // 2, 1)).repeat(2, axis=0)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "period": np.tile(np.arange(1, T + 1), n),
                       "outcome": y.ravel(), "cohort": np.repeat(np.where(np.arange(n) < 8, 6, np.nan), T),
                       "cl": np.repeat(np.arange(n) // 2, T)})
    r = did.att_gt(df, cluster="cl")
    pt = r.pretrend(max_lead=3)
    G, k, W = 12, 3, pt["statistic"]
    assert pt["method"] == "hotelling_f" and pt["n_restrictions"] == k and pt["computed"]
    assert pt["p_value"] == pytest.approx(stats.f.sf(W * (G - k) / (k * (G - 1)), k, G - k))
    assert pt["p_value"] > pt["p_value_asymptotic"]
    # more effects than clusters allow: declined, saying why
    few = r.pretrend(max_lead=None)
    assert few["n_restrictions"] == 4 and few["computed"]  # 4 < 12: still an F test
    df["cl"] = np.repeat(np.arange(n) // 8, T)  # 3 clusters, 4 effects
    pt3 = did.att_gt(df, cluster="cl").pretrend()
    assert not pt3["computed"] and np.isnan(pt3["p_value"])


def test_pretrend_options_are_checked():
    r = did.att_gt(PERM)
    with pytest.raises(EvaluationError, match="at least 99 draws"):
        r.pretrend(n_draws=10)
    with pytest.raises(EvaluationError, match="max_lead"):
        r.pretrend(max_lead=0)
    with pytest.raises(EvaluationError, match="'event' or 'cells'"):
        r.pretrend(level="rows")
