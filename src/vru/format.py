"""One formatter for the numbers, p-values, intervals, dates and plurals that people read.

Every report section, the dashboard, the CLI's text output and the analysis layer's messages use
these, so "1 treated area", "< 0.001" and "+3.2%" read the same everywhere. Missing values
(``None``, NaN, ``pd.NA``, infinities) are shown as an en dash, never as "nan".

The functions are also Jinja filters (:data:`FILTERS`) for the section templates in
``vru/outputs/templates/sections``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DASH = "–"  # what a missing value looks like
MINUS = "−"  # typographic minus, used where a sign is shown


def is_missing(x) -> bool:
    """True for None, NaN, NaT, ``pd.NA`` and infinities."""
    if x is None:
        return True
    try:
        import pandas as pd

        if x is pd.NA or x is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def integer(x) -> str:
    """A count with thousands separators: ``1,234``."""
    return DASH if is_missing(x) else f"{int(round(float(x))):,}"


def number(x, nd: int = 2, *, signed: bool = False) -> str:
    """A decimal with ``nd`` places (``signed``: always with a sign, ``+0.12``)."""
    if is_missing(x):
        return DASH
    return f"{float(x):+.{nd}f}" if signed else f"{float(x):.{nd}f}"


def change_pct(x, nd: int = 1) -> str:
    """A change already in percent, signed: ``+3.2%``."""
    return DASH if is_missing(x) else f"{float(x):+.{nd}f}%"


def percent(x, nd: int = 0) -> str:
    """A proportion (0-1) as a percentage: ``0.423`` -> ``42%``."""
    return DASH if is_missing(x) else f"{100 * float(x):.{nd}f}%"


def points(x) -> str:
    """A change of a proportion in percentage points, signed with a typographic minus: ``+3 pts``."""
    if is_missing(x):
        return DASH
    v = round(100 * float(x))
    return "0 pts" if v == 0 else f"{v:+d} pts".replace("-", MINUS)


def p_value(x, nd: int = 3, *, space: bool = True) -> str:
    """A p-value: ``< 0.001`` below 0.001 (``space=False``: ``<0.001``), else ``nd`` decimals."""
    if is_missing(x):
        return DASH
    if float(x) < 0.001:
        return "< 0.001" if space else "<0.001"
    return f"{float(x):.{nd}f}"


def interval(lo, hi, nd: int = 2, *, signed: bool = False) -> str:
    """An interval ``lo to hi`` as the report writes it: ``[−0.12, 0.34]``-style brackets are
    avoided; a missing bound gives a dash."""
    if is_missing(lo) or is_missing(hi):
        return DASH
    return f"{number(lo, nd, signed=signed)} to {number(hi, nd, signed=signed)}"


def percent_interval(lo, hi, nd: int = 0) -> str:
    """An interval of proportions as percentages: ``40–45%``."""
    if is_missing(lo) or is_missing(hi):
        return DASH
    return f"{100 * float(lo):.{nd}f}–{100 * float(hi):.{nd}f}%"


def month(ts, *, short: bool = False) -> str:
    """A month: ``July 2021`` (``short``: ``Jul 2021``)."""
    if is_missing(ts):
        return DASH
    return f"{ts:%b %Y}" if short else f"{ts:%B %Y}"


def month_range(lo, hi, *, short: bool = False) -> str:
    """Two months as a range: ``April 2022 – March 2023`` (``short``: ``Apr 2022 – Mar 2023``)."""
    return f"{month(lo, short=short)} – {month(hi, short=short)}"


def day(d) -> str:
    """A date: ``06 December 2026``."""
    return DASH if is_missing(d) else f"{d:%d %B %Y}"


def decimal(x, nd: int = 1) -> str:
    """A decimal with thousands separators and ``nd`` places: ``7,973.4``."""
    return DASH if is_missing(x) else f"{float(x):,.{nd}f}"


def significant(x, digits: int = 6) -> str:
    """A number to ``digits`` significant digits without trailing zeros: ``20.0`` -> ``20``,
    ``2.50`` -> ``2.5`` (a parameter as the user gave it)."""
    return DASH if is_missing(x) else f"{float(x):.{digits}g}"


def pounds(pence) -> str:
    """Whole pence as pounds and pence: ``90000000`` -> ``£900,000.00``."""
    if is_missing(pence):
        return DASH
    p = int(pence)
    return f"{'-' if p < 0 else ''}£{abs(p) // 100:,}.{abs(p) % 100:02d}"


def plural(n, word: str, words: str | None = None) -> str:
    """``n`` and the word in the right number: ``1 treated area``, ``3 treated areas``."""
    n = int(n)
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def join(items: Iterable, last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


#: The functions above as Jinja filters, by name.
FILTERS = {f.__name__: f for f in (integer, number, change_pct, percent, points, p_value, interval,
                                   percent_interval, month, month_range, day, plural, join,
                                   decimal, pounds, significant)}
