"""data.police.uk street-level crime files -> the LSOA x month x category crime panel.

Source: data.police.uk (Home Office and the police forces of England and Wales), the monthly
"street" files of the download archive, ``YYYY-MM/YYYY-MM-<force>-street.csv``; Open Government
Licence v3.0. Bundled copies: ``vru/data/bundled/police_uk_street_city_of_london_2023`` (City of
London Police, January-June 2023; see its SOURCE.md).

Layout: one row per crime or anti-social-behaviour report, the exact header
``Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,
Crime type,Last outcome category,Context``.

Known quirks, each handled explicitly (the method is in :mod:`vru.sources.engine`):

- anti-social behaviour rows have no Crime ID: each counts;
- "No Location" rows have empty coordinates and LSOA: kept under area code ``X-NO-LOCATION`` so
  totals reconcile;
- Crime IDs repeat (the same crime listed again with another outcome, sometimes snapped to
  another point): a crime is counted once per (force, Crime ID, Month), at its lowest located
  LSOA code;
- LSOA codes are 2011 or 2021 codes (the files switched during 2023): stored as given, level
  ``lsoa``;
- two releases of one force-month (two files named ``YYYY-MM-<force>-street.csv`` alike, from
  two folders) in one call are refused, naming both: merged, their anti-social behaviour rows
  (no Crime ID) would count twice and crimes the newer release dropped would stay. Identical
  bytes are a ``duplicate`` for ``vru ingest`` (read once). Files not named so may be parts of
  one month (a file split in two) and are read together;
- the 14 crime types, plus the two used until April 2013, map through taxonomy scheme
  ``police_uk``; any other type is refused.

Many files (a national year is 500+ files) are best loaded in one call, :func:`load_many`, which
validates and aggregates them together in one engine pass (DuckDB, or Spark with
``backend="spark"``).

Output: ``crime`` rows with source ``police_uk_street/<Falls within>``, level ``lsoa``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import base_name, header_fields

SOURCE = catalogue.POLICE_UK_STREET
HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
_NAME_RE = re.compile(r".+-street\.csv")


def sniff(path: str | Path) -> bool:
    """A data.police.uk street file: named ``*-street.csv[.gz]``, or with exactly its header.

    A file named like a street file is claimed even if its header is wrong, so that loading it
    reports the missing or unknown column instead of "unknown format".
    """
    if _NAME_RE.fullmatch(base_name(path)):
        return True
    try:
        return tuple(header_fields(path)) == HEADER
    except (OSError, EOFError, ValueError, UnicodeDecodeError):
        return False


def load(path: str | Path, *, backend: str = "duckdb", spark_session=None) -> Batch:
    """Read and validate one street file (see :func:`load_many`)."""
    return load_many([path], backend=backend, spark_session=spark_session)


def load_many(paths: Sequence[str | Path], backend: str = "duckdb", *,
              spark_session=None) -> Batch:
    """Read, validate and aggregate many street files in one engine pass, all or nothing.

    Raises :class:`~vru.errors.SourceError` naming the file, line and column of the first problem;
    nothing is returned unless every file is valid. The batch's ``path`` is the first file.
    """
    return load_many_counted(paths, backend, spark_session=spark_session)[0]


def load_many_counted(paths: Sequence[str | Path], backend: str = "duckdb", *,
                      spark_session=None, spool: str | Path | None = None
                      ) -> tuple[Batch, dict[Path, int]]:
    """:func:`load_many` and the rows of the batch credited to each file (they add up to
    ``batch.rows()``; see :mod:`vru.sources.engine`, "Provenance"), for the ``loads`` record.

    With ``spool`` (a folder) the panel stays on disk as Parquet parts and the batch's ``crime``
    is a :class:`~vru.sources.engine.ParquetPanel` that the warehouse inserts from (the engine has
    checked its columns, types and keys part by part), so a national archive never sits in
    memory. This is what ``vru ingest`` does."""
    from vru.sources.engine import street_scan

    files = [Path(p) for p in paths]
    result = street_scan(files, backend, spark_session=spark_session, spool=spool)
    crime = result.crime if spool is not None else conform("crime", result.crime)
    batch = Batch(path=str(files[0]), source=SOURCE, tables={"crime": crime}, notes=result.notes)
    return batch, result.file_rows
