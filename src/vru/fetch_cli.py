"""``vru fetch``: download the publishers' latest releases into the archive and ingest them.

The downloading, verifying and archiving is :mod:`vru.sources.fetch`; ingesting goes through
:func:`vru.api.ingest` like any ``vru ingest``. See docs/fetch.md.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from vru.cli_util import runner
from vru.errors import VRUError
from vru.sources import fetch as _fetch
from vru.taxonomy import read_user_map
from vru.warehouse import ingest as _ingest
from vru.warehouse.store import ENV_VAR, FileResult, Warehouse, default_path, sha256_of

SOURCES_ENV = "VRU_FETCH_SOURCES"
_run = runner(VRUError)


def fetch_releases(archive: str | Path | None = None, warehouse: str | Path | None = None, *,
                   ingest: bool = True, sources: str | Path | None = None,
                   category_map: str | Path | None = None, **kwargs) -> list[_fetch.Outcome]:
    """Download into the archive (see :func:`vru.sources.fetch.fetch`, whose keyword arguments pass
    through). ``sources``: a TOML file of ``key = "url"`` overriding catalogue addresses. With
    ``ingest``, a missing warehouse or a bad ``category_map`` is refused before anything is
    downloaded."""
    archive = Path(archive) if archive is not None else default_archive()
    overrides = _fetch.read_overrides(sources) if sources else None
    if ingest:
        Warehouse.open(warehouse, read_only=True).close()
        if category_map is not None:
            read_user_map(category_map)  # a bad map is refused before anything is downloaded
    return _fetch.fetch(archive, overrides=overrides, **kwargs)


def _ingested_elsewhere(todo: list[Path], warehouse: str | Path | None) -> list[Path]:
    """The pending files whose exact bytes the warehouse already holds (a ``vru ingest`` by hand,
    with or without a category map): they are marked ingested, not read again."""
    with Warehouse.open(warehouse, read_only=True) as wh:
        held = set(wh.sql("SELECT sha256 FROM loads")["sha256"])
    return [p for p in todo if sha256_of(p) in held]


def ingest_pending(archive: str | Path | None = None, warehouse: str | Path | None = None, *,
                   category_map: str | Path | None = None,
                   retry_command: str = "vru fetch") -> list[FileResult]:
    """Ingest, all or nothing, every archived file not yet ingested (``category_map`` as for
    ``vru ingest``). A pending file whose bytes the warehouse already holds (ingested by hand
    since) is marked ingested and reported ``unchanged``. If the ingest is refused the files stay
    in the archive, listed as not ingested, and the message shows ``retry_command`` (the command
    the user ran) with a category map, which ingests them."""
    archive = Path(archive) if archive is not None else default_archive()
    if not archive.is_dir():
        return []
    with _fetch.archive_lock(archive):
        return _ingest_pending(archive, warehouse, category_map, retry_command)


def _ingest_pending(archive: Path, warehouse, category_map, retry_command) -> list[FileResult]:
    todo = _fetch.pending(archive)  # release order: a newer release's overlapping months win
    if not todo:
        return []
    done = _ingested_elsewhere(todo, warehouse)
    if done:
        _fetch.mark_ingested(archive, done)
    results = [FileResult(str(p), "", "unchanged", 0, ["already in the warehouse"]) for p in done]
    todo = [p for p in todo if p not in done]
    if not todo:
        return results
    try:
        # as api.ingest, with the manifest's release order kept (a re-issued release ending in
        # the same month as the one before is not refused as ambiguous)
        with Warehouse.open(warehouse) as wh:
            results += _ingest.ingest(wh, todo, category_map=category_map, in_order=True)
    except VRUError as e:
        has_map = " --category-map" in retry_command
        retry = retry_command if has_map else f"{retry_command} --category-map YOUR_MAP.csv"
        raise VRUError(f"{e}\nThe fetched files are kept in {archive} but were not ingested "
                       "(nothing needs downloading again). If a category is unknown, map it in "
                       f"a CSV as above{' (or fix the map)' if has_map else ''} and run: "
                       f"{retry}") from None
    _fetch.mark_ingested(archive, todo)
    return results


def fetch_and_ingest(archive: str | Path | None = None, warehouse: str | Path | None = None, *,
                     ingest: bool = True, sources: str | Path | None = None,
                     category_map: str | Path | None = None,
                     **kwargs) -> tuple[list[_fetch.Outcome], list[FileResult]]:
    """:func:`fetch_releases`, then (with ``ingest``) :func:`ingest_pending`."""
    outcomes = fetch_releases(archive, warehouse, ingest=ingest, sources=sources,
                              category_map=category_map, **kwargs)
    return outcomes, (ingest_pending(archive, warehouse, category_map=category_map)
                      if ingest else [])


def default_archive() -> Path:
    """``archive/`` beside the default warehouse (``$XDG_DATA_HOME/vru/archive``)."""
    return default_path().parent / "archive"


class _Bar:
    """A progress bar on standard error for one download (bytes; total may be unknown)."""

    def __init__(self, label: str, total: int | None):
        self.total, self.done = total, 0
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr) if total else None
        if self.bar is not None:
            self.bar.__enter__()
        else:
            self.label = label

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        else:
            click.echo(f"\r{self.label}  {self.done:,} bytes", nl=False, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        else:
            click.echo("", err=True)


@click.command()
@click.option("--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), envvar=ENV_VAR,
              default=None, show_envvar=True, help="Warehouse to ingest into (as for vru ingest).")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of downloaded releases and their manifest. Default: archive/ beside "
                   "the default warehouse ($XDG_DATA_HOME/vru/archive).")
@click.option("--police-force", "forces", multiple=True, metavar="NAME",
              help="A police force whose data.police.uk street files to keep, named as in the "
                   "archive's file names (metropolitan, city-of-london, ...). Repeatable; without "
                   "it data.police.uk is skipped.")
@click.option("--month", default="latest", show_default=True,
              help="Which data.police.uk archive: latest, or YYYY-MM (the 36 months to then).")
@click.option("--only", multiple=True, metavar="KEY",
              help="Fetch only this source key (repeatable; keys in docs/fetch.md).")
@click.option("--sources", type=click.Path(dir_okay=False, path_type=Path), envvar=SOURCES_ENV,
              show_envvar=True, default=None,
              help='TOML file of key = "url" lines overriding the catalogue\'s addresses.')
@click.option("--category-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A user category map CSV (major,minor,category) for MPS categories the platform "
                   "does not know yet, passed to the ingest as for vru ingest.")
@click.option("--no-ingest", is_flag=True, help="Download and archive only.")
@click.option("--keep-zip", is_flag=True, help="Keep the whole data.police.uk ZIP in the archive.")
@click.option("--retries", type=click.IntRange(0, 100), default=3, show_default=True,
              help="Times an interrupted download is resumed before giving up for this run.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60, show_default=True,
              help="Seconds to wait on an unresponsive server.")
@click.option("--max-download", type=click.FloatRange(0.001, 1024), default=_fetch.MAX_DOWNLOAD / _fetch.GIB,
              show_default=True, metavar="GIB",
              help="Largest download accepted, in GiB; a larger file is refused and nothing kept.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def fetch(warehouse, archive, forces, month, only, sources, category_map, no_ingest, keep_zip,
          retries, timeout, max_download, quiet) -> None:
    """Download the latest releases from the publishers and ingest them.

    MPS borough and ward files (London Datastore), data.police.uk street files of the chosen
    forces, and the deprivation and Nomis files: each checked (its length against the server's,
    its format by the loader that reads it), kept in the archive, and never downloaded again while
    unchanged (conditional requests, and the SHA-256 of the last copy for servers that ignore
    them; publishers give no checksum to compare with). An interrupted download resumes.
    """
    progress = _Bar if (not quiet and sys.stderr.isatty()) else None
    # the archive is held for the whole run (downloads and ingest): a second run is refused
    lock = _fetch.archive_lock(archive if archive is not None else default_archive())
    _run(lock.__enter__)
    try:
        _fetch_command(warehouse, archive, forces, month, only, sources, category_map, no_ingest,
                       keep_zip, retries, timeout, max_download, progress)
    finally:
        lock.__exit__(None, None, None)


def _fetch_command(warehouse, archive, forces, month, only, sources, category_map, no_ingest,
                   keep_zip, retries, timeout, max_download, progress) -> None:
    outcomes = _run(fetch_releases, archive, warehouse, ingest=not no_ingest, sources=sources,
                    category_map=category_map, forces=forces, only=only, month=month,
                    retries=retries, timeout=timeout, keep_zip=keep_zip, progress=progress,
                    max_download=int(max_download * _fetch.GIB))
    for o in outcomes:
        detail = o.message.removeprefix(f"{o.key}: ")
        if o.status == "downloaded":
            detail = f"{o.bytes:,} bytes, {len(o.files)} file(s) kept" + (f"; {detail}" if detail else "")
        click.echo(f"{o.status:10} {o.key}" + (f": {detail}" if detail else ""))
    retry = ["vru", "fetch"] + (["--warehouse", str(warehouse)] if warehouse else []) \
        + (["--archive", str(archive)] if archive else []) \
        + (["--category-map", str(category_map)] if category_map else [])
    results = [] if no_ingest else _run(ingest_pending, archive, warehouse,
                                        category_map=category_map,
                                        retry_command=shlex.join(retry))
    for r in results:
        extra = f" ({r.rows:,} rows, {r.source})" if r.status == "loaded" else ""
        click.echo(f"{r.status:10} {r.path}{extra}")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        click.echo(f"error: {len(failed)} download(s) failed: "
                   + "; ".join(o.message for o in failed), err=True)
        sys.exit(2)
