"""Benchmark: emerging hot spot analysis vs a loop of esda.G_Local per period.

Two cubes of 60 monthly periods:

1. the 4,835 London LSOAs (2011 boundaries bundled with vru, queen contiguity), with synthetic
   monthly counts (seeded; the real LSOA data is annual);
2. 35,000 synthetic areas: a 175 x 200 lattice with queen contiguity (libpysal ``lat2W``).

For each cube it times, in one process:

- ``vru emerging``: ``emerging_hotspots(cube, weights)`` with its defaults (space-time Gi* with
  time lag 1 over the whole cube, Benjamini-Hochberg per period, Mann-Kendall on every area's
  z-scores, the 17 categories) - the whole analysis;
- ``vru Gi* x T``: ``getis_ord(cube, weights)`` - Gi* of every period in one call, the same
  statistic as the esda loop (checked equal to 1e-8 below);
- ``esda loop``: ``esda.G_Local(y_t, w, transform="B", star=True, permutations=0)`` for each
  period t (analytic inference only, as ours), with the weights as a libpysal ``Graph`` and as a
  libpysal ``W``. Where ``--esda-periods`` is less than 60 the loop runs over that many periods
  and the time is extrapolated linearly to 60 (stated in the output).

"First call" is the first call in the process for that cube (vru uses no JIT compilation, so it
measures cold caches and lazy imports only; for the esda loop: its first call plus the median of
the later calls for the other periods). "Steady" is the median and the best wall-clock time of
``--repeats`` further calls (esda loop: the median and best time per period after the first call,
times 60), and the median CPU time of this process (``time.process_time``), which is much less
disturbed when other processes share the 2 cores. All computations are single-threaded.

Usage: .venv/bin/python benchmarks/hotspots/run.py [--repeats 5] [--esda-periods-large 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

import esda  # noqa: E402
import geopandas as gpd  # noqa: E402
import libpysal  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from libpysal.graph import Graph  # noqa: E402

from vru.analysis.emerging import emerging_hotspots  # noqa: E402
from vru.analysis.hotspots import getis_ord  # noqa: E402

PERIODS = 60
LSOA = ROOT / "src/vru/data/bundled/boundaries/lsoa2011_gen20/london-2011-lsoa-gen20.shp.zip"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
        ram = f"{mem_kb / 1024**2:.1f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    return (f"nproc {nproc}, {cpu}, {ram}; Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}, "
            f"esda {esda.__version__}, libpysal {libpysal.__version__}")


def synthetic_counts(weights: sp.csr_array, periods: int, seed: int) -> np.ndarray:
    """Monthly counts with spatially smooth area rates (mean about 3.8 a month, the London LSOA
    mean for violence in 2019), seasonality, and 2% of areas whose rate doubles over the years."""
    rng = np.random.default_rng(seed)
    n = weights.shape[0]
    row = sp.diags_array(1.0 / np.maximum(np.asarray(weights.sum(axis=1)).ravel(), 1)) @ weights
    log_rate = rng.normal(0.0, 0.8, n)
    for _ in range(3):
        log_rate = 0.5 * log_rate + 0.5 * (row @ log_rate)
    rate = 3.8 * np.exp(log_rate - log_rate.mean())
    t = np.arange(periods)
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (t - 3) / 12)
    growth = np.ones((n, periods))
    rising = rng.choice(n, size=n // 50, replace=False)
    growth[rising] = np.linspace(1.0, 2.0, periods)
    return rng.poisson(rate[:, None] * season[None, :] * growth).astype(np.float64)


def timed(fn, *args, **kwargs):
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def esda_loop(cube: np.ndarray, w, periods: int) -> tuple[tuple, list[tuple], list[np.ndarray]]:
    """((wall, cpu) of the first call, (wall, cpu) of each later call, z of the timed periods)."""
    zs, times = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in range(periods):
            wall, cpu, res = timed(esda.G_Local, cube[:, t], w, transform="B", star=True,
                                   permutations=0)
            times.append((wall, cpu))
            zs.append(res.Zs)
    return times[0], (times[1:] if len(times) > 1 else times), zs


def _summarise(label: str, first: tuple, runs: list[tuple], scale: int = 1,
               first_scale: int = 0) -> dict:
    """Row of the results table; ``scale`` extrapolates a per-period time to the 60 periods."""
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    return {
        "label": label,
        "first": first[0] + statistics.median(walls) * first_scale,
        "median": statistics.median(walls) * scale,
        "best": min(walls) * scale,
        "cpu": statistics.median(cpus) * scale,
    }


def run_case(name: str, graph: Graph, w: libpysal.weights.W, cube: np.ndarray, repeats: int,
             esda_periods: int) -> dict:
    print(f"\n## {name}: {cube.shape[0]:,} areas x {cube.shape[1]} periods", flush=True)
    wall, cpu, result = timed(emerging_hotspots, cube, graph)
    ehsa = _summarise("vru `emerging_hotspots` (whole EHSA)", (wall, cpu),
                      [timed(emerging_hotspots, cube, graph)[:2] for _ in range(repeats)])
    wall, cpu, gi = timed(getis_ord, cube, graph)
    gi_row = _summarise("vru `getis_ord`, all 60 periods in one call", (wall, cpu),
                        [timed(getis_ord, cube, graph)[:2] for _ in range(repeats)])
    g_first, g_runs, g_z = esda_loop(cube, graph, esda_periods)
    w_first, w_runs, w_z = esda_loop(cube, w, esda_periods)
    extrap = (f" (timed {esda_periods} periods, extrapolated to {PERIODS})"
              if esda_periods < PERIODS else "")
    g_row = _summarise(f"esda `G_Local` loop, `Graph`{extrap}", g_first, g_runs, PERIODS,
                       PERIODS - 1)
    w_row = _summarise(f"esda `G_Local` loop, `W`{extrap}", w_first, w_runs, PERIODS,
                       PERIODS - 1)
    ours_z = gi["z"].to_numpy()
    diff = max(float(np.nanmax(np.abs(ours_z[:, t] - g_z[t]))) for t in range(esda_periods))
    diff_w = max(float(np.nanmax(np.abs(ours_z[:, t] - w_z[t]))) for t in range(esda_periods))
    print("| run | first call, wall (s) | steady, wall median (s) | steady, wall best (s) "
          "| steady, CPU median (s) |")
    print("|---|---:|---:|---:|---:|")
    for row in (ehsa, gi_row, g_row, w_row):
        print(f"| {row['label']} | {row['first']:.3f} | {row['median']:.3f} | {row['best']:.3f} "
              f"| {row['cpu']:.3f} |")
    print()
    for ours in (ehsa, gi_row):
        parts = []
        for ref, kind in ((g_row, "Graph"), (w_row, "W")):
            parts.append(f"{kind} {ref['median'] / ours['median']:.0f}x wall median, "
                         f"{ref['best'] / ours['best']:.0f}x wall best, "
                         f"{ref['cpu'] / ours['cpu']:.0f}x CPU")
        print(f"- esda loop / {ours['label']}: " + "; ".join(parts))
    print(f"- max |z(vru) - z(esda)| over the timed periods: Graph {diff:.1e}, W {diff_w:.1e}")
    counts = result.summary["category"].value_counts()
    print("- categories: " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
    return {"ehsa": ehsa, "gi": gi_row, "esda_graph": g_row, "esda_w": w_row}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--esda-periods-london", type=int, default=PERIODS)
    ap.add_argument("--esda-periods-large", type=int, default=10)
    args = ap.parse_args(argv)
    print("# Hot spot benchmark")
    print(f"\nMachine: {machine()}")
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"Load average at start (1, 5, 15 min): {load}")
    except OSError:
        pass
    print(f"Command: .venv/bin/python benchmarks/hotspots/run.py {' '.join(argv or sys.argv[1:])}")

    t0 = time.perf_counter()
    geo = gpd.read_file(LSOA).set_index("LSOA11CD")
    graph = Graph.build_contiguity(geo, rook=False)
    w = graph.to_W()
    print(f"\nLondon weights: {graph.n:,} LSOAs, queen contiguity, built in "
          f"{time.perf_counter() - t0:.1f} s (not timed below)")
    cube = synthetic_counts(sp.csr_array(graph.sparse), PERIODS, seed=20240601)
    run_case("London LSOAs", graph, w, cube, args.repeats, args.esda_periods_london)

    t0 = time.perf_counter()
    lattice = libpysal.weights.lat2W(175, 200, rook=False)
    big_graph = Graph.from_W(lattice)
    print(f"\nLattice weights: {lattice.n:,} cells, queen contiguity, built in "
          f"{time.perf_counter() - t0:.1f} s (not timed below)")
    big = synthetic_counts(sp.csr_array(lattice.sparse), PERIODS, seed=20240602)
    run_case("Synthetic lattice", big_graph, lattice, big, args.repeats, args.esda_periods_large)
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"\nLoad average at end (1, 5, 15 min): {load}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
