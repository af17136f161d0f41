"""ONS model-based unemployment rate by local authority, as exported raw from Nomis.

Source: Office for National Statistics, "model-based estimates of unemployment" (Annual Population
Survey based, modelled for local authorities), downloaded from Nomis (www.nomisweb.co.uk); Open
Government Licence. See ``data/bundled/unemployment_borough/SOURCE.md``.

The file is Nomis's raw CSV export, not a tidy table::

    line 1      (empty)
    lines 2-6   metadata: title, copyright, "Analysis   :", "Item Name  :", "Confidence :"
    line 7      (empty)
    line 8      header: "Area", then pairs "Jan YYYY-Dec YYYY" (rate, %) and "Conf" (+/- points)
    line 9      (empty)
    lines 10-43 one row per area: "ladu2023:<borough name>" ... "gor:London"
    then        an empty line and footnotes ("-" = "These figures are missing.")

The layout is found, not assumed: the header is the first line whose first field is ``Area``; the
item must be "Unemployment rate (model based)" and the confidence column a "95% confidence interval
(+/-)" (anything else is refused); the table ends at the first empty line after its rows, and a
file that ends before that line is refused as truncated. Periods are any ``Mon YYYY-Mon YYYY``
span (``Jan 2019-Dec 2019`` -> period 2019-01-01, period_months 12).

Output: ``unemployment`` rows, source ``ons_model_unemployment``, measures
``unemployment_rate_model`` (%) and ``unemployment_rate_model_ci95`` (half-width of the 95%
confidence interval, percentage points). Areas: ``ladu2023:<name>`` (any ``lad``/``ladu`` prefix)
-> level ``borough`` via :func:`vru.geography.borough_code`; ``gor:London`` -> level ``region``,
E12000007. Values written ``-`` (missing: every year for City of London) produce no row; the count
is reported in the batch notes. Errors name the real file line (line 1 is the file's first line).
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pandas as pd

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, LONDON_CODE, borough_code
from vru.schema import Batch, conform
from vru.sources import catalogue
from vru.sources._io import base_name, head_lines, open_bytes

SOURCE = catalogue.ONS_MODEL_UNEMPLOYMENT
ITEM = "Unemployment rate (model based)"
CONFIDENCE = "95% confidence interval (+/-)"
RATE, CI = "unemployment_rate_model", "unemployment_rate_model_ci95"
MISSING = "-"

_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_PERIOD = re.compile(r"([A-Z][a-z]{2}) (\d{4})-([A-Z][a-z]{2}) (\d{4})")
_AREA = re.compile(r"(?:(?P<type>[a-z]+\d*):)?(?P<name>.+)")


def sniff(path: str | Path) -> bool:
    """A Nomis CSV export of the model-based unemployment rate (metadata lines name the item)."""
    if not base_name(path).lower().endswith(".csv"):
        return False
    try:
        head = head_lines(path, 12)
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return False
    text = "\n".join(head)
    return "from Nomis" in text and "model-based estimates of unemployment" in text


def _lines(p: Path) -> list[str]:
    try:
        with open_bytes(p) as f:
            data = f.read()
    except (EOFError, gzip.BadGzipFile, OSError) as e:
        raise SourceError(p, f"cannot read file (truncated or corrupt?): {e}") from None
    if not data:
        raise SourceError(p, "file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(p, f"not UTF-8 text: {e}") from None
    return text.splitlines()


def _fields(p: Path, line: str, lineno: int) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error as e:
        raise SourceError(p, f"cannot parse as CSV: {e}", row=lineno) from None


def _period(p: Path, label: str, lineno: int) -> tuple[pd.Timestamp, int]:
    m = _PERIOD.fullmatch(label.strip())
    if not m or m.group(1) not in _MONTHS or m.group(3) not in _MONTHS:
        raise SourceError(p, f"unknown column {label!r}: expected a period like "
                          "'Jan 2019-Dec 2019' or 'Conf'", row=lineno, column=label)
    y0, m0, y1, m1 = int(m.group(2)), _MONTHS[m.group(1)], int(m.group(4)), _MONTHS[m.group(3)]
    months = (y1 - y0) * 12 + (m1 - m0) + 1
    if months < 1:
        raise SourceError(p, f"period ends before it starts: {label!r}", row=lineno, column=label)
    return pd.Timestamp(year=y0, month=m0, day=1), months


def _area(p: Path, label: str, lineno: int) -> tuple[str, str]:
    m = _AREA.fullmatch(label.strip())
    kind, name = (m.group("type") or ""), m.group("name").strip()
    if kind == "gor" or (not kind and name.lower() == "london"):
        if name.lower() == "london":
            return "region", LONDON_CODE
        raise SourceError(p, f"unknown region {label!r} (only London is known)", row=lineno,
                          column="Area")
    if kind and not kind.startswith("la"):
        raise SourceError(p, f"unknown Nomis geography type {kind!r} in {label!r}", row=lineno,
                          column="Area")
    code = borough_code(name)
    if code not in BOROUGHS:
        raise SourceError(p, f"unknown borough {label!r}", row=lineno, column="Area")
    return "borough", code


def load(path: str | Path) -> Batch:
    """Read and validate the whole export; see the module docstring for the layout."""
    p = Path(path)
    lines = _lines(p)

    header_at = None
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        f = _fields(p, line, i + 1) if line.strip() else []
        if f and f[0].strip() == "Area":
            header_at = i
            break
        if len(f) >= 2 and f[0].strip().endswith(":"):
            meta[f[0].strip().rstrip(":").strip().lower()] = f[1].strip()
    if header_at is None:
        raise SourceError(p, "no header line starting with 'Area' (not a Nomis table export?)")
    hline = header_at + 1
    item = meta.get("item name")
    if item != ITEM:
        raise SourceError(p, f"unknown Nomis item {item!r}: this loader reads {ITEM!r} only")
    header = _fields(p, lines[header_at], hline)

    # header: Area, then (period, Conf) pairs
    columns: list[tuple[str, pd.Timestamp, int, str]] = []  # (measure, period, months, label)
    last = None
    for label in header[1:]:
        if label.strip() == "Conf":
            if last is None:
                raise SourceError(p, "'Conf' column without a period before it", row=hline,
                                  column=label)
            if meta.get("confidence") != CONFIDENCE:
                raise SourceError(p, f"unknown confidence measure {meta.get('confidence')!r} "
                                  f"(expected {CONFIDENCE!r})")
            columns.append((CI, last[0], last[1], f"Conf ({last[2]})"))
            last = None
            continue
        start, months = _period(p, label, hline)
        if any(c[1] == start and c[2] == months and c[0] == RATE for c in columns):
            raise SourceError(p, f"duplicate period column {label!r}", row=hline, column=label)
        columns.append((RATE, start, months, label))
        last = (start, months, label.strip())
    if not columns:
        raise SourceError(p, "header has no period columns", row=hline)

    records: list[tuple[str, str, pd.Timestamp, int, str, float]] = []
    seen: dict[str, int] = {}
    missing = 0
    i = header_at + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise SourceError(p, "no data rows after the header (file truncated?)", row=hline)
    ended = False
    while i < len(lines):
        lineno = i + 1
        if not lines[i].strip():
            ended = True
            break
        f = _fields(p, lines[i], lineno)
        if len(f) != len(header):
            raise SourceError(p, f"row has {len(f)} fields, the header has {len(header)} "
                              "(truncated or shifted row?)", row=lineno)
        level, code = _area(p, f[0], lineno)
        if code in seen:
            raise SourceError(p, f"area {f[0]!r} repeats line {seen[code]}", row=lineno,
                              column="Area")
        seen[code] = lineno
        for (measure, start, months, label), raw in zip(columns, f[1:], strict=True):
            s = raw.strip()
            if s == MISSING:
                missing += 1
                continue
            try:
                v = float(s)
            except ValueError:
                raise SourceError(p, f"not a number or '-': {raw!r}", row=lineno,
                                  column=label) from None
            if measure == RATE and not 0 <= v <= 100:
                raise SourceError(p, f"rate out of range 0-100: {v}", row=lineno, column=label)
            if measure == CI and not v >= 0:
                raise SourceError(p, f"negative confidence interval: {v}", row=lineno,
                                  column=label)
            records.append((level, code, start, months, measure, v))
        i += 1
    if not ended:
        raise SourceError(p, "the table does not end with an empty line (file truncated?)",
                          row=len(lines))

    df = pd.DataFrame(records, columns=["level", "area_code", "period", "period_months",
                                        "measure", "value"])
    df.insert(0, "source", SOURCE)
    df = conform("unemployment", df)
    notes = [f"{len(seen)} areas x {sum(c[0] == RATE for c in columns)} periods; "
             f"{missing} values written '-' (missing) skipped"]
    return Batch(path=str(p), source=SOURCE, tables={"unemployment": df}, notes=notes)
