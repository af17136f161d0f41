"""The positions store: Parquet files partitioned by day, written atomically, read with DuckDB or Ibis.

Positions do not belong in the web database (a billion fixes a year). They live under a root folder::

    <root>/day=2024-03-04/part-<txid>-0.parquet
    <root>/day=2024-03-05/part-<txid>-0.parquet
    ...

``day`` is the UTC date of ``fix_time`` (a hive partition: the column is in the folder name, not in the
files). Every file holds the columns of :data:`vru.tagging.schema.POSITIONS` (easting/northing already
in British National Grid). A fix is stored once per (device_id, fix_time).

Writing (:func:`write_positions`, :func:`purge`) is all or nothing, through a small journal:

1. the new content of every day that changes is written in full (existing rows of that day plus the
   new ones, or the rows a purge keeps) to ``<root>/.staging/<txid>/``, which readers never look at;
2. the plan (files to move in, files to delete) is written to ``plan.json`` in that folder and
   renamed into place: this rename is the commit;
3. the staged files are renamed into their day folders and the replaced files deleted; the staging
   folder is removed.

A failure before step 2 leaves the store as it was (the write deletes what it staged; after a crash the
next write or :func:`recover` does); a crash during step 3 is finished by the next write or
:func:`recover` (every step of the plan can be replayed). Writers hold an exclusive lock on
``<root>/.lock``. A reader running while a commit is applied may, for an instant, see a day's old and
new files together or miss a file that was just replaced; readers that need a stable view run outside
imports and purges (the matching runs are scheduled after an import).

A write may carry a **receipt** (:func:`write_positions`' ``receipt``): a small JSON document computed
from the fixes it adds, before the commit point, staged beside the plan and moved with it to
``<root>/.receipts/<txid>.json``. It is part of the same transaction: the fixes are committed if and only
if their receipt is. Whoever keeps counts elsewhere (the web database's "positions received") records each
receipt keyed by its txid, idempotently, and then removes it (:func:`pending_receipts`,
:func:`clear_receipt`): a failure between the store's commit and that record leaves the receipt pending,
never the fixes uncounted.

Writing the same rows twice changes nothing: rows whose (device_id, fix_time) is already stored are
dropped before anything is written, and a day that receives no new row is not rewritten.

Retention (:func:`purge`): raw positions older than a cut-off are deleted, except the fixes inside
the ``keep`` intervals (device_id, time_from, time_to): those of a qualified match or a breach.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vru.tagging import schema as S

STAGING = ".staging"
RECEIPTS = ".receipts"
LOCK = ".lock"
_COLS = ", ".join(S.POSITIONS.names)
#: text columns kept dictionary-encoded while rows are written (few distinct values: devices, mechanisms)
DICTIONARY_COLUMNS = (S.DEVICE_ID, S.MECHANISM)
#: POSITIONS as :func:`write_positions` holds it in memory: the same values, the text columns above as
#: dictionaries (the files hold plain text columns, dictionary-encoded as Parquet writes text anyway)
STORED = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()), nullable=f.nullable)
                    if f.name in DICTIONARY_COLUMNS else f for f in S.POSITIONS])


@dataclass
class WriteResult:
    """What :func:`write_positions` did."""

    rows: int  # rows given
    added: int  # rows stored
    duplicates: int  # rows dropped: same (device_id, fix_time) given twice or already stored
    days: list[str] = field(default_factory=list)  # days rewritten (YYYY-MM-DD)
    #: wall seconds per stage: read_stored (the stored rows of the days concerned), order (de-duplicate
    #: and sort), write (gather the rows and write the Parquet files, on several threads), commit
    timings_s: dict[str, float] = field(default_factory=dict)
    #: device_id and fix_time of the fixes added (None when nothing was added): what was received, for
    #: counts kept apart from the store (a purge later deletes fixes, not the fact they were received)
    new_fixes: pa.Table | None = None
    #: the store transaction that added them (None when nothing was added): the receipt's key
    txid: str | None = None
    #: the receipt committed with them (``receipt`` given and something added), as stored
    receipt: dict | None = None


@dataclass
class PurgeResult:
    """What :func:`purge` did."""

    deleted: int  # fixes deleted
    kept: int  # fixes older than the cut-off kept because a keep interval holds them
    days_rewritten: list[str] = field(default_factory=list)
    days_deleted: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- times and paths


def utc(t, what: str = "time") -> pd.Timestamp:
    """``t`` as a UTC pandas Timestamp; a time without a zone is refused (``ValueError``)."""
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        raise ValueError(f"{what} {t!r} has no time zone: give UTC, e.g. '2024-03-04T00:00:00Z'")
    return ts.tz_convert("UTC")


def day_name(d) -> str:
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def list_days(root: str | Path) -> list[str]:
    """The days (YYYY-MM-DD) the store holds, in order."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name[4:] for p in root.glob("day=*") if p.is_dir() and any(p.glob("*.parquet")))


def _days_between(start, end) -> tuple[str | None, str | None]:
    """First and last day (inclusive) overlapping [start, end); None = unbounded."""
    first = last = None
    if start is not None:
        first = day_name(utc(start, "start").floor("D"))
    if end is not None:
        last = day_name(utc(end, "end") - pd.Timedelta(microseconds=1))
    return first, last


def partition_files(root: str | Path, start=None, end=None) -> list[Path]:
    """The Parquet files of the days that overlap ``[start, end)`` (UTC; None = unbounded).

    This is the partition pruning: files of other days are never opened.
    """
    first, last = _days_between(start, end)
    root = Path(root)
    out = []
    for d in list_days(root):
        if (first is None or d >= first) and (last is None or d <= last):
            out += sorted((root / f"day={d}").glob("*.parquet"))
    return out


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _files_sql(files: Iterable[Path]) -> str:
    lst = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"read_parquet([{lst}], hive_partitioning = false)"


def _empty() -> pa.Table:
    return S.POSITIONS.empty_table()


def _conform(t: pa.Table) -> pa.Table:
    return t.select(S.POSITIONS.names).cast(S.POSITIONS)


def _conform_stored(t: pa.Table) -> pa.Table:
    """``t`` in the :data:`STORED` schema (text columns dictionary-encoded, each in one chunk)."""
    t = t.select(STORED.names)
    for c in DICTIONARY_COLUMNS:
        col = t[c]
        if not pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col)
        if isinstance(col, pa.ChunkedArray) and col.num_chunks != 1:
            col = col.combine_chunks()  # one dictionary for all the rows
        t = t.set_column(t.schema.get_field_index(c), c, col)
    return t.cast(STORED)


def _read_stored(files: list[Path]) -> pa.Table:
    if not files:
        return STORED.empty_table()
    return _conform_stored(pq.read_table(files, read_dictionary=list(DICTIONARY_COLUMNS)))


def _where(start, end, devices) -> tuple[str, list]:
    conds, params = [], []
    if start is not None:
        conds.append("fix_time >= ?")
        params.append(utc(start, "start").to_pydatetime())
    if end is not None:
        conds.append("fix_time < ?")
        params.append(utc(end, "end").to_pydatetime())
    if devices is not None:
        devices = list(devices)
        if not devices:
            conds.append("false")
        else:
            conds.append(f"device_id IN ({', '.join('?' * len(devices))})")
            params += devices
    return (" WHERE " + " AND ".join(conds)) if conds else "", params


def read_positions(root: str | Path, start=None, end=None, *, devices: Iterable[str] | None = None
                   ) -> pa.Table:
    """Fixes with ``start <= fix_time < end`` (UTC; None = unbounded), optionally of some devices only,
    ordered by device_id then fix_time, as a pyarrow table of the POSITIONS schema."""
    files = partition_files(root, start, end)
    if not files:
        return _empty()
    where, params = _where(start, end, devices)
    with contextlib.closing(_connect()) as con:
        t = con.sql(f"SELECT {_COLS} FROM {_files_sql(files)}{where} ORDER BY device_id, fix_time",
                    params=params).to_arrow_table()
    return _conform(t)


def positions_table(con, root: str | Path, start=None, end=None):
    """The store as an Ibis table on connection ``con`` (DuckDB or PySpark), pruned by day.

    Only the files of the days overlapping ``[start, end)`` are read (DuckDB: the file list; Spark:
    the ``day`` partition filter, which Spark prunes), and rows are filtered to
    ``start <= fix_time < end``. Columns: those of POSITIONS.
    """
    import ibis

    first, last = _days_between(start, end)
    if con.name == "pyspark":
        if not list_days(root):
            return ibis.memtable(_empty())
        t = con.read_parquet(str(Path(root).resolve()))
        if first is not None:
            t = t.filter(t[S.DAY].cast("date") >= ibis.date(first))
        if last is not None:
            t = t.filter(t[S.DAY].cast("date") <= ibis.date(last))
    else:
        files = partition_files(root, start, end)
        if not files:
            return ibis.memtable(_empty())
        t = con.read_parquet([str(f) for f in files], hive_partitioning=False)
    t = t.select(*S.POSITIONS.names)
    if start is not None:
        t = t.filter(t[S.FIX_TIME] >= utc(start, "start").to_pydatetime())
    if end is not None:
        t = t.filter(t[S.FIX_TIME] < utc(end, "end").to_pydatetime())
    return t


# --------------------------------------------------------------------------- journal


@contextlib.contextmanager
def _locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            _recover(root)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _apply(root: Path, tx: Path) -> None:
    plan = json.loads((tx / "plan.json").read_text())
    for staged, final in plan["add"]:
        src, dst = tx / staged, root / final
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    if plan.get("receipt"):
        src, dst = tx / "receipt.json", root / RECEIPTS / plan["receipt"]
        if src.exists():
            dst.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(src, dst)
    for final in plan["remove"]:
        with contextlib.suppress(FileNotFoundError):
            (root / final).unlink()
    for d in plan["days"]:
        p = root / f"day={d}"
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    shutil.rmtree(tx)
    with contextlib.suppress(OSError):
        tx.parent.rmdir()  # .staging, when no other transaction is there


def _recover(root: Path) -> None:
    st = root / STAGING
    if not st.is_dir():
        return
    for tx in sorted(st.iterdir()):
        if (tx / "plan.json").exists():
            _apply(root, tx)  # committed: finish it
        else:
            shutil.rmtree(tx, ignore_errors=True)  # never committed: roll back
    with contextlib.suppress(OSError):
        st.rmdir()


def recover(root: str | Path) -> None:
    """Finish a commit that was interrupted, or roll back a write that never committed."""
    root = Path(root)
    if root.is_dir():
        with _locked(root):
            pass


def _commit(root: Path, tx: Path, remove: list[Path], days: list[str]) -> None:
    adds = [(str(p.relative_to(tx)), str(p.relative_to(tx / "new"))) for p in sorted(tx.glob("new/day=*/*"))]
    plan = {"add": adds, "remove": [str(p.relative_to(root)) for p in remove], "days": days,
            "receipt": f"{tx.name}.json" if (tx / "receipt.json").exists() else None}
    tmp = tx / "plan.json.tmp"
    with open(tmp, "w") as fh:
        json.dump(plan, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, tx / "plan.json")  # the commit point
    _apply(root, tx)


def _abandon(tx: Path) -> None:
    """Roll back a write that failed before its commit: delete what it staged."""
    shutil.rmtree(tx, ignore_errors=True)
    with contextlib.suppress(OSError):
        tx.parent.rmdir()


def _new_tx(root: Path) -> tuple[str, Path]:
    txid = uuid.uuid4().hex[:12]
    tx = root / STAGING / txid
    (tx / "new").mkdir(parents=True)
    return txid, tx


def _stage(con, sql: str, params: list, tx: Path, txid: str) -> None:
    con.execute(
        f"COPY ({sql}) TO '{tx / 'new'}' (FORMAT parquet, PARTITION_BY (day), "
        f"FILENAME_PATTERN 'part-{txid}-{{i}}', OVERWRITE_OR_IGNORE true)", params)


# --------------------------------------------------------------------------- writing


_DAY_US = 86_400_000_000
_ROW_GROUP = 122_880  # rows per Parquet row group (DuckDB's default: readers split the work by them)
_MIN_PART = 400_000  # a day is split into parts written in parallel only above this many rows per part
_TIME_BITS = 37  # microseconds within a day: 86_400_000_000 < 2 ** 37


def _ranks(arr) -> np.ndarray:
    """Each value's rank among the sorted distinct values (strings in code-point order, as SQL sorts
    them; equal values, equal rank; nulls last). A dictionary array is ranked by its dictionary."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    dic = arr.dictionary.to_numpy(zero_copy_only=False)
    rank = np.empty(len(dic) + 1, np.int64)
    if len(dic):
        rank[:-1] = np.unique(dic, return_inverse=True)[1]
    rank[-1] = len(dic)  # null
    return rank[pc.fill_null(arr.indices, len(dic)).to_numpy()]


def _micros(arr, fill: int) -> np.ndarray:
    return pc.fill_null(pc.cast(arr, pa.int64()), fill).to_numpy(zero_copy_only=False)


def _distinct(a: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array (days), sorted: counted, not sorted, when their range is
    small."""
    if not len(a):
        return a
    lo, hi = int(a.min()), int(a.max())
    if hi - lo < 1 << 20:
        return np.flatnonzero(np.bincount(a - lo)) + lo
    return np.unique(a)


def _store_order(dev: np.ndarray, ft: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutation that puts rows in store order (day, device rank, fix time), the day of each
    row in that order, and whether each row in that order repeats the (device, fix time) before it.

    One sort of a single int64 key (day, device and microsecond of the day packed in 63 bits) when
    they fit, as they do for any real feed; otherwise a three-key sort. Both sorts are stable.
    """
    day = ft // _DAY_US
    if len(ft):
        d0, span = int(day.min()), int(day.max() - day.min())
        dev_bits = max(int(dev.max()), 1).bit_length()
        if span.bit_length() + dev_bits + _TIME_BITS <= 63:
            key = day - d0
            key <<= dev_bits
            key |= dev
            key <<= _TIME_BITS
            key |= ft % _DAY_US
            order = np.argsort(key, kind="stable")
            key = key[order]
            return order, (key >> (dev_bits + _TIME_BITS)) + d0, key[1:] == key[:-1]
    order = np.lexsort((ft, dev, day))
    d_s, t_s = dev[order], ft[order]
    return order, day[order], (d_s[1:] == d_s[:-1]) & (t_s[1:] == t_s[:-1])


def _dedup_order(t: pa.Table, n_old: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``t`` to store, in store order (day, device_id, fix_time): one per (device_id,
    fix_time), and the day number (days since 1970-01-01) of each. The first ``n_old`` rows (already
    stored) always win; among the others the one received first wins (then the lowest lat, lon,
    mechanism: a fixed rule)."""
    dev = _ranks(t[S.DEVICE_ID])
    ft = _micros(t[S.FIX_TIME], np.iinfo(np.int64).max)
    order, day, same = _store_order(dev, ft)
    if not same.any():
        return order, day
    # the rows of each repeated (device_id, fix_time) are side by side in store order, a stored row
    # first (the sort is stable and the stored rows come first): it wins. Among new rows only, the rule.
    start = np.r_[True, ~same]
    pos = np.flatnonzero(~start)  # every repeated row but the first of its group: dropped ...
    keep = np.ones(len(order), bool)
    keep[pos] = False
    firsts = np.flatnonzero(start[:-1] & same)  # ... unless its group has no stored row
    firsts = firsts[order[firsts] >= n_old]
    if len(firsts):
        size = np.diff(np.r_[np.flatnonzero(start), len(order)])[np.cumsum(start)[firsts] - 1]
        group = np.repeat(np.arange(len(firsts)), size)
        pos = np.repeat(firsts - np.r_[0, np.cumsum(size)[:-1]], size) + np.arange(size.sum())
        sub = t.take(pa.array(order[pos]))
        lat, lon = (np.nan_to_num(sub[c].to_numpy(zero_copy_only=False).astype(float), nan=np.inf)
                    for c in (S.LAT, S.LON))
        received = _micros(sub[S.RECEIVED_TIME], np.iinfo(np.int64).max)
        best = np.lexsort((_ranks(sub[S.MECHANISM]), lon, lat, received, group))
        g = group[best]
        keep[pos] = False
        keep[pos[best[np.r_[True, g[1:] != g[:-1]]]]] = True
    return order[keep], day[keep]


def write_positions(root: str | Path, table: pa.Table, *, receipt: Callable[[pa.Table], dict] | None = None,
                    _fail_before_commit: bool = False) -> WriteResult:
    """Add fixes (a pyarrow table with the POSITIONS columns) to the store, all or nothing.

    Rows are de-duplicated on (device_id, fix_time): within ``table`` the one received first is kept
    (a reconnect burst resends fixes), and a fix already stored is never replaced. Returns what was
    done; writing the same rows again adds nothing and rewrites no file.

    The work is vectorised (pyarrow and NumPy): device_id and mechanism are handled as dictionaries
    (:data:`STORED`; text given is encoded once), one sort of an integer key puts the rows in store
    order with the repeated fixes side by side, and each day is written with pyarrow's Parquet writer,
    a large day in parts on several threads (each thread gathers its own rows).

    ``receipt``: called with the fixes to be added (device_id, fix_time) before the commit point; the
    JSON-serialisable dict it returns, with ``txid``, ``rows``, ``added``, ``duplicates`` and ``days``
    added, is committed with the fixes (``<root>/.receipts/<txid>.json``, module docstring). If it
    raises, nothing is written.
    """
    root = Path(root)
    table = _conform_stored(table)
    if table.num_rows == 0:
        return WriteResult(0, 0, 0)
    timings: dict[str, float] = {}
    with _locked(root):
        t0 = time.perf_counter()
        ft = _micros(table[S.FIX_TIME], 0)
        new_days = {day_name(pd.Timestamp(int(d) * _DAY_US, unit="us")) for d in _distinct(ft // _DAY_US)}
        stored = sorted(new_days & set(list_days(root)))
        old_files = [f for d in stored for f in sorted((root / f"day={d}").glob("*.parquet"))]
        old = _read_stored(old_files)
        both = _conform_stored(pa.concat_tables([old, table])) if old.num_rows else table
        t1 = time.perf_counter()
        timings["read_stored"] = t1 - t0
        rows, day_no = _dedup_order(both, old.num_rows)
        is_new = rows >= old.num_rows
        added = int(is_new.sum())
        t2 = time.perf_counter()
        timings["order"] = t2 - t1
        if added == 0:
            return WriteResult(table.num_rows, 0, table.num_rows, timings_s=timings)
        touched_no = _distinct(day_no[is_new])
        touched = [day_name(pd.Timestamp(int(d) * _DAY_US, unit="us")) for d in touched_no]
        remove = [f for f in old_files if f.parent.name[4:] in set(touched)]
        txid, tx = _new_tx(root)
        # each day in one file, or in as many consecutive parts as there are CPUs for a large day,
        # gathered and written side by side (pyarrow's take and Parquet writer release the GIL), one
        # row group at a time: a part's rows are never all copied at once, and the buffers of one row
        # group are reused by the next (fresh memory costs a fresh process the kernel's zeroing)
        workers = max(1, min(os.cpu_count() or 1, 8))

        def write(part: tuple[Path, int, int]) -> None:
            path, a, b = part
            with pq.ParquetWriter(path, both.schema, compression="snappy",
                                  use_dictionary=list(DICTIONARY_COLUMNS), store_schema=False) as w:
                for c in range(a, b, _ROW_GROUP):
                    w.write_table(both.take(pa.array(rows[c:min(c + _ROW_GROUP, b)])),
                                  row_group_size=_ROW_GROUP)

        try:
            parts = []
            for d, name in zip(touched_no, touched, strict=True):
                lo, hi = np.searchsorted(day_no, [d, d + 1])
                n_parts = max(1, min(workers, (hi - lo) // _MIN_PART))
                bounds = np.linspace(lo, hi, n_parts + 1).astype(int)
                (tx / "new" / f"day={name}").mkdir(parents=True, exist_ok=True)
                parts += [(tx / "new" / f"day={name}" / f"part-{txid}-{i}.parquet", a, b)
                          for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))]
            with ThreadPoolExecutor(workers) as ex:
                list(ex.map(write, parts))
            new_fixes = both.select([S.DEVICE_ID, S.FIX_TIME]).take(pa.array(rows[is_new]))
            doc = None
            if receipt is not None:
                doc = dict(receipt(new_fixes)) | {"txid": txid, "rows": table.num_rows, "added": added,
                                                  "duplicates": table.num_rows - added, "days": touched}
                with open(tx / "receipt.json", "w") as fh:
                    json.dump(doc, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
            if _fail_before_commit:  # for the tests: a failure after staging, before the commit
                raise OSError("simulated failure before commit")
        except BaseException:
            _abandon(tx)
            raise
        t3 = time.perf_counter()
        timings["write"] = t3 - t2
        _commit(root, tx, remove, touched)
        timings["commit"] = time.perf_counter() - t3
    return WriteResult(table.num_rows, added, table.num_rows - added, touched, timings, new_fixes, txid, doc)


def pending_receipts(root: str | Path) -> list[dict]:
    """The receipts committed with writes and not yet cleared, oldest first (by file time)."""
    d = Path(root) / RECEIPTS
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name)):
        with contextlib.suppress(FileNotFoundError):
            out.append(json.loads(p.read_text()))
    return out


def clear_receipt(root: str | Path, txid: str) -> None:
    """Remove a receipt once it has been recorded elsewhere (no error if it is already gone)."""
    if not all(c in "0123456789abcdef" for c in txid) or not txid:
        raise ValueError(f"not a store transaction id: {txid!r}")
    with contextlib.suppress(FileNotFoundError):
        (Path(root) / RECEIPTS / f"{txid}.json").unlink()


def _keep_table(keep) -> pa.Table:
    if keep is None:
        return S.KEEP.empty_table()
    if isinstance(keep, pd.DataFrame):
        keep = pa.Table.from_pandas(keep, preserve_index=False)
    missing = [c for c in S.KEEP.names if c not in keep.column_names]
    if missing:
        raise ValueError(f"keep needs the columns {', '.join(S.KEEP.names)} (missing {', '.join(missing)})")
    keep = keep.select(S.KEEP.names)
    for c in (S.TIME_FROM, S.TIME_TO):
        if pa.types.is_timestamp(keep[c].type) and keep[c].type.tz is None:
            raise ValueError(f"keep column {c} has no time zone: give UTC times")
    return keep.cast(S.KEEP)


def purge(root: str | Path, before, keep=None) -> PurgeResult:
    """Delete the fixes with ``fix_time < before`` (UTC), except those inside a ``keep`` interval.

    ``keep``: a table (pyarrow or pandas) with columns device_id, time_from, time_to (UTC): the fixes
    of that device with ``time_from <= fix_time <= time_to`` are kept (those of a qualified match or
    a breach). Days whose rows all go are deleted; days that lose some rows are rewritten; all of it
    in one atomic commit. Running the same purge again deletes nothing.
    """
    root = Path(root)
    cut = utc(before, "before")
    keep = _keep_table(keep)
    last = day_name(cut - pd.Timedelta(microseconds=1))
    days = [d for d in list_days(root) if d <= last]
    if not days:
        return PurgeResult(0, 0)
    with _locked(root), contextlib.closing(_connect()) as con:
        days = [d for d in list_days(root) if d <= last]
        files = [f for d in days for f in sorted((root / f"day={d}").glob("*.parquet"))]
        con.register("keep_src", keep)
        con.execute(f"""
            CREATE TEMP TABLE rows AS
            SELECT {_COLS}, strftime(fix_time, '%Y-%m-%d') AS day,
                   fix_time >= ? AS recent,
                   EXISTS (SELECT 1 FROM keep_src k WHERE k.device_id = p.device_id
                           AND p.fix_time BETWEEN k.time_from AND k.time_to) AS held
            FROM {_files_sql(files)} p""", [cut.to_pydatetime()])
        stats = con.execute("""
            SELECT day, count(*) FILTER (WHERE NOT recent AND NOT held) AS gone,
                   count(*) FILTER (WHERE recent OR held) AS stay,
                   count(*) FILTER (WHERE held AND NOT recent) AS held
            FROM rows GROUP BY day ORDER BY day""").fetchall()
        changed = [(d, s) for d, g, s, _ in stats if g > 0]
        deleted = sum(g for _, g, _, _ in stats)
        held = sum(h for _, _, _, h in stats)
        if not changed:
            return PurgeResult(0, held)
        rewrite = [d for d, s in changed if s > 0]
        drop = [d for d, s in changed if s == 0]
        remove = [f for f in files if f.parent.name[4:] in {d for d, _ in changed}]
        txid, tx = _new_tx(root)
        if rewrite:
            marks = ", ".join("?" * len(rewrite))
            try:
                _stage(con, f"SELECT {_COLS}, day FROM rows WHERE (recent OR held) AND day IN ({marks}) "
                            "ORDER BY day, device_id, fix_time", rewrite, tx, txid)
            except BaseException:
                _abandon(tx)
                raise
        _commit(root, tx, remove, [d for d, _ in changed])
    return PurgeResult(int(deleted), int(held), rewrite, drop)


def stored_days(root: str | Path) -> list[date]:
    """The days the store holds, as dates."""
    return [date.fromisoformat(d) for d in list_days(root)]
