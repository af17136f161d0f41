"""Benchmark: position import throughput (goal: at least a million fixes a second).

    .venv/bin/python benchmarks/tagging/import_positions.py --wearers 1000 --days 1 --format parquet

Simulates the feed (not timed), then times :func:`vru.tagging.positions.import_positions` (read,
validate every row, convert to British National Grid, de-duplicate, write the day partitions) into
an empty store, and the re-import of the same file (every row a duplicate). Prints the wall time and
the CPU time of the process (all threads): on a shared machine the CPU time says what the import
costs, the wall time what the load left of it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from vru.tagging import positions, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wearers", type=int, default=1000)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim = simulate.simulate(a.wearers, a.days, seed=a.seed)
        paths = simulate.write(sim, Path(tmp) / "sim", a.format)
        print(f"simulated {sim.positions.num_rows:,} fixes in {time.perf_counter() - t0:.1f} s "
              f"({os.cpu_count()} CPUs)")
        act = positions.read_activations(paths["activations"])
        for what in ("import", "re-import"):
            t0, c0 = time.perf_counter(), time.process_time()
            r = positions.import_positions(paths["positions"], act, Path(tmp) / "store")
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"{what:9} {a.format}: {r.rows:,} rows, {r.imported:,} new, {r.duplicates:,} duplicates "
                  f"in {dt:.2f} s = {r.rows / dt:,.0f} fixes/s; CPU {cpu:.2f} s (all threads) = "
                  f"{r.rows / cpu:,.0f} fixes per CPU-second; load average {os.getloadavg()[0]:.1f}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (process, incl. the simulation): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
