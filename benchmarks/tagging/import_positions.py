"""Benchmark: position import throughput (goal: at least a million fixes a second).

    .venv/bin/python benchmarks/tagging/import_positions.py --wearers 1000 --days 1 --format parquet

Simulates the feed (not timed), then times :func:`vru.tagging.positions.import_positions` (read,
validate every row, convert to British National Grid, de-duplicate, write the day partitions) into
an empty store, and the re-import of the same file (every row a duplicate). Prints the wall time, the
CPU time of the process (all threads; user and system) and the wall time of each stage (the
import's ``timings_s``): on a shared machine the CPU time says what the import costs, the wall time
what the load left of it. ``--repeats N`` runs the pair N times (a fresh store each time; the first
pair is the cold one); ``--profile`` prints cProfile's top functions of the first import; ``--json``
writes the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vru.tagging import positions, simulate


def _cpu() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wearers", type=int, default=1000)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sim = simulate.simulate(a.wearers, a.days, seed=a.seed)
        paths = simulate.write(sim, Path(tmp) / "sim", a.format)
        print(f"simulated {sim.positions.num_rows:,} fixes in {time.perf_counter() - t0:.1f} s "
              f"({os.cpu_count()} CPUs)")
        act = positions.read_activations(paths["activations"])
        for rep in range(a.repeats):
            for what in ("import", "re-import"):
                prof = cProfile.Profile() if a.profile and rep == 0 and what == "import" else None
                t0, (u0, s0) = time.perf_counter(), _cpu()
                if prof:
                    prof.enable()
                r = positions.import_positions(paths["positions"], act, Path(tmp) / f"store{rep}")
                if prof:
                    prof.disable()
                dt, (u1, s1) = time.perf_counter() - t0, _cpu()
                cpu = (u1 - u0) + (s1 - s0)
                load = os.getloadavg()[0]
                stages = " ".join(f"{k} {v:.2f}" for k, v in r.timings_s.items())
                print(f"{what:9} {a.format}: {r.rows:,} rows, {r.imported:,} new, {r.duplicates:,} "
                      f"duplicates in {dt:.2f} s = {r.rows / dt:,.0f} fixes/s; CPU {cpu:.2f} s "
                      f"(user {u1 - u0:.2f}, system {s1 - s0:.2f}; all threads) = "
                      f"{r.rows / cpu:,.0f} fixes per CPU-second; "
                      f"load average {load:.1f}\n          stages (wall s): {stages}")
                runs.append({"what": what, "repeat": rep, "rows": r.rows, "new": r.imported, "wall_s": dt,
                             "cpu_s": cpu, "user_s": u1 - u0, "system_s": s1 - s0, "load": load,
                             "timings_s": r.timings_s})
                if prof:
                    pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (process, incl. the simulation): {peak:,.0f} MiB")
    if a.json:
        git = ["git", "rev-parse", "--short", "HEAD"]
        commit = subprocess.run(git, capture_output=True, text=True).stdout.strip()
        a.json.write_text(json.dumps({
            "command": "python " + " ".join(sys.argv), "commit": commit, "cpus": os.cpu_count(),
            "python": platform.python_version(), "peak_rss_mib": peak, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
