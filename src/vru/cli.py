"""The ``vru`` command line. Each subcommand is a thin shell over :mod:`vru.api`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from vru import __version__, api
from vru.errors import VRUError
from vru.warehouse.store import ENV_VAR, default_path

warehouse_option = click.option(
    "--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), envvar=ENV_VAR,
    default=None, show_envvar=True,
    help=f"Warehouse file (DuckDB). Default: ${ENV_VAR}, else {default_path()}.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vru")
def main() -> None:
    """VRU platform: real London data in, a serious-violence needs assessment out."""


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except VRUError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


@main.command()
@warehouse_option
@click.option("--replace", is_flag=True, help="Delete an existing warehouse and rebuild it.")
def init(warehouse: Path | None, replace: bool) -> None:
    """Build the warehouse from the London data bundled with the platform.

    Idempotent: files already loaded are left as they are.
    """
    t0 = time.perf_counter()
    results = _run(api.init, warehouse, replace=replace)
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
def ingest(warehouse: Path | None, paths: tuple[Path, ...], backend: str, force: bool) -> None:
    """Add data files (or directories of them) to the warehouse, all or nothing.

    The format of each file is recognised from its name and header; an unknown format is refused.
    Loading the same file twice changes nothing.
    """
    results = _run(api.ingest, list(paths), warehouse, backend=backend, force=force)
    for r in results:
        extra = f" ({r.rows:,} rows, {r.source})" if r.status == "loaded" else ""
        click.echo(f"{r.status:9} {r.path}{extra}")
        for n in r.notes:
            click.echo(f"          note: {n}")


@main.command()
@warehouse_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("needs-assessment.html"), show_default=True,
              help="HTML file to write.")
def report(warehouse: Path | None, out: Path) -> None:
    """Write the needs assessment (one offline HTML file) from the warehouse."""
    path = _run(api.report, out, warehouse)
    click.echo(f"wrote {path}")


@main.command()
@warehouse_option
def status(warehouse: Path | None) -> None:
    """List the files loaded into the warehouse."""
    df = _run(api.status, warehouse)
    for src, g in df.groupby("source", sort=True):
        click.echo(f"{src}: {len(g)} file(s), {int(g['rows'].sum()):,} rows")
