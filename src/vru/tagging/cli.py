"""``vru tagging``: the command line of the GPS tagging layer (registered as a group in vru.cli)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from vru.cli_util import runner, write_file
from vru.errors import VRUError

# the layer's own errors and the ValueError of a bad parameter or time: "error: <message>", exit status 2
_run = runner(VRUError, ValueError)


def _utc_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A time option (ISO 8601 with a zone) checked before any work, passed on as given."""
    if value is not None:
        try:
            _utc_time(value, "")
        except ValueError as e:
            raise click.BadParameter(str(e).removeprefix(": ")) from None
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def tagging() -> None:
    """GPS tagging: position feeds, synthetic trails, crime matching and exclusion zones."""


@tagging.command()
@click.option("--wearers", "-n", type=click.IntRange(1, 100_000), default=10, show_default=True,
              help="Number of wearers.")
@click.option("--days", "-d", type=click.FloatRange(0, 366, min_open=True), default=1.0, show_default=True,
              help="Days of trail per wearer (at most a year).")
@click.option("--start", default="2024-03-04T00:00:00Z", show_default=True, callback=_utc_option,
              help="First tick, ISO 8601 with a zone (UTC).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed: same seed, same files.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="Format of the position feed and the activations.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write positions.<fmt>, activations.<fmt> and truth.parquet.")
@click.option("--crimes", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also plant this many crimes on the trails (and as many decoys of each kind) in "
                   "planted_crimes.csv.")
def simulate(wearers: int, days: float, start: str, seed: int, fmt: str, out: Path, crimes: int) -> None:
    """Write synthetic London trails (walking, bus, stationary) with their ground truth.

    Deterministic: the same options give the same files.
    """
    from vru.tagging import simulate as sim

    t0 = time.perf_counter()
    s = _run(sim.simulate, wearers, days, start=start, seed=seed)
    paths = sim.write(s, out, fmt)
    if crimes:
        planted = _run(sim.plant_crimes, s.truth, crimes, seed=seed)
        paths["planted crimes"] = out / "planted_crimes.csv"
        planted.to_csv(paths["planted crimes"], index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"{s.positions.num_rows:,} fixes of {wearers} wearer(s) over {days:g} day(s), "
               f"in {time.perf_counter() - t0:.1f} s")
    for what, p in paths.items():
        click.echo(f"  {what}: {p}")


@tagging.command("import-positions")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--activations", "-a", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Device activations (CSV or Parquet).")
@click.option("--store", "-s", "root", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder of the positions store (Parquet by day).")
@click.option("--max-errors", type=click.IntRange(min=1), default=20, show_default=True,
              help="Errors listed for a refused file.")
def import_positions(paths: tuple[Path, ...], activations: Path, root: Path, max_errors: int) -> None:
    """Validate position feed files and add them to the store, each file all or nothing.

    A file with any bad row is refused whole, with its errors by row and column; importing a file
    twice changes nothing.
    """
    from vru.tagging import positions

    act = _run(positions.read_activations, activations, max_errors=max_errors)
    failed = False
    for p in paths:
        t0 = time.perf_counter()
        try:
            r = positions.import_positions(p, act, root, max_errors=max_errors)
        except VRUError as e:
            click.echo(f"refused   {p}\nerror: {e}", err=True)
            failed = True
            continue
        dt = time.perf_counter() - t0
        click.echo(f"imported  {p}: {r.imported:,} new fix(es) of {r.rows:,} row(s), "
                   f"{r.duplicates:,} duplicate(s), {len(r.days)} day(s) written, in {dt:.1f} s "
                   f"({r.rows / max(dt, 1e-9):,.0f} rows/s)")
    if failed:
        sys.exit(2)


@tagging.command("purge-positions")
@click.option("--store", "-s", "root", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder of the positions store.")
@click.option("--before", required=True, callback=_utc_option,
              help="Delete fixes taken before this time (ISO 8601 with a zone).")
@click.option("--keep", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV or Parquet of intervals to keep: device_id, time_from, time_to (UTC).")
def purge_positions(root: Path, before: str, keep: Path | None) -> None:
    """Delete raw positions older than a cut-off, except the intervals listed in --keep."""
    from vru.tagging import store

    keep_table = None
    if keep is not None:
        keep_table = _run(_read_keep, keep)
    r = _run(store.purge, root, before, keep_table)
    click.echo(f"deleted {r.deleted:,} fix(es), kept {r.kept:,} held by a match or breach; "
               f"{len(r.days_rewritten)} day(s) rewritten, {len(r.days_deleted)} deleted")


@tagging.command("check-batch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_batch(file: Path) -> None:
    """Check a crime batch file (MoJ crime-matching contract) and print the outcome and every error.

    Nothing is ingested. Exit status 0 if every row is valid (SUCCESSFUL), 1 otherwise (PARTIAL, FAILED).
    """
    from vru.tagging.crimes import Outcome, read_batch, report_lines

    result = read_batch(file)
    click.echo("\n".join(report_lines(result)))
    sys.exit(0 if result.outcome is Outcome.SUCCESSFUL else 1)


def _record_time(value):
    """A time of a crime record as read from CSV: ``yyyyMMddHHmmss`` (UTC, the contract's form) kept;
    ISO 8601 parsed (with a zone: converted; without one: refused by the row check, the contract's times
    being UTC); anything else kept as it is, for the row check to report."""
    import re

    import pandas as pd

    v = value.strip()
    if not v or re.fullmatch(r"\d{14}", v):
        return v
    try:
        return pd.Timestamp(v)
    except ValueError:
        return v


@tagging.command("records-to-batch")
@click.argument("records", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", "-f", required=True,
              help="Police force identifier of the crimes, e.g. Metropolitan (an unknown one is refused with "
                   "the list).")
@click.option("--batch-id", default=None, help="Batch id. Default: the force code and today's UTC date.")
@click.option("--source", default=None,
              help="Where the records come from (e.g. the force system's name); data.police.uk sources "
                   "(police_uk_street...) are refused.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Batch file to write (.csv, the MoJ crime-matching contract).")
def records_to_batch(records: Path, force: str, batch_id: str | None, source: str | None, out: Path) -> None:
    """Turn crime records with an exact window and point (a CSV or Parquet export of a force's system)
    into a crime batch file for matching (`vru tagging match --batch`, or the upload page).

    Columns: crime_ref, crime_type (a crime type id, or a taxonomy category that one id maps to),
    time_from, time_to (UTC: yyyyMMddHHmmss or ISO 8601 with a zone), easting and northing or latitude
    and longitude, optional crime_text. Every row goes through the batch file's checks; every bad row is
    printed with its MoJ error code and required action and left out of the file. data.police.uk crimes
    and the warehouse's crime counts are refused, saying why (snapped places, month-only times; no place
    or window at all). Exit status 0 if every row is valid, 1 if some or all were refused (nothing is
    written when none is valid), 2 on an unreadable file or refused source.
    """
    import pandas as pd

    from vru.tagging import crimes as C

    if out.suffix.lower() != ".csv":
        raise click.BadParameter("the batch file must be a .csv file", param_hint="--out")
    if force not in C.known_forces():
        raise click.BadParameter(f"unknown force {force!r}; one of: {', '.join(C.known_forces())}",
                                 param_hint="--force")
    if records.suffix.lower() == ".parquet":
        df = _run(_read_file, pd.read_parquet, records)
    else:
        df = _run(_read_file, pd.read_csv, records, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for c in ("time_from", "time_to"):
            if c in df.columns:
                df[c] = df[c].map(_record_time).astype(object)
    result = _run(C.batch_from_records, df, force=force, batch_id=batch_id, source=source, path=str(records))
    click.echo("\n".join(C.report_lines(result)))
    if result.ok:
        write_file(out, C.batch_file(result))
        click.echo(f"wrote {out}: {len(result.records)} record(s)", err=True)
    else:
        click.echo(f"nothing written to {out}", err=True)
    sys.exit(0 if result.outcome is C.Outcome.SUCCESSFUL else 1)


@tagging.command("match")
@click.option("--store", "-s", "root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="Folder of the positions store.")
@click.option("--activations", "-a", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Device activations (CSV or Parquet).")
@click.option("--crimes", "-c", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Crime versions (CSV or Parquet with the CRIMES columns; times ISO 8601 UTC).")
@click.option("--batch", "-b", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Or a police crime batch in the MoJ contract: checked first (its errors printed); the "
                   "valid rows of a SUCCESSFUL or PARTIAL batch are matched as first versions.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for points.csv, summary.csv, crimes.csv and run.json.")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--radius", type=click.FloatRange(0, min_open=True), default=100.0, show_default=True,
              help="Radius R in metres.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds added to each side of the crime window.")
def match_cmd(root: Path, activations: Path, crimes: Path | None, batch: Path | None, out: Path, backend: str,
              radius: float, tolerance: float) -> None:
    """Match crime versions (--crimes) or a police crime batch (--batch) against the stored trails
    (algorithm in docs/tagging-matching.md)."""
    import json

    import ibis
    import pandas as pd

    from vru.outputs import csvsafe
    from vru.tagging import positions, store
    from vru.tagging import schema as S
    from vru.tagging.matching import Params, match

    if (crimes is None) == (batch is None):
        raise click.UsageError("give either --crimes or --batch")
    params = _run(Params, radius_m=radius, tolerance_s=tolerance)
    act = _run(positions.read_activations, activations).to_pandas()
    if batch is not None:
        from vru.tagging import crimes as C

        result = C.read_batch(batch)
        click.echo("\n".join(C.report_lines(result)), err=True)
        if not result.ok:
            sys.exit(1)
        versions = C.new_versions(None, result)
        cr = C.crimes_table(versions)
        crimes_out = cr.assign(batch_id=versions["batch_id"].to_numpy(),
                               crime_text=versions["crime_text"].to_numpy())
    else:
        cr = crimes_out = _run(_read_crimes, crimes)
    pad = pd.Timedelta(seconds=params.tolerance_s + params.max_gap_s + 1)
    start, end = cr[S.TIME_FROM].min() - pad, cr[S.TIME_TO].max() + pad
    if backend == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
    else:
        from vru.tagging.matching import _connect

        con = _connect("spark")
    pos = store.positions_table(con, root, start, end)
    r = _run(match, pos, act, cr, params, backend=backend, trigger="MANUAL", con=con)
    out.mkdir(parents=True, exist_ok=True)
    csvsafe.safe_frame(r.points).to_csv(out / "points.csv", index=False, quoting=csvsafe.QUOTING)
    csvsafe.safe_frame(r.summary).to_csv(out / "summary.csv", index=False, quoting=csvsafe.QUOTING)
    # the crime versions matched, for `vru tagging report` (the report's request summary and map)
    csvsafe.safe_frame(crimes_out).to_csv(out / "crimes.csv", index=False, quoting=csvsafe.QUOTING,
                                          date_format="%Y-%m-%dT%H:%M:%SZ")
    (out / "run.json").write_text(json.dumps(r.run, default=str, indent=2))
    click.echo(f"{r.run['algorithm_version']}: {len(cr)} crime version(s), {len(r.summary)} match(es) "
               f"(crime, wearer), {len(r.points)} point(s) -> {out}")


@tagging.command("report")
@click.argument("matches", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--crime-version", "-c", "crime_version", required=True,
              help="The crime version of the match (crime_version_id in summary.csv).")
@click.option("--wearer", "-w", required=True, help="The wearer's reference (wearer_ref in summary.csv).")
@click.option("--reviewer", required=True, help="Who qualified the match (shown in the report).")
@click.option("--reason", required=True, help="Why the match was qualified (at least 5 characters).")
@click.option("--qualified-at", default=None,
              help="When it was qualified, ISO 8601 with a zone. Default: now.")
@click.option("--order-type", default=None, help="The wearer's order type (shown in the per-person summary).")
@click.option("--organisation", default=None, help="The responsible organisation (shown likewise).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report as one standalone, offline HTML file here.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report as a PDF here.")
def report_cmd(matches: Path, crime_version: str, wearer: str, reviewer: str, reason: str,
               qualified_at: str | None, order_type: str | None, organisation: str | None,
               html_out: Path | None, pdf_out: Path | None) -> None:
    """Write the evidential report of a qualified match (HTML and/or PDF) from the output folder of
    `vru tagging match` (points.csv, summary.csv, crimes.csv, run.json).

    The same report as the web page's (vru.tagging.report): summary, the crime as sent, the map of the
    track and the crime drawn from the bundled boundaries (no tiles, nothing fetched), the table of
    positions and the disclaimer. The wearer appears by reference only.
    """
    import pandas as pd

    from vru.tagging import report

    if html_out is None and pdf_out is None:
        raise click.UsageError("give --html and/or --pdf")
    if len(reason.strip()) < 5:
        raise click.UsageError("--reason: give the reason for qualifying the match (at least 5 characters)")
    when = _run(_utc_time, qualified_at, "--qualified-at") if qualified_at else pd.Timestamp.now(tz="UTC")
    points, summary, crime, run = _run(_match_files, matches, crime_version, wearer)
    person = {"wearer_ref": wearer, "device_id": str(points["device_id"].iloc[0]), "order_type": order_type,
              "organisation": organisation}
    ctx = _run(report.report_context, points, summary, crime, run, person, reviewer, when.to_pydatetime(),
               reason.strip(), generated_at=pd.Timestamp.now(tz="UTC").floor("s").to_pydatetime())
    # each file whole or not at all; "wrote" on standard error, as every command
    if html_out is not None:
        write_file(html_out, report.render_html(ctx))
        click.echo(f"wrote {html_out}", err=True)
    if pdf_out is not None:
        write_file(pdf_out, report.render_pdf(ctx))
        click.echo(f"wrote {pdf_out}", err=True)
    click.echo(f"report of {crime_version} / {wearer}: {len(ctx['fixes'])} position(s)")


def _read_file(read, path: Path, **kwargs):
    """``read(path, **kwargs)`` (a pandas reader), an unreadable file refused naming it."""
    try:
        return read(path, **kwargs)
    except (ValueError, OSError) as e:  # pandas' EmptyDataError and ParserError, pyarrow's ArrowInvalid
        raise VRUError(f"{path}: cannot be read: {e}") from None


def _read_crimes(path: Path):
    """Crime versions to match (CSV or Parquet with the CRIMES columns), times in UTC and places as numbers;
    a file lacking a column or holding a bad time or number is refused naming the file and the column."""
    import pandas as pd

    from vru.tagging import schema as S

    parquet = path.suffix.lower() == ".parquet"
    cr = _read_file(pd.read_parquet, path) if parquet else _read_file(pd.read_csv, path, dtype=str)
    lack = [c for c in S.CRIMES.names if c not in cr.columns]
    if lack:
        raise VRUError(f"{path}: no column(s) {', '.join(lack)} (crime versions have the columns "
                       f"{', '.join(S.CRIMES.names)})")
    if cr.empty:
        raise VRUError(f"{path}: no crime versions to match")
    for c, convert in ((S.TIME_FROM, "time"), (S.TIME_TO, "time"), (S.EASTING, "number"),
                       (S.NORTHING, "number")):
        try:
            cr[c] = pd.to_datetime(cr[c], utc=True) if convert == "time" else pd.to_numeric(cr[c])
        except (ValueError, TypeError) as e:
            raise VRUError(f"{path}, column {c}: not a {convert} ({e})") from None
    return cr


def _utc_time(text: str, what: str):
    import pandas as pd

    try:
        t = pd.Timestamp(text)
    except ValueError as e:
        raise ValueError(f"{what}: {text!r} is not an ISO 8601 time") from e
    if t.tzinfo is None:
        raise ValueError(f"{what}: {text!r} has no time zone (add Z or +01:00)")
    return t.tz_convert("UTC")


def _match_files(folder: Path, crime_version: str, wearer: str):
    """The match of (crime_version, wearer) in an output folder of `vru tagging match`: its points, its
    summary row, its crime version and the run record. Errors name the file and what is missing."""
    import json

    import pandas as pd

    from vru.tagging import schema as S

    files = {n: folder / n for n in ("points.csv", "summary.csv", "crimes.csv", "run.json")}
    missing = [n for n, p in files.items() if not p.is_file()]
    if missing:
        raise VRUError(f"{folder}: no {', '.join(missing)} (the output folder of `vru tagging match`; "
                       "crimes.csv is written since the report command exists: run the match again)")
    summary = pd.read_csv(files["summary.csv"], dtype={S.CRIME_VERSION_ID: str, S.WEARER_REF: str})
    crimes = pd.read_csv(files["crimes.csv"], dtype=str, keep_default_na=False)
    points = pd.read_csv(files["points.csv"], dtype={S.CRIME_VERSION_ID: str, S.WEARER_REF: str,
                                                     S.DEVICE_ID: str, S.VISIT: str})
    for name, df, cols in (("summary.csv", summary, (S.CRIME_VERSION_ID, S.WEARER_REF, "p_within")),
                           ("crimes.csv", crimes, tuple(S.CRIMES.names)),
                           ("points.csv", points, (S.CRIME_VERSION_ID, S.WEARER_REF, S.DEVICE_ID))):
        lack = [c for c in cols if c not in df.columns]
        if lack:
            raise VRUError(f"{files[name]}: no column(s) {', '.join(lack)}")
    row = summary[(summary[S.CRIME_VERSION_ID] == crime_version) & (summary[S.WEARER_REF] == wearer)]
    if row.empty:
        pairs = ", ".join(f"{c} / {w}" for c, w in summary[[S.CRIME_VERSION_ID, S.WEARER_REF]]
                          .drop_duplicates().head(10).itertuples(index=False))
        raise VRUError(f"{files['summary.csv']}: no match of crime version {crime_version!r} and wearer "
                       f"{wearer!r} (matches: {pairs or 'none'})")
    crime = crimes[crimes[S.CRIME_VERSION_ID] == crime_version]
    if crime.empty:
        raise VRUError(f"{files['crimes.csv']}: no row for crime version {crime_version!r}")
    crime = dict(crime.iloc[0])
    for c in (S.TIME_FROM, S.TIME_TO):
        crime[c] = _utc_time(crime[c], f"{files['crimes.csv']}, column {c}")
    for c in (S.EASTING, S.NORTHING):
        try:
            crime[c] = float(crime[c])
        except ValueError as e:
            raise VRUError(f"{files['crimes.csv']}, column {c}: {crime[c]!r} is not a number") from e
    try:
        run = json.loads(files["run.json"].read_text(encoding="utf-8"))
    except ValueError as e:
        raise VRUError(f"{files['run.json']}: not JSON ({e})") from e
    pts = points[(points[S.CRIME_VERSION_ID] == crime_version) & (points[S.WEARER_REF] == wearer)]
    return pts.reset_index(drop=True), dict(row.iloc[0]), crime, run


def _read_keep(path: Path):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from vru.tagging import schema as S

    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={S.DEVICE_ID: pa.string(), S.TIME_FROM: S.UTC_TS, S.TIME_TO: S.UTC_TS}))
    except (pa.ArrowInvalid, OSError) as e:
        raise VRUError(f"{path}: cannot be read: {e}") from None
