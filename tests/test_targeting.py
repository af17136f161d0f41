"""Targeting: sustained-violence fallback, aggregation, clusters, scoring, selection, budget
allocation (hand-computed cases and hypothesis properties), sensitivity, MyEnds comparison."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vru.analysis import targeting as t
from vru.geography import MYENDS_BOROUGHS
from vru.pipelines import targeting as pt


def area_frame():
    return pd.DataFrame(
        {"borough": ["B1", "B1", "B2", "B2"], "population": [1000, 1500, 2000, 1000],
         "youth": [200, 300, 500, 100], "violence": [10, 30, 5, 2], "imd": [30.0, 40, 20, 10]},
        index=pd.Index(["l1", "l2", "l3", "l4"], name="area"))


# --- sustained violence -----------------------------------------------------------------------


def test_years_in_top_decile_hand_computed():
    # 10 areas, 3 years: the top decile is the single highest area each year (ceil(0.1 x 10) = 1)
    rates = pd.DataFrame({2019: np.arange(10.0), 2020: np.arange(10.0)[::-1],
                          2021: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9.0]}, index=[f"a{i}" for i in range(10)])
    s = t.years_in_top_decile(rates)
    assert s["a9"] == pytest.approx(2 / 3) and s["a0"] == pytest.approx(1 / 3)
    assert s.drop(["a0", "a9"]).eq(0).all()
    # a tie with the last member of the top decile is included; missing years are skipped:
    # a8 ties a9 in 2019 and is the highest in 2021 once a9 has no value (2 of 3 years);
    # a9 is top in 2019 of its 2 years with a value
    rates.loc["a8", 2019] = 9.0
    rates.loc["a9", 2021] = np.nan
    s = t.years_in_top_decile(rates)
    assert s["a8"] == pytest.approx(2 / 3) and s["a9"] == pytest.approx(1 / 2)
    with pytest.raises(ValueError):
        t.years_in_top_decile(rates, share=1.5)


def test_sustained_from_bins():
    bins = pd.DataFrame([[1, 1, 0, -1], [0, 0, 0, 0], [np.nan] * 4], index=["a", "b", "c"])
    s = t.sustained_from_bins(bins)
    assert s["a"] == 0.5 and s["b"] == 0 and np.isnan(s["c"])


# --- candidates -------------------------------------------------------------------------------


def test_aggregate_hand_computed():
    fr = area_frame().assign(sustained=[1.0, 0.0, 0.5, 0.5])
    mem = pd.DataFrame({"group": ["w1", "w1", "w2", "w2"], "area": ["l1", "l2", "l3", "l4"]})
    g = t.aggregate(fr, mem)
    assert g.loc["w1", ["population", "youth", "violence"]].tolist() == [2500, 500, 40]
    assert g.loc["w1", "imd"] == pytest.approx((30 * 1000 + 40 * 1500) / 2500)  # 36
    assert g.loc["w1", "sustained"] == pytest.approx(1000 / 2500)
    assert g.loc["w2", "borough"] == "B2" and g.loc["w2", "members"] == ("l3", "l4")
    with pytest.raises(ValueError, match="more than one borough"):
        t.aggregate(fr, pd.DataFrame({"group": ["x", "x"], "area": ["l2", "l3"]}))
    with pytest.raises(ValueError, match="unknown areas"):
        t.aggregate(fr, pd.DataFrame({"group": ["x"], "area": ["l9"]}))


def test_grow_clusters_hand_computed():
    fr = area_frame()
    nb = pd.DataFrame({"focal": ["l1", "l2", "l3", "l4", "l2", "l3"],
                       "neighbor": ["l2", "l1", "l4", "l3", "l3", "l2"]})
    m = t.grow_clusters(fr, nb, pd.Series([1, 2, 3, 4.0], index=fr.index),
                        target_population=2000)
    got = {g: sorted(d["area"]) for g, d in m.groupby("group")}
    # l1 -> + l2 (its only same-borough neighbour; l2-l3 crosses boroughs); l2's cluster is the
    # same set and is dropped; l3 already has 2,000 residents; l4 -> + l3
    assert got == {"C:l1": ["l1", "l2"], "C:l3": ["l3"], "C:l4": ["l3", "l4"]}
    m1 = t.grow_clusters(fr, nb, pd.Series([1, 2, 3, 4.0], index=fr.index), max_lsoas=1)
    assert len(m1) == 4


def _grid(side, boroughs=4, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"g{r:02d}{c:02d}" for r in range(side) for c in range(side)]
    fr = pd.DataFrame({
        "borough": [f"B{(r * boroughs) // side}" for r in range(side) for c in range(side)],
        "population": rng.integers(1000, 2500, side * side),
        "youth": rng.integers(100, 600, side * side),
        "violence": rng.poisson(20, side * side),
        "imd": rng.uniform(5, 50, side * side)}, index=ids)
    edges = []
    for r in range(side):
        for c in range(side):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= r + dr < side and 0 <= c + dc < side:
                    edges.append((f"g{r:02d}{c:02d}", f"g{r + dr:02d}{c + dc:02d}"))
    nb = pd.DataFrame(edges, columns=["focal", "neighbor"])
    return fr, nb


def test_clusters_are_contiguous_within_one_borough_and_bounded():
    fr, nb = _grid(12)
    sc = pd.Series(np.random.default_rng(1).normal(size=len(fr)), index=fr.index)
    m = t.grow_clusters(fr, nb, sc, max_lsoas=5, target_population=6000)
    adj = nb.groupby("focal")["neighbor"].apply(set).to_dict()
    for _, g in m.groupby("group"):
        mem = set(g["area"])
        assert 1 <= len(mem) <= 5
        assert fr.loc[list(mem), "borough"].nunique() == 1
        start = next(iter(mem))  # connected: a search from one member reaches all
        seen, todo = {start}, [start]
        while todo:
            for n in adj.get(todo.pop(), ()):
                if n in mem and n not in seen:
                    seen.add(n)
                    todo.append(n)
        assert seen == mem
        pop = fr.loc[list(mem), "population"].sum()
        if len(mem) < 5 and pop < 6000:  # stopped early: no same-borough neighbour left outside
            b = fr.loc[start, "borough"]
            outside = {n for a in mem for n in adj.get(a, ()) if n not in mem}
            assert all(fr.loc[n, "borough"] != b for n in outside)
        # grew one LSOA too many never: dropping the last-added one would leave a limit unmet
        assert len(mem) <= 5 and pop - fr.loc[list(mem), "population"].max() < 6000
    assert not m.groupby("group")["area"].apply(lambda s: tuple(sorted(s))).duplicated().any()


def test_features_and_fallback():
    fr = area_frame()
    rates = pd.DataFrame({2019: [1, 2, 3, 40.0], 2021: [50, 2, 3, 4.0]}, index=fr.index)
    f = t.features(fr, rates=rates)  # no score given: the top-decile fallback of the rates
    assert f["sustained"].tolist() == [0.5, 0, 0, 0.5]  # ceil(0.1 x 4) = 1 area per year
    assert f["sustained"].equals(t.years_in_top_decile(rates).reindex(fr.index))
    assert f.loc["l2", "harm"] == pytest.approx(20.0)  # 30 offences / 1,500 residents x 1,000
    assert f.loc["l3", "youth"] == pytest.approx(0.25)
    assert t.features(fr, rates=rates, youth="count").loc["l3", "youth"] == 500
    given = t.features(fr, sustained=pd.Series([0.1, 0.2, 0.3, 0.4], index=fr.index))
    assert given.loc["l4", "sustained"] == 0.4
    # a given score wins over the frame's column and the rates
    both = t.features(fr.assign(sustained=0.9), rates=rates, sustained=pd.Series(0.2, index=fr.index))
    assert (both["sustained"] == 0.2).all()
    assert (t.features(fr.assign(sustained=0.9), rates=rates)["sustained"] == 0.9).all()
    with pytest.raises(ValueError, match="no sustained"):
        t.features(fr)


# --- scoring ----------------------------------------------------------------------------------


def test_standardise_hand_computed():
    x = pd.Series([1, 2, 3, 4, 5.0], name="x")
    z = t.standardise(x, None)  # mean 3, population SD sqrt(2)
    assert z.tolist() == pytest.approx([(v - 3) / math.sqrt(2) for v in [1, 2, 3, 4, 5]])
    # winsorised at the 25th/75th percentiles (2 and 4): 2, 2, 3, 4, 4 -> mean 3, SD sqrt(0.8)
    zw = t.standardise(x, (0.25, 0.75))
    assert zw.tolist() == pytest.approx([v / math.sqrt(0.8) for v in [-1, -1, 0, 1, 1]])
    assert t.standardise(pd.Series([2.0, 2, 2])).eq(0).all()
    with pytest.raises(ValueError, match="missing"):
        t.standardise(pd.Series([1.0, np.nan]))


def test_score_hand_computed():
    f = pd.DataFrame({"sustained": [0, 1.0], "harm": [1, 3.0], "deprivation": [5, 5.0],
                      "youth": [0.2, 0.1]}, index=["a", "b"])
    # two areas: every non-constant component standardises to -1 / +1; deprivation is constant
    s = t.score(f, {"sustained": 2, "harm": 1, "deprivation": 1}, winsor=None)
    assert s["z_sustained"].tolist() == pytest.approx([-1, 1])
    assert s["z_youth"].tolist() == pytest.approx([1, -1])
    assert s["score"].tolist() == pytest.approx([-0.75, 0.75])  # (2 x +-1 + 1 x +-1) / 4
    with pytest.raises(ValueError, match="unknown score components"):
        t.score(f, {"violence": 1})
    with pytest.raises(ValueError, match="non-negative"):
        t.score(f, {"harm": -1})


# --- selection --------------------------------------------------------------------------------


def _feats(scores, boroughs, pops):
    ids = [f"a{i}" for i in range(len(scores))]
    f = pd.DataFrame({"borough": boroughs, "population": pops}, index=ids)
    return f, pd.Series(scores, index=ids, dtype=float)


def test_select_hand_computed():
    f, s = _feats([9, 8, 7, 6, 5, 4], ["X", "X", "Y", "Z", "Z", "W"], [100, 100, 50, 100, 100, 100])
    sel = t.select(f, s, 3, min_population=80)
    pick = sel.table
    # a0 (X); a1 same borough; a2 too small; a3 (Z); a4 same borough; a5 (W)
    assert list(pick.index) == ["a0", "a3", "a5"] and list(pick["rank"]) == [1, 2, 3]
    assert sel.exact and not pick.attrs
    two = t.select(f, s, 3, max_per_borough=2)
    assert list(two.table.index) == ["a0", "a1", "a2"] and not two.exact
    with pytest.raises(t.InfeasibleError, match="cannot choose 4 areas"):
        t.select(f, s, 4, min_population=80)


def test_select_skips_overlapping_clusters():
    f, s = _feats([9, 8, 7], ["X", "X", "X"], [1, 1, 1])
    f["members"] = [("l1", "l2"), ("l2", "l3"), ("l4",)]
    sel = t.select(f, s, 2, max_per_borough=2)
    assert list(sel.table.index) == ["a0", "a2"] and not sel.exact


@pytest.mark.slow
def test_greedy_selection_is_optimal_with_one_per_borough():
    rng = np.random.default_rng(5)
    for _ in range(120):
        m = int(rng.integers(3, 9))
        f, s = _feats(rng.normal(size=m), rng.choice(list("ABCD"), m), rng.integers(50, 150, m))
        n = int(rng.integers(1, 4))
        best = None
        for comb in itertools.combinations(f.index, n):
            sub = f.loc[list(comb)]
            if sub["borough"].duplicated().any() or (sub["population"] < 100).any():
                continue
            v = s[list(comb)].sum()
            best = v if best is None or v > best else best
        if best is None:
            with pytest.raises(t.InfeasibleError):
                t.select(f, s, n, min_population=100)
        else:
            assert t.select(f, s, n, min_population=100).table["score"].sum() == pytest.approx(best)


# --- allocation -------------------------------------------------------------------------------


def test_allocate_hand_computed():
    need = pd.Series([10, 5, 1, 1, 1.0], index=list("abcde"))
    # GBP 9m over 3 years, cap GBP 1m per area per year: GBP 3m a year.
    # In proportion: a = 10/18 x 3m = 1.67m > cap -> a = 1m; the other 2m over need 8: b = 1.25m
    # > cap -> b = 1m; the last 1m over need 3: 333,333.33 each; largest remainder gives the
    # odd penny to c (equal remainders: the first).
    a = t.allocate(need, 900_000_000, 100_000_000)
    year = [100_000_000, 100_000_000, 33_333_334, 33_333_333, 33_333_333]
    for y in ("year 1", "year 2", "year 3"):
        assert a[y].tolist() == year
    assert a["total"].sum() == 900_000_000 and a.drop(columns="total").sum().tolist() == [3e8] * 3


def test_allocate_year_shares_largest_remainder():
    a = t.allocate(pd.Series([1.0, 1.0]), 1_000_001, 1_000_000, years=3,
                   year_shares=[0.2, 0.3, 0.5])
    # 200,000.2 / 300,000.3 / 500,000.5 -> floors sum to 1,000,000; the penny goes to year 3
    assert a.drop(columns="total").sum().tolist() == [200_000, 300_000, 500_001]
    assert a["year 3"].tolist() == [250_001, 250_000]


def test_allocate_refuses_infeasible_and_bad_input():
    need = pd.Series([1.0, 2.0, 3.0])
    with pytest.raises(t.InfeasibleError, match="exceeds 3 areas x cap"):
        t.allocate(need, 900_000_000, 99_999_999)  # 3 x 99,999,999 < 300,000,000 a year
    t.allocate(need, 900_000_000, 100_000_000)  # exactly enough: every area at its cap
    with pytest.raises(ValueError, match="whole number of pence"):
        t.allocate(need, 9e8, 100_000_000)
    with pytest.raises(ValueError, match="positive"):
        t.allocate(pd.Series([1.0, 0.0]), 100, 100)
    with pytest.raises(ValueError, match="no areas"):
        t.allocate(pd.Series([], dtype=float), 100, 100)
    with pytest.raises(ValueError, match="year shares"):
        t.allocate(need, 100, 100, years=2, year_shares=[1, 1, 1])
    # past 2**53 the shares lose whole pence (and int64 overflows): refused, not rounded forever
    with pytest.raises(ValueError, match="at most 9,007,199,254,740,992"):
        t.largest_remainder([1, 1, 1], 10**19)
    with pytest.raises(ValueError, match="at most 9,007,199,254,740,992 pence"):
        t.allocate(need, 10**19, 10**19)
    assert t.largest_remainder([1, 1, 1], 2**53).sum() == 2**53


@settings(max_examples=300, deadline=None)
@given(
    need=st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=1,
                  max_size=25),
    budget=st.integers(min_value=0, max_value=10**11),
    years=st.integers(min_value=1, max_value=5),
    slack=st.floats(min_value=1.0, max_value=5.0),
)
@pytest.mark.slow
def test_allocation_properties(need, budget, years, slack):
    nd = pd.Series(need)
    per_year = t.largest_remainder([1.0] * years, budget)
    cap = max(1, math.ceil(per_year.max() / len(nd) * slack))
    a = t.allocate(nd, budget, cap, years=years)
    cells = a.drop(columns="total")
    assert int(a["total"].sum()) == budget  # exact to the penny
    assert cells.sum().tolist() == per_year.tolist()
    assert (cells.to_numpy() <= cap).all() and (cells.to_numpy() >= 0).all()
    # proportional to need among the areas below the cap (within a penny of the exact share)
    for y in cells.columns:
        v = cells[y].to_numpy()
        free = v < cap
        if free.sum() >= 2 and per_year[0] > 0:
            exact = t.water_fill(nd.to_numpy(), float(cells[y].sum()), float(cap))
            assert np.abs(v - exact).max() < 1.0 + 1e-6


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=1, max_value=10), budget=st.integers(min_value=1, max_value=10**10))
def test_allocation_infeasible_when_caps_too_low(n, budget):
    cap = (budget // 3) // n  # per-year budget >= budget // 3 > n x cap unless it divides exactly
    per_year = t.largest_remainder([1.0] * 3, budget)
    if per_year.max() > cap * n:
        with pytest.raises(t.InfeasibleError):
            t.allocate(pd.Series(np.ones(n)), budget, cap)


# --- sensitivity ------------------------------------------------------------------------------


def test_dirichlet_weights_centred_on_defaults():
    w = t.dirichlet_weights(draws=4000, concentration=20, seed=3)
    assert w.sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert w.mean().to_dict() == pytest.approx(t.DEFAULT_WEIGHTS, abs=0.01)
    # SD of a Dirichlet component: sqrt(w (1 - w) / (c + 1)) = sqrt(0.35 x 0.65 / 21) = 0.104
    assert w["sustained"].std() == pytest.approx(math.sqrt(0.35 * 0.65 / 21), abs=0.006)
    assert (t.dirichlet_weights({"harm": 1}, draws=5)["harm"] == 1).all()


def _random_targets(seed, m=60):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"sustained": rng.uniform(0, 1, m), "harm": rng.gamma(2, 10, m),
                      "deprivation": rng.uniform(5, 50, m), "youth": rng.uniform(0.1, 0.4, m),
                      "population": rng.integers(800, 3000, m),
                      "borough": rng.choice([f"B{i}" for i in range(9)], m)},
                     index=[f"a{i:02d}" for i in range(m)])
    return f, t.score(f)


@pytest.mark.slow
def test_sensitivity_fast_path_equals_greedy_per_draw():
    f, z = _random_targets(8)
    fast = t.sensitivity(z, f, 4, draws=150, seed=2, min_population=1000)
    wd = t.dirichlet_weights(draws=150, seed=2)
    counts = pd.Series(0, index=f.index)
    for i in range(150):
        s = pd.Series(z[[f"z_{c}" for c in t.COMPONENTS]].to_numpy() @ wd.iloc[i].to_numpy(),
                      index=f.index)
        counts[t.select(f, s, 4, min_population=1000).table.index] += 1
    expect = counts[counts > 0] / 150
    assert fast["candidates"].sort_index().to_dict() == pytest.approx(expect.sort_index().to_dict())
    assert fast["boroughs"].sum() == pytest.approx(4.0)  # 4 boroughs chosen in every draw


def test_sensitivity_is_seeded_and_collapses_to_defaults():
    f, z = _random_targets(9)
    a = t.sensitivity(z, f, 3, draws=50, seed=1)
    b = t.sensitivity(z, f, 3, draws=50, seed=1)
    assert a["candidates"].equals(b["candidates"])
    tight = t.sensitivity(z, f, 3, draws=50, seed=1, concentration=1e7)
    default = t.select(f, z["score"], 3).table
    assert set(tight["candidates"].index) == set(default.index)
    assert (tight["candidates"] == 1.0).all()


# --- comparison with MyEnds -------------------------------------------------------------------


def test_myends_codes():
    from vru.geography import borough_name

    assert [borough_name(c) for c in MYENDS_BOROUGHS] == [
        "Brent", "Croydon", "Hackney", "Haringey", "Lambeth", "Newham", "Southwark",
        "Tower Hamlets"]


def test_compare_boroughs_hand_computed():
    f, s = _feats([5, 4, 3, 2, 1, 0], ["A", "B", "C", "D", "E", "F"], [1] * 6)
    z = pd.DataFrame({f"z_{c}": [5, 4, 3, 2, 1, 0.0] for c in t.COMPONENTS}, index=f.index)
    z["score"] = s
    comp = t.compare_boroughs(["A", "B", "C"], ["B", "C", "D"], f, z)
    assert comp.agree == 2 and comp.n_boroughs == 6
    # P(K >= 2), K ~ hypergeometric(6 boroughs, 3 reference, 3 drawn) = (9 + 1) / 20
    assert comp.p_exact == pytest.approx(0.5)
    c = comp.table
    assert not c.attrs
    assert c.loc["D", "rank"] == 4 and c.loc["D", "best"] == "a3"
    assert t.explain(c.loc["D"], c[c["chosen"]]).startswith("not chosen: its best area ranks 4")
    assert t.explain(c.loc["A"], c[c["chosen"]]).startswith("chosen (rank 1)")
    # the parts as data: the equal weights make every component tie, so the first one is named
    assert t.separating(c.loc["D"], c[c["chosen"]]) == ("sustained", 2.0, 4.0)
    assert t.explanation(False, 4, "sustained", 2.0, 4.0) == (
        "not chosen: its best area ranks 4 of the boroughs' best; furthest behind on sustained "
        "(z = 2.00 vs shortlist mean 4.00)")


def test_member_coverage():
    f = pd.DataFrame({"borough": ["A", "A", "B"], "population": [1, 1, 1],
                      "members": [("l1", "l2"), ("l2", "l3"), ("l4",)]}, index=["c1", "c2", "c3"])
    picks = np.array([[0, 2], [1, 2]])  # draw 1 chooses c1 and c3, draw 2 chooses c2 and c3
    cov = t.member_coverage(picks, f, ["c1", "c3"])
    # c1's LSOAs: both covered in draw 1, l2 only in draw 2 -> (1 + 0.5) / 2
    assert cov["c1"] == pytest.approx(0.75) and cov["c3"] == 1.0


# --- the formats the section adds to vru.format ------------------------------------------------


def test_pounds_and_decimal_formats():
    from vru import format as fmt

    assert fmt.pounds(900_000_000) == "£9,000,000.00" and fmt.pounds(5) == "£0.05"
    assert fmt.pounds(123_456_789) == "£1,234,567.89" and fmt.pounds(-150) == "-£1.50"
    assert fmt.pounds(np.int64(50_000_000)) == "£500,000.00" and fmt.pounds(None) == fmt.DASH
    assert fmt.decimal(7973.3934) == "7,973.4" and fmt.decimal(86.155818, 2) == "86.16"
    assert fmt.decimal(float("nan")) == fmt.DASH
    assert fmt.FILTERS["pounds"] is fmt.pounds and fmt.FILTERS["decimal"] is fmt.decimal


# --- the pipeline: parameters -----------------------------------------------------------------


def test_target_params_are_frozen_and_validated():
    import dataclasses

    from vru.pipelines.base import ParamsError
    from vru.pipelines.targeting import TargetParams

    p = TargetParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n = 3
    assert hash(p) == hash(TargetParams())  # weights and categories are tuples
    with pytest.raises(ParamsError, match="unknown parameter 'areas'"):
        TargetParams.of(areas=3)
    for field, bad, words in [("level", "msoa", "level must be one of lsoa, ward, cluster"),
                              ("n", 0, "n must be at least 1"), ("n", 2.5, "n must be a whole"),
                              ("n", True, "n must be a whole"),
                              ("budget_pence", -1, "budget_pence must be at least 0"),
                              ("cap_pence", 1.5, "cap_pence must be a whole"),
                              ("sustained", "hot", "sustained must be one of"),
                              ("youth", "old", "youth must be one of"),
                              ("weighting", "severity", "weighting must be one of"),
                              ("weights", {"violence": 1}, "weights: unknown score components"),
                              ("weights", {"harm": -1}, "weights: weights must be non-negative"),
                              ("weights", 3, "weights must map components"),
                              ("weights", "harm", "weights must map components"),
                              ("weights", {"harm": "1"}, "weights must map components"),
                              ("weights", (("harm",),), "weights must map components"),
                              ("categories", "robbery,jaywalking", "categories: unknown harmonised category"),
                              ("categories", (), "categories: no crime category given"),
                              ("categories", "robbery,robbery", "categories: 'robbery' is given twice"),
                              ("categories", "violence_against_the_person,violence_with_injury",
                               "categories overlap: 'violence_with_injury' is part of"),
                              ("categories", 3, "categories: crime category codes are needed"),
                              ("budget_pence", 10**19, "budget_pence must be at most 1,000,000,000,000"),
                              ("cap_pence", 10**13, "cap_pence must be at most"),
                              ("years", 10**8, "years must be at most 100,"),
                              ("draws", 10**9, "draws must be at most 100,000,"),
                              ("weighting", "chi", "chi_file: weighting 'chi' needs"),
                              ("chi_file", 3, "chi_file: the path of a CSV file"),
                              ("concentration", 0, "concentration must be a positive"),
                              ("seed", -1, "seed must be at least 0"),
                              ("min_population", -5, "min_population must be at least 0")]:
        with pytest.raises(ParamsError, match=words):
            TargetParams.of(**{field: bad})
    q = TargetParams.of(p, level="ward", categories="robbery, possession_of_weapons",
                        weights={"harm": 1, "youth": 1}, n=None)
    assert q.n == 8 and q.categories == ("robbery", "possession_of_weapons")
    assert q.weights == (("harm", 1), ("youth", 1)) and q.weight_map() == {"harm": 1, "youth": 1}
    assert q.min_pop() == 5_000 and p.of(level="lsoa").min_pop() == 1_000
    d = q.as_dict()
    assert d["weights"] == {"harm": 1, "youth": 1} and d["min_population"] == 5_000
    assert d["categories"] == ["robbery", "possession_of_weapons"]


# --- the pipeline and the section on the real bundled data ------------------------------------


@pytest.fixture(scope="module")
def default_run_steps(wh):
    """The default run and the ``(stage, total)`` it reported to its progress callback."""
    from vru.pipelines import targeting as pt

    steps: list[tuple[str, int]] = []
    result = pt.run(wh, pt.TargetParams(draws=300),
                    progress=lambda stage, total: steps.append((stage, total)))
    return result, steps


@pytest.fixture(scope="module")
def default_run(default_run_steps):
    return default_run_steps[0]


def test_run_reports_each_stage_in_order(default_run_steps):
    from vru.pipelines import targeting as pt

    assert pt.STAGES == ("LSOA data", "sustained violence", "candidates", "names", "selection",
                         "allocation", "sensitivity")
    assert default_run_steps[1] == [(stage, 7) for stage in pt.STAGES]


def test_lsoa_inputs_real(wh):
    from vru.pipelines import targeting as pt

    inp = pt.lsoa_inputs(wh)
    # mps_crime_lsoa_annual/SOURCE.md: 4,829 LSOAs (London's 4,835 less the City's 6),
    # 2011-2021 with 2020 wrong (stored as missing, so left out)
    assert len(inp.frame) == 4829 and 2020 not in inp.years
    assert inp.years[0] == 2011 and inp.years[-1] == 2021 and len(inp.years) == 10
    assert inp.harm_years == [2018, 2019, 2021]
    assert (inp.frame["youth"] < inp.frame["population"]).all()
    # the harm weight of each category (ONS CSS, vru.analysis.harm)
    assert list(inp.harm_weights.index) == sorted(pt.VIOLENCE)
    from vru.analysis import harm
    from vru.data import harm_tables

    css = harm.category_weights("css", tables=harm_tables.bundled())["weight"]
    assert inp.harm_weights.to_dict() == pytest.approx(css.reindex(inp.harm_weights.index).to_dict())


def test_default_targeting_on_real_data(wh, default_run):
    from vru.model.weights import SpatialWeights

    r = default_run
    sl = r.shortlist
    assert len(sl) == 8 and sl["borough"].is_unique and (sl["population"] >= 5000).all()
    assert r.exact and list(sl["rank"]) == list(range(1, 9))
    assert sl["score"].is_monotonic_decreasing
    # the best candidate overall is ranked first
    assert sl.index[0] == r.candidates.loc[r.candidates["population"] >= 5000, "score"].idxmax()
    # every chosen cluster is contiguous and within its borough
    geo = r.inputs.geometry
    adj = {a: set(n) for a, n in SpatialWeights.from_geodataframe(geo, "queen").neighbours().items()}
    for c, mem in sl["members"].items():
        mem = set(mem)
        assert 1 <= len(mem) <= 8
        assert set(r.inputs.frame.loc[list(mem), "borough"]) == {sl.at[c, "borough"]}
        seen, todo = {next(iter(mem))}, [next(iter(mem))]
        while todo:
            for n in adj.get(todo.pop(), ()):
                if n in mem and n not in seen:
                    seen.add(n)
                    todo.append(n)
        assert seen == mem, c
    a = r.allocation
    assert int(a["total"].sum()) == 900_000_000
    assert a.drop(columns="total").sum().tolist() == [300_000_000] * 3
    assert (a.drop(columns="total").to_numpy() <= 50_000_000).all()
    comp = r.comparison
    assert comp.agree == len(set(sl["borough"]) & set(MYENDS_BOROUGHS))
    assert comp.table["chosen"].sum() == 8 and comp.table["reference"].sum() == 8
    assert len(comp.table) == 32 == comp.n_boroughs  # every MPS borough has an eligible cluster
    assert (r.sensitivity["boroughs"] <= 1).all()
    assert r.sensitivity["boroughs"].sum() == pytest.approx(8.0)
    # the map's shapes: one per chosen area, numbered by rank; the 32 London boroughs' outlines
    assert sorted(r.shapes.index) == sorted(sl.index)
    assert sorted(r.shapes["rank"].astype(int)) == list(range(1, 9))
    assert len(r.boroughs) == 33 and r.boroughs["code"].str.startswith("E09").all()
    assert r.sustained.method == "emerging" and len(r.sustained.patterns) == 4
    assert not any(df.attrs for df in (r.candidates, sl, a, comp.table))
    # the comparison holds the separating component as data; the phrase is made when presented
    assert "explanation" not in comp.table.columns
    assert set(comp.table["component"]) <= set(t.COMPONENTS)
    chosen = comp.table[comp.table["chosen"]]
    for b, row in comp.table.iterrows():
        assert pt.why(row) == t.explain(row, chosen, r.params.weight_map()), b
    rob = r.robustness
    assert rob.weights == t.normalise_weights(r.params.weight_map())
    assert rob.weight_sd == pytest.approx(100 * (0.25 * 0.75 / 21) ** 0.5)
    assert rob.chosen_once == len(r.sensitivity["candidates"]) and 0 <= rob.stable <= rob.covered <= 8
    assert rob.myends_stability == pytest.approx(
        comp.table.loc[comp.table["reference"], "stability"].mean())


def test_run_leaves_the_analysis_results_as_they_were_made(wh, monkeypatch):
    """run() builds new objects for what it adds (the comparison's columns, the coverage), and the
    section's words agree in number with one area and one year."""
    from vru.outputs.sections import targeting as presenter

    made = {}

    def keep(name, f):
        def wrapped(*a, **k):
            made[name] = f(*a, **k)
            return made[name]
        monkeypatch.setattr(t, name, wrapped)

    keep("sensitivity", t.sensitivity)
    keep("compare_boroughs", t.compare_boroughs)
    r = pt.run(wh, pt.TargetParams(n=1, years=1, budget_pence=40_000_000, draws=20))
    assert "coverage" not in made["sensitivity"] and "coverage" in r.sensitivity
    assert list(made["compare_boroughs"].table.columns) == [
        c for c in r.comparison.table.columns if c not in ("component", "z", "mean_z", "stability")]
    body = presenter.present(r).body
    assert "over 1 year in equal yearly amounts" in body and "over 1 years" not in body
    assert "The chosen area" in body and "The 1 chosen areas" not in body
    assert "of the 1 chosen area is chosen again" in body and "concentration 20," in body


def test_result_as_dict_is_json(default_run):
    import json

    d = json.loads(json.dumps(default_run.as_dict()))
    assert list(d) == ["parameters", "sustained_violence", "candidates", "greedy_is_exact",
                       "shortlist", "allocation_total_pence", "allocation_by_year_pence",
                       "sensitivity", "myends"]
    assert d["parameters"]["draws"] == 300 and d["parameters"]["min_population"] == 5000
    assert d["parameters"]["weights"] == t.DEFAULT_WEIGHTS
    assert d["greedy_is_exact"] is True and d["candidates"] == len(default_run.candidates)
    assert d["allocation_total_pence"] == 900_000_000 and len(d["shortlist"]) == 8
    assert sum(sum(v for k, v in s["allocation_pence"].items() if k != "total")
               for s in d["shortlist"]) == 900_000_000
    assert d["myends"]["agree"] == sum(s["borough"] in MYENDS_BOROUGHS for s in d["shortlist"])
    assert d["myends"]["p_exact"] == pytest.approx(default_run.comparison.p_exact)
    assert d["sustained_violence"].startswith("share of the years 2011-2021 (10 years with correct")


def test_section_is_presented_without_a_warehouse(london_warehouse):
    import html

    from vru.outputs.sections import targeting as presenter
    from vru.pipelines import targeting as pt
    from vru.warehouse.store import Warehouse

    w = Warehouse.open(london_warehouse, read_only=True)
    r = pt.run(w, pt.TargetParams(draws=100))
    w.close()  # the presentation has only the result
    sec = presenter.present(r)
    assert sec.id == "targeting" and sec.title == "Choosing neighbourhoods to fund"
    body = sec.body
    assert "MyEnds" in body and "£9,000,000.00" in body and body.count("<svg") == 3
    assert "£500,000.00 per area per year" in body and "exact here" in body
    assert "(3,919 candidates;" in body and "at least 5,000 residents, contiguous LSOAs" in body
    assert "Brent, Croydon, Hackney, Haringey, Lambeth, Newham, Southwark and Tower Hamlets" in body
    assert f"{r.comparison.agree} of the 8 boroughs chosen here" in body
    for label in r.candidates.loc[r.shortlist.index, "label"]:
        assert html.escape(label) in body


@pytest.mark.slow
def test_other_levels_and_fallback_on_real_data(wh):
    from vru.pipelines import targeting as pt

    ward = pt.run(wh, pt.TargetParams(level="ward", draws=50, max_per_borough=2))
    from vru.outputs.sections import targeting as presenter

    body = presenter.present(ward).body
    assert "<strong>Candidates</strong>: 2018 wards (632 candidates;" in body
    assert "at most 2 areas per borough, at least 5,000 residents." in body
    assert not ward.exact and "Chosen greedily by score, which is a heuristic here" in body
    # wards2018 (633 with the City merged) less the City, which has no MPS LSOA data
    assert len(ward.candidates) == 632
    assert ward.candidates["members"].map(len).sum() == 4829
    lsoa = pt.run(wh, pt.TargetParams(level="lsoa", sustained="top_decile", draws=50))
    assert len(lsoa.candidates) == 4829 and (lsoa.shortlist["population"] >= 1000).all()
    assert "top 10%" in pt.sustained_words(lsoa.sustained) and lsoa.sustained.method == "top_decile"
    assert sorted(lsoa.shapes.index) == sorted(lsoa.shortlist.index)
    with pytest.raises(t.InfeasibleError, match="cannot choose 40 areas"):
        pt.run(wh, pt.TargetParams(level="ward", n=40, draws=10))
    with pytest.raises(t.InfeasibleError, match="exceeds"):
        pt.run(wh, pt.TargetParams(cap_pence=10_000_000, draws=10))  # 8 x GBP 100k < GBP 3m


def test_empty_warehouse_is_missing_data(tmp_path):
    from vru.pipelines import targeting as pt
    from vru.pipelines.base import MissingData
    from vru.warehouse.store import Warehouse

    empty = Warehouse.create(tmp_path / "empty.duckdb")
    try:
        assert pt.missing_inputs(empty) == [
            "LSOA crime (mps_lsoa_annual_millington)", "LSOA deprivation (IMD)",
            "LSOA population (2020)", "2018 ward boundaries"]
        with pytest.raises(MissingData, match="targeting needs LSOA crime"):
            pt.run(empty)
    finally:
        empty.close()


@pytest.mark.slow
def test_benchmark_runs_at_small_scale(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "targeting" / "run.py"
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, str(script), "--side-rows", "20", "--side-cols", "30",
                        "--n", "5", "--draws", "50", "--json", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["areas"] == 600 and len(res["chosen"]) == 5
    assert "TOTAL cluster-level targeting" in r.stdout
