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
from vru.outputs.ledger import ledger_lock, read_ledger, write_ledger
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

def attack(truth: pd.DataFrame, published, cats, min_n: int, targets=(), value: str = "n",
           hidden_too: bool = True) -> pd.DataFrame:
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
    for labels, per in [*(hidden if hidden_too else []), *targets]:
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

@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- property-based: an attacker who sees every table of a release and the releases before it --------

QUARTERS = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]


def microdata(seed: int, n: int, dims: dict[str, int]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Respondents with skewed categories (small and empty cells occur), quarters and weights."""
    rng = np.random.default_rng(seed)
    cats = {name: [f"{name}{i}" for i in range(k)] for name, k in dims.items()}
    cols = {}
    for name, labels in cats.items():
        p = rng.dirichlet(np.full(len(labels), 0.7))
        cols[name] = rng.choice(labels, n, p=p)
    cols["quarter"] = rng.choice(QUARTERS, n)
    cols["weight"] = rng.gamma(4.0, 0.25, n) + 0.05
    return pd.DataFrame(cols), cats


def count_table(df, dims, quarters, cats):
    sub = df[df["quarter"].isin(quarters)]
    index = pd.MultiIndex.from_product([cats[d] for d in dims], names=dims)
    found = sub.groupby(list(dims)).size()
    counts = pd.Series([float(found.get(k if len(dims) > 1 else k[0], 0)) for k in index], index=index)
    return d.Table(counts, period=tuple(quarters), population="p", name=" x ".join(dims))


def as_published(df, protected: d.Protected) -> pd.DataFrame:
    """The published frame: labels ("All" for margins), ``n`` and ``weighted_n`` (hidden: NaN)."""
    t = protected.table
    dims = [c for c in protected.cells.columns if c not in ("n", "suppressed")]
    out = protected.published().replace({d.TOTAL: ALL})
    sub = df[df["quarter"].isin(t.periods())]
    w = []
    for r in out.to_dict("records"):
        sel = np.ones(len(sub), dtype=bool)
        for c in dims:
            if r[c] != ALL:
                sel &= (sub[c] == r[c]).to_numpy()
        w.append(float(sub["weight"].to_numpy()[sel].sum()))
    out["weighted_n"] = np.where(out["n"].isna(), np.nan, w)
    out["n"] = out["n"].astype(float)
    assert list(out.columns) == [*dims, "n", "weighted_n"]  # nothing says why a cell is hidden
    return out


def quarter_targets(tables: list[d.Table], cats) -> list:
    """Every cell of every table in each quarter of its period (differencing can reach them)."""
    out = []
    for t in tables:
        dims, _, _ = t.interior()
        if len(t.periods()) < 2:
            continue
        for q in t.periods():
            for labels in itertools.product(*[[*cats[c], ALL] for c in dims]):
                out.append((dict(zip(dims, labels, strict=True)), [q]))
    return out


def run_scenario(df, cats, scenario: str, min_n: int):
    """Releases of one scenario, each protected with the ledger of those before; returns what the
    attacker sees and the tables published."""
    dims = list(cats)
    a, b = dims[0], dims[1]
    q = QUARTERS
    if scenario == "one period":
        releases = [[((a,), q[:1]), ((b,), q[:1]), ((a, b), q[:1])]]
    elif scenario == "two periods":  # rolling windows: Q1-Q2, then Q2-Q3
        releases = [[((a,), q[0:2]), ((a, b), q[0:2])], [((a,), q[1:3]), ((a, b), q[1:3])]]
    elif scenario == "year to date":  # each quarter, then the year to date beside Q3
        releases = [[((a, b), q[:1])], [((a, b), q[1:2])], [((a, b), q[2:3]), ((a, b), q[:3]), ((a,), q[:3])]]
    elif scenario == "both orders":
        releases = [[((a, b), q[:2]), ((b, a), q[:2]), ((b,), q[:2])]]
    else:  # three dimensions, every two-way table: not decomposable, the model triangulates
        c = dims[2]
        releases = [[((a, b), q[:1]), ((b, c), q[:1]), ((a, c), q[:1])], [((a, b), q[:2])]]
    ledger = d.Ledger.empty()
    published, tables = [], []
    for rel in releases:
        ts = [count_table(df, ds, qs, cats) for ds, qs in rel]
        r = d.protect_release(ts, published=ledger, min_n=min_n)
        ledger.record(r)
        for p in r.tables:
            published.append((as_published(df, p), list(p.table.periods())))
        tables += ts
    return published, tables, ledger


SCENARIOS = ["one period", "two periods", "year to date", "both orders", "three dimensions"]


def check_release(seed, n, min_n, scenario, sizes):
    df, cats = microdata(seed, n, sizes)
    published, tables, _ = run_scenario(df, cats, scenario, min_n)
    targets = quarter_targets(tables, cats)
    res = attack(df, published, cats, min_n, targets=targets)
    assert_protected(res, min_n)
    wres = attack(df, published, cats, min_n, targets=targets, value="weighted_n")
    assert_not_pinned(wres[wres["truth"] < min_n])


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(10, 300), st.sampled_from([5, 10, 20]),
       st.sampled_from(SCENARIOS))
def test_attacker_never_shows_a_small_cell_is_small(seed, n, min_n, scenario):
    check_release(seed, n, min_n, scenario, {"a": 3, "b": 2, "c": 2})


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(10, 800), st.sampled_from([3, 10, 25, 50]),
       st.sampled_from(SCENARIOS), st.integers(2, 5), st.integers(2, 4))
def test_attacker_never_shows_a_small_cell_is_small_larger_tables(seed, n, min_n, scenario, ka, kb):
    check_release(seed, n, min_n, scenario, {"a": ka, "b": kb, "c": 3})


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 300), st.sampled_from([5, 10, 20]))
def test_pattern_does_not_depend_on_the_order_of_dimensions_or_tables(seed, n, min_n):
    df, cats = microdata(seed, n, {"a": 4, "b": 3})
    ab, ba, a_ = (count_table(df, ds, QUARTERS[:2], cats) for ds in (("a", "b"), ("b", "a"), ("a",)))

    def hidden(p: d.Protected):
        return {tuple(sorted((c, r[c]) for c in ("a", "b") if c in r)) for r in
                p.cells[p.cells["suppressed"]].to_dict("records")}

    one = d.protect_release([ab, a_], min_n=min_n)
    two = d.protect_release([a_, ba], min_n=min_n)
    assert hidden(one.tables[0]) == hidden(two.tables[1])
    assert hidden(one.tables[1]) == hidden(two.tables[0])


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(10, 200), st.sampled_from(SCENARIOS))
def test_audit_bounds_equal_the_full_grid_attacker(seed, n, scenario):
    """The junction-tree model gives the same largest values as the attacker's full grid."""
    df, cats = microdata(seed, n, {"a": 3, "b": 2, "c": 2})
    tables = run_scenario(df, cats, scenario, 10)[1]
    r = d.protect_release(tables, min_n=10)  # every table in one release
    published = [(as_published(df, p), list(p.table.periods())) for p in r.tables]
    targets = [({c: row["cell"].get(c, ALL) for c in cats}, row["period"].split("+"))
               for row in r.audit.to_dict("records")]
    res = attack(df, published, cats, 10, targets=targets, hidden_too=False)
    assert np.allclose(res["hi"].to_numpy(), r.audit["upper"].to_numpy(), atol=1e-6)
    assert (r.audit["upper"] >= 10 - 1e-6).all()


def test_ledger_through_the_cli_and_bad_ledgers(tmp_path):
    from click.testing import CliRunner

    from vru.cli import main

    df = syn.generate(seed=5, per_borough=10)
    path, _ = responses(df, tmp_path, "s")
    ledger = tmp_path / "ledger.json"
    run = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--by", "sex,age_band",
                                    "--ledger", str(ledger)])
    assert run.exit_code == 0, run.output
    back = read_ledger(ledger)
    assert len(back.tables) == 1 and back.tables[0]["period"] == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]
    assert all(c["n"] is None or c["n"] >= 50 for c in back.tables[0]["cells"])  # only what was published
    again = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--by", "age_band,sex",
                                      "--ledger", str(ledger)])
    assert again.exit_code == 0, again.output
    assert len(read_ledger(ledger).tables) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    run = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--ledger", str(bad)])
    assert run.exit_code != 0 and "not a disclosure ledger" in run.output
    bad.write_text('{"format": "vru disclosure ledger, version 1", "tables": [{"population": "x"}]}')
    run = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--ledger", str(bad)])
    assert run.exit_code != 0 and "table 0" in run.output and "Traceback" not in run.output


@pytest.mark.slow
def test_the_cli_warns_on_stderr_without_a_ledger(tmp_path):
    from click.testing import CliRunner

    from vru.cli import main

    path, _ = responses(syn.generate(seed=5, per_borough=10), tmp_path, "w")
    run = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--by", "sex"])
    assert run.exit_code == 0, run.output
    assert "warning: no --ledger" in run.stderr and "warning" not in run.stdout
    assert pd.read_csv(__import__("io").StringIO(run.stdout)).columns[0] != "warning: no --ledger"
    ledger = tmp_path / "ledger.json"
    run = CliRunner().invoke(main, ["confidence", "--microdata", str(path), "--by", "sex", "--ledger",
                                    str(ledger)])
    assert run.exit_code == 0 and run.stderr == "", run.stderr


def _waiting_for_a_lock(pid: int) -> bool:
    """Whether process ``pid`` is blocked on a file lock (Linux: a ``->`` line of /proc/locks)."""
    from pathlib import Path

    return any("->" in line and f" {pid} " in line for line in Path("/proc/locks").read_text().splitlines())


@pytest.mark.slow
def test_two_ledger_writers_at_once_keep_both_releases(tmp_path):
    """The ledger is locked from reading to writing: a second `vru confidence --ledger` waits for the first
    and protects its table together with the first's cells, instead of overwriting them."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    if not Path("/proc/locks").exists():
        pytest.skip("needs Linux's /proc/locks to see a process waiting for the lock")
    path, _ = responses(syn.generate(seed=5, per_borough=10), tmp_path, "c")
    ledger = tmp_path / "ledger.json"
    with ledger_lock(ledger):  # the first writer, holding the ledger
        second = subprocess.Popen(
            [sys.executable, "-c", "from vru.cli import main; main()", "confidence", "--microdata", str(path),
             "--by", "sex", "--ledger", str(ledger)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 120
        while not _waiting_for_a_lock(second.pid) and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        waited = _waiting_for_a_lock(second.pid)
        api.confidence(microdata=path, by="age_band", ledger=ledger)  # the first writer's release
    out, err = second.communicate(timeout=300)
    assert waited, f"the second writer did not wait for the lock (exit {second.returncode}): {err}"
    assert second.returncode == 0, err
    tables = read_ledger(ledger).tables
    assert len(tables) == 2, "a release was lost"
    assert sorted(tuple(sorted(c["labels"])) for t in tables for c in t["cells"][:1]) == [("age_band",),
                                                                                          ("sex",)]


def test_a_ledger_file_round_trips(tmp_path):
    ledger = d.Ledger.empty()
    counts = pd.Series([12, 30, 3], index=pd.Index(["female", "male", "other"], name="sex"))
    t = d.Table(counts, period=("2023-Q1",), population="all", name="by sex")
    ledger.record(d.protect_release([t], published=None, min_n=10))
    path = tmp_path / "ledger.json"
    assert read_ledger(path).tables == []  # no file yet: an empty ledger
    write_ledger(ledger, path)
    assert read_ledger(path).tables == ledger.tables
    assert path.read_text(encoding="utf-8") == ledger.to_json()
    assert not (tmp_path / "ledger.json.tmp").exists()
    path.write_text('{"format": "vru disclosure ledger, version 1", "tables": {}}')
    with pytest.raises(ValueError, match=r"ledger.json: \"tables\" must be a list"):
        read_ledger(path)
    for bad in (b"not json", b'{"format": "\xff"}'):  # not JSON; not UTF-8
        path.write_bytes(bad)
        with pytest.raises(ValueError, match="ledger.json: not a disclosure ledger"):
            read_ledger(path)
    with pytest.raises(ValueError, match="in memory: table 0"):
        d.Ledger.from_document({"format": d.LEDGER_FORMAT, "tables": [{"population": "x"}]},
                               where="in memory")
