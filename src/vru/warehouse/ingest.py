"""Loading files into the warehouse: ``vru init`` (the bundled London data) and ``vru ingest``."""

from __future__ import annotations

import contextlib
import fcntl
import inspect
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from vru.errors import SourceError, WarehouseError
from vru.schema import REPLACE_SCOPE, Batch
from vru.sources import registry
from vru.taxonomy import UserCategoryMap, read_user_map
from vru.warehouse.store import FileResult, LoadRecord, Warehouse, sha256_of

# where ``ingest`` spools record-level panels (default: the warehouse's folder); on a Spark
# cluster, a folder the executors see at the same path
SPOOL_ENV = "VRU_SPOOL_DIR"
SCOPE = REPLACE_SCOPE["crime"]  # what a crime panel restates: (source, level, month)

# A progress callback: ``progress(name, total)`` after each of ``total`` steps (files read).
Progress = Callable[[str, int], None]

# Bundled folders that `vru init` loads (crime_harm_weights is reference data read directly).
BUNDLED_FOLDERS = (
    "boundaries",
    "mps_crime_borough",
    "mps_crime_ward",
    "mps_crime_lsoa_annual",
    "police_uk_street_city_of_london_2023",
    "imd2019",
    "population_lsoa",
    "unemployment_borough",
    "claimant_count_lsoa",
    "mopac_pas_borough",
)


def bundled_dir() -> Path:
    return Path(str(resources.files("vru.data").joinpath("bundled")))


def bundled_files() -> list[Path]:
    """Every bundled data file that `vru init` loads (SOURCE.md files excluded)."""
    root = bundled_dir()
    out: list[Path] = []
    for folder in BUNDLED_FOLDERS:
        out += sorted(p for p in (root / folder).rglob("*") if p.is_file() and p.suffix != ".md")
    return out


# A synthetic national archive (vru.synthetic.police_uk_national) holds, beside its month
# folders, its marker and two side files that are not police.uk data: ingesting the folder
# skips them.
NATIONAL_MARKER = ".vru-national-archive"
NATIONAL_SIDE_FILES = ("lsoas.csv", "stats.json")


def _national_archive(folder: Path) -> bool:
    if (folder / NATIONAL_MARKER).is_file():
        return True
    try:  # an archive written before the marker
        return ((folder / "lsoas.csv").is_file()
                and "lsoa_codes" in json.loads((folder / "stats.json").read_text()))
    except (OSError, ValueError, TypeError):
        return False


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus every file under named directories (documentation files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            side = {p / n for n in NATIONAL_SIDE_FILES} if _national_archive(p) else set()
            out += sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() not in {".md", ".txt"} and not f.name.startswith(".")
                and f not in side
            )
        else:
            out.append(p)
    # shapefile parts are read through their .shp; the sidecar files are not separate inputs
    sidecars = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".xml"}
    shp_stems = {f.with_suffix("") for f in out if f.suffix.lower() == ".shp"}
    return [f for f in out if not (f.suffix.lower() in sidecars and f.with_suffix("") in shp_stems)]


def _takes_category_map(mod) -> bool:
    """True for loaders that read a user category map (the MPS borough and ward files)."""
    return "category_map" in inspect.signature(mod.load).parameters


def load_files(paths: list[Path], *, backend: str = "duckdb",
               category_map: UserCategoryMap | None = None,
               progress: Progress | None = None, spool: Path | None = None) -> list[LoadRecord]:
    """Read and validate every file (nothing is written). Returns one record per file.

    Record-level formats (loaders with a ``load_many``, e.g. data.police.uk street files) are
    grouped and aggregated in one engine call; the batch is recorded under the first file and each
    file is credited with its own rows (they add up to the batch's rows). ``category_map`` goes to
    the loaders that take one, and is recorded with their files. ``progress(name, total)`` is called
    once per file read. ``spool``: a folder where record-level loaders that can (a ``spool``
    parameter) leave their tables as Parquet for the warehouse to insert from, instead of memory.
    """
    step = progress or (lambda _name, _total: None)
    out: list[LoadRecord] = []
    grouped: dict[object, list[Path]] = {}
    for p in paths:
        mod = registry.detect(p)
        if hasattr(mod, "load_many"):
            grouped.setdefault(mod, []).append(p)
        elif category_map is not None and _takes_category_map(mod):
            out.append(LoadRecord(mod.load(p, category_map=category_map), sha256_of(p),
                                  category_map=category_map.name,
                                  category_map_sha256=category_map.sha256))
        else:
            out.append(LoadRecord(mod.load(p), sha256_of(p)))
        if not hasattr(mod, "load_many"):
            step(p.name, len(paths))
    for mod, files in grouped.items():
        if hasattr(mod, "load_many_counted"):
            kw = ({"spool": spool} if spool is not None
                  and "spool" in inspect.signature(mod.load_many_counted).parameters else {})
            batch, counts = mod.load_many_counted(files, backend=backend, **kw)
        else:
            batch = mod.load_many(files, backend=backend)
            counts = {files[0]: batch.rows()}
        # one batch, many files: record each file's hash (so re-ingesting any of them is a no-op)
        # and its own rows
        for i, p in enumerate(files):
            b = batch if i == 0 else Batch(path=str(p), source=batch.source, tables={}, notes=[])
            out.append(LoadRecord(b, sha256_of(p), rows=counts.get(p, 0)))
            step(p.name, len(paths))
    return out


def _crime_months(rec: LoadRecord) -> pd.DataFrame | None:
    """The in-memory crime panel of a record (MPS files), else None (record-level panels on
    disk, other tables)."""
    df = rec.batch.tables.get("crime")
    if df is None or hasattr(df, "select_sql") or df.empty:
        return None
    return df


def order_releases(records: list[LoadRecord], in_order: bool = False) -> list[LoadRecord]:
    """The records in the order they are written when one call holds several releases of a
    source: a crime panel restates whole months (:data:`vru.schema.REPLACE_SCOPE`), so the file
    written last wins the months files share. Panels are ordered by the last month they cover,
    then the first (the newer release last, whatever the order on the command line); other
    records keep their order, before them. Two panels of one source and level that share months
    and end in the same month cannot be told apart by their contents: refused. Each panel's
    ``rows`` become the rows it contributes: those of months a newer file of the call restates
    are not counted (so the ``loads`` rows add up to the rows stored), with a note.
    ``in_order``: the records are already in release order (``vru fetch`` knows it from its
    manifest): kept as they are, nothing refused."""
    panels = [(r, _crime_months(r)) for r in records]
    others = [r for r, df in panels if df is None]
    crime = [(r, df) for r, df in panels if df is not None]
    if not in_order:
        crime.sort(key=lambda t: (t[1]["month"].max(), t[1]["month"].min()))
    cover = [(r, df, set(map(tuple, df[list(SCOPE)].drop_duplicates().itertuples(index=False))))
             for r, df in crime]
    for i, (r, df, keys) in enumerate(cover):
        later = set()
        for r2, df2, keys2 in cover[i + 1:]:
            shared = keys & keys2
            if shared and not in_order and df["month"].max() == df2["month"].max():
                months = sorted({k[2] for k in shared})
                raise SourceError(r.batch.path, (
                    f"this file and {r2.batch.path} both give {r.batch.source} for "
                    f"{pd.Timestamp(months[0]):%Y-%m}..{pd.Timestamp(months[-1]):%Y-%m} and end in "
                    "the same month, so which release is newer cannot be told: ingest them in "
                    "separate calls, the older release first"))
            later |= shared
        if later:
            gone = pd.MultiIndex.from_frame(df[list(SCOPE)]).isin(list(later))
            n = int(gone.sum())
            r.rows = r.batch.rows() - n
            months = sorted({k[2] for k in later})
            r.batch.notes.append(
                f"{n:,} rows of {pd.Timestamp(months[0]):%Y-%m}..{pd.Timestamp(months[-1]):%Y-%m} "
                "replaced by a newer file of the same call (newest release wins)")
    return others + [r for r, _ in crime]


SPOOL_PREFIX = ".vru-spool-"
_STARTED = time.time()  # this process's start (near enough: this module's import)


def _spool_base(wh: Warehouse) -> Path:
    """The folder spools are made in: ``$VRU_SPOOL_DIR``, else the warehouse's folder. A file
    there, or a folder that cannot be made or written, is reported naming it."""
    env = os.environ.get(SPOOL_ENV)
    base = Path(env) if env else wh.path.parent
    what = f"${SPOOL_ENV}={env}" if env else f"the warehouse's folder {base}"
    if base.exists() and not base.is_dir():
        raise WarehouseError(f"{what}: is a file, not a folder; the ingest spools the panel's "
                             f"parts in a folder (set ${SPOOL_ENV} to one)")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WarehouseError(f"{what}: cannot make the spool folder ({e.strerror or e})") from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise WarehouseError(f"{what}: cannot write there (the ingest spools the panel's parts "
                             f"in it; set ${SPOOL_ENV} to a folder you can write)")
    return base


@contextlib.contextmanager
def _held(spool: Path):
    """Hold ``spool`` (``fcntl.flock`` on the folder) while the ingest uses it, so that another
    ingest's :func:`remove_stale_spools` leaves it alone."""
    fd = os.open(spool, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield spool
    finally:
        os.close(fd)


def remove_stale_spools(base: Path) -> list[Path]:
    """Remove spools an ingest left in ``base`` when it was killed (SIGTERM, SIGKILL, a power
    cut): ``.vru-spool-*`` folders older than this process that no running ingest holds. Returns
    those removed."""
    gone = []
    for d in base.glob(SPOOL_PREFIX + "*"):
        try:
            if not d.is_dir() or d.is_symlink() or d.stat().st_mtime >= _STARTED:
                continue
            fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # in use by a running ingest
        else:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
        finally:
            os.close(fd)
    return gone


def _explain_map(wh: Warehouse, e: SourceError, user_map: UserCategoryMap | None) -> None:
    """A file refused here that the warehouse holds from a load with a user category map (and
    this call has none, or another): say which map it was read with (name and SHA-256), which it
    needs again. Changes ``e``'s message in place."""
    try:
        sha = sha256_of(e.path)
    except OSError:
        return
    before = wh.sql("SELECT category_map, category_map_sha256 FROM loads WHERE sha256 = ? AND "
                    "category_map_sha256 IS NOT NULL", [sha])
    if before.empty or (user_map is not None
                        and user_map.sha256 in set(before["category_map_sha256"])):
        return
    name, msha = before.iloc[0]
    e.args = (f"{e.args[0]}\nThis file was loaded before with the category map {name} "
              f"(SHA-256 {msha[:12]}...), which maps its categories: give it again "
              f"(--category-map {name}){'' if user_map is None else ' instead of ' + user_map.name}"
              ".",)


def _map_key(p: Path, category_map: UserCategoryMap | None) -> str | None:
    """The user category map a file would be read with (its SHA-256), for the "already loaded"
    test: None when no map is given or the file's loader takes none."""
    if category_map is None:
        return None
    return category_map.sha256 if _takes_category_map(registry.detect(p)) else None


def ingest(wh: Warehouse, paths: Iterable[str | Path], *, backend: str = "duckdb",
           force: bool = False, category_map: str | Path | None = None,
           progress: Progress | None = None, in_order: bool = False) -> list[FileResult]:
    """Load files into the warehouse, all or nothing.

    A file whose exact bytes were loaded before, with the same user category map (or none both
    times), is reported ``unchanged`` and not re-read (unless ``force``). A file with the same bytes
    as an earlier file of the same call is reported ``duplicate`` and not read (``loads`` keys
    files by SHA-256, so it is credited once and per-file row counts still sum to the rows stored).
    Any error (unknown format, bad row, a bad category map) aborts the whole call before anything
    is written.
    ``category_map``: a user category map file (:func:`vru.taxonomy.read_user_map`) for MPS
    categories the platform does not know yet. ``progress(name, total)``: once per file read.
    Releases of one source are written oldest first (:func:`order_releases`; ``in_order``: the
    files are given in release order, oldest first).
    """
    user_map = read_user_map(category_map) if category_map is not None else None
    files = expand(paths)
    if not files:
        raise SourceError("(no files)", "nothing to ingest: no files found at the given paths")
    results: list[FileResult] = []
    todo: list[Path] = []
    first: dict[str, Path] = {}  # SHA-256 -> the first file of this call with those bytes
    for p in files:
        sha = sha256_of(p) if p.exists() else None
        if sha and sha in first:
            # the same bytes twice in one call: loaded (and credited in ``loads``) once
            results.append(FileResult(str(p), "", "duplicate", 0,
                                      [f"same bytes as {first[sha]}: not loaded twice"]))
            continue
        if sha:
            first[sha] = p
        if sha and not force and wh.loaded(sha, _map_key(p, user_map)):
            results.append(FileResult(str(p), "", "unchanged", 0, []))
        else:
            todo.append(p)
    if todo:
        # record-level files (a national archive: 100 million rows) are aggregated to Parquet
        # parts in a temporary folder beside the warehouse (or under $VRU_SPOOL_DIR) and inserted
        # from there: the panel is never held in memory whole
        base = _spool_base(wh)
        remove_stale_spools(base)
        with tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX, dir=base) as spool, \
                _held(Path(spool)):
            try:
                records = load_files(todo, backend=backend, category_map=user_map,
                                     progress=progress, spool=Path(spool))
            except SourceError as e:
                _explain_map(wh, e, user_map)
                raise
            records = order_releases(records, in_order)
            wh.write(records)
        for r in records:
            results.append(FileResult(r.batch.path, r.batch.source, "loaded", r.row_count,
                                      r.batch.notes))
    return results


def init(path: str | Path | None = None, *, replace: bool = False,
         progress: Progress | None = None) -> tuple[Warehouse, list[FileResult]]:
    """Create the warehouse and load the bundled London data into it (idempotent)."""
    wh = Warehouse.create(path, replace=replace)
    try:
        results = ingest(wh, bundled_files(), progress=progress)
    except BaseException:
        wh.close()
        raise
    return wh, results
