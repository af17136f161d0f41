"""Ingest benchmark: data.police.uk street files -> the LSOA-month-category crime panel.

Runs, side by side on the same files (``generate.py`` output, made first if absent):

- ``ours``: :func:`vru.sources.engine.street_panel` on the DuckDB backend, validation included;
- ``pandas``: ``pandas.read_csv`` of every file (C parser, needed columns only, all text) and a
  ``groupby`` producing the same panel (no validation);
- ``sql``: one hand-written DuckDB SQL query over the same files producing the same panel (no
  validation): the floor for an engine built on DuckDB;
- ``sql_by_month``: the same query run once per month of files (the engine's execution strategy),
  to separate the cost of the engine's validation from the gain of its month-by-month plan.

Each method runs in its own subprocess (so its peak memory, ``ru_maxrss``, is its own), the
methods take turns for ``--repeat`` rounds, and the median wall time of each is reported with
the ratios pandas/ours and ours/sql. The three panels are checked to be identical.

Usage: ``python benchmarks/ingest/run.py [--data DIR] [--repeat 3] [--json results.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = ["source", "level", "area_code", "month", "category"]


def files_of(data: Path) -> list[str]:
    return sorted(str(p) for p in data.glob("*/*-street.csv"))


# --- the three methods ---------------------------------------------------------------------------


def ours(files: list[str]):
    from vru.sources.engine import street_panel

    return street_panel(files, backend="duckdb")


def pandas_groupby(files: list[str]):
    import pandas as pd

    from vru import taxonomy

    cols = ["Crime ID", "Month", "Falls within", "LSOA code", "Crime type"]
    df = pd.concat(
        [pd.read_csv(f, usecols=cols, dtype=str, keep_default_na=False) for f in files],
        ignore_index=True,
    )
    df["LSOA code"] = df["LSOA code"].replace("", None)
    has_id = df["Crime ID"] != ""
    # a crime is counted once per (force, Crime ID, Month), at its lowest located LSOA code
    crimes = (df[has_id].groupby(["Falls within", "Month", "Crime ID"], sort=False)
              .agg(area=("LSOA code", "min"), ct=("Crime type", "min")).reset_index())
    cell = ["Falls within", "area", "Month", "ct"]
    a = crimes.groupby(cell, sort=False, dropna=False).size()
    b = (df[~has_id].rename(columns={"LSOA code": "area", "Crime type": "ct"})
         .groupby(cell, sort=False, dropna=False).size())
    panel = a.add(b, fill_value=0).astype("int64").rename("count").reset_index()
    cmap = taxonomy.category_map()
    cmap = dict(zip(cmap.loc[cmap.scheme == "police_uk", "minor"],
                    cmap.loc[cmap.scheme == "police_uk", "category"], strict=True))
    return pd.DataFrame({
        "source": "police_uk_street/" + panel["Falls within"],
        "level": "lsoa",
        "area_code": panel["area"].fillna("X-NO-LOCATION"),
        "month": pd.to_datetime(panel["Month"], format="%Y-%m"),
        "category": panel["ct"].map(cmap),
        "count": panel["count"],
    })


SQL = """
WITH crimes AS (
    SELECT "Falls within" AS fw, "Month" AS month,
           coalesce(min("LSOA code"), 'X-NO-LOCATION') AS area_code,
           min("Crime type") AS crime_type,
           CASE WHEN "Crime ID" IS NULL THEN count(*) ELSE 1 END AS n
    FROM read_csv($files, header = true, all_varchar = true)
    GROUP BY "Falls within", "Month", "Crime ID",
             CASE WHEN "Crime ID" IS NULL THEN "LSOA code" END,
             CASE WHEN "Crime ID" IS NULL THEN "Crime type" END
)
SELECT 'police_uk_street/' || fw AS source, 'lsoa' AS level, area_code,
       strptime(month, '%Y-%m') AS month, m.category, sum(n)::BIGINT AS count
FROM crimes JOIN category_map AS m USING (crime_type)
GROUP BY ALL
"""


def _sql_connection():
    import duckdb

    from vru import taxonomy

    cmap = taxonomy.category_map()
    cmap = cmap.loc[cmap.scheme == "police_uk", ["minor", "category"]].rename(
        columns={"minor": "crime_type"})
    con = duckdb.connect()
    con.register("category_map", cmap)
    return con


def raw_sql(files: list[str], con=None):
    import pandas as pd
    import pyarrow as pa

    con = con or _sql_connection()
    table = con.sql(SQL, params={"files": files}).to_arrow_table()
    sd = pd.StringDtype("pyarrow")
    return table.to_pandas(types_mapper={pa.string(): sd}.get)


def raw_sql_by_month(files: list[str]):
    import pandas as pd

    months: dict[str, list[str]] = {}
    for f in files:
        months.setdefault(Path(f).name[:7], []).append(f)
    con = _sql_connection()
    return pd.concat([raw_sql(fs, con) for _, fs in sorted(months.items())], ignore_index=True)


METHODS = {"ours": ours, "pandas": pandas_groupby, "sql": raw_sql, "sql_by_month": raw_sql_by_month}


def child(method: str, data: Path, out: Path) -> None:
    """Run one method (in this fresh process) and write its timing and panel."""
    files = files_of(data)
    # library imports are a one-off start-up cost, the same for every method: not timed
    import duckdb  # noqa: F401
    import ibis
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import vru.sources.engine  # noqa: F401

    ibis.duckdb  # noqa: B018  (imports the DuckDB backend)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    panel = METHODS[method](files)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    peak = r1.ru_maxrss * 1024  # Linux: KiB
    panel.to_parquet(out / f"{method}.parquet", index=False)
    (out / f"{method}.json").write_text(json.dumps(
        {"method": method, "wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": peak,
         "panel_rows": len(panel), "crimes": int(panel["count"].sum())}))


def canonical(df):
    from vru.schema import conform

    return conform("crime", df).sort_values(KEY).reset_index(drop=True)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    import duckdb
    import ibis
    import pandas

    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**30, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "ibis": ibis.__version__, "pandas": pandas.__version__}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", default="ours,pandas,sql,sql_by_month")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.data, a.out)
        return 0

    import pandas as pd

    if not files_of(a.data):
        print(f"no data in {a.data}: generating it (python {HERE / 'generate.py'})", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", str(a.data)],
                       check=True)
    files = files_of(a.data)
    size = sum(Path(f).stat().st_size for f in files)
    methods = a.methods.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for r in range(a.repeat):
            for m in methods[r % len(methods):] + methods[:r % len(methods)]:
                subprocess.run([sys.executable, __file__, "--child", m, "--data", str(a.data),
                                "--out", str(out)], check=True)
                res = json.loads((out / f"{m}.json").read_text())
                runs[m].append(res)
                print(f"round {r + 1}: {m:12s} {res['wall_s']:7.2f} s wall {res['cpu_s']:7.2f} s "
                      f"CPU  peak {res['peak_rss_bytes'] / 2**30:5.2f} GiB", flush=True)
        panels = {m: canonical(pd.read_parquet(out / f"{m}.parquet")) for m in methods}
    first = methods[0]
    for m in methods[1:]:
        pd.testing.assert_frame_equal(panels[first], panels[m], check_exact=True)
    summary = {
        m: {"wall_s_median": statistics.median(x["wall_s"] for x in runs[m]),
            "wall_s_min": min(x["wall_s"] for x in runs[m]),
            "wall_s_all": [round(x["wall_s"], 3) for x in runs[m]],
            "cpu_s_median": statistics.median(x["cpu_s"] for x in runs[m]),
            "peak_rss_gib_max": max(x["peak_rss_bytes"] for x in runs[m]) / 2**30}
        for m in methods
    }
    stats = a.data / "stats.json"
    result = {
        "command": "python benchmarks/ingest/run.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "files": len(files), "bytes": size,
        "generated": json.loads(stats.read_text()) if stats.exists() else None,
        "panel_rows": len(panels[first]), "crimes": int(panels[first]["count"].sum()),
        "panels_identical": True, "methods": summary,
    }
    med = {m: summary[m]["wall_s_median"] for m in summary}
    best = {m: summary[m]["wall_s_min"] for m in summary}
    cpu = {m: summary[m]["cpu_s_median"] for m in summary}
    for num, den in (("pandas", "ours"), ("ours", "sql"), ("ours", "sql_by_month")):
        if num in med and den in med:
            result[f"{num}_over_{den}"] = round(med[num] / med[den], 2)
            result[f"{num}_over_{den}_best"] = round(best[num] / best[den], 2)
            result[f"{num}_over_{den}_cpu"] = round(cpu[num] / cpu[den], 2)
    print(json.dumps(result, indent=2))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
