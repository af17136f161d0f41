"""National benchmark: the whole data.police.uk street archive -> the LSOA-month panel, hot spots, Spark.

On a synthetic national archive (:mod:`vru.synthetic.police_uk_national`: 44 forces, December 2010
onwards, about 100 million rows; generated first if ``--data`` is empty, with ``--rows``):

1. **Ingest**, each method in its own subprocess (so ``ru_maxrss`` is its own peak memory):
   ``ours`` = :func:`vru.sources.engine.street_panel` on DuckDB (what ``vru ingest`` runs on these
   files, validation included); ``sql`` = one hand-written DuckDB query (the floor, no
   validation; ``--sql-memory-limit`` caps DuckDB's memory so that it spills to disk instead of
   taking the shared machine's RAM); ``sql_by_month`` = the same query once per month of files
   (the engine's plan). The panels are compared cell by cell in DuckDB (they must be identical).
2. **Emerging hot spots** on the panel of ``ours``: crimes of all categories per LSOA and month
   (the cube: every LSOA code of the panel x every month), weights = the ``k`` nearest
   neighbours of the generator's synthetic LSOA centroids (``lsoas.csv``, projected to British
   National Grid) through :func:`vru.geography.weights.build_weights` (``rule="knn"``), then
   :func:`vru.analysis.emerging.emerging_hotspots` with its defaults. Cube, weights and the
   analysis are timed separately.
3. **Spark local mode** on a slice of whole months (the last months adding up to about
   ``--spark-rows`` rows): the engine with ``backend="spark"`` (local[N], session time zone UTC)
   beside the engine on DuckDB on the same files, panels compared. The Spark figures add the JVM's
   CPU time and peak memory (read from ``/proc``) to the Python driver's; the session start-up is
   timed separately.

Usage::

    nice -n 10 python benchmarks/national/run.py --data /tmp/national/full --json out.json
    python benchmarks/national/run.py --data /tmp/national/small --rows 2000000   # generates

Parts can be chosen with ``--parts ingest,hotspots,spark`` and methods with ``--methods``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLS = ["source", "level", "area_code", "month", "category", "count"]


def _ingest_module():
    """The raw-SQL methods of the one-year benchmark (the same floor, not a copy of it)."""
    path = HERE.parent / "ingest" / "run.py"
    spec = importlib.util.spec_from_file_location("ingest_run", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def files_of(data: Path, months: tuple[str, str] | None = None) -> list[str]:
    out = sorted(str(p) for p in data.glob("*/*-street.csv"))
    if months:
        out = [f for f in out if months[0] <= Path(f).name[:7] <= months[1]]
    return out


def spark_slice(data: Path, rows: int) -> tuple[str, str]:
    """The last whole months whose files add up to about ``rows`` rows (estimated from bytes)."""
    stats = json.loads((data / "stats.json").read_text())
    files = files_of(data)
    total = sum(Path(f).stat().st_size for f in files)
    per_row = total / stats["rows"]
    by_month: dict[str, int] = {}
    for f in files:
        by_month[Path(f).name[:7]] = by_month.get(Path(f).name[:7], 0) + Path(f).stat().st_size
    acc, months = 0.0, sorted(by_month, reverse=True)
    first = months[0]
    for m in months:
        if acc >= rows:
            break
        acc += by_month[m] / per_row
        first = m
    return first, months[0]


# --- children ----------------------------------------------------------------------------------


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_maxrss * 1024


def _jvm(pid: int | None) -> tuple[float, int]:
    """CPU seconds and peak resident memory (bytes) of the JVM process, from /proc."""
    if not pid:
        return 0.0, 0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    return cpu, hwm


def child_ingest(method: str, files: list[str], out: Path, sql_memory_limit: str | None,
                 name: str) -> dict:
    import duckdb
    import ibis
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import vru.sources.engine as engine

    ibis.duckdb  # noqa: B018  (imports the DuckDB backend)
    ing = _ingest_module()
    con = None
    if method.startswith("sql"):
        con = ing._sql_connection()
        if sql_memory_limit:
            con.execute(f"SET memory_limit = '{sql_memory_limit}'")
            con.execute(f"SET temp_directory = '{out / 'duckdb_tmp'}'")
    c0, _ = _usage()
    t0 = time.perf_counter()
    extra: dict = {}
    if method == "ours":
        # what `vru ingest` runs: the engine writes the panel to Parquet parts month by month
        spool = out / "ours_spool"
        shutil.rmtree(spool, ignore_errors=True)
        result = engine.street_scan(files, backend="duckdb", spool=spool)
        wall = time.perf_counter() - t0
        c1, peak = _usage()
        con = duckdb.connect()
        con.execute(f"COPY ({result.crime.select_sql()}) TO '{out / (name + '.parquet')}' "
                    "(FORMAT parquet)")
        con.close()
        shutil.rmtree(spool, ignore_errors=True)
        return {"method": method, "wall_s": wall, "cpu_s": c1 - c0, "peak_rss_bytes": peak,
                "panel_rows": len(result.crime), "crimes": result.crimes, "rows": result.rows}
    if method == "ours_warehouse":
        # `vru ingest` into a new warehouse file: engine, spool, insert (and the files' SHA-256)
        from vru.warehouse.ingest import ingest
        from vru.warehouse.store import Warehouse

        db = out / "national.duckdb"
        wh = Warehouse.create(db, replace=True)
        results = ingest(wh, files)
        wall = time.perf_counter() - t0
        c1, peak = _usage()
        wh.con.execute(f"COPY (SELECT {', '.join(COLS)} FROM crime) TO "
                       f"'{out / (name + '.parquet')}' (FORMAT parquet)")
        cells, crimes = wh.con.execute("SELECT count(*), sum(count) FROM crime").fetchone()
        wh.close()
        extra = {"warehouse_bytes": db.stat().st_size, "files_loaded": len(results)}
        db.unlink()
        return {"method": method, "wall_s": wall, "cpu_s": c1 - c0, "peak_rss_bytes": peak,
                "panel_rows": int(cells), "crimes": int(crimes), **extra}
    if method == "ours_frame":
        panel = engine.street_panel(files, backend="duckdb")
    elif method == "sql":
        panel = ing.raw_sql(files, con)
    elif method == "sql_by_month":
        import pandas as pd

        months: dict[str, list[str]] = {}
        for f in files:
            months.setdefault(Path(f).name[:7], []).append(f)
        panel = pd.concat([ing.raw_sql(fs, con) for _, fs in sorted(months.items())],
                          ignore_index=True)
    else:
        raise ValueError(method)
    wall = time.perf_counter() - t0
    c1, peak = _usage()
    panel[COLS].to_parquet(out / f"{name}.parquet", index=False)
    return {"method": method, "wall_s": wall, "cpu_s": c1 - c0, "peak_rss_bytes": peak,
            "panel_rows": len(panel), "crimes": int(panel["count"].sum())}


def child_spark(files: list[str], out: Path, cores: int, memory: str, name: str) -> dict:
    import ibis
    from pyspark.sql import SparkSession

    import vru.sources.engine as engine

    ibis.pyspark  # noqa: B018
    t0 = time.perf_counter()
    session = (
        SparkSession.builder.master(f"local[{cores}]").appName("vru-national-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(max(4, 4 * cores)))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    start_s = time.perf_counter() - t0
    proc = getattr(session.sparkContext._gateway, "proc", None)  # the local JVM, if we started it
    pid = proc.pid if proc is not None else None
    j0, _ = _jvm(pid)
    c0, _ = _usage()
    t0 = time.perf_counter()
    # Spark writes the panel itself (Parquet under the spool); nothing goes through the driver
    spool = out / "spark_spool"
    shutil.rmtree(spool, ignore_errors=True)
    result = engine.street_scan(files, backend="spark", spark_session=session, spool=spool)
    wall = time.perf_counter() - t0
    c1, peak = _usage()
    j1, jpeak = _jvm(pid)
    session.stop()
    import duckdb

    con = duckdb.connect()
    con.execute(f"COPY ({result.crime.select_sql()}) TO '{out / (name + '.parquet')}' "
                "(FORMAT parquet)")
    con.close()
    shutil.rmtree(spool, ignore_errors=True)
    return {"method": "spark", "wall_s": wall, "cpu_s": (c1 - c0) + (j1 - j0),
            "driver_python_cpu_s": c1 - c0, "jvm_cpu_s": j1 - j0, "peak_rss_bytes": peak + jpeak,
            "python_peak_rss_bytes": peak, "jvm_peak_rss_bytes": jpeak,
            "session_start_s": start_s, "spark_cores": cores, "spark_driver_memory": memory,
            "panel_rows": len(result.crime), "crimes": result.crimes, "rows": result.rows}


def child_hotspots(panel_path: Path, lsoas: Path, k: int) -> dict:
    import duckdb
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from vru.analysis.emerging import emerging_hotspots
    from vru.geography.weights import build_weights

    c0, _ = _usage()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    con = duckdb.connect()
    # the cube in DuckDB: each cell's row and column number (dense ranks), so Python only places
    # numbers (comparing millions of code strings in numpy took most of a minute)
    cells = con.sql(f"""
        WITH c AS (SELECT area_code, month, sum(count)::DOUBLE AS n
                   FROM read_parquet('{panel_path}') WHERE area_code <> 'X-NO-LOCATION'
                   GROUP BY ALL)
        SELECT (dense_rank() OVER (ORDER BY area_code) - 1)::INTEGER AS i,
               (dense_rank() OVER (ORDER BY month) - 1)::INTEGER AS j, n FROM c""").fetchnumpy()
    codes = np.array([r[0] for r in con.sql(
        f"SELECT DISTINCT area_code FROM read_parquet('{panel_path}') "
        "WHERE area_code <> 'X-NO-LOCATION' ORDER BY 1").fetchall()], dtype=object)
    periods = np.array([r[0] for r in con.sql(
        f"SELECT DISTINCT month FROM read_parquet('{panel_path}') "
        "WHERE area_code <> 'X-NO-LOCATION' ORDER BY 1").fetchall()])
    cube = np.zeros((len(codes), len(periods)))
    cube[cells["i"], cells["j"]] = cells["n"]
    cube = pd.DataFrame(cube, index=pd.Index(codes, name="area_code"), columns=periods)
    t_cube, c_cube = time.perf_counter() - t0, _usage()[0] - c0
    t1 = time.perf_counter()
    pts = pd.read_csv(lsoas, usecols=["code", "longitude", "latitude"]).set_index("code")
    pts = pts.loc[codes]
    gdf = gpd.GeoDataFrame({"code": codes}, geometry=gpd.points_from_xy(
        pts["longitude"], pts["latitude"]), crs="EPSG:4326").to_crs(27700)
    graph = build_weights(gdf, "knn", k=k, id_col="code")
    t_weights, c_weights = time.perf_counter() - t1, _usage()[0] - c0 - c_cube
    t2 = time.perf_counter()
    result = emerging_hotspots(cube, graph)
    t_ehsa, c_ehsa = time.perf_counter() - t2, _usage()[0] - c0 - c_cube - c_weights
    c1, peak = _usage()
    cats = result.summary["category"].value_counts().to_dict()
    return {"method": "hotspots", "areas": len(codes), "periods": len(periods),
            "first_period": str(periods[0])[:7], "last_period": str(periods[-1])[:7],
            "k": k, "cube_s": t_cube, "weights_s": t_weights, "emerging_s": t_ehsa,
            "cube_cpu_s": c_cube, "weights_cpu_s": c_weights, "emerging_cpu_s": c_ehsa,
            "load_before": load0, "load_after": os.getloadavg(),
            "wall_s": time.perf_counter() - t0, "cpu_s": c1 - c0, "peak_rss_bytes": peak,
            "categories": {str(a): int(b) for a, b in cats.items()}}


# --- parent ------------------------------------------------------------------------------------


def compare(a: Path, b: Path) -> dict:
    """Whether two panels hold the same cells: the row count and an order-independent checksum
    (the sum of a 64-bit hash of every whole row) must agree. Keys are unique in both by
    construction, so equal counts and sums mean identical panels (short of a hash collision);
    an exact ``EXCEPT ALL`` of two 37-million-row panels needs ~10 GiB on this machine."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    # the same types on both sides (a panel may hold months as ns or us timestamps)
    cols = ("source::VARCHAR, level::VARCHAR, area_code::VARCHAR, month::TIMESTAMP, "
            "category::VARCHAR, count::BIGINT")
    q = f"SELECT count(*), sum(hash({cols})::HUGEINT)::VARCHAR, sum(count) FROM read_parquet('{{}}')"
    ra = con.execute(q.format(a)).fetchone()
    rb = con.execute(q.format(b)).fetchone()
    return {"rows": [int(ra[0]), int(rb[0])], "crimes": [int(ra[2]), int(rb[2])],
            "checksums": [ra[1], rb[1]], "identical": ra == rb}


def _run_child(args: list[str], out: Path, name: str) -> dict:
    subprocess.run([sys.executable, __file__, "--child", *args, "--out", str(out)], check=True)
    res = json.loads((out / f"{name}.json").read_text())
    gib = res["peak_rss_bytes"] / 2**30
    print(f"{name:14s} {res['wall_s']:8.1f} s wall {res['cpu_s']:8.1f} s CPU  peak {gib:5.2f} GiB",
          flush=True)
    return res


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    import duckdb
    import ibis
    import pandas

    out = {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**30, 1),
           "python": platform.python_version(), "duckdb": duckdb.__version__,
           "ibis": ibis.__version__, "pandas": pandas.__version__}
    try:
        import pyspark

        out["pyspark"] = pyspark.__version__
    except ImportError:
        pass
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the archive (generated if empty)")
    ap.add_argument("--rows", type=int, default=100_000_000, help="rows to generate if empty")
    ap.add_argument("--work", type=Path, help="where panels are written (default DATA/../work)")
    ap.add_argument("--parts", default="ingest,hotspots,spark")
    ap.add_argument("--methods", default="ours,sql_by_month,ours_warehouse,sql",
                    help="ingest methods, the first is compared with the others (also: ours_frame)")
    ap.add_argument("--sql-memory-limit", default="8GB",
                    help="DuckDB memory_limit of the raw-SQL methods ('' for DuckDB's default)")
    ap.add_argument("--k", type=int, default=8, help="nearest neighbours for the hot spot weights")
    ap.add_argument("--spark-rows", type=int, default=10_000_000)
    ap.add_argument("--spark-cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--spark-memory", default="6g")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--files-from", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    work = a.work or a.data.parent / f"{a.data.name}-work"
    if a.child:
        files = (json.loads(a.files_from.read_text()) if a.files_from else [])
        name = a.name or a.child
        if a.child == "spark":
            res = child_spark(files, a.out, a.spark_cores, a.spark_memory, name)
        elif a.child == "hotspots":
            res = child_hotspots(a.out / "ours.parquet", a.data / "lsoas.csv", a.k)
        else:
            res = child_ingest(a.child, files, a.out, a.sql_memory_limit or None, name)
        (a.out / f"{name}.json").write_text(json.dumps(res))
        return 0

    if not files_of(a.data):
        print(f"no data in {a.data}: generating {a.rows:,} rows", flush=True)
        from vru.synthetic import police_uk_national

        police_uk_national.generate(a.data, a.rows, progress=True)
    work.mkdir(parents=True, exist_ok=True)
    files = files_of(a.data)
    (work / "files.json").write_text(json.dumps(files))
    parts = a.parts.split(",")
    load_before = os.getloadavg()
    result: dict = {
        "command": "python benchmarks/national/run.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(), "data": str(a.data), "files": len(files),
        "bytes": sum(Path(f).stat().st_size for f in files),
        "generated": json.loads((a.data / "stats.json").read_text()),
    }
    result["generated"]["missing_files"] = len(result["generated"]["missing_files"])
    common = ["--data", str(a.data), "--sql-memory-limit", a.sql_memory_limit]
    if "ingest" in parts:
        methods = a.methods.split(",")
        runs = {m: _run_child([m, *common, "--files-from", str(work / "files.json")], work, m)
                for m in methods}
        result["ingest"] = runs
        first = methods[0]
        result["ingest_panels_identical"] = {
            f"{first} vs {m}": compare(work / f"{first}.parquet", work / f"{m}.parquet")
            for m in methods[1:]}
        for m in methods[1:]:
            if not result["ingest_panels_identical"][f"{first} vs {m}"]["identical"]:
                print(f"PANELS DIFFER: {first} vs {m}", flush=True)
        for den in methods[1:]:
            result[f"{first}_over_{den}"] = round(runs[first]["wall_s"] / runs[den]["wall_s"], 3)
            result[f"{first}_over_{den}_cpu"] = round(runs[first]["cpu_s"] / runs[den]["cpu_s"], 3)
    if "hotspots" in parts:
        result["hotspots"] = _run_child(["hotspots", "--data", str(a.data), "--k", str(a.k)],
                                        work, "hotspots")
    if "spark" in parts:
        lo, hi = spark_slice(a.data, a.spark_rows)
        sl = files_of(a.data, (lo, hi))
        (work / "files_slice.json").write_text(json.dumps(sl))
        slice_args = ["--files-from", str(work / "files_slice.json"), "--data", str(a.data)]
        duck = _run_child(["ours", *slice_args, "--name", "ours_slice"], work, "ours_slice")
        spark = _run_child(["spark", *slice_args, "--name", "spark_slice", "--spark-cores",
                            str(a.spark_cores), "--spark-memory", a.spark_memory], work,
                           "spark_slice")
        result["spark"] = {
            "months": [lo, hi], "files": len(sl), "duckdb": duck, "spark": spark,
            "spark_over_duckdb": round(spark["wall_s"] / duck["wall_s"], 2),
            "spark_over_duckdb_cpu": round(spark["cpu_s"] / duck["cpu_s"], 2),
            "panels": compare(work / "ours_slice.parquet", work / "spark_slice.parquet"),
        }
    result["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result, indent=2), flush=True)
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    ok = all(v["identical"] for v in result.get("ingest_panels_identical", {}).values())
    return 0 if ok and result.get("spark", {}).get("panels", {}).get("identical", True) else 1


if __name__ == "__main__":
    sys.exit(main())
