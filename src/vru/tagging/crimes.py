"""Crime batches in the MoJ crime-matching contract: parse, check every row, version, hand to matching.

The contract is the Ministry of Justice's (``hmpps-electronic-monitoring-crime-matching-api``:
``CrimeBatchCsvService.kt``, ``CsvConfig.kt``, ``model/enums/*.kt``; see docs/tagging-crimes.md and
../shared/research/gps-tagging.md A.2-A.3). A police force sends one CSV file per batch:

- no header, exactly 13 columns: police force, crime type id, crime type description, batch id, crime
  reference, date/time from, date/time to, easting, northing, latitude, longitude, datum, crime text;
- UTF-8 with or without a byte-order mark; Apache Commons CSV default format (comma, ``"`` quotes,
  empty lines ignored), read here with the :mod:`csv` module in strict mode;
- times ``yyyyMMddHHmmss`` in **UTC**; the window ``to - from`` is at most 12 hours and ``to`` is not
  before ``from``;
- exactly one location pair: (easting, northing) in OSGB36/British National Grid metres, or
  (latitude, longitude) in WGS 84; both members of the pair; never both pairs.

Every row is checked and *every* error of a row is reported (never fail-fast), each with the row,
crime reference, crime type id, field, value, the MoJ error code, its message and the required action
(:class:`RowError`). Outcome (:class:`Outcome`): SUCCESSFUL (every row valid), PARTIAL (the valid rows
are kept and matched, the bad ones listed), FAILED (nothing ingested; a whole-file error says why).

Beyond the MoJ: violence and knife-crime types (the MoJ list is acquisitive crime only) and the police
forces of England and Wales that the MoJ's 19 lack, plus British Transport Police; each is marked
``moj=False`` (:data:`CRIME_TYPES`, :data:`POLICE_FORCES`). A file using them is valid here but would be
refused by the MoJ service.

Versions (:func:`new_versions`): (force, crime reference) is the natural key; every valid row makes a
new version, recording the fields changed since the previous one. Every version carries British
National Grid easting/northing (converted from latitude/longitude where those were sent) and keeps
the coordinates as submitted. :func:`crimes_table` gives the canonical CRIMES table for matching.

Other sources (:func:`batch_from_records`): crime records with an exact window and point (from the
warehouse or a force's system) go through the same row checks. data.police.uk points are refused
(:func:`refuse_police_uk`): their locations are anonymised snap points and their time is a month.
"""

from __future__ import annotations

import csv
import decimal
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from vru import taxonomy
from vru.errors import SourceError, VRUError
from vru.geography.grids import to_bng
from vru.tagging import schema as S

# ====================================================================== reference lists


@dataclass(frozen=True)
class PoliceForce:
    """A police force: the identifier used in column 0, its label, and the code that starts a batch id."""

    identifier: str
    label: str
    code: str
    moj: bool  # True: in the MoJ's PoliceForce.kt; False: added by this platform


#: The MoJ's 19 forces (PoliceForce.kt), then ours: the other 24 territorial forces of England and Wales
#: and British Transport Police. Our codes are our own (the MoJ service would refuse them).
POLICE_FORCES: tuple[PoliceForce, ...] = (
    PoliceForce("AvonSomerset", "Avon and Somerset", "AVS", True),
    PoliceForce("Bedfordshire", "Bedfordshire", "BFD", True),
    PoliceForce("Cheshire", "Cheshire", "CHS", True),
    PoliceForce("CoLP", "City of London", "CoLP", True),
    PoliceForce("Cumbria", "Cumbria", "CMB", True),
    PoliceForce("Derbyshire", "Derbyshire", "DBY", True),
    PoliceForce("Durham", "Durham", "DUR", True),
    PoliceForce("Essex", "Essex", "ESX", True),
    PoliceForce("Gloucestershire", "Gloucestershire", "GLC", True),
    PoliceForce("Gwent", "Gwent", "GWP", True),
    PoliceForce("Hampshire", "Hampshire", "HAM", True),
    PoliceForce("Hertfordshire", "Hertfordshire", "HRT", True),
    PoliceForce("Humberside", "Humberside", "HMB", True),
    PoliceForce("Kent", "Kent", "KNT", True),
    PoliceForce("Metropolitan", "Metropolitan", "MPS", True),
    PoliceForce("NorthWales", "North Wales", "NWL", True),
    PoliceForce("Nottinghamshire", "Nottinghamshire", "NOT", True),
    PoliceForce("Sussex", "Sussex", "SXP", True),
    PoliceForce("WestMidlands", "West Midlands", "WMP", True),
    # ours
    PoliceForce("Cambridgeshire", "Cambridgeshire", "CAM", False),
    PoliceForce("Cleveland", "Cleveland", "CLV", False),
    PoliceForce("DevonCornwall", "Devon and Cornwall", "DCP", False),
    PoliceForce("Dorset", "Dorset", "DOR", False),
    PoliceForce("DyfedPowys", "Dyfed-Powys", "DPP", False),
    PoliceForce("GreaterManchester", "Greater Manchester", "GMP", False),
    PoliceForce("Lancashire", "Lancashire", "LAN", False),
    PoliceForce("Leicestershire", "Leicestershire", "LEI", False),
    PoliceForce("Lincolnshire", "Lincolnshire", "LIN", False),
    PoliceForce("Merseyside", "Merseyside", "MER", False),
    PoliceForce("Norfolk", "Norfolk", "NFK", False),
    PoliceForce("NorthYorkshire", "North Yorkshire", "NYP", False),
    PoliceForce("Northamptonshire", "Northamptonshire", "NTH", False),
    PoliceForce("Northumbria", "Northumbria", "NTB", False),
    PoliceForce("SouthWales", "South Wales", "SWP", False),
    PoliceForce("SouthYorkshire", "South Yorkshire", "SYP", False),
    PoliceForce("Staffordshire", "Staffordshire", "STF", False),
    PoliceForce("Suffolk", "Suffolk", "SFK", False),
    PoliceForce("Surrey", "Surrey", "SRY", False),
    PoliceForce("ThamesValley", "Thames Valley", "TVP", False),
    PoliceForce("Warwickshire", "Warwickshire", "WAR", False),
    PoliceForce("WestMercia", "West Mercia", "WMC", False),
    PoliceForce("WestYorkshire", "West Yorkshire", "WYP", False),
    PoliceForce("Wiltshire", "Wiltshire", "WLT", False),
    PoliceForce("BTP", "British Transport Police", "BTP", False),
)
FORCES_BY_ID: dict[str, PoliceForce] = {f.identifier: f for f in POLICE_FORCES}


@dataclass(frozen=True)
class CrimeType:
    """A crime type id of column 1, its label, and its category in the platform taxonomy
    (``vru/data/taxonomy.csv``; None where the taxonomy has none)."""

    id: str
    label: str
    category: str | None
    moj: bool  # True: in the MoJ's CrimeType.kt; False: added by this platform
    note: str = ""


CRIME_TYPES_FILE = "moj_crime_types.csv"


def read_crime_types(text: str, name: str = CRIME_TYPES_FILE) -> tuple[CrimeType, ...]:
    """The crime types of ``vru/data/moj_crime_types.csv`` (``id,label,category,moj,note``): the MoJ's 7
    acquisitive types (CrimeType.kt, ``moj`` = yes), then the violence and knife-crime types violence
    reduction needs, which the MoJ list lacks (``no``). A category is a code of the platform taxonomy or
    empty; ids are unique ignoring case (the MoJ matches them case-insensitively). A bad row raises
    :class:`~vru.errors.SourceError` naming the file, line and column."""
    known = set(taxonomy.categories()["code"])
    rows = list(csv.reader(io.StringIO(text)))
    header = ["id", "label", "category", "moj", "note"]
    if not rows or rows[0] != header:
        raise SourceError(name, "the header must be " + ",".join(header), row=1)
    out: list[CrimeType] = []
    seen: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SourceError(name, f"{len(row)} fields where {len(header)} are due", row=n)
        tid, label, category, moj, note = row
        if not re.fullmatch(r"[A-Z]{2,8}", tid) or tid.upper() in seen:
            raise SourceError(name, f"id {tid!r} is not 2 to 8 capital letters, or repeats", row=n,
                              column="id")
        if category and category not in known:
            raise SourceError(name, f"{category!r} is not a taxonomy category", row=n, column="category")
        if moj not in ("yes", "no"):
            raise SourceError(name, f"moj must be yes or no, not {moj!r}", row=n, column="moj")
        if not label.strip():
            raise SourceError(name, "the label is empty", row=n, column="label")
        seen.add(tid.upper())
        out.append(CrimeType(tid, label, category or None, moj == "yes", note))
    return tuple(out)


#: The crime types a batch may name (:func:`read_crime_types`).
CRIME_TYPES: tuple[CrimeType, ...] = read_crime_types(
    (Path(__file__).resolve().parent.parent / "data" / CRIME_TYPES_FILE).read_text(encoding="utf-8"))
CRIME_TYPES_BY_ID: dict[str, CrimeType] = {t.id: t for t in CRIME_TYPES}

# ====================================================================== error codes


class ErrorCode(Enum):
    """The MoJ's row error codes (CrimeBatchEmailAttachmentIngestionErrorType.kt), messages and actions."""

    def __init__(self, message: str, required_action: str) -> None:
        self.message = message
        self.required_action = required_action

    INVALID_BATCH_ID_FORMAT = ("Invalid Batch ID format", "Amend formatting issues")
    INVALID_BATCH_ID_DATE = ("Invalid date in Batch ID", "Amend formatting issues")
    INVALID_COLUMN_COUNT = ("Incorrect number of columns", "Amend formatting issues")
    INVALID_TEXT = ("Field must be text", "Amend formatting issues")
    INVALID_NUMBER = ("Field must be number", "Amend formatting issues")
    INVALID_POLICE_FORCE = ("Field must be a valid ENUM value", "Amend police force to a registered force")
    INVALID_CRIME_TYPE = ("Field must be a valid ENUM value", "Amend crime type to a registered crime type")
    INVALID_FROM_DATE_FORMAT = ("Field must be a date with format yyyyMMddHHmmss",
                                "Amend from date/time to format yyyyMMddHHmmss")
    INVALID_TO_DATE_FORMAT = ("Field must be a date with format yyyyMMddHHmmss",
                              "Amend to date/time to format yyyyMMddHHmmss")
    CRIME_DATE_TIME_TO_AFTER_FROM = ("Crime date time to must be after crime date time from",
                                     "Ensure from date/time precedes to date/time")
    CRIME_DATE_TIME_EXCEEDS_WINDOW = ("Crime date time window must not exceed valid window",
                                      "Amend formatting issues")
    MISSING_LOCATION_DATA = ("No location data present", "Provide location data")
    MISSING_BATCH_ID = ("Batch ID must be present", "Amend formatting issues")
    MISSING_CRIME_REFERENCE = ("Crime reference must be present", "Provide the missing crime reference")
    DEPENDENT_LOCATION_DATA = ("Dependent location data field must be provided",
                               "Provide the missing field value")
    MULTIPLE_LOCATION_DATA_TYPES = ("Only one location data type should be provided",
                                    "Amend formatting issues")
    INVALID_LOCATION_DATA_RANGE = ("Location data range exceeds valid range",
                                   "Co-ordinates outside of valid range")


class FileErrorCode(Enum):
    """The MoJ's whole-file error codes (CrimeBatchEmailIngestionErrorType.kt); each fails the file."""

    def __init__(self, message: str) -> None:
        self.message = message

    MULTIPLE_POLICE_FORCES = "Multiple police forces found in csv file"
    MULTIPLE_BATCH_IDS = "Multiple batch Ids found in csv file"
    INVALID_ATTACHMENT = "One csv attachment expected"
    ALL_RECORDS_FAILED = "All records in the CSV file failed validation. No data has been ingested."


class Outcome(StrEnum):
    """The MoJ's IngestionStatus, as used here. Matching is run for SUCCESSFUL and PARTIAL only."""

    SUCCESSFUL = "SUCCESSFUL"  # every row valid; all ingested
    PARTIAL = "PARTIAL"  # valid rows ingested and matched; bad rows listed in ``errors``
    FAILED = "FAILED"  # nothing ingested; ``file_errors`` says why (MoJ: ERROR for ALL_RECORDS_FAILED)


@dataclass(frozen=True)
class RowError:
    """One error of one row. ``row`` is the record number (1 = first record, as the MoJ counts; empty
    lines are skipped and not counted), ``line`` the file line where the record starts."""

    row: int
    line: int
    crime_reference: str | None
    crime_type_id: str | None
    field: str | None
    value: str | None
    code: ErrorCode

    @property
    def message(self) -> str:
        return self.code.message

    @property
    def required_action(self) -> str:
        return self.code.required_action

    def __str__(self) -> str:
        where = f"row {self.row} (line {self.line})"
        if self.field:
            where += f", field {self.field!r}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.code.name}: {self.message}{value}. Required action: {self.required_action}"


@dataclass(frozen=True)
class FileError:
    """A whole-file error; ``detail`` is our explanation (which forces, which batch ids, what decoding)."""

    code: FileErrorCode
    detail: str = ""

    @property
    def message(self) -> str:
        return self.code.message

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}" + (f" ({self.detail})" if self.detail else "")


class NotMatchableError(VRUError):
    """Crime data that must not be matched against tag trails (e.g. data.police.uk points)."""


# ====================================================================== the batch

#: Column names of the contract, as the MoJ names its fields in error reports.
FIELDS = ("policeForce", "crimeType", "crimeTypeDescription", "batchId", "crimeReference", "dateFrom",
          "dateTo", "easting", "northing", "latitude", "longitude", "datum", "crimeText")
COLUMN_COUNT = len(FIELDS)  # 13
MAX_WINDOW = timedelta(hours=12)
RANGES = {"easting": (0.0, 600000.0), "northing": (0.0, 1300000.0),
          "latitude": (49.5, 61.5), "longitude": (-8.5, 2.6)}
TEXT_MAX = 255  # the MoJ stores references and batch ids as VARCHAR(255)
DATUM_MAX = 40  # a datum is a name ("OSGB36", "WGS84"); longer is not a datum (and not storable)
#: the British National Grid's extent: a latitude/longitude inside RANGES may still fall off the grid
#: (49.6 N 8.4 W is easting -62 km), where no distance in BNG metres means anything
BNG_EXTENT = {"easting": (0.0, 700000.0), "northing": (0.0, 1300000.0)}

#: Columns of :attr:`BatchResult.records`: one row per valid record. ``easting``/``northing`` are
#: British National Grid metres for every record (converted from latitude/longitude when those were
#: sent); ``submitted_easting``/``submitted_northing``/``latitude``/``longitude`` are as sent (NaN if not).
RECORD_COLUMNS = ("row", "force", "crime_type", "crime_type_description", "batch_id", "crime_ref",
                  "time_from", "time_to", "easting", "northing", "submitted_easting", "submitted_northing",
                  "latitude", "longitude", "datum", "crime_text")


@dataclass
class BatchResult:
    """The outcome of checking one batch file."""

    path: str
    outcome: Outcome
    record_count: int  # records read (non-empty lines)
    records: pd.DataFrame  # valid records (RECORD_COLUMNS); empty unless SUCCESSFUL or PARTIAL
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[FileError] = field(default_factory=list)
    force: str | None = None
    batch_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when something was ingested (SUCCESSFUL or PARTIAL): those records are to be matched."""
        return self.outcome in (Outcome.SUCCESSFUL, Outcome.PARTIAL)

    def errors_frame(self) -> pd.DataFrame:
        """Every row error as a table: row, line, crime_reference, crime_type_id, field, value, code,
        message, required_action."""
        return pd.DataFrame(
            [(e.row, e.line, e.crime_reference, e.crime_type_id, e.field, e.value, e.code.name, e.message,
              e.required_action) for e in self.errors],
            columns=["row", "line", "crime_reference", "crime_type_id", "field", "value", "code", "message",
                     "required_action"])


_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DATE_RE = re.compile(r"\d{14}", re.ASCII)


def _blank(s: str) -> bool:
    return s.strip() == ""


def _bad_text(s: str, *, multiline: bool = False) -> bool:
    """Control characters (NUL, escape ...) are not text; line breaks and tabs only in free text."""
    allowed = "\t\r\n" if multiline else "\t"
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in s)


def _parse_time(s: str) -> datetime | None:
    s = s.strip()
    if not _DATE_RE.fullmatch(s):
        return None
    try:  # strict: 30 February and hour 24 are refused (Java's default SMART resolver would adjust some)
        return datetime.strptime(s, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _format_window(d: timedelta) -> str:
    """As the MoJ echoes an over-long window: whole hours, then the minutes part ("13h 5m"), then the seconds
    part when there is one ("12h 0m 1s": a window refused by one second must not read "12h 0m")."""
    seconds = math.ceil(d.total_seconds())
    minutes, sec = divmod(seconds, 60)
    text = f"{minutes // 60}h {minutes % 60}m"
    return f"{text} {sec}s" if sec else text


def _check_row(fields: list[str], row: int, line: int) -> tuple[dict | None, list[RowError]]:
    """Check one record of 13 fields. Returns (record, []) or (None, every error of the row)."""
    errs: list[tuple[str | None, str | None, ErrorCode]] = []

    def err(fname: str | None, value: str | None, code: ErrorCode) -> None:
        errs.append((fname, value, code))

    (force_s, type_s, desc_s, batch_s, ref_s, from_s, to_s, e_s, n_s, lat_s, lon_s, datum_s, text_s) = fields
    force_s = force_s.replace("\ufeff", "")  # a BOM the decoder left (e.g. a BOM repeated mid-file)

    # police force
    force = FORCES_BY_ID.get(force_s.strip())
    if force is None:
        err("policeForce", force_s, ErrorCode.INVALID_POLICE_FORCE)

    # crime type (case-insensitive, as the MoJ)
    ctype = CRIME_TYPES_BY_ID.get(type_s.strip().upper())
    if ctype is None:
        err("crimeType", type_s, ErrorCode.INVALID_CRIME_TYPE)

    # free texts
    if _bad_text(desc_s):
        err("crimeTypeDescription", desc_s, ErrorCode.INVALID_TEXT)
    if _bad_text(datum_s) or len(datum_s.strip()) > DATUM_MAX:
        err("datum", datum_s, ErrorCode.INVALID_TEXT)
    if _bad_text(text_s, multiline=True):
        err("crimeText", text_s, ErrorCode.INVALID_TEXT)

    # batch id: force code + yyyyMMdd + optional -n + optional -R/-A (the MoJ's regex, a prefix match)
    batch = batch_s.strip()
    if batch == "":
        err("batchId", batch_s, ErrorCode.MISSING_BATCH_ID)
    elif _bad_text(batch) or len(batch) > TEXT_MAX:
        err("batchId", batch_s, ErrorCode.INVALID_TEXT)
    elif force is not None:  # the format depends on the force's code
        m = re.match(rf"^{re.escape(force.code)}(\d{{8}})(-\d)?(-[RAra])?", batch, re.ASCII)
        if m is None:
            err("batchId", batch_s, ErrorCode.INVALID_BATCH_ID_FORMAT)
        else:
            try:
                datetime.strptime(m.group(1), "%Y%m%d")
            except ValueError:
                err("batchId", batch_s, ErrorCode.INVALID_BATCH_ID_DATE)

    # crime reference
    ref = ref_s.strip()
    if ref == "":
        err("crimeReference", ref_s, ErrorCode.MISSING_CRIME_REFERENCE)
    elif _bad_text(ref) or len(ref) > TEXT_MAX:
        err("crimeReference", ref_s, ErrorCode.INVALID_TEXT)

    # window
    t_from = _parse_time(from_s)
    if t_from is None:
        err("dateFrom", from_s, ErrorCode.INVALID_FROM_DATE_FORMAT)
    t_to = _parse_time(to_s)
    if t_to is None:
        err("dateTo", to_s, ErrorCode.INVALID_TO_DATE_FORMAT)
    elif t_from is not None:
        if t_to < t_from:
            err("dateTo", to_s, ErrorCode.CRIME_DATE_TIME_TO_AFTER_FROM)
        elif t_to - t_from > MAX_WINDOW:
            err("dateTo", _format_window(t_to - t_from), ErrorCode.CRIME_DATE_TIME_EXCEEDS_WINDOW)

    # location: exactly one complete pair, numbers, in range
    raw = {"easting": e_s, "northing": n_s, "latitude": lat_s, "longitude": lon_s}
    partner = {"easting": "northing", "northing": "easting", "latitude": "longitude", "longitude": "latitude"}
    other_pair = {"easting": ("latitude", "longitude"), "northing": ("latitude", "longitude"),
                  "latitude": ("easting", "northing"), "longitude": ("easting", "northing")}
    values: dict[str, float] = {}
    if all(_blank(v) for v in raw.values()):
        err("location", "", ErrorCode.MISSING_LOCATION_DATA)
    for name, s in raw.items():
        if _blank(s):
            continue
        t = s.strip()
        if not _NUMBER_RE.fullmatch(t) or not math.isfinite(float(t)):
            err(name, s, ErrorCode.INVALID_NUMBER)
            continue
        x = float(t)
        if _blank(raw[partner[name]]):
            err(name, s, ErrorCode.DEPENDENT_LOCATION_DATA)
        elif any(not _blank(raw[o]) for o in other_pair[name]):
            err(name, s, ErrorCode.MULTIPLE_LOCATION_DATA_TYPES)
        elif not (RANGES[name][0] <= x <= RANGES[name][1]):
            err(name, s, ErrorCode.INVALID_LOCATION_DATA_RANGE)
        else:
            values[name] = x
    if "latitude" in values and "longitude" in values:
        x, y = to_bng(np.array([values["longitude"]]), np.array([values["latitude"]]))
        for name, v, (lo, hi) in (("longitude", x[0], BNG_EXTENT["easting"]),
                                  ("latitude", y[0], BNG_EXTENT["northing"])):
            if not (lo <= v <= hi):  # off the grid: the field whose value moved it off
                err(name, raw[name], ErrorCode.INVALID_LOCATION_DATA_RANGE)

    if errs:
        ref_out = ref or None
        type_out = type_s.strip() or None
        return None, [RowError(row, line, ref_out, type_out, f, v, c) for f, v, c in errs]
    nan = float("nan")
    return {
        "row": row, "force": force.identifier, "crime_type": ctype.id,
        "crime_type_description": desc_s.strip(), "batch_id": batch, "crime_ref": ref,
        "time_from": t_from, "time_to": t_to,
        "submitted_easting": values.get("easting", nan), "submitted_northing": values.get("northing", nan),
        "latitude": values.get("latitude", nan), "longitude": values.get("longitude", nan),
        "datum": datum_s.strip(), "crime_text": text_s.strip(),
    }, []


def _records_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[c for c in RECORD_COLUMNS if c not in ("easting", "northing")])
    df["row"] = df["row"].astype("int64")
    for c in ("time_from", "time_to"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in ("submitted_easting", "submitted_northing", "latitude", "longitude"):
        df[c] = df[c].astype("float64")
    e = df["submitted_easting"].to_numpy(copy=True)
    n = df["submitted_northing"].to_numpy(copy=True)
    wgs = np.isnan(e) & ~np.isnan(df["latitude"].to_numpy())
    if wgs.any():
        x, y = to_bng(df["longitude"].to_numpy()[wgs], df["latitude"].to_numpy()[wgs])
        e[wgs], n[wgs] = x, y
    df["easting"], df["northing"] = e, n
    return df[list(RECORD_COLUMNS)]


def check_rows(rows: Iterable[tuple[int, int, list[str]]], *, path: str = "<batch>") -> BatchResult:
    """Check records given as (row number, line number, fields) and decide the outcome.

    The whole-file rules follow the MoJ: valid rows of more than one force, or more than one batch
    id, fail the file (nothing ingested); a file with no valid row fails with ALL_RECORDS_FAILED.
    """
    good: list[dict] = []
    errors: list[RowError] = []
    count = 0
    for row, line, fields in rows:
        count += 1
        if len(fields) != COLUMN_COUNT:
            errors.append(RowError(row, line, None, None, None, f"{len(fields)} columns",
                                   ErrorCode.INVALID_COLUMN_COUNT))
            continue
        rec, errs = _check_row(fields, row, line)
        if rec is None:
            errors.extend(errs)
        else:
            good.append(rec)
    empty = _records_frame([])
    if count == 0:
        nothing = FileError(FileErrorCode.INVALID_ATTACHMENT, "the file holds no records")
        return BatchResult(path, Outcome.FAILED, 0, empty, file_errors=[nothing])
    if not good:
        return BatchResult(path, Outcome.FAILED, count, empty, errors,
                           [FileError(FileErrorCode.ALL_RECORDS_FAILED,
                                      f"{count} record(s), {len(errors)} error(s)")])
    forces = sorted({r["force"] for r in good})
    if len(forces) > 1:
        return BatchResult(path, Outcome.FAILED, count, empty, errors,
                           [FileError(FileErrorCode.MULTIPLE_POLICE_FORCES, "forces: " + ", ".join(forces))])
    batch_ids = sorted({r["batch_id"] for r in good})
    if len(batch_ids) > 1:
        several = FileError(FileErrorCode.MULTIPLE_BATCH_IDS, "batch ids: " + ", ".join(batch_ids))
        return BatchResult(path, Outcome.FAILED, count, empty, errors, [several])
    outcome = Outcome.PARTIAL if errors else Outcome.SUCCESSFUL
    return BatchResult(path, outcome, count, _records_frame(good), errors, [], forces[0], batch_ids[0])


def parse_batch(data: bytes, *, name: str = "batch.csv") -> BatchResult:
    """Check a batch file's bytes (the attachment named ``name``) against the MoJ contract."""
    def failed(detail: str) -> BatchResult:
        return BatchResult(name, Outcome.FAILED, 0, _records_frame([]),
                           file_errors=[FileError(FileErrorCode.INVALID_ATTACHMENT, detail)])

    if not name.lower().endswith(".csv"):
        return failed(f"{Path(name).name!r} is not a .csv file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return failed("the file is UTF-16; save it as CSV UTF-8")
    if b"\x00" in data:
        return failed("the file holds NUL bytes: not a text file (a spreadsheet saved with a .csv name?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return failed(f"line {line}: not UTF-8 (byte 0x{data[e.start]:02x}); save it as CSV UTF-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, int, list[str]]] = []
    row = 0
    try:
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            if not fields:  # an empty line: skipped and not counted, as Apache Commons CSV does
                continue
            row += 1
            records.append((row, start, fields))
    except csv.Error as e:
        return failed(f"line {reader.line_num}: not valid CSV ({e})")
    return check_rows(records, path=name)


def read_batch(path: str | Path) -> BatchResult:
    """Check the batch file at ``path`` (see :func:`parse_batch`)."""
    p = Path(path)
    return parse_batch(p.read_bytes(), name=str(p))


# ====================================================================== versions

#: Fields compared between versions, with the record column each reads (the MoJ's CrimeVersionFieldName).
VERSION_FIELDS: dict[str, str] = {
    "CRIME_TYPE_ID": "crime_type",
    "CRIME_DATE_TIME_FROM": "time_from",
    "CRIME_DATE_TIME_TO": "time_to",
    "EASTING": "submitted_easting",
    "NORTHING": "submitted_northing",
    "LATITUDE": "latitude",
    "LONGITUDE": "longitude",
    "CRIME_TEXT": "crime_text",
}

#: Columns of a versions table (:func:`new_versions`). ``kind``: "new" (first version), "amended" (some
#: field changed), "unchanged" (an identical resubmission). ``changed_fields``: list of VERSION_FIELDS keys.
VERSION_COLUMNS = (S.CRIME_VERSION_ID, S.FORCE, S.CRIME_REF, "version", "previous_version_id", "kind",
                   "changed_fields", "batch_id", "row", S.CRIME_TYPE, S.TIME_FROM, S.TIME_TO, S.EASTING,
                   S.NORTHING, "submitted_easting", "submitted_northing", "latitude", "longitude", "datum",
                   "crime_text")


def version_id(force: str, crime_ref: str, version: int) -> str:
    """The id of a crime version: ``<force>:<crime reference>:v<n>`` (readable, and stable across runs)."""
    return f"{force}:{crime_ref}:v{version}"


def _same(a, b) -> bool:
    a = None if isinstance(a, float) and math.isnan(a) else a
    b = None if isinstance(b, float) and math.isnan(b) else b
    if a is None or b is None:
        return a is None and b is None
    return a == b


def new_versions(latest: pd.DataFrame | None, batch: BatchResult | pd.DataFrame) -> pd.DataFrame:
    """The crime versions a valid batch creates, given the versions already held (any store).

    ``latest``: versions already held (VERSION_COLUMNS at least force, crime_ref, version,
    crime_version_id and the compared columns); several versions of a crime may be given, the highest
    is the previous one. ``batch``: a :class:`BatchResult` (its valid records) or a records frame.

    Every record makes a new version of its (force, crime reference), numbered on from the previous
    one, with ``changed_fields`` the fields (VERSION_FIELDS) that differ from it. An identical
    resubmission also makes a new version, with no changed field and ``kind`` "unchanged": as the MoJ
    does, because resubmitting is how a force asks for a crime to be matched again (positions sent late
    after a reconnect can change the result), and the new run's results attach to that version. Two
    records of one crime in one batch become two versions, in row order.
    """
    records = batch.records if isinstance(batch, BatchResult) else batch
    prev: dict[tuple[str, str], dict] = {}
    if latest is not None and len(latest):
        need = [S.FORCE, S.CRIME_REF, "version", S.CRIME_VERSION_ID, *VERSION_FIELDS.values()]
        missing = [c for c in need if c not in latest.columns]
        if missing:
            raise ValueError(f"the versions held lack column(s) {', '.join(missing)}: keep every column "
                             "of VERSION_COLUMNS")
        ordered = latest.sort_values("version", kind="stable")
        for r in ordered.to_dict("records"):
            prev[(r[S.FORCE], r[S.CRIME_REF])] = r
    out = []
    for r in records.to_dict("records"):
        key = (r["force"], r["crime_ref"])
        p = prev.get(key)
        n = 1 if p is None else int(p["version"]) + 1
        if p is None:
            changed, kind = [], "new"
        else:
            changed = [f for f, c in VERSION_FIELDS.items() if not _same(_plain(r[c]), _plain(p[c]))]
            kind = "amended" if changed else "unchanged"
        v = {**r, S.CRIME_VERSION_ID: version_id(r["force"], r["crime_ref"], n), "version": n,
             "previous_version_id": None if p is None else p[S.CRIME_VERSION_ID], "kind": kind,
             "changed_fields": changed}
        out.append(v)
        prev[key] = v
    df = pd.DataFrame(out, columns=list(VERSION_COLUMNS))
    df["version"] = df["version"].astype("int64")
    df["row"] = df["row"].astype("int64")
    for c in (S.TIME_FROM, S.TIME_TO):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in (S.EASTING, S.NORTHING, "submitted_easting", "submitted_northing", "latitude", "longitude"):
        df[c] = df[c].astype("float64")
    return df


def _plain(x):
    """Comparable scalar: timestamps to UTC datetimes, numpy floats to float, NA to None."""
    if x is None or x is pd.NaT:
        return None
    if isinstance(x, (pd.Timestamp, datetime)):
        return pd.Timestamp(x).tz_convert("UTC") if pd.Timestamp(x).tzinfo else pd.Timestamp(x, tz="UTC")
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def crimes_table(versions: pd.DataFrame) -> pd.DataFrame:
    """The canonical CRIMES table (:data:`vru.tagging.schema.CRIMES`) of the given versions, as the
    pandas frame :func:`vru.tagging.matching.match` takes (``pa.Table.from_pandas(df,
    schema=schema.CRIMES)`` gives the Arrow table)."""
    df = versions[S.columns(S.CRIMES)]
    if df[[S.EASTING, S.NORTHING]].isna().any().any():
        raise ValueError("a crime version has no easting/northing")
    table = S.conform(pa.Table.from_pandas(df, preserve_index=False), S.CRIMES)
    return table.to_pandas()


# ====================================================================== other sources

_POLICE_UK_WHY = (
    "data.police.uk crimes cannot be matched against tag trails: their locations are anonymised (each "
    "crime is moved to one of a fixed set of map points, the centre of a street or public place, that "
    "covers several addresses) and their time is only a month, while matching needs the crime's own place "
    "and a window of at most 12 hours. Ask the force for the crime in the MoJ batch format instead "
    "(check it with `vru tagging check-batch FILE`).")
_AGGREGATE_WHY = (
    "warehouse crime counts (per area and month) cannot be matched against tag trails: they have no "
    "crime location and no time window. Matching needs one record per crime with its exact place and a "
    "window of at most 12 hours.")
_POLICE_UK_STREET_COLUMNS = {"Crime ID", "Month", "Falls within", "LSOA code"}
_POLICE_UK_POINT_COLUMNS = {"month", "falls_within", "lsoa_code"}
_WAREHOUSE_CRIME_COLUMNS = {"source", "level", "area_code", "month", "category", "count"}


def refuse_police_uk(records: pd.DataFrame, source: str | None = None) -> None:
    """Raise :class:`NotMatchableError` if ``records`` are data.police.uk crimes (by ``source`` name,
    ``police_uk_street`` or ``police_uk_street/<force>`` as the warehouse stores them, or by their
    columns: a street file, :func:`vru.sources.police_uk_points.police_uk_points` output) or the
    warehouse's monthly area counts. Otherwise return None."""
    from vru.sources.police_uk import SOURCE as POLICE_UK_SOURCE

    cols = set(map(str, records.columns))
    srcs = {str(source)} if source else set()
    if "source" in cols:
        srcs |= set(records["source"].dropna().astype(str).unique())
    if any(s == POLICE_UK_SOURCE or s.startswith(POLICE_UK_SOURCE + "/") or s.startswith("police_uk")
           for s in srcs) or _POLICE_UK_STREET_COLUMNS <= cols or _POLICE_UK_POINT_COLUMNS <= cols:
        raise NotMatchableError(_POLICE_UK_WHY)
    if _WAREHOUSE_CRIME_COLUMNS <= cols:
        raise NotMatchableError(_AGGREGATE_WHY)


#: Taxonomy category -> crime type id, for categories that exactly one crime type maps to.
CATEGORY_TO_TYPE: dict[str, str] = {
    c: ids[0] for c, ids in
    pd.Series([t.id for t in CRIME_TYPES], index=[t.category for t in CRIME_TYPES]).groupby(level=0)
    .agg(list).items() if len(ids) == 1
}


def _time_field(x) -> str:
    if x is None or x is pd.NaT or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, str):
        return x
    t = pd.Timestamp(x)
    if t.tzinfo is None:
        return f"{x} (no time zone)"  # refused by the format check: the contract's times are UTC
    return t.tz_convert("UTC").strftime("%Y%m%d%H%M%S")


def _text_field(x) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return ""
    return str(x)


def _num_field(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    return repr(float(x)) if isinstance(x, (int, float, np.integer, np.floating)) else str(x)


def batch_from_records(records: pd.DataFrame, *, force: str, batch_id: str | None = None,
                       source: str | None = None, path: str = "<records>") -> BatchResult:
    """Crime records with an exact window and point (from the warehouse, or a force's own system) ->
    a checked batch, through the same row checks and error codes as a batch file.

    Columns: ``crime_ref``, ``crime_type`` (a crime type id, or a taxonomy category that one type maps
    to: :data:`CATEGORY_TO_TYPE`), ``time_from``, ``time_to`` (timezone-aware timestamps, or
    ``yyyyMMddHHmmss`` UTC strings), and ``easting``/``northing`` or ``latitude``/``longitude``;
    optional ``crime_text``. ``force``: a force identifier (:data:`POLICE_FORCES`). ``batch_id``:
    default the force code and today's UTC date. Row numbers are the records' positions (1 = first).
    data.police.uk points and warehouse area counts are refused (:func:`refuse_police_uk`).
    """
    refuse_police_uk(records, source)
    need = {"crime_ref", "crime_type", "time_from", "time_to"}
    missing = sorted(need - set(records.columns))
    if missing:
        raise ValueError(f"crime records lack column(s): {', '.join(missing)}")
    f = FORCES_BY_ID.get(force)
    if batch_id is None:
        batch_id = f"{f.code if f else force}{datetime.now(UTC):%Y%m%d}"

    def col(name: str) -> pd.Series:
        if name in records.columns:
            return records[name]
        return pd.Series([None] * len(records), index=records.index)

    rows: list[tuple[int, int, list[str]]] = []
    for i, (ref, ctype, t0, t1, e, n, lat, lon, text) in enumerate(zip(
            col("crime_ref"), col("crime_type"), col("time_from"), col("time_to"), col("easting"),
            col("northing"), col("latitude"), col("longitude"), col("crime_text"), strict=True), start=1):
        ctype = _text_field(ctype)
        ctype = CATEGORY_TO_TYPE.get(ctype, ctype)
        datum = "OSGB36" if _num_field(e) or _num_field(n) else "WGS84"
        rows.append((i, i, [force, ctype, "", batch_id, _text_field(ref),
                            _time_field(t0), _time_field(t1), _num_field(e), _num_field(n),
                            _num_field(lat), _num_field(lon), datum,
                            _text_field(text)]))
    return check_rows(rows, path=path)


def batch_file(result: BatchResult) -> bytes:
    """The valid records of ``result`` as a batch file in the contract (13 columns, no header, UTF-8,
    times ``yyyyMMddHHmmss`` UTC, the coordinates as submitted: easting/northing or latitude/longitude,
    never both), which :func:`parse_batch` reads back to the same records. Nothing for a FAILED result."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")

    def num(x) -> str:
        # fixed-point, never an exponent (-1e-05 near Greenwich is -0.00001): the shortest decimal that
        # reads back to the same float, so every place the sender gave is kept
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return ""
        return format(decimal.Decimal(repr(float(x))), "f")

    for r in result.records.itertuples(index=False):
        w.writerow([r.force, r.crime_type, r.crime_type_description, r.batch_id, r.crime_ref,
                    _time_field(r.time_from), _time_field(r.time_to), num(r.submitted_easting),
                    num(r.submitted_northing), num(r.latitude), num(r.longitude), r.datum, r.crime_text])
    return out.getvalue().encode("utf-8")


# ====================================================================== reporting


def report_lines(result: BatchResult) -> list[str]:
    """The outcome and every error as lines of text (for the command line)."""
    lines = [f"{result.path}: {result.outcome.value}: {result.record_count} record(s), "
             f"{len(result.records)} ingested, {len(result.errors)} error(s)"]
    if result.ok:
        lines.append(f"force {result.force}, batch id {result.batch_id}")
    for fe in result.file_errors:
        lines.append(str(fe))
    if result.errors:
        lines.append("")
        lines.extend(_table(result.errors_frame()))
    return lines


def _printable(s: str) -> str:
    """Control characters shown as escapes (``\\x1b``, ``\\n``): a value is never sent raw to a terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) == "Cc" else c
                   for c in s)


def _table(df: pd.DataFrame) -> list[str]:
    cells = [[str(c) for c in df.columns]] + [
        ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in r]
        for r in df.itertuples(index=False)]
    cells = [[_printable(c) for c in r] for r in cells]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    out.insert(1, "  ".join("-" * w for w in widths))
    return out


def known_forces() -> Sequence[str]:
    """Every accepted police force identifier."""
    return [f.identifier for f in POLICE_FORCES]


__all__ = [
    "CATEGORY_TO_TYPE", "COLUMN_COUNT", "CRIME_TYPES", "FIELDS", "POLICE_FORCES", "RECORD_COLUMNS",
    "VERSION_COLUMNS", "VERSION_FIELDS", "BatchResult", "CrimeType", "ErrorCode", "FileError",
    "FileErrorCode", "NotMatchableError", "Outcome", "PoliceForce", "RowError", "batch_file",
    "batch_from_records", "check_rows", "crimes_table", "known_forces", "new_versions", "parse_batch",
    "read_batch", "refuse_police_uk", "report_lines", "version_id",
]
