"""Probe (issue 13, seventh session): would matching in two queries be cheaper than in one?

The project's one query (``vru.tagging.matching.match_expr``) does, beside the equal-work core, two extras
the floor ``sql_equal`` leaves out: the LBS/RF candidates (with their count of GPS/WIFI fixes before them)
and the candidate fixes' speed and heading. This probe times, in one warm process with the order of the
contestants alternated, the project against:

- **core**: a copy of ``matching.py`` whose query leaves out the LBS/RF candidates (variant ``a``: and takes
  no speed or heading from the store; variant ``b``: carries speed and heading through the window), and
- **second**: one small DuckDB query over the same Parquet store that returns what the core left out, for
  the matched (crime, wearer) pairs only (the devices of the matched wearers semi-joined into the scan):
  their LBS/RF candidates with the count, and (variant ``a``) the candidate fixes' speed and heading.

``core + second`` is a lower bound of a two-query ``match``: it does not redo the visits with the LBS/RF
points. The variants are built from the current ``matching.py`` by text replacement (asserted), in a
temporary folder; nothing in ``src`` is changed. Informative only: the core's points differ from the
project's (no LBS/RF points, and in ``a`` no speed or heading).

    .venv/bin/python benchmarks/tagging/split_probe.py --data /tmp/h4/full --variant a --rounds 6
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import duckdb
import ibis
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as B  # the benchmark's data, crimes and floor

from vru.tagging import matching as M
from vru.tagging import schema as S
from vru.tagging import store

_UNION = "    return ge.union(fc)\n"
_SH_JOIN = ("    sh = speed_heading.semi_join(ck, [speed_heading._spk == ck._ckpk, "
            "speed_heading._sft == ck._ckft])\n"
            "    j = named(j.left_join(sh, [j._pk == sh._spk, j._end1, j[s.FIX_TIME] == sh._sft]))\n")
_DROP_SH = "    e = e.drop(s.SPEED_KMH, s.HEADING_DEG)\n"


def core_module(variant: str, folder: Path):
    """matching.py without the LBS/RF candidates; a: no speed/heading from the store, b: carried."""
    text = Path(M.__file__).read_text()
    for old in (_UNION, _SH_JOIN, _DROP_SH):
        if old not in text:
            raise SystemExit(f"split_probe: {M.__file__} no longer has the text this probe replaces: {old!r}")
    text = text.replace(_UNION, "    return ge\n")
    if variant == "a":
        text = text.replace(_SH_JOIN, "    j = named(j.mutate(_spd=ibis.null().cast('float64'), "
                                      "_hdg=ibis.null().cast('float64')))\n")
    else:
        text = text.replace(_DROP_SH, "").replace(
            _SH_JOIN, "    j = named(j.mutate(_spd=j[s.SPEED_KMH], _hdg=j[s.HEADING_DEG]))\n")
    path = folder / f"matching_core_{variant}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    return mod


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_match(mod, data: Path, cr: pd.DataFrame, act: pd.DataFrame):
    """As run.run_project calls it: the store pruned to the windows plus the interpolation margin."""
    p = mod.Params(radius_m=B.R, tolerance_s=B.TOL)
    pad = pd.Timedelta(seconds=p.tolerance_s + p.max_gap_s + 1)
    lo, hi = cr[S.TIME_FROM].min() - pad, cr[S.TIME_TO].max() + pad
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    pos = store.positions_table(con, data / "store", lo, hi)
    return mod.match(pos, act, cr, p, con=con).points, lo, hi


def second_query(variant: str, data: Path, cr, act, pts: pd.DataFrame, lo, hi) -> pd.DataFrame:
    """What the core left out, for the matched (crime, wearer) pairs only."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("pairs", pts[[S.CRIME_VERSION_ID, S.WEARER_REF]].drop_duplicates())
    con.register("cand", pts.loc[~pts[S.INTERPOLATED], [S.DEVICE_ID, S.FIX_TIME]].drop_duplicates())
    con.register("cr", cr)
    con.register("act", act)
    glob = str(data / "store" / "day=*" / "*.parquet")
    extra_cols = ", f.speed_kmh, f.heading_deg" if variant == "a" else ""
    tol, R = int(B.TOL), B.R
    sql = f"""
    WITH dev AS (SELECT DISTINCT a.device_id, a.wearer_ref, a.active_from, a.active_to FROM act a
                 SEMI JOIN pairs p ON a.wearer_ref = p.wearer_ref),
    fx AS (SELECT f.device_id, f.fix_time, f.easting, f.northing, f.precision_m,
                  f.mechanism IN ('LBS', 'RF') AS coarse{extra_cols}
           FROM read_parquet('{glob}', hive_partitioning = true) f
           WHERE day BETWEEN '{lo:%Y-%m-%d}' AND '{hi:%Y-%m-%d}' AND fix_time BETWEEN $lo AND $hi
             AND device_id IN (SELECT device_id FROM dev)),
    lbs AS (SELECT p.crime_version_id, f.device_id, f.fix_time FROM fx f
            JOIN dev d ON f.device_id = d.device_id AND f.fix_time >= d.active_from
                      AND (d.active_to IS NULL OR f.fix_time < d.active_to)
            JOIN pairs p ON p.wearer_ref = d.wearer_ref JOIN cr c ON c.crime_version_id = p.crime_version_id
            WHERE f.coarse
              AND f.fix_time BETWEEN c.time_from - INTERVAL {tol} SECOND AND c.time_to + INTERVAL {tol} SECOND
              AND (f.easting - c.easting) * (f.easting - c.easting)
                  + (f.northing - c.northing) * (f.northing - c.northing)
                  <= ({R} + f.precision_m) * ({R} + f.precision_m)),
    k AS (SELECT l.device_id, l.fix_time, count(g.fix_time) AS k
          FROM (SELECT DISTINCT device_id, fix_time FROM lbs) l
          LEFT JOIN fx g ON g.device_id = l.device_id AND g.fix_time <= l.fix_time AND NOT g.coarse
          GROUP BY ALL)
    SELECT 'lbs_rf' AS part, lbs.crime_version_id, lbs.device_id, lbs.fix_time, k.k{
        ", NULL AS speed_kmh, NULL AS heading_deg" if variant == "a" else ""}
    FROM lbs JOIN k USING (device_id, fix_time)
    {"" if variant == "b" else '''UNION ALL
    SELECT 'speed_heading', NULL, f.device_id, f.fix_time, NULL, f.speed_kmh, f.heading_deg
    FROM fx f SEMI JOIN cand c ON c.device_id = f.device_id AND c.fix_time = f.fix_time'''}
    """
    return con.execute(sql, {"lo": lo.to_pydatetime(), "hi": hi.to_pydatetime()}).df()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a folder made by run.py")
    ap.add_argument("--variant", choices=("a", "b"), default="a")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    cr = B._crimes(a.data)
    act = pd.read_parquet(a.data / "activations.parquet")
    with tempfile.TemporaryDirectory() as tmp:
        core = core_module(a.variant, Path(tmp))
        full, _, _ = run_match(M, a.data, cr, act)  # warm-up: each module compiles its query once
        run_match(core, a.data, cr, act)
        names = ("project", "core", "second", "core+second", "sql_equal")
        cpu_s: dict[str, list[float]] = {k: [] for k in names}
        for rnd in range(a.rounds):
            order = ["project", "core", "sql_equal"]
            for name in order if rnd % 2 == 0 else order[::-1]:
                c0 = cpu()
                if name == "project":
                    run_match(M, a.data, cr, act)
                elif name == "sql_equal":
                    B.run_sql_equal(a.data)
                else:
                    pts, lo, hi = run_match(core, a.data, cr, act)
                    c1 = cpu()
                    out = second_query(a.variant, a.data, cr, act, pts, lo, hi)
                    cpu_s["core"].append(c1 - c0)
                    cpu_s["second"].append(cpu() - c1)
                    cpu_s["core+second"].append(cpu() - c0)
                    continue
                cpu_s[name].append(cpu() - c0)
    med = {k: statistics.median(v) for k, v in cpu_s.items()}
    for k, v in cpu_s.items():
        print(f"{k:12s} CPU median {med[k]:.3f} s  rounds {[round(x, 3) for x in v]}")
    n_coarse = int((~full[S.MECHANISM].isin(M.MATCHING_MECHANISMS)).sum())
    print(f"second query rows {out['part'].value_counts().to_dict()}; the project's LBS/RF points {n_coarse} "
          f"(after LBS-only visits are dropped); core points {len(pts)}, project points {len(full)}")
    ratios = {"project/sql_equal": med["project"] / med["sql_equal"],
              "core/sql_equal": med["core"] / med["sql_equal"],
              "(core+second)/sql_equal": med["core+second"] / med["sql_equal"]}
    print("  ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    if a.json:
        a.json.write_text(json.dumps({"command": " ".join(sys.argv), "variant": a.variant,
                                      "load_average": list(__import__("os").getloadavg()),
                                      "cpu_s": cpu_s, "median_cpu_s": med, "ratios": ratios}, indent=1))


if __name__ == "__main__":
    main()
