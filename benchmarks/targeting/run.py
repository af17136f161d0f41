"""Benchmark: targeting over 35,000 synthetic areas (about every LSOA of England and Wales).

Builds a seeded synthetic country: a 175 x 200 grid of areas (35,000, rook contiguity) in 360
"boroughs" of 10 x 10 cells, with populations, residents aged 16-29, 10 years of violence counts
(a smooth spatial risk surface times a persistent area effect, Poisson noise) and IMD-like
scores. Then times each stage of :mod:`vru.analysis.targeting` as the report runs it:

1. the sustained-violence fallback (years in the top decile) over the 10 years;
2. features and the weighted score;
3. choosing ``n`` areas (at most one per borough, a minimum population);
4. the budget allocation (GBP 9m over 3 years, capped, in pence);
5. the weight sensitivity (1,000 Dirichlet draws);
6. clusters: growing a contiguous cluster from every area, aggregating, scoring, choosing and the
   1,000-draw sensitivity again.

Usage: ``python benchmarks/targeting/run.py [--side-rows 175 --side-cols 200] [--n 50]
[--draws 1000] [--json out.json]``. Prints one line per stage and the total.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd

from vru.analysis import targeting as tg


def synthetic(rows: int, cols: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(area frame, neighbour table, rates areas x years) for a rows x cols grid."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    ids = np.array([f"A{i:06d}" for i in range(n)])
    per_row = (cols + 9) // 10
    borough = np.array([f"B{(ri // 10) * per_row + ci // 10:03d}"
                        for ri, ci in zip(r, c, strict=True)])
    surface = (np.sin(r / 9.0) + np.cos(c / 13.0) + rng.normal(0, 0.5, n))  # spatial risk
    effect = rng.gamma(2.0, 0.5, n)  # persistent area effect
    pop = rng.integers(1000, 3000, n)
    base = pop / 1000 * 8 * np.exp(0.4 * surface) * effect
    years = list(range(2012, 2022))
    counts = rng.poisson(base[:, None] * rng.uniform(0.9, 1.1, (1, len(years))))
    frame = pd.DataFrame({
        "borough": borough, "population": pop,
        "youth": rng.binomial(pop, np.clip(0.2 + 0.03 * surface, 0.05, 0.6)),
        "violence": counts[:, -3:].mean(axis=1),
        "imd": np.clip(20 + 8 * surface + rng.normal(0, 6, n), 1, 90),
    }, index=pd.Index(ids, name="area"))
    rates = pd.DataFrame(1000 * counts / pop[:, None], index=ids, columns=years)
    f, t = [], []
    for dr, dc in ((0, 1), (1, 0)):
        ok = (r + dr < rows) & (c + dc < cols)
        a, b = np.flatnonzero(ok), np.flatnonzero(ok) + dr * cols + dc
        f += [a, b]
        t += [b, a]
    nb = pd.DataFrame({"focal": ids[np.concatenate(f)], "neighbor": ids[np.concatenate(t)]})
    return frame, nb, rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side-rows", type=int, default=175)
    ap.add_argument("--side-cols", type=int, default=200)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    frame, nb, rates = synthetic(a.side_rows, a.side_cols)
    times["generate synthetic data (not targeting)"] = time.perf_counter() - t0

    def stage(name, fn):
        s = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - s
        return out

    start = time.perf_counter()
    sus = stage("sustained fallback (top decile, 10 years)", lambda: tg.years_in_top_decile(rates))
    feats = stage("features", lambda: tg.features(frame.assign(sustained=sus)))
    z = stage("score (winsorise, standardise, weight)", lambda: tg.score(feats))
    short = stage("select n (one per borough, min population)",
                  lambda: tg.select(feats, z["score"], a.n, min_population=1500).table)
    cap = 2 * -(-300_000_000 // a.n)  # twice the average share of a year's GBP 3m
    alloc = stage("allocate GBP 9m over 3 years (capped, pence)",
                  lambda: tg.allocate(short["need"], 900_000_000, cap, years=3))
    stage(f"sensitivity ({a.draws:,} draws)",
          lambda: tg.sensitivity(z, feats, a.n, draws=a.draws, min_population=1500))
    lsoa_total = time.perf_counter() - start

    cstart = time.perf_counter()
    lsoa = frame.assign(sustained=sus)
    mem = stage("clusters: grow from every area (<= 8 areas, 10,000 residents)",
                lambda: tg.grow_clusters(lsoa, nb, z["score"], max_lsoas=8,
                                         target_population=10_000))
    cf = stage("clusters: aggregate", lambda: tg.aggregate(lsoa, mem))
    cfe = tg.features(cf)
    cz = stage("clusters: features + score", lambda: tg.score(cfe))
    cshort = stage("clusters: select n", lambda: tg.select(cfe, cz["score"], a.n,
                                                          min_population=5000).table)
    stage(f"clusters: sensitivity ({a.draws:,} draws)",
          lambda: tg.sensitivity(cz, cfe, a.n, draws=a.draws, min_population=5000))
    cluster_total = time.perf_counter() - cstart

    assert int(alloc["total"].sum()) == 900_000_000
    print(f"areas: {len(frame):,}  boroughs: {frame['borough'].nunique()}  clusters: "
          f"{len(cf):,}  n: {a.n}  draws: {a.draws:,}")
    for k, v in times.items():
        print(f"{v:8.2f} s  {k}")
    print(f"{lsoa_total:8.2f} s  TOTAL area-level targeting")
    print(f"{cluster_total:8.2f} s  TOTAL cluster-level targeting")
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"areas": len(frame), "clusters": len(cf), "n": a.n, "draws": a.draws,
                       "seconds": times, "area_total": lsoa_total,
                       "cluster_total": cluster_total, "chosen": list(map(str, cshort.index))},
                      f, indent=2)


if __name__ == "__main__":
    main()
