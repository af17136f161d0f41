"""The tables harm weighting weighs with, as one object: read by :mod:`vru.data.harm_tables`, passed to
:mod:`vru.analysis.harm`.

- :class:`HarmTables`: the Home Office offence -> harmonised leaf mapping, each leaf's representative
  offence, the ONS Crime Severity Score table and London's offences per leaf in one year (the volumes
  that weight a parent category's leaves). :func:`vru.data.harm_tables.bundled` gives the bundled ones.
- :class:`ChiTable`: a Cambridge Crime Harm Index table, keyed by harmonised category or by Home Office
  offence code (:func:`vru.data.harm_tables.load_chi` reads and validates one).

Pure: the objects hold data and check its shape; nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

#: The aggregate "Homicide" row of the CSS table: it repeats its parts, so it is left out.
AGGREGATE_ROW = "1/4.1/4.10/4.2"
#: The columns of :attr:`HarmTables.css`.
CSS_COLUMNS = ("code", "offence", "group", "weight")
#: What a CHI table may be keyed by.
CHI_KEYS = ("category", "offence_code")


@dataclass(frozen=True, eq=False)
class HarmTables:
    """The data of the CSS weights and of the parents' volume weighting.

    ``offences``: Home Office offence code -> harmonised leaf. ``representatives``: leaf -> (offence code
    whose weight stands for the leaf, why); ``None`` for the median of the leaf's offences. ``css``: the CSS
    table, one row per offence (``code``, ``offence``, ``group``, ``weight``; the aggregate homicide row
    :data:`AGGREGATE_ROW` may be in it and is left out). ``volumes``: offences per leaf in
    ``volume_year`` (by default London's, MPS), the weights of a parent's leaves.
    """

    offences: Mapping[str, str]
    representatives: Mapping[str, tuple[str | None, str]]
    css: pd.DataFrame
    volumes: pd.Series
    volume_year: int

    def __post_init__(self) -> None:
        missing = [c for c in CSS_COLUMNS if c not in self.css.columns]
        if missing:
            raise ValueError(f"the CSS table has no {', '.join(map(repr, missing))} column")
        if not isinstance(self.volumes, pd.Series):
            raise TypeError(f"volumes must be a pandas Series, not {type(self.volumes).__name__}")


@dataclass(frozen=True, eq=False)
class ChiTable:
    """A Cambridge Crime Harm Index table: ``table`` has ``key`` (a harmonised category code when ``key_kind``
    is ``"category"``, a Home Office offence code when it is ``"offence_code"``) and ``days`` (the CHI
    value). ``source``: where it came from (a file), when known."""

    key_kind: str
    table: pd.DataFrame
    source: str | None = None

    def __post_init__(self) -> None:
        if self.key_kind not in CHI_KEYS:
            raise ValueError(f"a CHI table is keyed by one of {', '.join(CHI_KEYS)}, not {self.key_kind!r}")
        missing = [c for c in ("key", "days") if c not in self.table.columns]
        if missing:
            raise ValueError(f"the CHI table has no {', '.join(map(repr, missing))} column")


__all__ = ["AGGREGATE_ROW", "CHI_KEYS", "CSS_COLUMNS", "ChiTable", "HarmTables"]
