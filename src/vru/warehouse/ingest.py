"""Loading files into the warehouse: ``vru init`` (the bundled London data) and ``vru ingest``."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from vru.errors import SourceError
from vru.schema import Batch
from vru.sources import registry
from vru.warehouse.store import FileResult, Warehouse, sha256_of

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


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus every file under named directories (documentation files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() not in {".md", ".txt"} and not f.name.startswith(".")
            )
        else:
            out.append(p)
    # shapefile parts are read through their .shp; the sidecar files are not separate inputs
    sidecars = {".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".xml"}
    shp_stems = {f.with_suffix("") for f in out if f.suffix.lower() == ".shp"}
    return [f for f in out if not (f.suffix.lower() in sidecars and f.with_suffix("") in shp_stems)]


def load_files(paths: list[Path], *, backend: str = "duckdb") -> list[tuple[Batch, str]]:
    """Read and validate every file (nothing is written). Returns (batch, sha256) pairs.

    Record-level formats (loaders with a ``load_many``, e.g. data.police.uk street files) are
    grouped and aggregated in one engine call.
    """
    out: list[tuple[Batch, str]] = []
    grouped: dict[object, list[Path]] = {}
    for p in paths:
        mod = registry.detect(p)
        if hasattr(mod, "load_many"):
            grouped.setdefault(mod, []).append(p)
        else:
            out.append((mod.load(p), sha256_of(p)))
    for mod, files in grouped.items():
        batch = mod.load_many(files, backend=backend)
        # one batch, many files: record each file's hash so re-ingesting any of them is a no-op
        shas = [sha256_of(p) for p in files]
        out.append((batch, shas[0]))
        for p, sha in zip(files[1:], shas[1:], strict=True):
            out.append((Batch(path=str(p), source=batch.source, tables={}, notes=[]), sha))
    return out


def ingest(wh: Warehouse, paths: Iterable[str | Path], *, backend: str = "duckdb",
           force: bool = False) -> list[FileResult]:
    """Load files into the warehouse, all or nothing.

    A file whose exact bytes were loaded before is reported ``unchanged`` and not re-read (unless
    ``force``). Any error (unknown format, bad row) aborts the whole call before anything is written.
    """
    files = expand(paths)
    if not files:
        raise SourceError("(no files)", "nothing to ingest: no files found at the given paths")
    results: list[FileResult] = []
    todo: list[Path] = []
    for p in files:
        sha = sha256_of(p) if p.exists() else None
        if sha and not force and wh.loaded(sha):
            results.append(FileResult(str(p), "", "unchanged", 0, []))
        else:
            todo.append(p)
    if todo:
        batches = load_files(todo, backend=backend)
        wh.write(batches)
        for batch, _sha in batches:
            results.append(FileResult(batch.path, batch.source, "loaded", batch.rows(), batch.notes))
    return results


def init(path: str | Path | None = None, *, replace: bool = False) -> tuple[Warehouse, list[FileResult]]:
    """Create the warehouse and load the bundled London data into it (idempotent)."""
    wh = Warehouse.create(path, replace=replace)
    try:
        results = ingest(wh, bundled_files())
    except BaseException:
        wh.close()
        raise
    return wh, results
