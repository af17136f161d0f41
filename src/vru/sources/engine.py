"""The record-level engine: data.police.uk street files -> the LSOA-month-category crime panel.

The work is written once, as Ibis expressions, and runs on DuckDB (the default, in-process) or on
Apache Spark (PySpark, for national or multi-year loads on a cluster) with identical results. Only
the CSV scan is backend-specific (``_DuckDB.scan``, ``_Spark.scan``); both scans give the same
table: the 12 columns of the file as strings ('' for an empty field), ``_malformed`` (the line does
not have exactly 12 fields, or is not UTF-8), ``_file`` and ``_expected`` (the month its file name
gives, '' if none).

Format (data.police.uk "street" files, ``YYYY-MM-<force>-street.csv``; see
``vru/data/bundled/police_uk_street_city_of_london_2023/SOURCE.md``): the exact header
``Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,
Crime type,Last outcome category,Context``; one row per crime or anti-social-behaviour report.
Files are read with every value as text (no type sniffing), LF or CRLF, gzip or not.

Method (:func:`street_panel`), each treatment reported in the notes of the loader's batch:

- A crime is counted once per (Falls within, Crime ID, Month): data.police.uk lists a crime again
  when its outcome is updated, sometimes snapped to another point. A crime whose rows disagree on
  the place is attributed to the lowest LSOA code among its located rows ("No Location" only if
  none is located), and to the lowest harmonised category if its types disagree (never
  observed).
  Rows without a Crime ID (all anti-social behaviour) each count.
- ``area_code`` is the LSOA code as given (2011 or 2021 vintage: data.police.uk moved to 2021
  LSOAs in 2023; the vintage is left to the warehouse), level ``lsoa``. Rows with no location
  (empty coordinates and LSOA) are kept under ``area_code`` :data:`NO_LOCATION`, so totals
  reconcile with the files.
- ``source`` is ``police_uk_street/<Falls within>``; ``category`` is the harmonised category of
  the Crime type (taxonomy scheme ``police_uk``: the 14 current types and the two used until
  April 2013); ``month`` is the first day of the month.

Validation (all of it before anything is returned; one bad line anywhere refuses the whole call).
The checks are Ibis expressions evaluated in the same scan as the aggregation (``_row_problem``
on every row; ``_key_problem`` on Month and Falls within, which are grouping keys, on the
aggregated cells). When they flag a problem, the first flagged file (in the order given) is read
again in Python with its file line numbers and the same expressions (``_problem``) locate the
first bad line, so the :class:`~vru.errors.SourceError` names the file, the line and the column:

- the header must be exactly the 12 columns above (row 1, the missing or unknown column);
- an empty file; a line with fewer fields (a truncated file) or more fields than the header;
  text that is not UTF-8; a gzip stream that ends early;
- ``Month`` not ``YYYY-MM``, before December 2010 (the first data.police.uk month) or, in a file
  named ``YYYY-MM-...``, different from the month of its name;
- empty ``Falls within``; a ``Crime type`` the taxonomy does not know;
- ``Longitude``/``Latitude``: one given without the other, not a number, or outside the box
  -8.75..2.0 E, 49.8..60.95 N (the United Kingdom with a small margin: data.police.uk also
  publishes British Transport Police and Northern Ireland files);
- ``LSOA code`` neither empty nor an English or Welsh LSOA code (``E01`` / ``W01`` + 6 digits).

Provenance: each cell of the panel is credited to one file among the files holding its rows (on
DuckDB the first in the order given, by its position in the list; on Spark the smallest ``file:``
URI), so the files' counts (:attr:`StreetPanel.file_rows`) add up to the cells returned. Files are
monthly per force, so a cell normally comes from exactly one file.

Execution: on DuckDB, files whose names carry their month (``YYYY-MM-...``, as in the
data.police.uk archive) are processed one month at a time, a query per month: a crime never spans
two months, and every row of such a file must hold its month. This keeps the de-duplication hash
table, and so peak memory, to one month of data. Spark runs one job over all files (it spills by
itself; a job per month would multiply its start-up cost). Either way the backend writes the
cells to Parquet itself (DuckDB ``COPY ... TO``, one part per month; Spark
``DataFrame.write.parquet``): nothing is collected through Python or the Spark driver, and the
counts are read back from the parts by DuckDB. ``street_scan(spool=...)`` leaves the parts on
disk for the warehouse to insert from (:class:`ParquetPanel`), so ingesting the whole national
archive (100 million rows) peaks near 0.4 GiB; without a spool they are read into one frame.
DuckDB's memory is capped (:data:`MEMORY_LIMIT`, ``$VRU_DUCKDB_MEMORY_LIMIT``) and spills to
the spool beyond it.
"""

from __future__ import annotations

import abc
import csv
import errno
import gzip
import os
import re
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from vru import taxonomy
from vru.errors import SourceError, VRUError
from vru.schema import KEYS, TABLES
from vru.sources._io import head_lines, open_bytes
from vru.sources.police_uk import HEADER

# internal column names, in header order
FIELDS = ("crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
          "lsoa_code", "lsoa_name", "crime_type", "last_outcome", "context")

SOURCE_PREFIX = "police_uk_street/"
NO_LOCATION = "X-NO-LOCATION"
FIRST_MONTH = "2010-12"  # data.police.uk street data starts in December 2010
LON_RANGE = (-8.75, 2.0)
LAT_RANGE = (49.8, 60.95)
MONTH_RE = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
LSOA_RE = r"^[EW]01[0-9]{6}$"
# the month in a data.police.uk file name: 2023-01-city-of-london-street.csv[.gz], alone or at
# the end of a path (DuckDB) or URI (Spark)
NAME_MONTH_RE = r"^([0-9]{4}-(?:0[1-9]|1[0-2]))-.+-street\.csv(?:\.gz)?$"
NAME_FORCE_RE = r"^([0-9]{4}-(?:0[1-9]|1[0-2]))-(.+)-street\.csv(?:\.gz)?$"  # month, force
PATH_MONTH_RE = r"(?:^|[/\\])([0-9]{4}-(?:0[1-9]|1[0-2]))-[^/\\]+-street\.csv(?:\.gz)?$"
FROM_FILE = "<month of the file name>"  # check each row against its own file's name
BACKENDS = ("duckdb", "spark")

# problem codes of _problem(), in the order they are checked: (column, message)
PROBLEMS: dict[int, tuple[str | None, str]] = {
    1: (None, "line does not have the 12 fields of the header"),
    2: ("Month", "Month must be YYYY-MM"),
    3: ("Month", f"Month is before {FIRST_MONTH}, the first month of data.police.uk data"),
    4: ("Month", "Month differs from the month in the file name"),
    5: ("Falls within", "Falls within (the force) is empty"),
    6: ("Crime type", "unknown Crime type"),
    7: ("Latitude", "Latitude is empty but Longitude is given"),
    8: ("Longitude", "Longitude is empty but Latitude is given"),
    9: ("Longitude", f"Longitude is not a number in {LON_RANGE[0]}..{LON_RANGE[1]} "
                     "(the United Kingdom)"),
    10: ("Latitude", f"Latitude is not a number in {LAT_RANGE[0]}..{LAT_RANGE[1]} "
                     "(the United Kingdom)"),
    11: ("LSOA code", "LSOA code is not an English or Welsh LSOA code (E01/W01 + 6 digits)"),
}


@dataclass
class StreetPanel:
    """What :func:`street_scan` returns: the panel plus the counts the loader reports."""

    # the canonical ``crime`` table: a frame, or a ParquetPanel when street_scan was given a spool
    crime: pd.DataFrame | ParquetPanel
    files: int
    rows: int  # data rows read
    crimes: int  # = crime["count"].sum()
    notes: list[str] = field(default_factory=list)
    # cells of ``crime`` credited to each file (see the module docstring); sums to len(crime)
    file_rows: dict[Path, int] = field(default_factory=dict)


class SparkUnavailableError(VRUError):
    """The ``spark`` extra (PySpark) or a Java runtime is missing: how to install them."""


SPARK_INSTALL = ("install the Spark extra with  pip install 'vru[spark]'  (PySpark and Ibis's "
                 "PySpark backend) and a Java 17 runtime (e.g. apt install openjdk-17-jre-headless; "
                 "JAVA_HOME must point to it), or use --backend duckdb, which needs neither")


def street_panel(paths: Sequence[str | Path], backend: str = "duckdb", *,
                 spark_session=None) -> pd.DataFrame:
    """The canonical ``crime`` table (LSOA x month x category) of data.police.uk street files.

    ``backend`` is ``"duckdb"`` (default) or ``"spark"`` (PySpark; ``spark_session`` or the
    active session, else a local one). Raises :class:`SourceError` for any bad file or line;
    nothing is returned unless every file is valid. The frame has the canonical columns and
    dtypes and unique keys by construction; :func:`vru.schema.conform` (which re-checks the keys)
    is run by the loader, :func:`vru.sources.police_uk.load_many`.
    """
    return street_scan(paths, backend, spark_session=spark_session).crime


def street_scan(paths: Sequence[str | Path], backend: str = "duckdb", *,
                spark_session=None, spool: str | Path | None = None) -> StreetPanel:
    """:func:`street_panel` with the counts behind it (rows read, crimes, repeats).

    The backend writes the panel to Parquet parts as it goes (see "Execution" above). Without
    ``spool`` the parts go to a temporary folder and ``crime`` is the whole panel as a pandas
    frame. With ``spool`` (a folder; a new subfolder is made in it) the parts stay there and
    ``crime`` is a :class:`ParquetPanel` naming them: nothing of the panel is held in memory,
    which is how the warehouse ingests a national archive. On a Spark cluster ``spool`` must be
    a folder that the executors and this machine see at the same path (a shared mount).
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("street_scan needs at least one file")
    _check_files(files)
    if backend == "duckdb":
        runner = _DuckDB()
    elif backend in ("spark", "pyspark"):
        runner = _Spark(spark_session)
    else:
        raise ValueError(f"unknown backend {backend!r}; known: {BACKENDS}")
    tmp = None
    if spool is None:
        tmp = tempfile.TemporaryDirectory(prefix="vru-street-")
        folder = Path(tmp.name)
    else:
        Path(spool).mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="street-", dir=spool))
    try:
        runner.spool = folder
        parts = runner.run(files, folder)
        out = _finish(runner, parts, files)
        if spool is None:
            out.crime = out.crime.to_pandas()
        return out
    except BaseException:
        if spool is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        runner.close_reader()
        runner.close()
        if tmp is not None:
            tmp.cleanup()


@dataclass
class ParquetPanel:
    """The canonical ``crime`` table left on disk as Parquet parts (``street_scan(spool=...)``).

    It stands in for the frame of a :class:`~vru.schema.Batch`: ``len()`` is its cells,
    :meth:`select_sql` is the DuckDB query the warehouse inserts from (the canonical columns and
    types), :meth:`to_pandas` reads it into memory. The files belong to the caller's spool.
    """

    files: list[Path]
    cells: int

    def __len__(self) -> int:
        return self.cells

    @property
    def empty(self) -> bool:
        return self.cells == 0

    @property
    def columns(self) -> list[str]:
        return [c for c, _ in TABLES["crime"]]

    def select_sql(self) -> str:
        """A DuckDB query giving the canonical columns (empty files: a query with no rows)."""
        if not self.files:
            return f"SELECT {_CANON_EMPTY} WHERE false"
        return f"SELECT {_CANON} FROM {_parquet(self.files)}"

    def to_pandas(self) -> pd.DataFrame:
        con = _duckdb_reader()
        try:
            out = _to_pandas(con.sql(self.select_sql()).to_arrow_table())
        finally:
            con.close()
        return _canonical(out)


# ---------------------------------------------------------------------------------------------
# checks that need no engine: existence, duplicates, empty files, the header


def _check_files(files: list[Path]) -> None:
    seen: dict[Path, Path] = {}
    named: dict[tuple[str, str], Path] = {}  # (month, force) of the name -> file
    for p in files:
        if not p.is_file():
            raise SourceError(p, "no such file")
        key = p.resolve()
        if key in seen:
            raise SourceError(p, f"file given twice (also as {seen[key]}): its rows would be "
                                 "counted twice")
        seen[key] = p
        check_header(p)
        # two releases of one force-month (the archive's YYYY-MM-<force>-street.csv name from two
        # downloads): merged they would count anti-social behaviour rows twice. Files not named
        # so may be parts of one month (a file split in two): read together, as given.
        m = re.match(NAME_FORCE_RE, p.name)
        if m is None:
            continue
        fm = (m.group(1), m.group(2))
        if fm in named:
            raise SourceError(p, (
                f"this file and {named[fm]} are both the street file of {m.group(2)} for "
                f"{m.group(1)} (two releases of one force-month): read together their anti-social "
                "behaviour rows (which have no Crime ID) would be counted twice and crimes the "
                "newer release dropped kept. Ingest one of them: the newer release, or each in "
                "its own call, the older first (a later call restates the month)"))
        named[fm] = p


def check_header(path: Path) -> None:
    """Refuse an empty file or a header that is not exactly the data.police.uk street header."""
    try:
        lines = head_lines(path, 1)
    except (OSError, EOFError, zlib.error) as e:
        raise SourceError(path, f"cannot read the file (corrupt or truncated?): {e}") from None
    if not lines or not lines[0].strip():
        raise SourceError(path, "file is empty (no header line)", row=1 if lines else None)
    cols = next(csv.reader([lines[0]]))
    for c in HEADER:
        if c not in cols:
            raise SourceError(path, f"missing column {c!r}; header is {cols}", row=1, column=c)
    for c in cols:
        if c not in HEADER:
            raise SourceError(path, f"unknown column {c!r} (not in the data.police.uk street "
                                    "format)", row=1, column=c)
    if tuple(cols) != HEADER:
        for i, c in enumerate(cols):
            if i >= len(HEADER) or c != HEADER[i]:
                raise SourceError(path, f"column {c!r} repeated or out of place (field {i + 1}); "
                                        f"expected header {','.join(HEADER)}", row=1, column=c)


# ---------------------------------------------------------------------------------------------
# the shared Ibis logic


@dataclass
class _Types:
    """Crime types the taxonomy knows (scheme ``police_uk``), each mapped to the integer code of
    its harmonised category (two types may share one: "Violent crime", used until April 2013, is
    the same type as "Violence and sexual offences")."""

    codes: dict[str, int]  # crime type -> category code
    categories: tuple[str, ...]  # category code -> harmonised category

    @classmethod
    def load(cls) -> _Types:
        m = taxonomy.category_map()
        m = m[m["scheme"] == "police_uk"]
        categories = tuple(sorted(set(m["category"])))
        codes = {t: categories.index(c) for t, c in zip(m["minor"], m["category"], strict=True)}
        return cls(codes, categories)

    @property
    def names(self) -> list[str]:
        return sorted(self.codes)

    def table(self) -> ir.Table:
        return ibis.memtable(pd.DataFrame({
            "ct": pd.Series(range(len(self.categories)), dtype="int64"),
            "category": pd.Series(self.categories, dtype="string"),
        }))


def _type_code(t: ir.Table, types: _Types) -> ir.IntegerValue:
    """Category code of the Crime type (NULL if unknown), matched exactly or after stripping."""
    ct = t.crime_type
    return ct.substitute(types.codes,
                         else_=ct.strip().substitute(types.codes, else_=ibis.null("int64")))


def _row_problem(t: ir.Table, ct: ir.IntegerValue) -> ir.IntegerValue:
    """Problem code (a key of PROBLEMS) of the checks that must look at every row, else 0."""
    lon_s, lat_s, lsoa = t.longitude, t.latitude, t.lsoa_code
    lon, lat = lon_s.try_cast("float64"), lat_s.try_cast("float64")
    return ibis.cases(
        (t["_malformed"], 1),
        ((t["_expected"] != "") & (t.month != t["_expected"]), 4),
        (ct.isnull(), 6),
        ((lon_s != "") & (lat_s == ""), 7),
        ((lon_s == "") & (lat_s != ""), 8),
        ((lon_s != "") & ~(lon.between(*LON_RANGE).fill_null(False)), 9),
        ((lat_s != "") & ~(lat.between(*LAT_RANGE).fill_null(False)), 10),
        ((lsoa != "") & ~lsoa.re_search(LSOA_RE), 11),
        else_=0,
    )


def _key_problem(month: ir.StringValue, fw: ir.StringValue) -> ir.IntegerValue:
    """Problem code of the checks on Month and Falls within alone, else 0.

    Month and Falls within are grouping keys of the panel, so these checks run on the (few) cells
    instead of every row: a bad value in any row shows in the cell it lands in.
    """
    return ibis.cases(
        (~month.re_search(MONTH_RE), 2),
        (month < FIRST_MONTH, 3),
        (fw == "", 5),
        else_=0,
    )


def _problem(t: ir.Table, types: _Types) -> ir.IntegerValue:
    """Every check on every row, in the order of PROBLEMS (to find the bad files and lines)."""
    key = _key_problem(t.month, t.falls_within)
    row = _row_problem(t, _type_code(t, types))
    return ibis.cases(
        (t["_malformed"], 1),
        ((key == 2) | (key == 3), key),
        (row == 4, 4),
        (key == 5, 5),
        else_=row,
    )


def _panel_expr(t: ir.Table, types: _Types, cats: ir.Table) -> ir.Table:
    """One scan: validation, de-duplication per (force, Crime ID, Month), the panel.

    ``cats`` is :meth:`_Types.table` (category code -> harmonised category) on the backend."""
    t = t.mutate(ct=_type_code(t, types))
    has_id = t.crime_id != ""
    rows = t.select(
        m=t.month, fw=t.falls_within, has_id=has_id,
        # a crime is its Crime ID; rows without one are not de-duplicated but grouped by cell
        key=has_id.ifelse(t.crime_id, t.lsoa_code.concat("/", t.ct.cast("string"))),
        ct=t.ct, bad=_row_problem(t, t.ct), area=t.lsoa_code.nullif(""), file=t["_fid"],
    )
    crimes = rows.group_by(["m", "fw", "has_id", "key"]).aggregate(
        area=rows.area.min(),
        ct=rows.ct.min(),
        rows=rows.count(),
        bad=rows.bad.max(),
        file=rows.file.min(),
    )
    crimes = crimes.mutate(
        area=crimes.area.fill_null(NO_LOCATION),
        n=crimes.has_id.ifelse(1, crimes.rows),
    )
    cells = crimes.group_by(["fw", "area", "m", "ct"]).aggregate(
        count=crimes.n.sum(), rows=crimes.rows.sum(), bad=crimes.bad.max(),
        file=crimes.file.min())
    j = cells.left_join(cats, cells.ct == cats.ct)
    return j.select(
        source=ibis.literal(SOURCE_PREFIX) + j.fw,
        level=ibis.literal("lsoa"),
        area_code=j.area,
        # NULL only where Month is invalid, which the checks refuse
        month=(j.m + "-01").try_cast("timestamp"),
        category=j.category,
        count=j["count"],
        rows=j["rows"],
        bad=ibis.greatest(j.bad, _key_problem(j.m, j.fw)),
        file=j.file,
    )


def _problem_files(t: ir.Table, types: _Types) -> ir.Table:
    f = t.select(_file=t["_file"], bad=_problem(t, types))
    return f.filter(f.bad > 0).select("_file").distinct()


def _first_problem_row(t: ir.Table, types: _Types) -> ir.Table:
    f = t.mutate(bad=_problem(t, types))
    return f.filter(f.bad > 0).order_by("_line").limit(1)


def name_month(path: str | Path) -> str | None:
    """The month a data.police.uk file name gives (``2023-01-...-street.csv`` -> ``2023-01``)."""
    m = re.match(NAME_MONTH_RE, Path(path).name)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# reading one file in Python, with file line numbers (only when a problem was found)


def _python_rows(path: Path) -> tuple[pa.Table, SourceError | None]:
    """Every data record of ``path`` with its first file line, as the backends parse them.

    Returns the records read before any structural problem and that problem (or None): text that
    is not UTF-8, a compressed stream that ends early.
    """
    cols: dict[str, list] = {f: [] for f in FIELDS}
    malformed: list[bool] = []
    lines: list[int] = []
    problem: SourceError | None = None
    state: dict = {"line": 0, "raw": b""}

    def text_lines():
        with open_bytes(path) as fb:
            for raw in fb:
                state["line"] += 1
                state["raw"] = raw
                yield raw.decode("utf-8-sig" if state["line"] == 1 else "utf-8")

    reader = csv.reader(text_lines(), strict=False)
    try:
        next(reader, None)  # header (checked separately)
        start = state["line"] + 1
        for rec in reader:
            if rec:  # both backends skip blank lines
                lines.append(start)
                malformed.append(len(rec) != len(FIELDS))
                for i, f in enumerate(FIELDS):
                    cols[f].append(rec[i] if i < len(rec) else None)
            start = state["line"] + 1
    except UnicodeDecodeError as e:
        fields = next(csv.reader([state["raw"].decode("utf-8", errors="replace")]), [])
        bad = [i for i, v in enumerate(fields) if "\ufffd" in v]
        column = HEADER[bad[0]] if bad and bad[0] < len(HEADER) else None
        problem = SourceError(path, f"not UTF-8 text ({e.reason} at byte {e.start} of the "
                                    "line)", row=state["line"], column=column)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        problem = SourceError(path, f"the compressed file ends early or is corrupt "
                                    f"(truncated download?): {e}", row=state["line"] + 1)
    except csv.Error as e:
        problem = SourceError(path, f"cannot parse as CSV: {e}", row=state["line"])
    data = {f: pa.array(cols[f], pa.string()) for f in FIELDS}
    data["_malformed"] = pa.array(malformed, pa.bool_())
    data["_file"] = pa.array([str(path)] * len(lines), pa.string())
    data["_expected"] = pa.array([name_month(path) or ""] * len(lines), pa.string())
    data["_line"] = pa.array(lines, pa.int64())
    return pa.table(data), problem


def _describe(path: Path, row: dict, code: int) -> SourceError:
    line = int(row["_line"])
    if code == 1:
        n = sum(row[f] is not None and not pd.isna(row[f]) for f in FIELDS)
        if n < len(FIELDS):
            col = HEADER[n]
            return SourceError(path, f"line has {n} fields where the header has {len(FIELDS)} "
                                     f"(truncated file?): {col!r} is missing", row=line, column=col)
        return SourceError(path, f"line has more than {len(FIELDS)} fields (an unquoted comma?)",
                           row=line, column=HEADER[-1])
    column, message = PROBLEMS[code]
    if code == 4:
        message += f" ({row['_expected']})"
    value = row[FIELDS[HEADER.index(column)]]
    return SourceError(path, f"{message}: {value!r}", row=line, column=column)


# ---------------------------------------------------------------------------------------------
# the backends: a scan each, the rest shared


class _Runner(abc.ABC):
    """A backend: ``scan`` (the only backend-specific reading), ``execute`` (Ibis -> pandas)."""

    con: ibis.BaseBackend

    @abc.abstractmethod
    def scan(self, files: list[Path], expected: str | None) -> ir.Table:
        """The scan table of ``files``; ``expected``: the month each row must hold (see
        :func:`_chunks`), as the ``_expected`` column ('' for none)."""

    @abc.abstractmethod
    def file_of(self, value: str, files: list[Path]) -> Path | None:
        """The file among ``files`` that a scan's file-name value refers to."""

    def file_of_id(self, value, files: list[Path]) -> Path | None:
        """The file a scan's ``_fid`` value (what cells are credited to) refers to: by default
        ``_fid`` is the file-name value itself."""
        return self.file_of(str(value), files)

    @abc.abstractmethod
    def is_read_error(self, exc: Exception) -> bool:
        """True if ``exc`` is the backend's CSV reader failing on a file (a structural error)."""

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        return _to_pandas(self.con.to_pyarrow(expr))

    def categories(self, types: _Types) -> ir.Table:
        """The category map as a table of this backend."""
        return types.table()

    def chunks(self, files: list[Path]) -> list[tuple[str | None, list[Path]]]:
        return _chunks(files)

    def close(self) -> None:  # noqa: B027 (optional hook: most backends have nothing to release)
        """Release what the run created (connection, temporary views)."""

    @abc.abstractmethod
    def write(self, expr: ir.Table, part: Path) -> list[Path]:
        """Write the cells of the panel expression to Parquet at ``part`` on the backend (not
        through Python) and return the Parquet files written."""

    def run(self, files: list[Path], spool: Path) -> list[Path]:
        """Validate and aggregate ``files`` chunk by chunk into Parquet parts under ``spool``.

        Returns the parts' Parquet files. Each chunk's cells go to disk as soon as they are
        computed, so memory holds one chunk's work, never the panel. Raises the first problem (in
        the order the files were given) after every chunk is checked."""
        types = _Types.load()
        written: list[Path] = []
        flagged = []
        expr = None
        for i, (expected, chunk) in enumerate(self.chunks(files)):
            try:
                table = self.scan(chunk, expected)
                # the scan is a view redefined for every chunk: one expression serves them all
                if expr is None:
                    expr = _panel_expr(table, types, self.categories(types))
                out = self.write(expr, spool / f"part-{i:05d}")
            except Exception as e:  # a file the backend's CSV reader cannot parse
                if _no_space(e):
                    raise VRUError(
                        f"no space left in the spool folder {spool} while writing the panel's "
                        f"parts (chunk {i + 1}: {len(chunk)} file(s) from {chunk[0].name}): free "
                        "space there, or set $VRU_SPOOL_DIR to a folder on a disk with room; "
                        "nothing was stored") from None
                if not self.is_read_error(e):
                    raise
                raise self._structural_error(chunk, e) from None
            if out and _read(self.reader(), out, "max(bad) > 0", check_keys=True)[0][0]:
                flagged.append((expected, chunk))
            written += out
        if flagged:
            raise self._locate(files, flagged, types)
        return written

    def reader(self):
        """A DuckDB connection to read the Parquet parts with (a local one by default)."""
        if getattr(self, "_reader", None) is None:
            self._reader = _duckdb_reader()
        return self._reader

    def close_reader(self) -> None:
        if getattr(self, "_reader", None) is not None:
            self._reader.close()
            self._reader = None

    def _locate(self, files: list[Path], flagged: list[tuple[str | None, list[Path]]],
                types: _Types) -> SourceError:
        """The first bad line of the first flagged file, in the order the files were given.

        The flagged files are found on the backend; the line is found by reading that one file
        in Python with its line numbers and evaluating the same checks on it (in-process DuckDB).
        """
        bad: set[Path] = set()
        for expected, chunk in flagged:
            if len(chunk) == 1:
                bad.add(chunk[0])
                continue
            found = self.execute(_problem_files(self.scan(chunk, expected), types))["_file"]
            bad |= {self.file_of(str(v), chunk) for v in found}
        local = _local()
        try:
            for path in (p for p in files if p in bad):
                data, problem = _python_rows(path)
                if problem is not None:
                    return problem
                hit = _to_pandas(local.to_pyarrow(_first_problem_row(ibis.memtable(data), types)))
                if len(hit):
                    row = hit.iloc[0].to_dict()
                    return _describe(path, row, int(row["bad"]))
                return SourceError(path, "a line failed validation but could not be located "
                                         "again (please report this)")
        finally:
            local.disconnect()
        return SourceError(files[0], "a line failed validation but its file could not be "
                                     "identified (please report this)")

    def _structural_error(self, files: list[Path], exc: Exception) -> SourceError:
        """The backend could not parse a file: find the file and line in Python."""
        msg = str(exc)
        named = [p for p in files if str(p) in msg or p.name in msg]
        for path in named + [p for p in files if p not in named]:
            data, problem = _python_rows(path)
            if problem is not None:
                return problem
            bad = data.column("_malformed").to_pylist()
            if any(bad):
                i = bad.index(True)
                return _describe(path, data.slice(i, 1).to_pylist()[0], 1)
        first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
        return SourceError(named[0] if named else files[0], f"cannot read as CSV: {first}")


def _no_space(exc: BaseException) -> bool:
    """True if ``exc`` is a write failing for want of disk space (DuckDB's, Spark's or the OS's)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def _chunks(files: list[Path]) -> list[tuple[str | None, list[Path]]]:
    """(expected month, files): the groups processed one query each.

    Every row of a file named ``YYYY-MM-...`` must hold that month. So when every name carries a
    month, the files are grouped by it: a crime is de-duplicated within its month and no crime
    spans two groups. Otherwise all files form one group, each row checked against its own file
    name (:data:`FROM_FILE`).
    """
    by: dict[str, list[Path]] = {}
    for p in files:
        month = name_month(p)
        if month is None:
            return [(FROM_FILE, files)]
        by.setdefault(month, []).append(p)
    return [(k, by[k]) for k in sorted(by)]


def _local():
    """An in-process DuckDB connection (to locate a bad line in one file read by Python)."""
    return ibis.duckdb.connect()


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with the canonical dtypes (pyarrow-backed strings: no copy, no objects;
    timestamps in ns)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.unit != "ns":
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp("ns")))
    sd = pd.StringDtype("pyarrow")
    return table.to_pandas(types_mapper={pa.string(): sd, pa.large_string(): sd}.get)


def _canonical(panel: pd.DataFrame) -> pd.DataFrame:
    """The ``crime`` columns in canonical order, checked to have the canonical dtypes and no
    missing key. Keys are unique by construction (they are the grouping keys); the full check,
    :func:`vru.schema.conform`, is left to the loader (it costs about a second per 2 million
    cells)."""
    spec = TABLES["crime"]
    out = panel[[c for c, _ in spec]]
    for col, dtype in spec:
        want = pd.StringDtype("pyarrow") if dtype == "string" else pd.api.types.pandas_dtype(dtype)
        if out[col].dtype != want:
            raise RuntimeError(f"engine output: column {col} is {out[col].dtype}, not {want}")
    for col in KEYS["crime"]:
        if out[col].isna().any():
            raise RuntimeError(f"engine output: key column {col} has missing values")
    return out


def _finish(runner: _Runner, parts: list[Path], files: list[Path]) -> StreetPanel:
    """The counts of the written parts (read back by DuckDB, never the panel itself) and the
    provenance of its cells."""
    con = runner.reader()
    if parts:
        (cells, rows, crimes, no_loc), = _read(
            con, parts, "count(*), coalesce(sum(rows), 0)::BIGINT, coalesce(sum(count), 0)::BIGINT, "
            f"coalesce(sum(count) FILTER (WHERE area_code = {_sql_str(NO_LOCATION)}), 0)::BIGINT")
        by_file = _read(con, parts, "file, count(*)", group="file")
    else:
        cells = rows = crimes = no_loc = 0
        by_file = []
    file_rows = dict.fromkeys(files, 0)
    for value, n in by_file:
        p = runner.file_of_id(value, files)
        if p is None:
            raise RuntimeError(f"engine output: cell credited to an unknown file {value!r}")
        file_rows[p] += int(n)
    notes = [
        f"{len(files)} data.police.uk street file(s), {rows:,} rows -> {crimes:,} crimes in "
        f"{cells:,} (force, LSOA, month, category) cells",
        f"{rows - crimes:,} repeated rows of a (Crime ID, Month) counted once (a crime is listed "
        "again when its outcome changes; attributed to its lowest located LSOA code)",
        f"{no_loc:,} crimes with no location kept under area_code {NO_LOCATION}",
        "LSOA codes stored as given (2011 or 2021 vintage); rows without a Crime ID (anti-social "
        "behaviour) each count",
    ]
    return StreetPanel(crime=ParquetPanel(parts, int(cells)), files=len(files), rows=int(rows),
                       crimes=int(crimes), notes=notes, file_rows=file_rows)


# the canonical crime columns as DuckDB reads them from the parts of either backend
_SQL_TYPE = {"string": "VARCHAR", "int64": "BIGINT", "datetime64[ns]": "TIMESTAMP"}
_CANON = ", ".join(f'CAST("{c}" AS {_SQL_TYPE[t]}) AS "{c}"' for c, t in TABLES["crime"])
_CANON_EMPTY = ", ".join(f'CAST(NULL AS {_SQL_TYPE[t]}) AS "{c}"' for c, t in TABLES["crime"])
# DuckDB's memory for the engine's own queries (one month of a national archive needs well
# under 1 GiB); beyond it DuckDB spills to the spool folder. VRU_DUCKDB_MEMORY_LIMIT overrides.
MEMORY_LIMIT = "2GB"


def _memory_limit() -> str:
    return os.environ.get("VRU_DUCKDB_MEMORY_LIMIT") or MEMORY_LIMIT


def _duckdb_reader():
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = {_sql_str(_memory_limit())}")
    return con


def _parquet(parts: list[Path]) -> str:
    return "read_parquet([" + ", ".join(_sql_str(str(p)) for p in parts) + "])"


def _read(con, parts: list[Path], what: str, *, group: str | None = None,
          check_keys: bool = False) -> list[tuple]:
    """``SELECT what FROM parts [GROUP BY group]``. ``check_keys``: also refuse (as a programming
    error) a part with a missing or repeated key, unless it holds a flagged row (whose Month may
    be invalid): the keys are the grouping keys, so this never fires for a correct engine."""
    src = _parquet(parts)
    out = con.execute(f"SELECT {what} FROM {src}" + (f" GROUP BY {group}" if group else "")).fetchall()
    if check_keys and not con.execute(f"SELECT coalesce(max(bad), 0) > 0 FROM {src}").fetchone()[0]:
        keys = KEYS["crime"]
        if con.execute(f"SELECT count(*) FROM {src} WHERE "
                       + " OR ".join(f'"{k}" IS NULL' for k in keys)).fetchone()[0]:
            raise RuntimeError(f"engine output: a key column has missing values ({parts[0]})")
        dup = con.execute(f"SELECT {', '.join(keys)} FROM {src} GROUP BY ALL HAVING count(*) > 1 "
                          "LIMIT 1").fetchall()
        if dup:
            raise RuntimeError(f"engine output: repeated key {dup[0]} ({parts[0]})")
    return out


class _DuckDB(_Runner):
    VIEW = "vru_street_scan"

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()
        self.con.raw_sql("SET preserve_insertion_order = false")
        self.con.raw_sql(f"SET memory_limit = {_sql_str(_memory_limit())}")
        self._table: ir.Table | None = None
        self.spool: Path | None = None

    def reader(self):
        return self.con.con  # the engine's own connection reads the parts

    def close_reader(self) -> None:
        pass

    def write(self, expr: ir.Table, part: Path) -> list[Path]:
        if self.spool is not None:  # spill (a national month never needs to) beside the parts
            self.con.raw_sql(f"SET temp_directory = {_sql_str(str(self.spool / '.duckdb_tmp'))}")
            self.spool = None
        out = part.with_name(part.name + ".parquet")
        self.con.con.execute(
            f"COPY (SELECT {_CANON}, rows::BIGINT AS rows, bad::INTEGER AS bad, file::INTEGER AS file "
            f"FROM ({self.con.compile(expr)})) TO {_sql_str(str(out))} (FORMAT parquet)")
        return [out]

    def scan(self, files: list[Path], expected: str | None) -> ir.Table:
        lst = "[" + ", ".join(_sql_str(str(p)) for p in files) + "]"
        columns = "{" + ", ".join(f"'{f}': 'VARCHAR'" for f in (*FIELDS, "_extra")) + "}"
        if expected == FROM_FILE:
            month = f"regexp_extract(filename, {_sql_str(PATH_MONTH_RE)}, 1)"
        else:
            month = _sql_str(expected or "")
        # nullstr: a marker that never occurs, so an empty field reads as '' and only the fields
        # missing from a short line (null_padding) are NULL; every column is referenced, so
        # DuckDB checks all of them for valid UTF-8
        self.con.raw_sql(
            f"CREATE OR REPLACE TEMP VIEW {self.VIEW} AS "
            f"SELECT {', '.join(FIELDS)}, ({' OR '.join(f + ' IS NULL' for f in FIELDS)} "
            f"OR _extra IS NOT NULL) AS _malformed, filename AS _file, {month} AS _expected, "
            # the file's position in the whole call's list: a small integer to credit cells to
            # (looked up in the chunk's own list, then mapped to the whole list's position)
            f"{self._positions(files)}[list_position({lst}, filename)]::INTEGER AS _fid "
            f"FROM read_csv({lst}, columns = {columns}, header = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "nullstr = '\\x01-vru-no-null', null_padding = true, filename = true, "
            "encoding = 'utf-8', compression = 'auto')"
        )
        if self._table is None:  # the view's schema never changes
            self._table = self.con.table(self.VIEW)
        return self._table

    def file_of(self, value: str, files: list[Path]) -> Path | None:
        return next((p for p in files if str(p) == value), None)

    def file_of_id(self, value, files: list[Path]) -> Path | None:
        i = int(value) - 1  # list_position is 1-based
        return self._all[i] if 0 <= i < len(self._all) else None

    def run(self, files: list[Path], spool: Path) -> list[Path]:
        self._all = list(files)
        self._index = {p: i + 1 for i, p in enumerate(files)}
        return super().run(files, spool)

    def _positions(self, chunk: list[Path]) -> str:
        return "[" + ", ".join(str(self._index[p]) for p in chunk) + "]"

    def close(self) -> None:
        self.con.disconnect()

    def categories(self, types: _Types) -> ir.Table:
        values = ", ".join(f"({i}, {_sql_str(c)})" for i, c in enumerate(types.categories))
        self.con.raw_sql("CREATE OR REPLACE TEMP TABLE vru_categories AS SELECT * FROM "
                         f"(VALUES {values}) AS v(ct, category)")
        return self.con.table("vru_categories")

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        # straight from DuckDB's relation to Arrow (Ibis's result conversion re-casts every column
        # of the 2 million-row panel); only DuckDB's SUM -> HUGEINT needs casting back to int64
        table = self.con.con.sql(self.con.compile(expr)).to_arrow_table()
        for i, f in enumerate(table.schema):
            if pa.types.is_decimal(f.type) and f.type.scale == 0:
                table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
        return _to_pandas(table)

    def is_read_error(self, exc: Exception) -> bool:
        import duckdb

        return isinstance(exc, (duckdb.InvalidInputException, duckdb.IOException,
                                duckdb.ConversionException))


class _Spark(_Runner):
    def __init__(self, session=None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise SparkUnavailableError(f"the pyspark backend needs PySpark, which is not installed "
                                        f"({e}): {SPARK_INSTALL}") from None
        try:
            self.session = session or SparkSession.getActiveSession() or local_spark()
        except Exception as e:  # PySpark could not start its Java gateway
            if "java" not in str(e).lower():
                raise
            raise SparkUnavailableError(f"PySpark could not start Java ({str(e).strip()[:200]}): "
                                        f"{SPARK_INSTALL}") from None
        try:
            self.con = ibis.pyspark.connect(self.session)
        except ImportError as e:  # Ibis's PySpark backend is missing or incomplete
            raise SparkUnavailableError(f"the pyspark backend needs Ibis's PySpark backend ({e}): "
                                        f"{SPARK_INSTALL}") from None
        self.views: list[str] = []

    def close(self) -> None:
        for name in self.views:
            self.session.catalog.dropTempView(name)

    def scan(self, files: list[Path], expected: str | None) -> ir.Table:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        schema = T.StructType([T.StructField(f, T.StringType()) for f in FIELDS]
                              + [T.StructField("_corrupt", T.StringType())])
        df = (
            self.session.read.schema(schema)
            .option("header", True).option("enforceSchema", True)
            .option("multiLine", True)  # quoted fields may hold line breaks, as in DuckDB
            .option("sep", ",").option("quote", '"').option("escape", '"')
            .option("encoding", "UTF-8").option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", "_corrupt")
            .csv([str(p.resolve()) for p in files])
        )
        # Spark reads an unquoted empty field as NULL (made '' here) and a line with
        # too few or too many fields as a "corrupt record"; it replaces bytes that are not UTF-8
        # by U+FFFD where DuckDB refuses them.
        malformed = F.col("_corrupt").isNotNull() | F.concat_ws("", *FIELDS).contains("\ufffd")
        path = F.input_file_name()
        month = (F.regexp_extract(path, PATH_MONTH_RE, 1) if expected == FROM_FILE
                 else F.lit(expected or ""))
        df = df.select(*[F.coalesce(F.col(f), F.lit("")).alias(f) for f in FIELDS],
                       malformed.alias("_malformed"), path.alias("_file"), path.alias("_fid"),
                       month.alias("_expected"))
        name = f"vru_street_{uuid.uuid4().hex}"
        df.createOrReplaceTempView(name)
        self.views.append(name)
        return self.con.table(name)

    def write(self, expr: ir.Table, part: Path) -> list[Path]:
        """Spark writes the cells itself (``DataFrame.write.parquet``): nothing is collected
        through the driver. ``month`` is written without a time zone (``timestamp_ntz``), so it
        reads back as the same wall-clock date whatever the session time zone."""
        from pyspark.sql import functions as F

        self.con._run_pre_execute_hooks(expr)  # registers the category table (a memtable)
        df = self.session.sql(self.con.compile(expr))
        df = df.select(*[F.col(c) for c in ("source", "level", "area_code")],
                       F.col("month").cast("timestamp_ntz").alias("month"), F.col("category"),
                       *[F.col(c).cast("bigint").alias(c) for c in ("count", "rows")],
                       F.col("bad").cast("int").alias("bad"), F.col("file").cast("string").alias("file"))
        df.write.mode("errorifexists").parquet(part.resolve().as_uri())
        return sorted(part.glob("*.parquet"))

    def chunks(self, files: list[Path]) -> list[tuple[str | None, list[Path]]]:
        # one job for all files (Spark's start-up per query costs more than its memory saving)
        return [(FROM_FILE, files)]

    def file_of(self, value: str, files: list[Path]) -> Path | None:
        target = Path(unquote(urlparse(value).path)) if value.startswith("file:") else Path(value)
        return next((p for p in files if p.resolve() == target.resolve()), None)

    def is_read_error(self, exc: Exception) -> bool:
        return type(exc).__module__.startswith(("pyspark", "py4j"))



def local_spark(cores: str = "*", driver_memory: str | None = None):
    """The Spark session ``backend="spark"`` starts when it is given none and none is active.

    - ``$VRU_SPARK_REMOTE`` set (``sc://host:15002``): a Spark Connect session to that server;
    - run by ``spark-submit`` (which starts the JVM first and sets ``PYSPARK_GATEWAY_PORT``): a
      session with the master and settings ``spark-submit`` was given (``--master`` etc.), so
      ``vru ingest --backend pyspark`` run through ``spark-submit`` (a two-line script calling
      ``vru.cli.main``) runs on the cluster;
    - otherwise local mode, ``local[*]`` (every core of this machine; ``cores`` to choose), no web
      UI, bound to 127.0.0.1 (nothing listens outside).

    The session time zone is UTC in every case (months are written without a zone anyway).
    See docs/architecture.md, "Running the engine on a Spark cluster"."""
    from pyspark.sql import SparkSession

    remote = os.environ.get("VRU_SPARK_REMOTE")
    if remote:
        return (SparkSession.builder.remote(remote).appName("vru")
                .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    b = SparkSession.builder.appName("vru").config("spark.sql.session.timeZone", "UTC")
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):  # not under spark-submit: local mode
        b = (b.master(f"local[{cores}]")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1"))
    if driver_memory:
        b = b.config("spark.driver.memory", driver_memory)
    return b.getOrCreate()


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def known_crime_types() -> list[str]:
    """The data.police.uk crime types the engine accepts."""
    return list(_Types.load().names)
