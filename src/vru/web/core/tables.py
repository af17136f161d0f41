"""GOV.UK tables: the column headings named once, the rows' cells in their order.

``core/table_head.html`` writes a table's scrolling region, its opening tag and its column headings;
``core/table.html`` the headings and the rows of a :func:`table`. A page's template keeps its own
caption and, where its cells need markup of their own (links by status, tags), its own rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column: its heading, the key of its value in a row, whether it holds numbers (right-aligned,
    GOV.UK's numeric cells) and whether it is the row's heading (``th scope="row"``, a link to the row's
    ``href`` when it has one)."""

    label: str
    key: str = ""
    numeric: bool = False
    header: bool = False


def columns(spec: str) -> list[Column]:
    """Headings-only columns from ``"Reference|Date|#Places"``: the labels between the ``|``, a ``#``
    before a label for a column of numbers."""
    return [Column(label.removeprefix("#"), numeric=label.startswith("#")) for label in spec.split("|")]


def table(cols: Iterable[Column], rows: Iterable[Mapping]) -> dict:
    """The context of ``core/table.html``: the columns, and each row's cells in their order (text,
    numeric, header and, for the header cell, the row's ``href``)."""
    cols = list(cols)
    return {"columns": cols,
            "rows": [[{"text": row[c.key], "numeric": c.numeric, "header": c.header,
                       "href": row.get("href") if c.header else None} for c in cols] for row in rows]}
