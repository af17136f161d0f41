"""The audit's fast path (docs/methods-confidence.md, "Cost"): bounds from a HiGHS model kept per
suppression pattern, with only the objective changing, and a check's bound reused as the final one when
no equation hidden since carried a dual value. Both must leave the release exactly as the plain path
(a fresh ``linprog`` for every bound, every bound solved again on the final pattern) leaves it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vru.analysis import disclosure as d

QUARTERS = ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4")


def _release(seed: int) -> tuple[list[d.Table], list[d.Table]]:
    """Two releases of random small counts: quarters one by one with two dimensions, then the year to date
    beside Q4 with both orders of the cross table and the one-way margins."""
    rng = np.random.default_rng(seed)
    a, b = [f"a{i}" for i in range(3)], [f"b{j}" for j in range(4)]
    cube = {q: rng.poisson(rng.uniform(2, 14, size=(3, 4))) for q in QUARTERS}

    def cross(qs, rows="a"):
        m = sum(cube[q] for q in qs)
        f = pd.DataFrame(m, index=pd.Index(a, name="a"), columns=pd.Index(b, name="b"))
        return f if rows == "a" else f.T

    def one(qs, dim):
        m = sum(cube[q] for q in qs)
        labels, axis = (a, 1) if dim == "a" else (b, 0)
        return pd.Series(m.sum(axis=axis), index=pd.Index(labels, name=dim))

    first = [d.Table(cross([q]), (q,), "p", f"cross {q}") for q in QUARTERS[:3]]
    second = [d.Table(cross(QUARTERS), QUARTERS, "p", "year"),
              d.Table(cross(QUARTERS, "b"), QUARTERS, "p", "year t"),
              d.Table(one(QUARTERS[3:], "a"), QUARTERS[3:], "p", "Q4 by a"),
              d.Table(one(QUARTERS[3:], "b"), QUARTERS[3:], "p", "Q4 by b")]
    return first, second


def _publish(first, second, min_n):
    ledger = d.Ledger.empty()
    one = d.protect_release(first, published=ledger, min_n=min_n)
    ledger.record(one)
    return one, d.protect_release(second, published=ledger, min_n=min_n)


class _Plain(d._Maximiser):
    """The maximiser without the kept HiGHS model: a fresh ``linprog`` for every bound."""

    def __init__(self, model, a, b):
        super().__init__(model, a, b)
        self.highs = None


def _same(x: d.Release, y: d.Release) -> None:
    for p, q in zip(x.tables, y.tables, strict=True):
        pd.testing.assert_frame_equal(p.cells, q.cells)
    pd.testing.assert_frame_equal(x.audit.drop(columns="upper"), y.audit.drop(columns="upper"))
    np.testing.assert_allclose(x.audit["upper"].to_numpy(float), y.audit["upper"].to_numpy(float),
                               rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_model_gives_the_release_of_a_fresh_solve_per_bound(seed, monkeypatch):
    first, second = _release(seed)
    fast = _publish(first, second, 10)
    assert all(r.audit["upper"].ge(10 - 1e-6).all() for r in fast)
    cells = [t.cells["suppressed"] for r in fast for t in r.tables]
    assert any(c.any() and not c.all() for c in cells)  # a pattern with something to get wrong
    monkeypatch.setattr(d, "_Maximiser", _Plain)
    plain = _publish(first, second, 10)
    for x, y in zip(fast, plain, strict=True):
        _same(x, y)


@pytest.mark.parametrize("seed", range(4))
def test_reused_bounds_equal_bounds_solved_again_on_the_final_pattern(seed):
    """Every reported bound equals a fresh LP (``linprog``) over the final published cells: the bound of
    a cell checked before later suppressions is reused only when it provably did not move."""
    from scipy.optimize import linprog

    first, second = _release(seed)
    one, two = _publish(first, second, 10)
    ledger = d.Ledger.empty()
    ledger.record(one)
    ledger.record(two)
    # the attacker's grid: every a x b cell in every quarter; each published cell an equation
    grid = [(q, i, j) for q in QUARTERS for i in range(3) for j in range(4)]
    eq, rhs = [], []

    def row(labels, period):
        return np.array([float(q in period and labels.get("a", f"a{i}") == f"a{i}" and
                               labels.get("b", f"b{j}") == f"b{j}") for q, i, j in grid])

    for t in ledger.tables:
        for c in t["cells"]:
            if c["n"] is not None:
                eq.append(row({k: v for k, v in c["labels"].items() if v != d.TOTAL}, t["period"]))
                rhs.append(c["n"])
    checked = 0
    for r in two.audit.itertuples():
        res = linprog(-row(r.cell, r.period.split("+")), A_eq=np.array(eq), b_eq=np.array(rhs),
                      bounds=(0, None), method="highs")
        hi = np.inf if res.status == 3 else -res.fun
        assert np.isclose(hi, r.upper, rtol=1e-9, atol=1e-6) or (np.isinf(hi) and np.isinf(r.upper)), r
        checked += 1
    assert checked > 10


def test_the_kept_model_is_the_public_highspy_package(monkeypatch):
    """The kept model is a ``highspy.Highs`` (HiGHS's own package), not scipy's private bindings, and it
    answers every bound itself: the ``linprog`` fallback is never needed on an ordinary release."""
    import highspy
    kept, fallback = [], []

    class Recording(d._Maximiser):
        def __init__(self, model, a, b):
            super().__init__(model, a, b)
            kept.append(self)

    real_upper = d._Model.upper

    def upper(self, *args, **kwargs):
        fallback.append(1)
        return real_upper(self, *args, **kwargs)

    monkeypatch.setattr(d, "_Maximiser", Recording)
    first, second = _release(1)
    _publish(first, second, 10)
    with_rows = [m for m in kept if m.a.shape[0]]
    assert with_rows
    assert all(isinstance(m.highs, highspy.Highs) for m in with_rows)
    monkeypatch.setattr(d._Model, "upper", upper)
    for m in with_rows[:5]:
        hi, _ = m.upper(np.arange(min(3, m.model.n)))
        assert hi >= 0
    assert not fallback


def test_the_solver_writes_nothing_on_standard_output():
    """``vru confidence`` writes its CSV on standard output: the HiGHS banner must not land in it."""
    import subprocess
    import sys

    code = ("import numpy as np; from scipy.sparse import csr_matrix\n"
            "from vru.analysis import disclosure as d\n"
            "m = d._Model({'a': ['x', 'y'], d._PERIOD: ['q']}, [frozenset({'a', d._PERIOD})])\n"
            "a = m.system(csr_matrix(np.ones((1, m.n))))\n"
            "b = np.concatenate([np.zeros(m.link_rows.shape[0]), [12.0]])\n"
            "print(d._Maximiser(m, a, b).upper(np.arange(1))[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "12.0"
