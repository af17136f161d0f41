"""Disclosure control across the linked tables of a release (issue 14, item 6).

An attacker sees every published table (counts, weighted bases, shares and every flag column),
knows how the tables relate (margins, the same cells in either order of ``--by``, a year to date
made of its quarters) and that counts are non-negative, and solves a linear programme over the
finest cells (every combination of every category and every quarter) for each hidden cell. The
attacker here is written independently of :mod:`vru.analysis.disclosure` (a dense full grid, not
its junction tree). The rule guaranteed (``docs/methods-confidence.md``): for every cell that is
truly small (fewer than ``min_n`` respondents, zero included) and not published, including cells
never published but implied (a quarter as a year to date minus its earlier quarters), the
largest value consistent with everything published is at least ``min_n``: the attacker can never
show that a cell is small, let alone pin it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from vru import api
from vru.analysis import disclosure as d
from vru.analysis import survey_weights as sw
from vru.geography import BOROUGHS
from vru.sources import pas_microdata as pm
from vru.synthetic import pas_microdata as syn

ALL = sw.ALL
CATS = {"ethnicity": list(pm.ETHNICITY), "sex": list(pm.SEX), "age_band": list(pm.AGE_BANDS),
        "area_code": list(BOROUGHS)}
MEASURE = "good_job_local"


def quarter(ts) -> str:
    p = pd.Timestamp(ts).to_period("Q")
    return f"{p.year}-Q{p.quarter}"


# -- the attacker --------------------------------------------------------------------------------

def attack(truth: pd.DataFrame, published, cats, min_n: int, targets=(), value: str = "n") -> pd.DataFrame:
    """Feasible range of every hidden cell (and of each extra ``targets`` cell) given everything published.

    ``truth``: the respondents behind the tables (category columns, ``quarter``, ``weight``), used
    only to score the attack. ``published``: ``(frame, quarters)`` pairs as the public sees them:
    category columns (``"All"`` = margin), ``n`` (NaN when hidden), ``weighted_n`` and any flag
    column. ``value``: attack the counts (``"n"``) or the weighted bases (``"weighted_n"``).
    ``targets``: ``(labels, quarters)`` cells never published whose range is wanted too.
    Returns one row per attacked cell: ``labels``, ``quarters``, ``truth`` (respondents),
    ``lo``, ``hi``.
    """
    dims = sorted({c for f, _ in published for c in f.columns if c in cats})
    qs = sorted({q for _, per in published for q in per} | {q for _, per in targets for q in per})
    grid = pd.DataFrame(list(itertools.product(*[cats[c] for c in dims], qs)), columns=[*dims, "quarter"])

    def row(labels, per):
        sel = grid["quarter"].isin(per).to_numpy().copy()
        for c, v in labels.items():
            if v != ALL:
                sel &= (grid[c] == v).to_numpy()
        return sel.astype(float)

    def true_value(labels, per, col):
        sel = truth["quarter"].isin(per)
        for c, v in labels.items():
            if v != ALL:
                sel &= truth[c] == v
        return float(sel.sum()) if col == "n" else float(truth.loc[sel, "weight"].sum())

    eq, rhs, ub, ub_rhs, hidden = [], [], [], [], []
    for frame, per in published:
        cols = [c for c in dims if c in frame.columns]
        for r in frame.to_dict("records"):
            labels = {c: r[c] for c in cols}
            if pd.notna(r[value]):
                eq.append(row(labels, per))
                rhs.append(float(r[value]))
                continue
            hidden.append((labels, tuple(per)))
            if value == "n" and "primary" in r:  # a published flag: primary = below min_n
                sign = 1.0 if r["primary"] else -1.0
                ub.append(sign * row(labels, per))
                ub_rhs.append(sign * (min_n - 1) if r["primary"] else -float(min_n))
    out = []
    for labels, per in [*hidden, *targets]:
        c = row(labels, per)
        bounds = []
        for s in (1.0, -1.0):
            res = linprog(s * c, A_eq=np.array(eq) if eq else None, b_eq=rhs or None,
                          A_ub=np.array(ub) if ub else None, b_ub=ub_rhs or None, bounds=(0, None),
                          method="highs")
            assert res.status in (0, 3), res.message
            bounds.append(np.inf if res.status == 3 else s * res.fun)
        out.append({"labels": labels, "quarters": per, "truth": true_value(labels, per, "n"),
                    "weighted": true_value(labels, per, "weighted_n"), "lo": bounds[0], "hi": bounds[1]})
    return pd.DataFrame(out, columns=["labels", "quarters", "truth", "weighted", "lo", "hi"])


def assert_protected(res: pd.DataFrame, min_n: int) -> None:
    """The rule: no truly small cell can be shown to be below ``min_n``."""
    small = res[res["truth"] < min_n]
    bad = small[small["hi"] < min_n - 1e-6]
    assert bad.empty, f"small cells narrowed below {min_n}:\n{bad.to_string()}"


def assert_not_pinned(res: pd.DataFrame) -> None:
    """Weighted bases: no hidden cell that is truly small is pinned to one value."""
    small = res[res["truth"] < np.inf]
    bad = small[small["hi"] - small["lo"] < 1e-6 * max(1.0, small["weighted"].max())]
    assert bad.empty, f"weighted bases pinned:\n{bad.to_string()}"


def responses(df: pd.DataFrame, tmp_path, name: str):
    path = syn.write_csv(df, tmp_path / f"{name}.csv")
    resp = pm.read(path)
    base = resp[resp["measure"] == MEASURE].assign(quarter=lambda x: x["period_end"].map(quarter))
    return path, base


# -- the four leaks of the issue, each shown through what `vru confidence --microdata` publishes --

def test_year_to_date_beside_its_quarters_reveals_no_quarter(tmp_path):
    """Leak 1 (differencing): Q1-Q3 published, then Q1-Q4; "Not stated" in Q4 was 115 - 86 = 29."""
    df = syn.generate(seed=0, per_borough=100)
    q3_path, _ = responses(df[df["quarter"] != "2023-Q4"], tmp_path, "q3")
    ytd_path, base = responses(df, tmp_path, "ytd")
    ledger = tmp_path / "ledger.json"
    first = api.confidence(microdata=q3_path, by="ethnicity", ledger=ledger)
    second = api.confidence(microdata=ytd_path, by="ethnicity", ledger=ledger)
    q3 = ["2023-Q1", "2023-Q2", "2023-Q3"]
    published = [(first, q3), (second, [*q3, "2023-Q4"])]
    q4 = [({"ethnicity": e}, ["2023-Q4"]) for e in [*pm.ETHNICITY, ALL]]
    assert second.set_index("ethnicity").loc[["White", "Asian", ALL], "n"].notna().all()  # not all hidden
    res = attack(base, published, CATS, 50, targets=q4)
    assert (res["truth"] < 50).any()  # the Q4 "Not stated" cell is small: the case of the issue
    assert_protected(res, 50)
    assert_not_pinned(attack(base, published, CATS, 50, targets=q4, value="weighted_n")
                      .loc[lambda r: r["truth"] < 50])


def test_both_orders_of_a_cross_table_get_one_pattern(tmp_path):
    """Leak 2: `--by age_band,sex` and `--by sex,age_band` must hide the same cells."""
    path, base = responses(syn.generate(seed=2, per_borough=8), tmp_path, "s")
    quarters = sorted(base["quarter"].unique())
    a = api.confidence(microdata=path, by=["age_band", "sex"])
    b = api.confidence(microdata=path, by=["sex", "age_band"])

    def hidden(t):
        return {(r.age_band, r.sex) for r in t.itertuples() if r.suppressed}

    assert hidden(a) == hidden(b)
    assert 0 < len(hidden(a)) < len(a) - 3
    assert_protected(attack(base, [(a, quarters), (b, quarters)], CATS, 50), 50)


def test_no_published_flag_tells_primary_from_secondary(tmp_path):
    """Leak 3: a `primary` column says a hidden cell is below 50 (and its complements at least 50)."""
    path, base = responses(syn.generate(seed=1, per_borough=20), tmp_path, "s")
    quarters = sorted(base["quarter"].unique())
    t = api.confidence(microdata=path, by=["area_code", "sex"])
    assert set(t.columns) == {"area_code", "sex", *sw.STAT_COLUMNS, "suppressed"}
    assert t["n"].notna().sum() >= 30  # borough totals and the sex margins are published
    assert_protected(attack(base, [(t, quarters)], CATS, 50), 50)


def test_every_documented_category_is_listed(tmp_path):
    """Leak 4: a category with no respondents is listed (and suppressed), not left out."""
    df = syn.generate(seed=2, per_borough=30)
    df = df[df["ethnicity"] != "Other"]
    path, base = responses(df, tmp_path, "s")
    t = api.confidence(microdata=path, by="ethnicity", min_n=10)
    assert list(t["ethnicity"]) == [*pm.ETHNICITY, ALL]
    other = t.set_index("ethnicity").loc["Other"]
    assert other["suppressed"] and pd.isna(other["n"]) and pd.isna(other["weighted_n"])
    assert_protected(attack(base, [(t, sorted(base["quarter"].unique()))], CATS, 10), 10)
