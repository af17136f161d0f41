"""Benchmark: Callaway-Sant'Anna on 5,000 areas x 60 months in 3 cohorts, against `differences`.

Builds a seeded synthetic panel: 5,000 areas, 60 monthly periods, three treated cohorts
(first treated in months 20, 32 and 44; 500 areas each) and 3,500 never-treated areas; counts are
Poisson with an area effect, a common monthly effect and a 10% reduction after treatment. Then,
in one run and on the same panel, times:

1. ``vru.analysis.did.att_gt`` (all 177 ATT(g,t) cells, simple/group/event aggregations,
   analytic influence-function standard errors): linear, and the Poisson variant;
2. the same with the seeded multiplier bootstrap (999 draws);
3. ``differences.ATTgt(...).fit(formula="y")`` (outcome regression, never-treated controls,
   analytic SEs, ``n_jobs`` workers) plus its simple, cohort and event aggregations;
4. the power simulation of :mod:`vru.analysis.evaluation` (placebo assignments on the 3,500
   control areas), with ``--power-draws`` draws.

and checks that both give the same ATT(g,t) and standard errors (maximum absolute difference).

Usage: ``python benchmarks/evaluation/run.py [--areas 5000 --months 60] [--jobs 1]
[--power-draws 200] [--skip-differences] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from vru.analysis import did
from vru.analysis import evaluation as ev


def synthetic(areas: int = 5000, months: int = 60, cohorts=(20, 32, 44), per_cohort: int = 500,
              seed: int = 0) -> pd.DataFrame:
    """Long panel: ``id`` (int), ``t`` (1..months), ``y`` (count), ``g`` (first treated month or
    NaN)."""
    rng = np.random.default_rng(seed)
    g = np.full(areas, np.nan)
    perm = rng.permutation(areas)
    for k, c in enumerate(cohorts):
        g[perm[k * per_cohort:(k + 1) * per_cohort]] = c
    t = np.arange(1, months + 1)
    area = rng.normal(scale=0.5, size=(areas, 1))
    month = 0.1 * np.sin(2 * np.pi * t / 12)[None, :] + 0.002 * t[None, :]
    treated = t[None, :] >= np.nan_to_num(g, nan=np.inf)[:, None]
    mu = np.exp(1.5 + area + month) * np.where(treated, 0.9, 1.0)
    y = rng.poisson(mu).astype(float)
    return pd.DataFrame({"id": np.repeat(np.arange(areas), months),
                         "t": np.tile(t, areas), "y": y.ravel(),
                         "g": np.repeat(g, months)})


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", type=int, default=5000)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=1, help="differences' n_jobs")
    ap.add_argument("--power-draws", type=int, default=200)
    ap.add_argument("--skip-differences", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()

    df = synthetic(a.areas, a.months)
    rows = {}
    kw = {"unit": "id", "period": "t", "outcome": "y", "cohort": "g"}
    lin, rows["vru att_gt, linear (analytic SEs)"] = timed(lambda: did.att_gt(df, **kw))
    _, rows["vru att_gt, Poisson (analytic SEs)"] = timed(
        lambda: did.att_gt(df, model="poisson", **kw))
    _, rows["vru att_gt, linear, bootstrap 999"] = timed(
        lambda: did.att_gt(df, inference="bootstrap", n_boot=999, seed=0, **kw))
    check = None
    if not a.skip_differences:
        from differences import ATTgt

        def run_differences():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                att = ATTgt(data=df.set_index(["id", "t"]), cohort_column="g")
                res = att.fit(formula="y", control_group="never_treated", n_jobs=a.jobs,
                              progress_bar=False)
                aggs = [res.aggregate(k) for k in ("simple", "cohort", "event")]
            return res, aggs

        (res, _), rows[f"differences ATTgt.fit + 3 aggregations (n_jobs={a.jobs})"] = timed(
            run_differences)
        theirs = res.to_pandas()
        theirs.columns = [c[-1] for c in theirs.columns]
        j = lin.cells.merge(theirs.reset_index(), left_on=["cohort", "base_period", "period"],
                            right_on=["cohort", "base_period", "time"])
        check = {"cells": int(len(j)),
                 "max_abs_diff_att": float((j["estimate"] - j["ATT"]).abs().max()),
                 "max_abs_diff_se": float((j["se"] - j["std_error"]).abs().max())}
    long = df.rename(columns={"id": "area_code", "t": "month", "y": "value"})
    treated = {int(i): int(g) for i, g in df.groupby("id")["g"].first().dropna().items()}
    pw, rows[f"power simulation, DiD, {a.power_draws} placebo draws"] = timed(
        lambda: ev.power(long, treated, n_draws=a.power_draws, seed=0))

    info = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
                       f"{platform.release()}, Python {platform.python_version()}",
            "numpy": np.__version__, "pandas": pd.__version__,
            "areas": a.areas, "months": a.months, "cells": int(len(lin.cells)),
            "simple_att": lin.att, "mde_relative": pw.mde_relative}
    try:
        import differences

        info["differences"] = differences.__version__
    except ImportError:
        pass
    width = max(len(k) for k in rows)
    print(f"{a.areas:,} areas x {a.months} months, 3 cohorts, {len(lin.cells)} ATT(g,t) cells")
    for k, v in rows.items():
        print(f"{k:<{width}}  {v:8.2f} s")
    if check:
        print(f"same ATT(g,t): {check['cells']} cells, max |diff| ATT {check['max_abs_diff_att']:.1e}"
              f", SE {check['max_abs_diff_se']:.1e}")
    print(f"power: MDE {100 * pw.mde_relative:.1f}% reduction (80% power, 5% two-sided)")
    print(info["machine"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds": rows, "check": check, "info": info}, f, indent=2)


if __name__ == "__main__":
    main()
