"""The ``vru`` command line. Each subcommand is a thin shell over :mod:`vru.api`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from vru import __version__, api
from vru.cli_util import (
    FiniteFloatRange,
    check_writable,
    output_format,
    progress,
    refuse_terminal,
    runner,
    write_result,
)
from vru.errors import VRUError
from vru.outputs import csvsafe
from vru.taxonomy import SERIOUS_VIOLENCE_MAJOR
from vru.warehouse.store import ENV_VAR, default_path

warehouse_option = click.option(
    "--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), envvar=ENV_VAR,
    default=None, show_envvar=True,
    help=f"Warehouse file (DuckDB). Default: ${ENV_VAR}, else "
         "$XDG_DATA_HOME/vru/warehouse.duckdb (~/.local/share/vru/warehouse.duckdb).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vru")
def main() -> None:
    """VRU platform: real London data in, a serious-violence needs assessment out."""


_run = runner(VRUError)  # vru.cli_util: "error: <message>" on standard error, exit status 2


@main.command()
@warehouse_option
@click.option("--replace", is_flag=True, help="Delete an existing warehouse and rebuild it.")
def init(warehouse: Path | None, replace: bool) -> None:
    """Build the warehouse from the London data bundled with the platform.

    Idempotent: files already loaded are left as they are.
    """
    t0 = time.perf_counter()
    with progress("reading the bundled files") as step:
        results = _run(api.init, warehouse, replace=replace, progress=step)
    loaded = [r for r in results if r.status == "loaded"]
    click.echo(
        f"warehouse {warehouse or default_path()}: {len(loaded)} file(s) loaded, "
        f"{len(results) - len(loaded)} unchanged, in {time.perf_counter() - t0:.1f} s"
    )


@main.command()
@warehouse_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--backend", type=click.Choice(["duckdb", "pyspark"]), default="duckdb",
              show_default=True, help="Engine for record-level files (data.police.uk).")
@click.option("--force", is_flag=True, help="Re-read files even if their exact bytes were loaded.")
@click.option("--category-map", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="CSV with the header major,minor,category mapping MPS categories the platform "
                   "does not know yet to a category of docs/taxonomy.md; recorded with the load.")
def ingest(warehouse: Path | None, paths: tuple[Path, ...], backend: str, force: bool,
           category_map: Path | None) -> None:
    """Add data files (or directories of them) to the warehouse, all or nothing.

    The format of each file is recognised from its name and header; an unknown format is refused.
    Loading the same file twice changes nothing (the same file with another --category-map is read
    again). An MPS category the platform does not know is refused with the file, row and category;
    map it yourself with --category-map (see docs/methods.md).
    """
    with progress("reading") as step:
        results = _run(api.ingest, list(paths), warehouse, backend=backend, force=force,
                       category_map=category_map, progress=step)
    for r in results:
        extra = f" ({r.rows:,} rows, {r.source})" if r.status == "loaded" else ""
        click.echo(f"{r.status:9} {r.path}{extra}")
        for n in r.notes:
            click.echo(f"          note: {n}")


@main.command()
@warehouse_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: standard output, which must not be a terminal).")
def report(warehouse: Path | None, out: Path | None) -> None:
    """Write the needs assessment (one offline HTML page) from the warehouse, with a progress bar on a
    terminal."""
    if out is not None:
        output_format(out, None, ("html", "htm"), "html")
    else:
        refuse_terminal()  # before the work, not after it
    with progress("building the report") as step:
        if out is None:
            write_result(_run(api.report_html, warehouse, progress=step), None, terminal=False)
        else:
            path = _run(api.report, out, warehouse, progress=step)
            click.echo(f"wrote {path}", err=True)


def _emit_json(data: dict, out: Path | None) -> None:
    write_result(json.dumps(data, indent=2, default=str) + "\n", out)


def _json_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() != ".json":
        raise click.BadParameter(f"{value}: this command writes JSON: name the file .json")
    check_writable(value)
    return value


json_out_option = click.option(
    "--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=_json_path,
    help="Write the JSON (a .json file) here instead of standard output.")


@main.command()
@warehouse_option
@click.option("--level", type=click.Choice(["lsoa", "ward", "borough"]), default="lsoa",
              show_default=True,
              help="Areas: lsoa (annual LSOA data), borough or ward (monthly MPS data).")
@click.option("--categories", default=None,
              help="Comma-separated harmonised categories (docs/taxonomy.md). Default: "
              f"{','.join(SERIOUS_VIOLENCE_MAJOR)}; with --source, all crime but anti-social "
              "behaviour.")
@click.option("--source", type=click.Choice(["police_uk"]), default=None,
              help="Instead of the London data: a record-level source's LSOA-month panel "
              "(police_uk: the data.police.uk street crime ingested, any force or national).")
@click.option("--areas", "areas_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="With --source: LSOA boundaries (GeoPackage, GeoJSON, shapefile) or a CSV of "
              "centroids (code, longitude, latitude) for the LSOAs the warehouse has no "
              "boundary of (only London's are bundled).")
@click.option("--areas-code", default="code", show_default=True,
              help="With --areas: the column holding the LSOA codes.")
@click.option("--weighting", type=click.Choice(["count", "css", "chi"]), default="count",
              show_default=True, help="Count offences, or weight them by harm: ONS Crime Severity "
              "Score (css) or Cambridge Crime Harm Index (chi, needs --chi-file).")
@click.option("--chi-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of Cambridge Crime Harm Index weights (see docs/methods-harm.md).")
@click.option("--rates", is_flag=True, help="Per 1,000 residents instead of totals (LSOA level).")
@click.option("--start", default=None, help="First period: a year or YYYY-MM.")
@click.option("--end", default=None, help="Last period: a year or YYYY-MM.")
@click.option("--rule", type=click.Choice(["queen", "rook", "knn", "distance"]), default="queen",
              show_default=True, help="Neighbour rule.")
@click.option("--k", type=click.IntRange(1, 1000), default=None, help="Neighbours for --rule knn.")
@click.option("--distance", type=FiniteFloatRange(0, 1_000_000, min_open=True), default=None,
              help="Metres for --rule distance.")
@click.option("--islands", type=click.Choice(["keep", "knn1", "drop"]), default="keep",
              show_default=True, help="Areas with no neighbour: keep alone, link to the nearest, "
              "or drop.")
@click.option("--time-lag", type=click.IntRange(0, 1000), default=1, show_default=True,
              help="Periods of the space-time neighbourhood before each period.")
@click.option("--scheme", type=click.Choice(["arcgis", "sfhotspot"]), default="arcgis",
              show_default=True, help="ArcGIS Pro's 17 categories or sfhotspot's 10.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file: .csv, .geojson or .json (default: CSV on standard output).")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson", "json"]), default=None,
              help="Output format (default: from the extension of --out, else csv).")
def hotspots(warehouse, level, categories, source, areas_file, areas_code, weighting, chi_file,
             rates, start, end, rule, k, distance, islands, time_lag, scheme, out, fmt) -> None:
    """Find high and sustained violence: emerging hot spot analysis (Gi* per period with
    space-time neighbours, FDR, Mann-Kendall trend) classified into ArcGIS Pro's categories.
    With --source police_uk: on the data.police.uk LSOA-month panel (national included)."""
    cats = tuple(c.strip() for c in categories.split(",")) if categories else None
    common = dict(start=start, end=end, rule=rule, k=k, distance=distance, islands=islands,
                  time_lag=time_lag, scheme=scheme)
    if source is None:
        if areas_file is not None:
            raise click.UsageError("--areas goes with --source")
        params = dict(level=level, categories=cats or tuple(SERIOUS_VIOLENCE_MAJOR),
                      weighting=weighting, chi_file=chi_file, rates=rates, **common)
    else:
        london = [f"--{n}" for n, v, d in (("level", level, "lsoa"), ("weighting", weighting, "count"),
                                           ("chi-file", chi_file, None), ("rates", rates, False))
                  if v != d]
        if london:
            verb = "applies" if len(london) == 1 else "apply"
            raise click.UsageError(f"{', '.join(london)} {verb} to the London data, not to --source")
        params = dict(source=source, areas=areas_file, code=areas_code, categories=cats, **common)
    from vru.outputs import hotspot_files

    fmt = output_format(out, fmt, hotspot_files.FORMATS, "csv")
    result = runner(VRUError, options=_HOTSPOTS_OPTIONS)(api.hotspots, warehouse, **params)
    counts = result.areas["category"].value_counts()
    write_result(hotspot_files.render(result, fmt), out, summary=f": {len(result.areas):,} areas; "
                 + ", ".join(f"{c} {n:,}" for c, n in counts.items() if c and c != "No Pattern Detected"))


_HOTSPOTS_OPTIONS = {"k": "--k", "distance": "--distance", "time_lag": "--time-lag", "start": "--start",
                     "end": "--end", "categories": "--categories", "chi_file": "--chi-file",
                     "code": "--areas-code", "areas": "--areas"}


@main.command()
@warehouse_option
@click.option("--categories", default=None,
              help="Comma-separated harmonised categories counted as serious violence "
                   "(default: violence_with_injury,robbery,knife_offences).")
@click.option("--start", default=None, help="First month of the violence period (YYYY-MM).")
@click.option("--end", default=None, help="Last month of the violence period (YYYY-MM).")
@click.option("--top", "n", type=click.IntRange(1, 32), default=None,
              help="N of the top-N overlap, 1 to 32 boroughs (default 10).")
@json_out_option
def drivers(warehouse, categories, start, end, n, out) -> None:
    """Drivers of violence: the City Hall statements (top-N overlap with exact p-values) for every
    labour-market measure, correlations with confidence intervals, and count regressions.
    Machine-readable JSON."""
    params = {"categories": categories or None, "start": start, "end": end, "n": n}
    with progress("analysing drivers") as step:
        result = runner(VRUError, options=_DRIVERS_OPTIONS)(api.drivers, warehouse, progress=step, **params)
    _emit_json(result, out)


_DRIVERS_OPTIONS = {"n": "--top", "categories": "--categories", "start": "--start", "end": "--end"}


#: The largest sum of money the targeting takes (GBP 10bn: far beyond any programme; the allocation to
#: the penny is exact integer arithmetic, which an absurd sum would make slow).
_MAX_GBP = 10_000_000_000


@main.command()
@warehouse_option
@click.option("--level", type=click.Choice(["lsoa", "ward", "cluster"]), default=None,
              help="Candidate areas (default cluster: contiguous LSOAs up to a size limit).")
@click.option("--areas", "n", type=click.IntRange(min=1), default=None,
              help="How many areas to choose (default 8).")
@click.option("--budget", type=FiniteFloatRange(0, _MAX_GBP, min_open=True), default=None,
              help="Total budget in GBP (default 9,000,000).")
@click.option("--years", type=click.IntRange(1, 100), default=None,
              help="Years the budget covers (default 3).")
@click.option("--cap", type=FiniteFloatRange(0, _MAX_GBP, min_open=True), default=None,
              help="Cap per area per year in GBP (default 500,000).")
@click.option("--max-per-borough", type=click.IntRange(min=1), default=None, help="Default 1.")
@click.option("--min-population", type=click.IntRange(min=0), default=None,
              help="Minimum residents per area.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the sensitivity analysis (default 0).")
@click.option("--weighting", type=click.Choice(["css", "count", "chi"]), default=None,
              help="Harm weighting of offences (default css: ONS Crime Severity Score).")
@click.option("--chi-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of Cambridge Crime Harm Index weights for --weighting chi.")
@json_out_option
def target(warehouse, level, n, budget, years, cap, max_per_borough, min_population, seed,
           weighting, chi_file, out) -> None:
    """Choose neighbourhoods to fund: score candidates on sustained violence, harm, deprivation
    and youth population; pick N under constraints; allocate the budget over years to the penny
    under a cap; report how stable the shortlist is when the weights vary. Machine-readable JSON."""
    # options not given are None: vru.pipelines.targeting.TargetParams keeps its defaults for them
    pence = {"budget_pence": None if budget is None else round(budget * 100),
             "cap_pence": None if cap is None else round(cap * 100)}
    run = runner(VRUError, options=_TARGET_OPTIONS)
    with progress("choosing areas") as step:
        result = run(api.target, warehouse, level=level, n=n, years=years,
                     max_per_borough=max_per_borough, min_population=min_population, seed=seed,
                     weighting=weighting, chi_file=chi_file, progress=step, **pence)
    _emit_json(result, out)


_TARGET_OPTIONS = {"n": "--areas", "budget_pence": "--budget", "cap_pence": "--cap", "years": "--years",
                   "max_per_borough": "--max-per-borough", "min_population": "--min-population",
                   "seed": "--seed", "weighting": "--weighting", "chi_file": "--chi-file", "level": "--level"}


def _read_treated_csv(path: Path) -> tuple[tuple[str, ...], dict]:
    """``area,start`` rows (area: borough name or GSS code; start: YYYY-MM) -> treated, starts."""
    import csv

    import pandas as pd

    from vru.errors import SourceError

    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or [h.strip().lower() for h in rows[0][:2]] != ["area", "start"]:
        raise SourceError(path, "the header must be 'area,start'", row=1)
    treated, starts = [], {}
    for i, r in enumerate(rows[1:], start=2):
        if len(r) < 2 or not r[0].strip():
            raise SourceError(path, "missing area or start", row=i)
        try:
            month = pd.Period(r[1].strip(), freq="M")
        except ValueError:
            raise SourceError(path, f"start {r[1]!r} is not a month (YYYY-MM)", row=i,
                              column="start") from None
        treated.append(r[0].strip())
        starts[r[0].strip()] = str(month)
    return tuple(treated), starts


@main.command()
@warehouse_option
@click.option("--treated", default=None,
              help="Treated boroughs (names or codes), comma-separated (default: the 8 MyEnds "
                   "boroughs).")
@click.option("--treated-csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="CSV with columns area,start (YYYY-MM): staggered start dates.")
@click.option("--start", default=None, help="Programme start for --treated (YYYY-MM; default "
              "2021-07).")
@click.option("--category", default=None,
              help="Outcome: a harmonised category (default violence_with_injury).")
@click.option("--window-start", default=None, help="First month of the panel (default 2018-07).")
@click.option("--window-end", default=None, help="Last month of the panel (default: latest).")
@click.option("--rings", type=click.IntRange(0, 32), default=None,
              help="Spillover: neighbour rings estimated separately (0 to skip; default 1).")
@click.option("--draws", "n_draws", type=click.IntRange(1, 100_000), default=None,
              help="Placebo/power draws (default 1000).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed of the draws (default 0).")
@json_out_option
def evaluate(warehouse, treated, treated_csv, start, category, window_start, window_end, rings,
             n_draws, seed, out) -> None:
    """Did violence fall where the programme went? Callaway-Sant'Anna difference-in-differences
    (rates and Poisson counts) with a pre-trend test, synthetic control with placebo p-values,
    spillover, and the minimum detectable effect. Machine-readable JSON."""
    params = {k: v for k, v in {
        "treated": treated, "start": start, "category": category, "window_start": window_start,
        "window_end": window_end, "rings": rings, "n_draws": n_draws, "seed": seed}.items()
        if v is not None}
    if treated_csv is not None:
        params["treated"], params["starts"] = _run(_read_treated_csv, treated_csv)
    with progress("evaluating") as step:
        result = runner(VRUError, options=_EVALUATE_OPTIONS)(api.evaluate, warehouse, progress=step, **params)
    _emit_json(result, out)


_EVALUATE_OPTIONS = {"treated": "--treated", "starts": "--treated-csv", "start": "--start",
                     "category": "--category", "window_start": "--window-start",
                     "window_end": "--window-end", "rings": "--rings", "n_draws": "--draws", "seed": "--seed"}


@main.command()
@warehouse_option
@click.option("--measure", default="good_job_local", show_default=True,
              type=click.Choice(["good_job_local", "relied_on_to_be_there", "treat_everyone_fairly",
                                 "listen_to_concerns", "trust_mps", "understand_issues",
                                 "informed_local", "contact_ward_officer"]),
              help="Public Attitude Survey measure.")
@click.option("--as-of", default=None, help="Quarter end date (YYYY-MM-DD); default the latest.")
@click.option("--microdata", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="A respondent-level survey file: report weighted shares by group.")
@click.option("--by", default="ethnicity", show_default=True,
              help="With --microdata: group(s), comma-separated, from ethnicity, sex, age_band, "
                   "area_code.")
@click.option("--min-n", type=click.IntRange(min=1), default=50, show_default=True,
              help="With --microdata: suppress groups with fewer respondents (unweighted).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --microdata: JSON record of the cells published before (created if missing); "
                   "the table is protected together with them and then added.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Output format (default: from the extension of --out, else csv).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
def confidence(warehouse, measure, as_of, microdata, by, min_n, ledger, fmt, out) -> None:
    """Trust and confidence in the police by borough (MOPAC Public Attitude Survey), with the
    significance of changes; or, with --microdata, weighted shares by group with small cells
    suppressed."""
    from contextlib import nullcontext

    from vru.outputs.ledger import ledger_lock

    fmt = output_format(out, fmt, ("csv", "json"), "csv")
    if microdata is not None and ledger is None:
        click.echo("warning: no --ledger: this table is protected on its own, not together with the tables "
                   "published before; a table published beside it (another period, a year to date, the "
                   "other order of --by, a margin) can give a suppressed cell away. Keep a ledger for "
                   "everything you publish.", err=True)
    # the ledger is locked from reading to writing, so two runs at once cannot drop each other's cells
    with ledger_lock(ledger) if microdata is not None and ledger is not None else nullcontext():
        df = runner(VRUError, options=_CONFIDENCE_OPTIONS)(
            api.confidence, warehouse, measure=measure, as_of=as_of, microdata=microdata, by=by, min_n=min_n,
            ledger=ledger)  # by: comma-separated, split by the parameters
    text = df.to_json(orient="records", date_format="iso", indent=2) if fmt == "json" \
        else csvsafe.safe_frame(df).to_csv(index=False, quoting=csvsafe.QUOTING)
    write_result(text, out)


_CONFIDENCE_OPTIONS = {"measure": "--measure", "as_of": "--as-of", "by": "--by", "min_n": "--min-n",
                       "microdata": "--microdata", "ledger": "--ledger"}


def _quarters(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    """``--quarters``: comma-separated YYYY-Qn, at least one."""
    import re

    quarters = [q.strip().upper() for q in value.split(",") if q.strip()]
    bad = [q for q in quarters if not re.fullmatch(r"\d{4}-Q[1-4]", q)]
    if bad or not quarters:
        raise click.BadParameter(f"{bad[0]!r} is not a quarter (YYYY-Qn, e.g. 2023-Q4)" if bad
                                 else "name at least one quarter (YYYY-Qn)")
    return quarters


@main.command()
@warehouse_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write, gzipped if it ends in .gz (default: standard output).")
@click.option("--quarters", default="2023-Q1,2023-Q2,2023-Q3,2023-Q4", show_default=True, callback=_quarters,
              help="Quarters (YYYY-Qn), comma-separated.")
@click.option("--per-borough", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Respondents per borough per quarter.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def synthetic_survey(warehouse, out, quarters, per_borough, seed) -> None:
    """Write SYNTHETIC respondent-level survey data (for demos and training; never real people)
    in the format `vru ingest` and `vru confidence --microdata` read."""
    options = dict(quarters=quarters, per_borough=per_borough, seed=seed)
    check_writable(out)
    if out is not None and out.suffix.lower() == ".gz":
        path = _run(api.synthetic_survey, out, warehouse, **options)
        click.echo(f"wrote {path} (synthetic data)", err=True)
        return
    from vru.synthetic.pas_microdata import to_csv_text

    output_format(out, None, ("csv",), "csv")
    write_result(to_csv_text(_run(api.synthetic_survey_frame, warehouse, **options)), out,
                 summary=" (synthetic data)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--no-demo", is_flag=True, help="Do not seed the demo organisations, users and content.")
def serve(host: str, port: int, no_demo: bool) -> None:
    """Start the web platform for a demo or for development.

    Builds the warehouse from the bundled data if it is missing ($VRU_WAREHOUSE or the default),
    creates and migrates the database (SQLite in the data directory, or PostgreSQL when
    DATABASE_URL is set), seeds the demo content with one user per role (passwords generated on
    first run and printed), then serves on HOST:PORT. Production uses gunicorn or uvicorn
    (see docs/web.md).
    """
    from vru import web

    _run(web.serve, host, port, demo=not no_demo)


def _status_text(sources: list[dict]) -> str:
    lines = []
    for s in sources:
        held = "; ".join(f"{n:,} {t} rows" for t, n in s["rows_held"].items()) or "no dated rows"
        per = "; ".join(f"{t} {p['unit']}s {p['first']}..{p['last']} ({p['count']})"
                        for t, p in s["periods"].items())
        lines.append(f"{s['source']}: {len(s['files'])} file(s), {s['rows_loaded']:,} rows loaded; "
                     f"held: {held}" + (f"; {per}" if per else ""))
        for f in s["files"]:
            cmap = f"  (category map {f['category_map']})" if f["category_map"] else ""
            lines.append(f"  {f['rows']:>10,}  {f['loaded_at'][:19]}  {f['path']}{cmap}")
    return "\n".join(lines)


@main.command()
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
              help="Output format (default: from the extension of --out, else text).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
def status(warehouse: Path | None, fmt: str | None, out: Path | None) -> None:
    """What the warehouse holds: for each source, the rows and periods (months, years) held and
    the files behind them, each with the rows it contributed and the user category map it was
    read with."""
    fmt = output_format(out, fmt, ("json", "txt"), "text").replace("txt", "text")
    sources = _run(api.status, warehouse)
    if fmt == "json":
        path = warehouse or default_path()
        write_result(json.dumps({"warehouse": str(path), "sources": sources}, indent=2) + "\n", out)
    else:
        write_result(_status_text(sources) + "\n", out)


def _register_groups() -> None:
    """Command groups that live with their layer (their modules import their work lazily)."""
    from vru.tagging.cli import tagging

    main.add_command(tagging)
    main.add_command(__import__("vru.fetch_cli", fromlist=["fetch"]).fetch)


_register_groups()
