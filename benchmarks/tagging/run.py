"""Benchmark: GPS-tag crime matching against a hand-written DuckDB query (the floor) and geopandas.

    .venv/bin/python benchmarks/tagging/run.py --data /tmp/tb/full --repeats 5 --json results.json
    .venv/bin/python benchmarks/tagging/run.py --data /tmp/tb-small --wearers 100 --days 3 --crimes 200

Data (generated once into ``--data DIR`` and reused while the sizes match):

- a month (``--days``) of fixes for ``--wearers`` wearers at one a minute, from
  :func:`vru.tagging.simulate.simulate` run one day at a time (seed = the day's number, so every day
  draws new homes and trails: the volume and the spatial and temporal spread are realistic, the
  continuity of one wearer from one day to the next is not), each day's feed written as Parquet and
  imported with :func:`vru.tagging.positions.import_positions` (validation, British National Grid,
  de-duplication of the reconnect bursts) into the positions store (Parquet by day); the import is
  timed (fixes per second);
- the activations: one device per wearer, active from an hour before the month;
- one day's batch of ``--crimes`` crimes on the middle day: a quarter planted on the true trails by
  :func:`vru.tagging.simulate.plant_crimes` with as many decoys just outside the radius and just
  outside the window, the rest uniform in London with windows of 10 minutes to 2 hours.

Contestants, each in a fresh Python process (wall time of the whole process and of the matching step
alone, and the peak resident memory of the process, ``VmHWM``):

1. ``project``: :func:`vru.tagging.matching.match` over ``store.positions_table`` (DuckDB), as
   ``vru tagging match`` calls it (the store pruned to the crimes' windows plus the interpolation
   margin); the whole algorithm: candidate fixes, interpolation, visits and scores;
2. ``sql``: one hand-written DuckDB query over the same Parquet files: days pruned by the hive
   partition, fixes filtered by the crimes' overall window and mechanism, an equi-join on a grid of
   cells of ``R + max precision`` (the crime's 3 x 3 cells), then the exact window and distance tests;
3. ``geopandas``: the days overlapping the crimes' windows read with ``pandas.read_parquet`` (pyarrow
   filters on time and mechanism) into a GeoDataFrame of points, ``geopandas.sjoin(fixes, crimes,
   predicate="dwithin", distance=R + max precision)`` (the STRtree, built on the crimes), then the
   window and the exact per-fix ``distance <= R + precision`` test.

What is compared: the set of ``(crime_version_id, device_id, fix_time)`` of the candidate GPS/WIFI
fixes, i.e. the fixes within ``R + precision_m`` of a crime during its window widened by the
tolerance. For the project these are its points with ``interpolated = False`` and mechanism GPS or
WIFI (all of its other points are interpolated points or LBS/RF fixes, which the peers do not
compute); the run stops with an error unless the three sets are equal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "src"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _webload import provenance  # noqa: E402

from vru.tagging import schema as S  # noqa: E402

R = 100.0  # the project's default radius (matching.Params.radius_m)
TOL = 300.0  # the project's default tolerance (matching.Params.tolerance_s)
MONTH_START = pd.Timestamp("2024-03-01T00:00:00Z")
KEY = [S.CRIME_VERSION_ID, S.DEVICE_ID, S.FIX_TIME]
CONTESTANTS = ("project", "sql", "geopandas")


# --------------------------------------------------------------------------------------------- data
def _meta_wanted(a) -> dict:
    return {"wearers": a.wearers, "days": a.days, "crimes": a.crimes, "seed": a.seed,
            "start": str(MONTH_START), "generator": "simulate-1"}


def generate(a, data: Path) -> dict:
    """Simulate and import the month, plant the crimes; skipped when ``data`` already holds them."""
    from vru.tagging import positions, simulate

    meta_path = data / "meta.json"
    want = _meta_wanted(a)
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("params") == want:
            print(f"data: reusing {data} ({meta['fixes_stored']:,} fixes stored)")
            return meta
        sys.exit(f"{data} holds data of other sizes ({meta.get('params')}): give another --data folder")
    if data.exists() and any(data.iterdir()):
        sys.exit(f"{data} is not empty and has no meta.json: give an empty or new --data folder")
    data.mkdir(parents=True, exist_ok=True)
    store_dir = data / "store"
    ids = np.arange(a.wearers)
    act = pd.DataFrame({
        S.DEVICE_ID: simulate.device_name(2 * ids), S.WEARER_REF: simulate.wearer_name(ids),
        S.ACTIVE_FROM: MONTH_START - pd.Timedelta(hours=1),
        S.ACTIVE_TO: pd.Series(pd.NaT, index=ids, dtype="datetime64[us, UTC]")})
    act[S.ACTIVE_FROM] = act[S.ACTIVE_FROM].astype("datetime64[us, UTC]")
    act.to_parquet(data / "activations.parquet", index=False)
    act_t = positions.read_activations(data / "activations.parquet")
    crime_day = a.days // 2
    sim_s = imp_s = 0.0
    rows = added = 0
    crimes = None
    with tempfile.TemporaryDirectory() as tmp:
        for d in range(a.days):
            t0 = time.perf_counter()
            sim = simulate.simulate(a.wearers, 1, start=MONTH_START + pd.Timedelta(days=d), seed=a.seed + d)
            feed = simulate.write_table(sim.positions, Path(tmp) / f"feed-{d:02d}.parquet")
            if d == crime_day:
                crimes = make_crimes(sim.truth, a.crimes, a.seed)
            del sim
            t1 = time.perf_counter()
            r = positions.import_positions(feed, act_t, store_dir)
            t2 = time.perf_counter()
            feed.unlink()
            sim_s += t1 - t0
            imp_s += t2 - t1
            rows += r.rows
            added += r.imported
            print(f"day {d + 1}/{a.days}: {r.rows:,} feed rows, {r.imported:,} stored; simulate "
                  f"{t1 - t0:.1f} s, import {t2 - t1:.1f} s ({r.rows / (t2 - t1):,.0f} fixes/s)", flush=True)
    crimes.to_parquet(data / "crimes.parquet", index=False)
    meta = {"params": want, "feed_rows": rows, "fixes_stored": added, "crime_day": crime_day,
            "simulate_s": round(sim_s, 1), "import_s": round(imp_s, 1),
            "import_fixes_per_s": round(rows / imp_s),
            "crimes_by_kind": crimes["kind"].value_counts().to_dict()}
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def make_crimes(truth, n: int, seed: int) -> pd.DataFrame:
    """A quarter planted on the trails (true), as many decoys in space and in time, the rest random."""
    from vru.tagging import simulate

    n_true = n // 4
    planted = simulate.plant_crimes(truth, n_true, seed=seed, decoys=n_true, radius_m=R)
    n_rand = n - len(planted)
    rng = np.random.default_rng([seed, 13])
    t_first = truth[S.TIME].to_numpy().min().astype("datetime64[s]").astype(np.int64)
    xs, ys = [], []
    while len(xs) < n_rand:
        x = rng.uniform(503_000, 562_000, 4 * n_rand)
        y = rng.uniform(155_000, 201_000, 4 * n_rand)
        ok = simulate.in_london(x, y)
        xs += list(x[ok])
        ys += list(y[ok])
    t_from = t_first + rng.integers(0, 86400, n_rand)
    t_to = t_from + rng.integers(600, 7201, n_rand)
    ids = [f"RND{i + 1:06d}" for i in range(n_rand)]
    rnd = pd.DataFrame({
        S.CRIME_VERSION_ID: [f"{i}-v1" for i in ids], S.CRIME_REF: ids, S.FORCE: "Metropolitan",
        S.CRIME_TYPE: "RB",
        S.TIME_FROM: pd.to_datetime(t_from, unit="s", utc=True).astype("datetime64[us, UTC]"),
        S.TIME_TO: pd.to_datetime(t_to, unit="s", utc=True).astype("datetime64[us, UTC]"),
        S.EASTING: xs[:n_rand], S.NORTHING: ys[:n_rand], "kind": "random"})
    out = pd.concat([planted[[*S.CRIMES.names, "kind"]], rnd], ignore_index=True)
    return out


# -------------------------------------------------------------------------------------- contestants
def _crimes(data: Path) -> pd.DataFrame:
    return pd.read_parquet(data / "crimes.parquet")[[*S.CRIMES.names]]


def _window(cr: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The widened windows' overall span (what every contestant may prune to)."""
    tol = pd.Timedelta(seconds=TOL)
    return cr[S.TIME_FROM].min() - tol, cr[S.TIME_TO].max() + tol


def run_project(data: Path) -> tuple[pd.DataFrame, dict]:
    import ibis

    from vru.tagging import store
    from vru.tagging.matching import MATCHING_MECHANISMS, Params, match

    cr = _crimes(data)
    act = pd.read_parquet(data / "activations.parquet")
    p = Params(radius_m=R, tolerance_s=TOL)
    # as `vru tagging match` does: the store pruned to the windows plus the interpolation margin
    pad = pd.Timedelta(seconds=p.tolerance_s + p.max_gap_s + 1)
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    pos = store.positions_table(con, data / "store", cr[S.TIME_FROM].min() - pad, cr[S.TIME_TO].max() + pad)
    r = match(pos, act, cr, p, con=con)
    pts = r.points
    fixes = pts[~pts[S.INTERPOLATED] & pts[S.MECHANISM].isin(MATCHING_MECHANISMS)]
    extra = {"points": len(pts), "interpolated_points": int(pts[S.INTERPOLATED].sum()),
             "lbs_rf_points": int((~pts[S.MECHANISM].isin(MATCHING_MECHANISMS)).sum()),
             "matches": len(r.summary)}
    return fixes[KEY], extra


def run_sql(data: Path) -> tuple[pd.DataFrame, dict]:
    import duckdb

    cr = _crimes(data)
    lo, hi = _window(cr)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("crimes_df", cr)
    glob = str(data / "store" / "day=*" / "*.parquet")
    # the grid: cells of G metres, G >= R + the largest precision of a GPS/WIFI fix in the window, so a
    # fix within R + precision of a crime lies in one of the crime's 3 x 3 cells (1 m of margin)
    sql = f"""
    WITH fx AS (
        SELECT device_id, fix_time, easting, northing, precision_m
        FROM read_parquet('{glob}', hive_partitioning = true)
        WHERE day BETWEEN '{lo:%Y-%m-%d}' AND '{hi:%Y-%m-%d}'
          AND fix_time BETWEEN $lo AND $hi AND mechanism IN ('GPS', 'WIFI')),
    g AS (SELECT {R} + max(precision_m) + 1 AS g FROM fx),
    f AS (SELECT fx.*, floor(easting / g)::BIGINT AS cx, floor(northing / g)::BIGINT AS cy FROM fx, g),
    c AS (
        SELECT crime_version_id, easting AS x, northing AS y,
               time_from - INTERVAL {int(TOL)} SECOND AS wf, time_to + INTERVAL {int(TOL)} SECOND AS wt,
               floor(easting / g)::BIGINT + dx AS cx, floor(northing / g)::BIGINT + dy AS cy
        FROM crimes_df, g, range(-1, 2) AS a(dx), range(-1, 2) AS b(dy))
    SELECT c.crime_version_id, f.device_id, f.fix_time
    FROM f JOIN c ON f.cx = c.cx AND f.cy = c.cy
    WHERE f.fix_time BETWEEN c.wf AND c.wt
      AND (f.easting - c.x) ^ 2 + (f.northing - c.y) ^ 2 <= ({R} + f.precision_m) ^ 2
    """
    out = con.execute(sql, {"lo": lo.to_pydatetime(), "hi": hi.to_pydatetime()}).df()
    return out, {}


def run_geopandas(data: Path) -> tuple[pd.DataFrame, dict]:
    import geopandas as gpd

    from vru.tagging import store

    cr = _crimes(data)
    lo, hi = _window(cr)
    files = store.partition_files(data / "store", lo, hi + pd.Timedelta(microseconds=1))
    df = pd.read_parquet(files, columns=[S.DEVICE_ID, S.FIX_TIME, S.EASTING, S.NORTHING, S.PRECISION_M],
                         filters=[(S.FIX_TIME, ">=", lo), (S.FIX_TIME, "<=", hi),
                                  (S.MECHANISM, "in", ["GPS", "WIFI"])])
    fixes = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[S.EASTING], df[S.NORTHING]), crs=27700)
    crimes = gpd.GeoDataFrame(cr[[S.CRIME_VERSION_ID, S.TIME_FROM, S.TIME_TO, S.EASTING, S.NORTHING]],
                              geometry=gpd.points_from_xy(cr[S.EASTING], cr[S.NORTHING]), crs=27700)
    dmax = R + float(df[S.PRECISION_M].max())
    # the STRtree is built on the right frame: on the 1,000 crimes and queried with the fixes, this is
    # twice as fast as the other way round (measured: 0.27 s against 0.58 s with the tree's build)
    j = gpd.sjoin(fixes, crimes, predicate="dwithin", distance=dmax, lsuffix="f", rsuffix="c")
    tol = pd.Timedelta(seconds=TOL)
    j = j[(j[S.FIX_TIME] >= j[S.TIME_FROM] - tol) & (j[S.FIX_TIME] <= j[S.TIME_TO] + tol)]
    d = np.hypot(j[S.EASTING + "_f"] - j[S.EASTING + "_c"], j[S.NORTHING + "_f"] - j[S.NORTHING + "_c"])
    j = j[d <= R + j[S.PRECISION_M]]
    return pd.DataFrame(j[KEY]), {"fixes_loaded": len(df), "days_read": len(files)}


RUNNERS = {"project": run_project, "sql": run_sql, "geopandas": run_geopandas}


def contestant(name: str, data: Path, out: Path) -> None:
    """Run one contestant in this (fresh) process; write its pairs and its timing to ``out``.

    The libraries are imported before the clock starts (the whole process's time is measured too)."""
    import duckdb  # noqa: F401
    import ibis  # noqa: F401

    if name == "project":
        # and what Ibis imports on first use (its SQL compilers; geopandas, which it checks for when
        # it reads a pandas frame), so that the clock measures matching, not module loading
        import geopandas  # noqa: F401
        import ibis.backends.duckdb  # noqa: F401
        import ibis.backends.sql.compilers  # noqa: F401

        import vru.tagging.matching  # noqa: F401
    if name == "geopandas":
        import geopandas  # noqa: F401
    t0 = time.perf_counter()
    pairs, extra = RUNNERS[name](data)
    dt = time.perf_counter() - t0
    pairs = pairs.copy()
    pairs[S.FIX_TIME] = pd.to_datetime(pairs[S.FIX_TIME], utc=True).astype("datetime64[us, UTC]")
    pairs.sort_values(KEY).reset_index(drop=True).to_parquet(out / f"{name}.parquet", index=False)
    # the peak resident memory of this process (exec starts a fresh high-water mark; the rusage of a
    # forked child would also count the parent's pages at the fork)
    hwm = next(int(ln.split()[1]) for ln in Path("/proc/self/status").read_text().splitlines()
               if ln.startswith("VmHWM"))
    (out / f"{name}.json").write_text(json.dumps({"match_s": dt, "peak_rss_mib": hwm / 1024, **extra}))


# -------------------------------------------------------------------------------------------- driver
def measure(name: str, data: Path, out: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--data", str(data), "--contestant", name,
                             "--out", str(out)])
    proc.wait()
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"{name} failed (exit {proc.returncode})")
    inner = json.loads((out / f"{name}.json").read_text())
    return {"match_s": inner.pop("match_s"), "process_s": wall, **inner}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "vru-tagging-bench")
    ap.add_argument("--wearers", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--crimes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each contestant (fresh process each)")
    ap.add_argument("--only", default=",".join(CONTESTANTS), help="comma-separated contestants")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--contestant", choices=CONTESTANTS, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.contestant:
        contestant(a.contestant, a.data, a.out)
        return
    prov = provenance()
    meta = generate(a, a.data)
    names = [n.strip() for n in a.only.split(",") if n.strip()]
    results: dict[str, list[dict]] = {n: [] for n in names}
    pairs = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(a.repeats):  # interleaved, so that a change of load hits every contestant
            for n in names:
                r = measure(n, a.data, out)
                results[n].append(r)
                print(f"run {i + 1} {n:10} match {r['match_s']:7.2f} s  process {r['process_s']:7.2f} s  "
                      f"peak {r['peak_rss_mib']:7,.0f} MiB", flush=True)
                if i == 0:
                    pairs[n] = pd.read_parquet(out / f"{n}.parquet")
    ref = names[0]
    for n in names[1:]:
        if not pairs[n].equals(pairs[ref]):
            a_ = set(map(tuple, pairs[ref].astype(str).to_numpy()))
            b_ = set(map(tuple, pairs[n].astype(str).to_numpy()))
            sys.exit(f"OUTPUTS DIFFER: {ref} {len(a_)} pairs, {n} {len(b_)}; only in {ref}: "
                     f"{sorted(a_ - b_)[:5]}, only in {n}: {sorted(b_ - a_)[:5]}")
    n_pairs = len(pairs[ref])
    n_crimes = pairs[ref][S.CRIME_VERSION_ID].nunique()
    print(f"\nequal output: {n_pairs:,} candidate GPS/WIFI fixes for {n_crimes} of {a.crimes} crimes "
          f"({', '.join(names)})")
    summary = {}
    for n in names:
        rs = results[n]
        summary[n] = {"match_s_median": float(np.median([r["match_s"] for r in rs])),
                      "match_s_best": float(min(r["match_s"] for r in rs)),
                      "process_s_median": float(np.median([r["process_s"] for r in rs])),
                      "peak_rss_mib_max": float(max(r["peak_rss_mib"] for r in rs))}
    print("\n| contestant | match, median (s) | match, best (s) | whole process, median (s) "
          "| peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for n in names:
        s_ = summary[n]
        print(f"| {n} | {s_['match_s_median']:.2f} | {s_['match_s_best']:.2f} | {s_['process_s_median']:.2f} "
              f"| {s_['peak_rss_mib_max']:,.0f} |")
    ratios = {}
    if "project" in summary and "sql" in summary:
        ratios["project_over_sql"] = summary["project"]["match_s_median"] / summary["sql"]["match_s_median"]
    if "project" in summary and "geopandas" in summary:
        ratios["geopandas_over_project"] = (summary["geopandas"]["match_s_median"]
                                            / summary["project"]["match_s_median"])
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}")
    print(f"import: {meta['feed_rows']:,} feed rows in {meta['import_s']} s = "
          f"{meta['import_fixes_per_s']:,} fixes/s (at generation)")
    if a.json:
        a.json.write_text(json.dumps({"provenance": prov, "data": meta, "n_pairs": n_pairs,
                                      "n_crimes_matched": int(n_crimes), "runs": results,
                                      "summary": summary, "ratios": ratios}, indent=1, default=str))


if __name__ == "__main__":
    main()
