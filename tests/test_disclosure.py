"""vru.analysis.disclosure: hand-worked suppression patterns, and property-based proof that no
small cell can be recovered from what is published, using an attacker written independently here
(linear algebra and linear programming over the published cells and margins)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from scipy.optimize import linprog

from vru.analysis import disclosure as d

# -- an independent attacker ---------------------------------------------------------------------


def attacker_system(aug: np.ndarray, hidden: np.ndarray, row_totals=True, col_totals=True):
    """Equations an attacker can write for the hidden cells of an augmented table.

    ``aug`` has the totals column last (if ``row_totals``) and the totals row last (if
    ``col_totals``); ``hidden`` is a boolean array of the same shape. Returns (A, b, index of
    each hidden cell) with A x = b.
    """
    rr, cc = aug.shape
    r = rr - int(col_totals)
    c = cc - int(row_totals)
    cells = [tuple(x) for x in np.argwhere(hidden)]
    pos = {cell: k for k, cell in enumerate(cells)}
    rows, rhs = [], []

    def add(members, total):
        a = np.zeros(len(cells))
        b = 0.0
        for m in members:
            if hidden[m]:
                a[pos[m]] += 1
            else:
                b -= aug[m]
        if hidden[total]:
            a[pos[total]] -= 1
        else:
            b += aug[total]
        rows.append(a)
        rhs.append(b)

    if row_totals:
        for i in range(rr):
            add([(i, j) for j in range(c)], (i, c))
    if col_totals:
        for j in range(cc):
            add([(i, j) for i in range(r)], (r, j))
    return np.array(rows), np.array(rhs), pos


def attack(aug: np.ndarray, hidden: np.ndarray, row_totals=True, col_totals=True):
    """For each hidden cell: (LP lower bound, LP upper bound, determined by the equations alone)."""
    a, b, pos = attacker_system(aug, hidden, row_totals, col_totals)
    ns = null_space(a) if len(pos) else np.zeros((0, 0))
    out = {}
    for cell, k in pos.items():
        obj = np.zeros(len(pos))
        obj[k] = 1
        lo = linprog(obj, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert lo.status == 0, lo.message
        upper = np.inf if hi.status == 3 else -hi.fun
        assert hi.status in (0, 3), hi.message
        determined = ns.shape[1] == 0 or np.allclose(ns[k], 0, atol=1e-9)
        out[cell] = (lo.fun, upper, determined)
    return out


def augmented(counts: np.ndarray) -> np.ndarray:
    aug = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1))
    aug[:-1, :-1] = counts
    aug[:-1, -1] = counts.sum(axis=1)
    aug[-1, :] = aug[:-1, :].sum(axis=0)
    return aug


# -- hand-worked cases ---------------------------------------------------------------------------


def test_one_way_table_hides_the_small_group_and_the_next_smallest():
    s = pd.Series([500, 30, 200, 80], index=["White", "Mixed", "Black", "Other"], name="n")
    t = d.suppress_series(s)
    # Mixed (30) is primary; its row total is published, so the smallest other cell (Other, 80)
    # is hidden too: Mixed + Other = 110 is all anyone can work out.
    assert t.suppressed.loc["n"].to_dict() == {"White": False, "Mixed": True, "Black": False,
                                               "Other": True, "Total": False}
    assert t.primary.loc["n"].to_dict() == {"White": False, "Mixed": True, "Black": False,
                                            "Other": False, "Total": False}
    pub = t.published().loc["n"]
    assert pub["Total"] == 810 and pd.isna(pub["Mixed"]) and pd.isna(pub["Other"])


def test_two_way_table_pattern_by_hand():
    t = pd.DataFrame([[120, 30, 200], [80, 90, 60], [300, 10, 70]], index=list("abc"),
                     columns=list("xyz"))
    r = d.suppress_table(t)
    # primary: (a,y)=30, (c,y)=10. Row a has one -> smallest other in row a: (a,x)=120.
    # Row c has one -> (c,z)=70. Column x has one -> (b,x)=80. Column z has one -> (b,z)=60.
    # Row b then has two, column y two: fixed point.
    expected = {("a", "x"), ("a", "y"), ("b", "x"), ("b", "z"), ("c", "y"), ("c", "z")}
    got = {(i, j) for i in r.suppressed.index for j in r.suppressed.columns if r.suppressed.loc[i, j]}
    assert got == expected
    assert r.counts.loc["Total", "Total"] == 960
    assert r.counts.loc["a", "Total"] == 350
    # each hidden cell can move: e.g. (c,y) lies in [0, 40] (row c: y+z = 80, column y: a+c = 40)
    res = attack(r.counts.to_numpy(), r.suppressed.to_numpy())
    lo, hi, det = res[(2, 1)]
    assert (lo, hi, det) == (pytest.approx(0), pytest.approx(40), False)


def test_small_totals_are_suppressed_too():
    t = pd.DataFrame([[10, 20], [100, 200]], index=["r1", "r2"], columns=["c1", "c2"])
    r = d.suppress_table(t)
    assert r.primary.loc["r1", "Total"]  # 30 < 50
    assert r.suppressed.loc["r1"].all()  # the whole row
    # and each of those cells is still protected
    for (i, j), (lo, hi, det) in attack(r.counts.to_numpy(), r.suppressed.to_numpy()).items():
        if r.primary.iloc[i, j]:
            assert hi - lo > 0.5 and not det


def test_min_n_is_configurable():
    s = pd.Series([60, 40, 500], index=["a", "b", "c"])
    r50 = d.suppress_series(s, min_n=50)
    r30 = d.suppress_series(s, min_n=30)
    r61 = d.suppress_series(s, min_n=61)
    row = r50.suppressed.index[0]
    assert r50.suppressed.loc[row, "b"] and r50.suppressed.loc[row, "a"]
    assert not r30.suppressed.to_numpy().any()
    assert r61.primary.loc[row, "a"] and r61.primary.loc[row, "b"]


def test_counting_rule_alone_can_leave_a_cell_pinned_and_the_audit_fixes_it():
    # Two 2x2 blocks of hidden cells joined by one hidden cell (r2,c3): every row and column has
    # two or more hidden cells, yet (r2,c3) is a bridge, exactly determined by the margins.
    counts = np.full((5, 5), 100.0)
    counts[1, 2] = 7
    aug = augmented(counts)
    hidden = np.zeros_like(aug, dtype=bool)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[i, j] = True
    res = attack(aug, hidden)
    lo, hi, det = res[(1, 2)]
    assert det and hi - lo == pytest.approx(0) and lo == pytest.approx(7)
    # the module's own audit agrees
    cons, shape = d.table_constraints(counts.shape)
    iv = d.feasible_intervals(aug.ravel(), cons, hidden.ravel())
    assert iv.loc[1 * shape[1] + 2, "width"] == pytest.approx(0)
    # given that pattern as the primary cells, suppress() adds cells until nothing is pinned
    mask, _ = d.suppress(aug.ravel(), cons, primary=hidden.ravel())
    mask = mask.reshape(shape)
    assert mask.sum() > hidden.sum()
    for (i, j), (lo, hi, det) in attack(aug, mask).items():
        if hidden[i, j]:
            assert hi - lo >= 1 - 1e-6 and not det


def test_protection_width():
    s = pd.Series([500, 30, 200, 60], index=list("abcd"))
    r = d.suppress_series(s, protection=70)  # b + d = 90 -> b in [0, 90]: width 90 > 70
    assert r.suppressed.to_numpy().sum() == 2
    r = d.suppress_series(s, protection=100)  # needs a third cell
    assert r.suppressed.to_numpy().sum() == 3


def test_bad_input():
    with pytest.raises(ValueError):
        d.primary_mask([1, -1])
    with pytest.raises(ValueError):
        d.primary_mask([1, 2], min_n=0)
    with pytest.raises(ValueError):
        d.suppress([1, 2, 4], [((0, 1), 2)])  # 1 + 2 != 4
    with pytest.raises(ValueError):
        d.suppress_table(pd.DataFrame())


# -- property-based: nothing small can be recovered ----------------------------------------------

cell = st.one_of(st.integers(0, 60), st.integers(0, 400))


@st.composite
def tables(draw):
    r = draw(st.integers(1, 5))
    c = draw(st.integers(2, 5))
    vals = draw(st.lists(cell, min_size=r * c, max_size=r * c))
    min_n = draw(st.sampled_from([5, 20, 50]))
    return np.array(vals, dtype=float).reshape(r, c), min_n


def check_protected(aug, supp, prim, min_n, row_totals=True, col_totals=True):
    small = aug < min_n
    assert (supp[small]).all(), "a cell below the minimum is published"
    assert (aug[~supp] >= min_n).all()
    assert (prim == small).all()
    for (i, j), (lo, hi, det) in attack(aug, supp, row_totals, col_totals).items():
        if small[i, j]:
            assert not det, f"cell {(i, j)} = {aug[i, j]} is determined by the published margins"
            # integer counts, totally unimodular constraints: the LP bounds are integers
            assert hi - lo >= 1 - 1e-6, f"cell {(i, j)} = {aug[i, j]} is pinned to [{lo}, {hi}]"
            assert lo - 1e-6 <= aug[i, j] <= hi + 1e-6


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_small_cell_recoverable_two_way(tc):
    counts, min_n = tc
    r = d.suppress_table(pd.DataFrame(counts), min_n=min_n)
    aug = r.counts.to_numpy()
    assert np.allclose(aug, augmented(counts))
    check_protected(aug, r.suppressed.to_numpy(), r.primary.to_numpy(), min_n)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(st.lists(cell, min_size=2, max_size=12), st.sampled_from([5, 50]))
def test_no_small_cell_recoverable_one_way(vals, min_n):
    s = pd.Series(vals, index=[f"g{i}" for i in range(len(vals))], dtype=float)
    r = d.suppress_series(s, min_n=min_n)
    check_protected(r.counts.to_numpy(), r.suppressed.to_numpy(), r.primary.to_numpy(), min_n,
                    row_totals=True, col_totals=False)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(tables())
def test_row_totals_only(tc):
    counts, min_n = tc
    r = d.suppress_table(pd.DataFrame(counts), min_n=min_n, col_totals=False)
    check_protected(r.counts.to_numpy(), r.suppressed.to_numpy(), r.primary.to_numpy(), min_n,
                    row_totals=True, col_totals=False)
