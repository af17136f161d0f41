"""vru.analysis.survey_weights: weighted shares against a hand computation and statsmodels; group
tables with suppression; gaps between groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from vru.analysis import survey_weights as sw


def test_weighted_share_by_hand():
    # y = 1,0,1,1 with weights 1,2,3,4: p = (1+3+4)/10 = 0.8
    # residuals .2,-.8,.2,.2; sum w^2 r^2 = .04 + 2.56 + .36 + .64 = 3.6
    # var = 4/3 * 3.6 / 10^2 = 0.048; SRS var = .8*.2/4 = 0.04 -> deff 1.2, n_eff 10/3
    r = sw.weighted_share([1, 0, 1, 1], [1, 2, 3, 4])
    assert r["n"] == 4 and r["weighted_n"] == 10
    assert r["p"] == pytest.approx(0.8)
    assert r["deff"] == pytest.approx(1.2)
    assert r["n_eff"] == pytest.approx(10 / 3)
    assert r["se"] == pytest.approx(math.sqrt(0.048))
    # Wilson on n_eff = 10/3, z = 1.959964
    z, n, p = 1.959963984540054, 10 / 3, 0.8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(centre - half), pytest.approx(centre + half))


def test_missing_outcomes_are_not_in_the_base():
    a = sw.weighted_share([1, np.nan, 0], [2.0, 100.0, 2.0])
    assert a["n"] == 2 and a["p"] == pytest.approx(0.5)


def test_equal_weights_give_the_plain_proportion():
    y = np.array([1] * 30 + [0] * 70, dtype=float)
    r = sw.weighted_share(y, np.full(100, 3.7))
    assert r["p"] == pytest.approx(0.3)
    assert r["deff"] == pytest.approx(100 / 99)  # the n/(n-1) of the linearised variance
    assert r["weighted_n"] == pytest.approx(370)


def test_degenerate_shares_use_kish_and_stay_in_range():
    r = sw.weighted_share([1, 1, 1, 1], [1, 1, 1, 5])
    # Kish deff = 4 * 28 / 64 = 1.75
    assert r["p"] == 1 and r["deff"] == pytest.approx(1.75) and r["ci_high"] == 1
    assert 0 < r["ci_low"] < 1


@pytest.mark.parametrize("bad", [[1, 2, 0, 1], [1, -1, 1, 1], [1, np.inf, 1, 1]])
def test_bad_weights(bad):
    with pytest.raises(ValueError):
        sw.weighted_share([1, 0, 1, 0], bad)


def test_outcome_must_be_binary():
    with pytest.raises(ValueError):
        sw.weighted_share([1, 2], [1, 1])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 400), st.floats(0.02, 0.98), st.floats(0.0, 1.2))
def test_against_statsmodels(seed, n, p, spread):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < p).astype(float)
    w = rng.lognormal(0, spread, n)
    r = sw.weighted_share(y, w)
    # the estimate: statsmodels' weighted mean
    assert r["p"] == pytest.approx(DescrStatsW(y, w).mean, abs=1e-12)
    if 0 < r["p"] < 1:
        # linearised variance = HC1 sandwich variance of WLS on a constant (before the deff floor)
        fit = sm.WLS(y, np.ones(n), weights=w).fit(cov_type="HC1")
        assert fit.params[0] == pytest.approx(r["p"], abs=1e-12)
        var_srs = r["p"] * (1 - r["p"]) / n
        assert r["se"] ** 2 == pytest.approx(max(fit.bse[0] ** 2, var_srs), rel=1e-9)
    # the interval: statsmodels' Wilson interval on the effective sample size
    lo, hi = proportion_confint(r["p"] * r["n_eff"], r["n_eff"], alpha=0.05, method="wilson")
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))


def micro(seed=0, n=600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eth = rng.choice(["White", "Black", "Asian", "Mixed"], n, p=[0.55, 0.2, 0.2, 0.05])
    sex = rng.choice(["female", "male"], n)
    pr = np.where(eth == "Black", 0.45, 0.7)
    return pd.DataFrame({
        "weight": rng.lognormal(0, 0.4, n),
        "ethnicity": eth,
        "sex": sex,
        "y": (rng.random(n) < pr).astype(float),
    })


def test_one_way_table():
    df = micro()
    t = sw.weighted_percentages(df, "y", "ethnicity")
    assert list(t["ethnicity"]) == ["Asian", "Black", "Mixed", "White", "All"]
    counts = df["ethnicity"].value_counts()
    assert counts["Mixed"] < 50  # so Mixed is primary; Asian (next smallest) complementary
    row = t.set_index("ethnicity")
    assert row.loc["Mixed", "suppressed"] and "primary" not in t.columns  # no flag says why
    smallest_other = counts.drop("Mixed").idxmin()
    assert row.loc[smallest_other, "suppressed"]
    assert row.loc[["Mixed", smallest_other], ["n", "p", "ci_low", "ci_high"]].isna().all().all()
    for g in ("White", "Black"):
        sub = df[df["ethnicity"] == g]
        exp = sw.weighted_share(sub["y"], sub["weight"])
        assert row.loc[g, "p"] == pytest.approx(exp["p"]) and row.loc[g, "n"] == exp["n"]
    assert row.loc["All", "p"] == pytest.approx(np.average(df["y"], weights=df["weight"]))
    assert row.loc["All", "n"] == len(df)


def test_two_way_table_and_min_n():
    df = micro(1, 2000)
    t = sw.weighted_percentages(df, "y", ["ethnicity", "sex"], min_n=50)
    assert len(t) == 5 * 3
    pub = t[~t["suppressed"]]
    assert (pub["n"] >= 50).all()
    assert t[t["n"].isna()]["suppressed"].all()
    cell = pub[(pub["ethnicity"] == "White") & (pub["sex"] == "male")].iloc[0]
    sub = df[(df["ethnicity"] == "White") & (df["sex"] == "male")]
    assert cell["p"] == pytest.approx(np.average(sub["y"], weights=sub["weight"]))
    margin = t[(t["ethnicity"] == "All") & (t["sex"] == "female")].iloc[0]
    assert margin["n"] == (df["sex"] == "female").sum()
    # a stricter minimum hides more
    t2 = sw.weighted_percentages(df, "y", ["ethnicity", "sex"], min_n=200)
    assert t2["suppressed"].sum() > t["suppressed"].sum()
    assert (t2.loc[~t2["suppressed"], "n"] >= 200).all()


def test_reserved_group_names_and_three_way_refused():
    df = micro()
    with pytest.raises(ValueError):
        sw.weighted_percentages(df.assign(ethnicity="All"), "y", "ethnicity")
    with pytest.raises(ValueError):
        sw.weighted_percentages(df.assign(a=1, b=2), "y", ["ethnicity", "sex", "a"])


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 400), st.sampled_from([10, 50]))
def test_group_tables_publish_no_recoverable_small_count(seed, n, min_n):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"g": rng.choice(list("abcde"), n, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
                       "y": (rng.random(n) < 0.5).astype(float), "weight": rng.random(n) + 0.1})
    t = sw.weighted_percentages(df, "y", "g", min_n=min_n)
    counts = df["g"].value_counts()
    hidden = t[t["suppressed"]]
    assert (t.loc[~t["suppressed"], "n"] >= min_n).all()
    for g, k in counts.items():
        if k < min_n:
            assert g in set(hidden["g"])
    # one line (groups + total): zero or at least two hidden, and never exactly determinable
    assert len(hidden) != 1


def test_gaps_match_newcombe_in_statsmodels():
    df = micro(2, 3000)
    t = sw.weighted_percentages(df, "y", "ethnicity")
    g = sw.gaps(t, "ethnicity", [("Black", "White")]).iloc[0]
    row = t.set_index("ethnicity")
    assert g["gap"] == pytest.approx(row.loc["Black", "p"] - row.loc["White", "p"])
    nb, nw = row.loc["Black", "n_eff"], row.loc["White", "n_eff"]
    lo, hi = confint_proportions_2indep(row.loc["Black", "p"] * nb, nb, row.loc["White", "p"] * nw,
                                        nw, method="newcomb", compare="diff")
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert g["label"] == "White higher"  # simulated 0.45 vs 0.70 on 600+ respondents


def test_gap_within_noise_makes_no_claim():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"sex": np.repeat(["female", "male"], n // 2),
                       "y": (rng.random(n) < 0.6).astype(float), "weight": np.ones(n)})
    # force identical shares in both groups
    df.loc[df["sex"] == "male", "y"] = df.loc[df["sex"] == "female", "y"].to_numpy()
    t = sw.weighted_percentages(df, "y", "sex")
    g = sw.gaps(t, "sex", [("female", "male")]).iloc[0]
    assert g["gap"] == 0 and g["label"] == "no significant difference"
    assert g["ci_low"] < 0 < g["ci_high"]


def test_gap_with_a_suppressed_group_is_not_published():
    df = micro()
    t = sw.weighted_percentages(df, "y", "ethnicity")
    g = sw.gaps(t, "ethnicity", [("Mixed", "White")]).iloc[0]
    assert np.isnan(g["gap"]) and g["label"].startswith("suppressed")


def test_gaps_within_a_two_way_table():
    df = micro(3, 4000)
    t = sw.weighted_percentages(df, "y", ["sex", "ethnicity"])
    g = sw.gaps(t, "ethnicity", [("Black", "White")], within="sex")
    assert set(g["sex"]) == {"female", "male", "All"}
    assert (g["gap"] < 0).all()


def test_indicator():
    a = pd.Series(["strongly agree", "tend to agree", "don't know", None, "strongly disagree"])
    pos = ["strongly agree", "tend to agree"]
    assert sw.indicator(a, pos).tolist()[:3] == [1.0, 1.0, 0.0]
    assert np.isnan(sw.indicator(a, pos).iloc[3])
    assert np.isnan(sw.indicator(a, pos, excluded=["don't know"]).iloc[2])
