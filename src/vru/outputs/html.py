"""Building blocks of HTML outputs: sections, accessible tables and figures (numbers are formatted by
:mod:`vru.format`).

Used by the report and by every presenter of a section (``vru.outputs.sections.*``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Section:
    id: str
    title: str
    body: str  # trusted HTML assembled by the section builder (values escaped with esc())
    figures: list[str] = field(default_factory=list)


def esc(x) -> str:
    return html.escape(str(x))


def table(df: pd.DataFrame, caption: str, *, numeric: set[str] | None = None) -> str:
    """An accessible HTML table (caption, scoped headers), horizontally scrollable on phones.

    The first column is the row header. ``numeric`` columns are right-aligned (default: all but
    the first).
    """
    numeric = set(df.columns[1:]) if numeric is None else numeric
    head = "".join(
        f'<th scope="col"{" class=num" if c in numeric else ""}>{esc(c)}</th>' for c in df.columns
    )
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for i, (c, v) in enumerate(zip(df.columns, rec, strict=True)):
            cls = " class=num" if c in numeric else ""
            if i == 0:
                cells.append(f"<th scope=row{cls}>{esc(v)}</th>")
            else:
                cells.append(f"<td{cls}>{esc(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap" tabindex="0" role="region" aria-label="{esc(caption)}">'
        f"<table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def figure(svg: str, caption: str) -> str:
    """A chart (inline SVG from vru.outputs.charts) with its caption."""
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"
