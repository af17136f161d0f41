"""The supplier position feed: read, validate every row, convert to British National Grid, store.

The format is documented in ``docs/tagging-positions.md``. In short: a CSV file (UTF-8, a header row,
comma-separated, RFC 4180 quoting) or a Parquet file with exactly these columns, in any order:

==============  ===========================================================================
device_id       the tag's id, as in the activations
fix_time        when the fix was taken: ISO 8601 with ``Z`` or an offset (``+01:00``); a time
                without a zone is refused
lat, lon        WGS 84 degrees, inside the United Kingdom (49.8..60.95 N, 8.75 W..2.0 E)
precision_m     radius of the confidence circle, metres, >= 0
speed_kmh       km/h, >= 0; may be empty
heading_deg     degrees clockwise from north, 0 <= heading < 360; may be empty
mechanism       GPS, RF, LBS or WIFI (any case; the MoJ codes 1, 4, 5, 6 are accepted)
received_time   when the supplier received the fix: ISO 8601 with a zone
==============  ===========================================================================

Parquet columns may be typed (timestamps with a time zone, numbers) or text in the CSV form.

Every row is checked, all errors are collected, and a file with any bad row is refused whole:
nothing is written (as the platform's other loaders do). The :class:`FeedError` lists the first
``max_errors`` errors, each naming the file, the row (CSV: the file line, the header being line 1;
Parquet: the record number, the first record being 1) and the column, and says how many there are.

The work is vectorised (pyarrow, NumPy, DuckDB); only a file that fails to parse as CSV is read again
with Python's csv module, to find the line at fault.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vru.errors import SourceError
from vru.geography.grids import to_bng
from vru.tagging import schema as S
from vru.tagging import store

#: the United Kingdom with a small margin (as the data.police.uk loader uses)
LAT_RANGE = (49.8, 60.95)
LON_RANGE = (-8.75, 2.0)
#: seconds a fix may be later than its received time or than now (clock differences)
SKEW_S = 120
MAX_ERRORS = 20
#: physical limits of a fix, shared with the web app's MatchPoint constraint (a stored copy of a fix): a
#: fix beyond them is refused at import, naming its file, row and column, so it can never fail a matching run
MAX_SPEED_KMH = 1_000.0
MAX_PRECISION_M = 100_000.0
MECHANISM_CODES = {"1": S.GPS, "4": S.RF, "5": S.LBS, "6": S.WIFI}
MECHANISM_VALUES = pa.array(S.MECHANISMS, pa.string())

FEED_COLUMNS = list(S.FEED.names)
ACTIVATION_COLUMNS = list(S.ACTIVATIONS.names)

_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
_ISO_ZONED = _ISO + r"(Z|[+-]\d{2}(:?\d{2})?)$"
_ISO_NAIVE = _ISO + r"$"


class FeedError(SourceError):
    """A file with bad rows: ``errors`` holds the first ones (each a SourceError with row and column),
    ``total`` how many there are. Nothing from the file was stored."""

    def __init__(self, path, errors: list[SourceError], total: int, what: str = "rows") -> None:
        self.errors = errors
        self.total = total
        lines = [f"  {e}" for e in errors]
        more = f"\n  ... and {total - len(errors)} more" if total > len(errors) else ""
        super().__init__(path, f"{total} error(s) in the {what}; nothing was imported. "
                               f"{'The first ' + str(len(errors)) if total > len(errors) else 'They are'}:\n"
                         + "\n".join(lines) + more)


@dataclass
class ImportResult:
    """What :func:`import_positions` did."""

    path: str
    rows: int  # valid rows read
    imported: int  # new fixes stored
    duplicates: int  # rows whose (device_id, fix_time) was in the file twice or already stored
    days: list[str] = field(default_factory=list)  # days of the store that were rewritten
    #: wall seconds per stage: read, check (the row checks on the calling thread), bng (the conversion
    #: on its threads, alongside the checks), bng_wait (the checks waiting for it), then the store's
    #: (:attr:`vru.tagging.store.WriteResult.timings_s`)
    timings_s: dict[str, float] = field(default_factory=dict)
    #: device_id and fix_time of the fixes added (:attr:`vru.tagging.store.WriteResult.new_fixes`)
    new_fixes: pa.Table | None = None
    #: the store transaction and the receipt committed with the fixes (``receipt`` given, fixes added)
    txid: str | None = None
    receipt: dict | None = None


# --------------------------------------------------------------------------- error collection


class _Errors:
    """Masks of bad rows per check; messages are formatted only for the first ``limit``."""

    def __init__(self, path: Path, n: int, first_row: int, columns: list[str]) -> None:
        self.path, self.n, self.first_row = path, n, first_row
        self.order = {c: i for i, c in enumerate(columns)}
        self.checks: list[tuple[np.ndarray, str, Callable[[int], str]]] = []

    def add(self, mask, column: str, message: Callable[[int], str]) -> None:
        mask = np.asarray(mask, bool)
        if mask.any():
            self.checks.append((mask, column, message))

    def bad(self) -> np.ndarray:
        out = np.zeros(self.n, bool)
        for m, _, _ in self.checks:
            out |= m
        return out

    def raise_if_any(self, limit: int, what: str = "rows") -> None:
        if not self.checks:
            return
        rows, cols, ids = [], [], []
        for k, (m, c, _) in enumerate(self.checks):
            idx = np.flatnonzero(m)
            rows.append(idx)
            cols.append(np.full(len(idx), self.order.get(c, 99)))
            ids.append(np.full(len(idx), k))
        r, c, k = np.concatenate(rows), np.concatenate(cols), np.concatenate(ids)
        order = np.lexsort((k, c, r))[:limit]
        errs = [SourceError(self.path, self.checks[k[j]][2](int(r[j])), row=int(r[j]) + self.first_row,
                            column=self.checks[k[j]][1]) for j in order]
        raise FeedError(self.path, errs, len(r), what)


# --------------------------------------------------------------------------- reading files


def _csv_problem(path: Path, ncols: int) -> SourceError:
    """The first line of a CSV file that pyarrow could not parse, found with the csv module."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return SourceError(path, "the file is not UTF-8 text", row=line)
    reader = csv.reader(text.splitlines(keepends=True))
    for fields in reader:
        if len(fields) != ncols and fields:
            return SourceError(path, f"{len(fields)} fields where the header has {ncols}",
                               row=reader.line_num)
    return SourceError(path, "the file is not a valid CSV file")


def _read_text(path: Path, expected: list[str], optional: tuple[str, ...] = (),
               dictionary: tuple[str, ...] = ()) -> tuple[pa.Table, int]:
    """Read a CSV or Parquet file; return its table and the row number of its first record.

    The text columns named in ``dictionary`` are read dictionary-encoded (a Parquet file's own
    dictionary pages are kept, not decoded): each distinct value is then checked once.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            t = pq.read_table(path, read_dictionary=list(dictionary) or None)
        except (pa.ArrowInvalid, OSError) as e:
            raise SourceError(path, f"not a readable Parquet file ({e})") from None
        first = 1
    elif suffix == ".csv":
        try:
            with open(path, "rb") as fh:
                head = fh.readline().decode("utf-8-sig").strip("\r\n")
        except UnicodeDecodeError:
            raise SourceError(path, "the header is not UTF-8 text", row=1) from None
        names = next(csv.reader([head]), [])
        if not names:
            raise SourceError(path, "the file is empty: a header row is required", row=1)
        _check_header(path, names, expected, optional)
        try:
            t = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(use_threads=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: _DICT if c in dictionary else pa.string() for c in names},
                    strings_can_be_null=True,
                    null_values=[""], quoted_strings_can_be_null=True),
            )
        except pa.ArrowInvalid:
            raise _csv_problem(path, len(names)) from None
        first = 2
    else:
        raise SourceError(path, "a position feed is a .csv or .parquet file")
    _check_header(path, t.column_names, expected, optional)
    return t, first


def _check_header(path: Path, names: list[str], expected: list[str], optional: tuple[str, ...]) -> None:
    missing = [c for c in expected if c not in names and c not in optional]
    if missing:
        raise SourceError(path, f"missing column(s) {', '.join(missing)}; the columns are "
                                f"{', '.join(expected)}", row=1, column=missing[0])
    unknown = [c for c in names if c not in expected]
    if unknown:
        raise SourceError(path, f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                                f"{', '.join(expected)}", row=1, column=unknown[0])
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise SourceError(path, f"column {dup[0]!r} appears twice", row=1, column=dup[0])


# --------------------------------------------------------------------------- column parsers


_DICT = pa.dictionary(pa.int32(), pa.string())


def _as_array(col) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _cast_locate(arr: pa.Array, typ: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast ``arr`` to ``typ``; values that cannot be cast become null and are flagged (bisecting
    only when the whole cast fails)."""
    try:
        return pc.cast(arr, typ), np.zeros(len(arr), bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(arr) == 1:
        return pa.nulls(1, typ), np.ones(1, bool)
    mid = len(arr) // 2
    a, ma = _cast_locate(arr.slice(0, mid), typ)
    b, mb = _cast_locate(arr.slice(mid), typ)
    return pa.concat_arrays([a, b]), np.concatenate([ma, mb])


def _null(arr: pa.Array) -> np.ndarray:
    return pc.is_null(arr).to_numpy(zero_copy_only=False)


def _str(arr: pa.Array) -> pa.Array:
    """Text trimmed, empty as null. A dictionary array stays one (its values checked once each)."""
    if pa.types.is_dictionary(arr.type):
        values = _str(arr.dictionary)
        idx = arr.indices
        if values.null_count:  # a value that is empty once trimmed: its rows become null
            idx = pc.if_else(pc.take(pc.is_valid(values), idx), idx, pa.nulls(len(idx), idx.type))
        return pa.DictionaryArray.from_arrays(idx, pc.fill_null(values, ""))
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.nulls(len(arr), pa.string()), arr)


def _value(arr: pa.Array, i: int) -> str:
    v = arr[i].as_py()
    return repr(v) if isinstance(v, str) else str(v)


def _times(err: _Errors, col, name: str, required: bool = True) -> pa.Array:
    """A time column -> timestamp[us, UTC]; bad values flagged and returned as null."""
    arr = _as_array(col)
    n = len(arr)
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            err.add(~_null(arr), name, lambda i: "the Parquet column holds times without a time zone: "
                                                  "store UTC (timestamp with tz)")
            return pa.nulls(n, S.UTC_TS)
        out = pc.cast(arr, S.UTC_TS)
    else:
        s = _str(arr)
        zoned = pc.fill_null(pc.match_substring_regex(s, _ISO_ZONED), False).to_numpy(zero_copy_only=False)
        naive = pc.fill_null(pc.match_substring_regex(s, _ISO_NAIVE), False).to_numpy(zero_copy_only=False)
        empty = _null(s)
        err.add(naive, name, lambda i: f"{_value(s, i)} has no time zone: write Z for UTC or an offset "
                                        "such as +01:00")
        other = ~zoned & ~naive & ~empty
        err.add(other, name, lambda i: f"{_value(s, i)} is not an ISO 8601 time "
                                        "(YYYY-MM-DDTHH:MM:SSZ)")
        s = pc.if_else(pa.array(zoned), s, pa.nulls(n, pa.string()))
        out, bad = _cast_locate(s, S.UTC_TS)
        err.add(bad, name, lambda i: f"{_value(_as_array(col), i)} is not a valid date and time")
    if required:
        err.add(_null(_as_array(col)) if not pa.types.is_timestamp(arr.type) else _null(arr), name,
                lambda i: "the time is empty")
    return out


def _numbers(err: _Errors, col, name: str, required: bool) -> np.ndarray:
    """A numeric column -> float64 NumPy array (NaN for empty or bad values, which are flagged)."""
    arr = _as_array(col)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        out = pc.cast(arr, pa.float64())
        raw = arr
    else:
        raw = _str(arr)
        out, bad = _cast_locate(raw, pa.float64())
        err.add(bad, name, lambda i: f"{_value(raw, i)} is not a number")
    x = out.to_numpy(zero_copy_only=False).astype(float, copy=False)
    finite = np.isfinite(x)
    if finite.all():
        return x
    if required and raw.null_count:
        err.add(_null(raw), name, lambda i: "the value is empty")
    # infinities and NaN that are values (not empty nor unreadable): "nan" given as text, NaN in Parquet
    missing = _null(out) if out.null_count else np.zeros(len(x), bool)
    err.add(~finite & ~missing, name, lambda i: f"{_value(raw, i)} is not a finite number")
    x = np.where(finite, x, np.nan)
    return x


def _mechanisms(err: _Errors, col, name: str) -> pa.Array:
    """The mechanism as a dictionary array over :data:`MECHANISM_VALUES` (null where bad)."""
    s = _str(_as_array(col))
    enc = s if pa.types.is_dictionary(s.type) else pc.dictionary_encode(s)
    code = {m: i for i, m in enumerate(S.MECHANISMS)}
    which = [code.get(MECHANISM_CODES.get(v, v)) for v in pc.utf8_upper(enc.dictionary).to_pylist()]
    out = pa.DictionaryArray.from_arrays(pc.take(pa.array(which, pa.int32()), enc.indices), MECHANISM_VALUES)
    bad = _null(out) & ~_null(s)
    err.add(bad, name, lambda i: f"mechanism {_value(_as_array(col), i)} is not one of "
                                 f"{', '.join(S.MECHANISMS)}")
    err.add(_null(s), name, lambda i: "the mechanism is empty")
    return out


def _workers(n: int) -> int:
    return 1 if n < 200_000 else _MAX_WORKERS


_MAX_WORKERS = min(os.cpu_count() or 1, 16)
_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _bng_pool() -> ThreadPoolExecutor:
    """The threads that convert to British National Grid, kept for the process and shared by imports.

    pyproj builds its transformation once per thread that uses it (about a tenth of a second each,
    reading PROJ's database): threads kept alive pay that once per process, not once per import. The
    first call starts every thread on that work at once (:func:`_warm_bng`), so that it runs while
    the feed is read."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix="vru-bng")
            # each task holds its thread for the tenth of a second, so each lands on a thread of its own
            for _ in range(_MAX_WORKERS):
                _pool.submit(_warm_bng)
        return _pool


def _warm_bng() -> None:
    to_bng(np.zeros(1), np.full(1, 51.5))


def _forget_pool() -> None:
    """In a forked child: the parent's threads do not exist there, so a new pool is made on first use."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _bng(pool: ThreadPoolExecutor, parts: int, lon: np.ndarray, lat: np.ndarray
         ) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """Start :func:`vru.geography.grids.to_bng` on ``pool`` in ``parts`` chunks (pyproj releases the
    GIL); return a function that waits for the result. NaN in, NaN out."""
    bounds = np.linspace(0, len(lon), parts + 1).astype(int)
    start = time.perf_counter()
    ends: list[float] = []

    def part(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        out = to_bng(lon[a:b], lat[a:b])
        ends.append(time.perf_counter())
        return out

    futures = [pool.submit(part, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def cancel() -> None:  # the parts not started yet (the pool is shared: it is not shut down)
        for f in futures:
            f.cancel()

    def result() -> tuple[np.ndarray, np.ndarray]:
        res = [f.result() for f in futures]
        result.seconds = max(ends) - start  # wall time of the conversion, all parts
        if len(res) == 1:
            return res[0]
        return np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res])

    result.cancel = cancel
    return result


def _ts_str(arr: pa.Array, i: int) -> str:
    v = arr[i].as_py()
    return v.strftime("%Y-%m-%dT%H:%M:%SZ") if v is not None else "?"


# --------------------------------------------------------------------------- activations


#: the name errors give for activations passed as a table (their rows are the table's, 1 = first)
ACTIVATIONS_TABLE = Path("<activations table>")


def _overlapping(dev: np.ndarray, f: np.ndarray, to: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Rows (among ``ok``) whose activation starts before the previous activation of the same device
    ends (or while it is still open), the device's activations ordered by start, then row."""
    n = len(dev)
    mask = np.zeros(n, bool)
    idx = np.flatnonzero(ok)
    if len(idx) < 2:
        return mask
    codes = pd.factorize(dev[idx])[0]
    fi, ti = f[idx].astype("datetime64[us]"), to[idx].astype("datetime64[us]")
    order = np.lexsort((idx, fi.view("int64"), codes))
    c, s, e = codes[order], fi[order], ti[order]
    same = c[1:] == c[:-1]
    prev_open, prev_end = np.isnat(e[:-1]), e[:-1]
    with np.errstate(invalid="ignore"):
        clash = same & (prev_open | (prev_end > s[1:]))
    mask[idx[order[1:][clash]]] = True
    return mask


def _activation_frame(activations) -> pa.Table:
    """Activations given as a table, not a file: checked for columns and types, then row by row like a
    file (empty ids, active_to not after active_from, two activations of one device that overlap), the
    rows numbered from 1 in the table's order; any error raises :class:`FeedError`."""
    if isinstance(activations, pd.DataFrame):
        activations = pa.Table.from_pandas(activations, preserve_index=False)
    missing = [c for c in ACTIVATION_COLUMNS if c not in activations.column_names]
    if missing:
        raise ValueError(f"activations need the columns {', '.join(ACTIVATION_COLUMNS)}")
    for c in (S.ACTIVE_FROM, S.ACTIVE_TO):
        typ = activations[c].type
        if pa.types.is_timestamp(typ) and typ.tz is None:
            raise ValueError(f"activations column {c} has no time zone: give UTC times")
    t = activations.select(ACTIVATION_COLUMNS).cast(S.ACTIVATIONS)
    n = t.num_rows
    err = _Errors(ACTIVATIONS_TABLE, n, 1, ACTIVATION_COLUMNS)
    dev, wearer = _as_array(t[S.DEVICE_ID]), _as_array(t[S.WEARER_REF])
    a_from, a_to = _as_array(t[S.ACTIVE_FROM]), _as_array(t[S.ACTIVE_TO])
    err.add(_null(_str(dev)), S.DEVICE_ID, lambda i: "the device id is empty")
    err.add(_null(_str(wearer)), S.WEARER_REF, lambda i: "the wearer reference is empty")
    err.add(_null(a_from), S.ACTIVE_FROM, lambda i: "active_from is empty")
    _check_intervals(err, dev, a_from, a_to)
    err.raise_if_any(MAX_ERRORS, "activations")
    return t


def _check_intervals(err: _Errors, dev, a_from, a_to) -> None:
    """The checks every activation gets, from a file or a table: active_to after active_from, and no two
    activations of one device overlapping (rows already in error are left out of the overlap check)."""
    f, to = a_from.to_numpy(zero_copy_only=False), a_to.to_numpy(zero_copy_only=False)
    has = ~np.isnat(f) & ~np.isnat(to)
    err.add(has & (to <= f), S.ACTIVE_TO, lambda i: f"{_ts_str(a_to, i)} is not after active_from "
                                                     f"{_ts_str(a_from, i)}")
    overlap = _overlapping(dev.to_numpy(zero_copy_only=False), f, to, ~err.bad())
    err.add(overlap, S.ACTIVE_FROM, lambda i: f"device {_value(dev, i)} already has an activation that "
                                              f"covers {_ts_str(a_from, i)}")


def read_activations(source, *, max_errors: int = MAX_ERRORS) -> pa.Table:
    """Device activations from a CSV/Parquet file (columns device_id, wearer_ref, active_from,
    active_to; active_to empty = still active), or from a pyarrow/pandas table.

    A file is validated row by row (empty ids, times without a zone, active_to not after active_from,
    two activations of one device that overlap); any error refuses the file (:class:`FeedError`). A
    table gets the same row checks (its rows numbered from 1; the file name ``<activations table>``).
    """
    if isinstance(source, (pa.Table, pd.DataFrame)):
        return _activation_frame(source)
    path = Path(source)
    t, first = _read_text(path, ACTIVATION_COLUMNS)
    n = t.num_rows
    err = _Errors(path, n, first, ACTIVATION_COLUMNS)
    dev = _str(_as_array(t[S.DEVICE_ID]))
    wearer = _str(_as_array(t[S.WEARER_REF]))
    err.add(_null(dev), S.DEVICE_ID, lambda i: "the device id is empty")
    err.add(_null(wearer), S.WEARER_REF, lambda i: "the wearer reference is empty")
    a_from = _times(err, t[S.ACTIVE_FROM], S.ACTIVE_FROM)
    a_to = _times(err, t[S.ACTIVE_TO], S.ACTIVE_TO, required=False)
    _check_intervals(err, dev, a_from, a_to)
    err.raise_if_any(max_errors, "activations")
    return pa.table({S.DEVICE_ID: dev, S.WEARER_REF: wearer, S.ACTIVE_FROM: a_from, S.ACTIVE_TO: a_to},
                    schema=S.ACTIVATIONS)


# --------------------------------------------------------------------------- the feed


def read_feed(path: str | Path, activations, *, now=None, skew_s: float = SKEW_S,
              max_errors: int = MAX_ERRORS) -> pa.Table:
    """Read and validate a position feed file; return its rows as a POSITIONS table (BNG added).

    ``activations``: see :func:`read_activations` (a file or a table). ``now`` (UTC; default the
    current time) bounds the times from above. Raises :class:`FeedError` listing the bad rows, or
    :class:`~vru.errors.SourceError` for a file that is not a feed at all. Rows are returned in file
    order, duplicates included (the store de-duplicates).
    """
    return _feed(Path(path), activations, now, skew_s, max_errors, {}).cast(S.POSITIONS)


def _feed(path: Path, activations, now, skew_s: float, max_errors: int, timings: dict[str, float]
          ) -> pa.Table:
    """:func:`read_feed`, with device_id and mechanism left dictionary-encoded (as the store takes them).

    The conversion to British National Grid (the costliest step) runs on other threads while the
    rows are checked; its result is used only when every row is valid.
    """
    pool = _bng_pool()  # first in the process: its threads get ready while the file is read
    act = read_activations(activations)
    now = store.utc(now, "now") if now is not None else pd.Timestamp.now(tz="UTC")
    t0 = time.perf_counter()
    t, first = _read_text(path, FEED_COLUMNS, dictionary=(S.DEVICE_ID, S.MECHANISM))
    t1 = timings["read"] = time.perf_counter() - t0
    n = t.num_rows
    err = _Errors(path, n, first, FEED_COLUMNS)
    workers = _workers(n)
    bng = None
    try:
        lat = _numbers(err, t[S.LAT], S.LAT, True)
        lon = _numbers(err, t[S.LON], S.LON, True)
        # coordinates: inside the UK box, or swapped
        both = ~np.isnan(lat) & ~np.isnan(lon)
        with np.errstate(invalid="ignore"):
            lat_in = (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
            lon_in = (lon >= LON_RANGE[0]) & (lon <= LON_RANGE[1])
        inside = lat_in & lon_in
        bng = _bng(pool, workers, *((lon, lat) if inside.all() else (np.where(inside, lon, np.nan),
                                                          np.where(inside, lat, np.nan))))
        if not inside.all():
            with np.errstate(invalid="ignore"):
                swapped = both & ~inside & (lon >= LAT_RANGE[0]) & (lon <= LAT_RANGE[1]) \
                    & (lat >= LON_RANGE[0]) & (lat <= LON_RANGE[1])
            err.add(swapped, S.LAT, lambda i: f"latitude {lat[i]} and longitude {lon[i]} look swapped "
                                              "(latitude is north, about 50 to 61 in the UK)")
            err.add(both & ~swapped & ~lat_in, S.LAT, lambda i: f"latitude {lat[i]} is outside the United "
                                                                f"Kingdom ({LAT_RANGE[0]} to {LAT_RANGE[1]})")
            err.add(both & ~swapped & ~lon_in, S.LON, lambda i: f"longitude {lon[i]} is outside the United "
                                                                f"Kingdom ({LON_RANGE[0]} to {LON_RANGE[1]})")

        dev = _str(_as_array(t[S.DEVICE_ID]))
        err.add(_null(dev), S.DEVICE_ID, lambda i: "the device id is empty")
        fix = _times(err, t[S.FIX_TIME], S.FIX_TIME)
        rec = _times(err, t[S.RECEIVED_TIME], S.RECEIVED_TIME)
        prec = _numbers(err, t[S.PRECISION_M], S.PRECISION_M, True)
        spd = _numbers(err, t[S.SPEED_KMH], S.SPEED_KMH, False)
        hdg = _numbers(err, t[S.HEADING_DEG], S.HEADING_DEG, False)
        mech = _mechanisms(err, t[S.MECHANISM], S.MECHANISM)
        # ranges
        with np.errstate(invalid="ignore"):
            err.add(prec < 0, S.PRECISION_M, lambda i: f"precision {prec[i]} m is negative")
            err.add(prec > MAX_PRECISION_M, S.PRECISION_M,
                    lambda i: f"precision {prec[i]} m is over {MAX_PRECISION_M:,.0f} m")
            err.add(spd < 0, S.SPEED_KMH, lambda i: f"speed {spd[i]} km/h is negative")
            err.add(spd > MAX_SPEED_KMH, S.SPEED_KMH,
                    lambda i: f"speed {spd[i]} km/h is over {MAX_SPEED_KMH:,.0f} km/h")
            err.add((hdg < 0) | (hdg >= 360), S.HEADING_DEG,
                    lambda i: f"heading {hdg[i]} is not in 0 to 360 degrees (0 <= heading < 360)")
        # times: received after the fix, neither in the future (null times, already flagged, compare false)
        f_us = _micros(fix)
        r_us = _micros(rec)
        skew = int(skew_s * 1e6)
        now_us = now.value // 1000
        err.add(r_us < f_us - skew, S.RECEIVED_TIME,
                lambda i: f"received at {_ts_str(rec, i)}, before the fix was taken ({_ts_str(fix, i)})")
        err.add(f_us > now_us + skew, S.FIX_TIME,
                lambda i: f"{_ts_str(fix, i)} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ})")
        err.add(r_us > now_us + skew, S.RECEIVED_TIME,
                lambda i: f"{_ts_str(rec, i)} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ})")
        # devices and activations
        unknown, outside = _activation_checks(dev, fix, act)
        err.add(unknown, S.DEVICE_ID, lambda i: f"unknown device {_value(dev, i)}: it has no activation")
        err.add(outside, S.FIX_TIME, lambda i: f"the fix at {_ts_str(fix, i)} is outside every activation "
                                               f"of device {_value(dev, i)}")
        err.raise_if_any(max_errors)
        t2 = time.perf_counter()
        x, y = bng()
        timings["bng_wait"] = time.perf_counter() - t2
        timings["check"] = t2 - t0 - t1
        timings["bng"] = bng.seconds
    finally:
        if bng is not None:
            bng.cancel()
    return pa.table({
        S.DEVICE_ID: dev, S.FIX_TIME: fix, S.RECEIVED_TIME: rec, S.LAT: lat, S.LON: lon,
        S.EASTING: x, S.NORTHING: y, S.PRECISION_M: prec,
        S.SPEED_KMH: pa.array(spd, pa.float64(), from_pandas=True),
        S.HEADING_DEG: pa.array(hdg, pa.float64(), from_pandas=True),
        S.MECHANISM: mech,
    }).cast(store.STORED)


def _micros(arr: pa.Array) -> np.ndarray:
    """Timestamps as microseconds: int64, or float64 with NaN for the nulls (every comparison with a
    null is then false: an empty time is reported once, as empty)."""
    return pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)


def _by_value(arr: pa.Array, fn: Callable[[pa.Array], np.ndarray], null) -> np.ndarray:
    """``fn`` of each row's value (``null`` for a null): a dictionary array's values computed once each."""
    if pa.types.is_dictionary(arr.type):
        values = np.append(fn(arr.dictionary), null)
        return values[pc.fill_null(arr.indices, len(arr.dictionary)).to_numpy()]
    out = fn(arr)
    return np.where(_null(arr), null, out) if arr.null_count else out


def _activation_checks(dev: pa.Array, fix: pa.Array, act: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(unknown device, fix outside every activation of its device) for each row.

    The activation of a fix is the latest of its device starting at or before it (the activations of
    one device do not overlap, which :func:`read_activations` checks). Vectorised: the activations
    sorted by device and start; each row looks at its device's k-th activation for k = 0, 1, ...
    (as many steps as the most activations of one device; one step when each device has one).
    """
    a_dev = act[S.DEVICE_ID].combine_chunks().to_numpy(zero_copy_only=False).astype(str)
    big = np.iinfo(np.int64).max
    a_from = pc.fill_null(pc.cast(act[S.ACTIVE_FROM], pa.int64()), big).to_numpy(zero_copy_only=False)
    a_to = pc.fill_null(pc.cast(act[S.ACTIVE_TO], pa.int64()), big).to_numpy(zero_copy_only=False)
    order = np.lexsort((a_from, a_dev))
    a_dev, a_from, a_to = a_dev[order], a_from[order], a_to[order]
    devices, start, count = np.unique(a_dev, return_index=True, return_counts=True)
    # each row's device (-1: unknown device or empty id)
    devices_arr = pa.array(devices, pa.string())
    k = _by_value(dev, lambda v: pc.fill_null(pc.index_in(v, value_set=devices_arr), -1).to_numpy(), -1)
    known = k >= 0
    unknown = ~known & ~_null(dev)
    if not len(devices):
        return unknown, np.zeros(len(dev), bool)
    k = np.maximum(k, 0)
    first = start[k]
    f = pc.fill_null(pc.cast(fix, pa.int64()), np.iinfo(np.int64).min).to_numpy(zero_copy_only=False)
    if count.max() == 1:
        which = np.where(a_from[first] <= f, first, -1)
    else:
        which = np.full(len(dev), -1, np.int64)
        many = count[k]
        for step in range(int(count.max())):
            cand = np.minimum(first + step, len(a_from) - 1)
            which = np.where((step < many) & (a_from[cand] <= f), cand, which)
    outside = known & ~_null(fix) & ((which < 0) | (f >= a_to[np.maximum(which, 0)]))
    return unknown, outside


def import_positions(path: str | Path, activations, root: str | Path, *, now=None, skew_s: float = SKEW_S,
                     max_errors: int = MAX_ERRORS, receipt=None) -> ImportResult:
    """Validate a feed file and add its fixes to the positions store at ``root``, all or nothing.

    A file with any bad row raises :class:`FeedError` and writes nothing. Fixes are de-duplicated on
    (device_id, fix_time), keeping the one received first; importing the same file twice changes
    nothing. ``receipt``: as :func:`vru.tagging.store.write_positions`' (committed with the fixes).
    """
    timings: dict[str, float] = {}
    t = _feed(Path(path), activations, now, skew_s, max_errors, timings)
    r = store.write_positions(root, t, receipt=receipt)
    return ImportResult(str(path), t.num_rows, r.added, r.duplicates, r.days, timings | r.timings_s,
                        r.new_fixes, r.txid, r.receipt)


def mechanism_is_coarse(mechanism) -> bool:
    """LBS and RF fixes never make a match or open a breach on their own."""
    return mechanism in S.COARSE_MECHANISMS

