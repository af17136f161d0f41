"""Shared reading helpers for loaders: gzip-transparent text access, header sniffing, CSV reading
with file-line row numbers, and the common checks (empty file, missing/unknown columns)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from vru.errors import SourceError


def open_bytes(path: str | Path) -> io.BufferedIOBase:
    """Open a file for reading bytes, decompressing ``.gz`` transparently."""
    p = Path(path)
    if p.suffix == ".gz":
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return open(p, "rb")


def base_name(path: str | Path) -> str:
    """File name without a trailing ``.gz`` (what format detection looks at)."""
    name = Path(path).name
    return name[:-3] if name.endswith(".gz") else name


def head_lines(path: str | Path, n: int = 10, encoding: str = "utf-8-sig") -> list[str]:
    """The first ``n`` lines of a text file, without line endings (CRLF or LF).

    [] if the file is empty, or is not text (binary content such as a zip or xlsx), or cannot be
    read: sniffers call this on every file and must never fail.
    """
    out: list[str] = []
    try:
        with open_bytes(path) as f:
            first = f.read(4096)
            if not first or b"\x00" in first or first[:2] == b"PK":  # empty, binary, zip/xlsx
                return []
            f.seek(0)
            for raw in f:
                out.append(raw.decode(encoding, errors="replace").rstrip("\r\n"))
                if len(out) >= n:
                    break
    except (OSError, EOFError):
        return []
    return out


def header_fields(path: str | Path, encoding: str = "utf-8-sig") -> list[str]:
    """Fields of the first line, parsed as CSV. [] for an empty file."""
    lines = head_lines(path, 1, encoding)
    if not lines:
        return []
    try:
        return next(csv.reader([lines[0]]))
    except csv.Error:
        return []


def csv_header_fields(path: str | Path) -> list[str]:
    """:func:`header_fields` of a file named ``*.csv`` (or ``*.csv.gz``, any case); [] for any other
    name or a file that cannot be read: what the CSV formats' sniffers test."""
    if not base_name(path).lower().endswith(".csv"):
        return []
    try:
        return header_fields(path)
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return []


def require_nonempty(path: str | Path) -> None:
    with open_bytes(path) as f:
        if not f.read(1):
            raise SourceError(path, "file is empty")


def read_csv_strings(path: str | Path, *, skiprows: int = 0, nrows: int | None = None,
                     encoding: str = "utf-8-sig", decimal: str = ".") -> pd.DataFrame:
    """Read a CSV with every value as a string (no type guessing), CRLF or LF, gzip or not.

    Row ``i`` of the result (0-based) is file line ``i + 2 + skiprows`` (header on line
    ``1 + skiprows``); :func:`line_of` does that arithmetic. Rows with more fields than the header
    raise a SourceError naming the line; rows with fewer fields get empty strings (under
    pandas 3 with ``keep_default_na=False``), so callers treat an empty required value as a
    truncated row.
    """
    require_nonempty(path)
    try:
        with open_bytes(path) as f:
            df = pd.read_csv(
                f, dtype=str, keep_default_na=False, na_values=[], skiprows=skiprows,
                nrows=nrows, encoding=encoding, skip_blank_lines=False, decimal=decimal,
            )
    except pd.errors.ParserError as e:
        raise SourceError(path, f"cannot parse as CSV: {e}") from None
    except UnicodeDecodeError as e:
        raise SourceError(path, f"not UTF-8 text: {e}") from None
    except (EOFError, gzip.BadGzipFile, OSError) as e:
        raise SourceError(path, f"cannot read file (truncated or corrupt?): {e}") from None
    return df


def line_of(index: int, skiprows: int = 0) -> int:
    """File line number of 0-based data row ``index`` (header line = 1 + skiprows)."""
    return int(index) + 2 + skiprows


def check_columns(path: str | Path, columns: Iterable[str], required: Iterable[str],
                  optional: Iterable[str] = (), *, allow_extra_pattern=None,
                  header_line: int = 1) -> None:
    """Refuse a header with a missing required column or a column we do not know."""
    cols = list(columns)
    req, opt = list(required), set(optional)
    for c in req:
        if c not in cols:
            raise SourceError(path, f"missing required column {c!r}; header is {cols}",
                              row=header_line, column=c)
    for c in cols:
        if c in req or c in opt:
            continue
        if allow_extra_pattern is not None and allow_extra_pattern(c):
            continue
        raise SourceError(path, f"unknown column {c!r} (not in any known vintage of this format)",
                          row=header_line, column=c)


def first_bad(mask: pd.Series) -> int | None:
    """0-based position of the first True in a boolean Series, or None."""
    import numpy as np

    idx = np.flatnonzero(mask.to_numpy())
    return int(idx[0]) if len(idx) else None


def require_header(path: str | Path) -> list[str]:
    """Header fields of a CSV; an absent, empty, unreadable or header-less file is a SourceError."""
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "no such file")
    fields = header_fields(p)  # [] for an empty, binary or unreadable file: find out which
    if not fields:
        try:
            with open_bytes(p) as f:
                data = f.read()
        except (EOFError, OSError) as e:
            raise SourceError(p, f"cannot read file (truncated or corrupt?): {e}") from None
        raise SourceError(p, "file is empty" if not data.strip() else "no CSV header line")
    return fields


def fail_first(path, mask, lines, column: str, values, message: str) -> None:
    """Raise a SourceError for the first row where ``mask`` is True, naming its file line
    (``lines[i]``), the column and the offending value (as Python writes it: ``2.5``, not
    ``np.float64(2.5)``)."""
    import numpy as np

    m = np.asarray(mask, dtype=bool)
    if m.any():
        i = int(np.flatnonzero(m)[0])
        raise SourceError(path, f"{message} (value {np.asarray(values, dtype=object)[i]!r})",
                          row=int(lines[i]), column=column)


def fail_first_cell(path, df: pd.DataFrame, cols: list[str], masks: list,
                    bad_value: Callable[[str], str]) -> None:
    """Raise a SourceError for the first bad cell in file order (row by row, then column by
    column), given one boolean mask over the rows of ``df`` for each column of ``cols``: a missing
    field (NaN: the row is shorter than the header) or a blank value says so, any other value
    gets ``bad_value(value)``. The row is the file line of a CSV read with a one-line header
    (:func:`line_of`)."""
    import numpy as np

    bad = np.column_stack(masks)
    rows = np.flatnonzero(bad.any(axis=1))
    if not len(rows):
        return
    i = int(rows[0])
    col = cols[int(np.flatnonzero(bad[i])[0])]
    value = df[col].iloc[i]
    if pd.isna(value):
        why = "row has fewer fields than the header (truncated file?)"
    elif value.strip() == "":
        why = "empty or missing value (row shorter than the header: truncated file?)"
    else:
        why = bad_value(value)
    raise SourceError(path, why, row=line_of(i), column=col)
