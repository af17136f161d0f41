"""How the overlapping crime sources agree, and what every loaded source is: publisher, licence,
attribution, coverage and caveats (from :mod:`vru.sources.catalogue`).

The numbers behind the needs assessment's reconciliation and data-sources sections
(:mod:`vru.outputs.sections.sources`): London violence against the person per calendar year in the
two borough releases and the LSOA annual aggregation, and the ward series against the borough one
over the months both cover.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from vru import taxonomy
from vru.pipelines.base import Params, ParamsError, check_year
from vru.plain import jsonable
from vru.sources import catalogue
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

VAP = taxonomy.VIOLENCE_AGAINST_THE_PERSON
#: The borough releases compared, in the order of the reconciliation table.
BOROUGH_SOURCES = (catalogue.MPS_BOROUGH_COARSE, catalogue.MPS_BOROUGH_DETAILED)
LSOA_ANNUAL = catalogue.MPS_LSOA_ANNUAL_MILLINGTON
WARD = catalogue.MPS_WARD_DETAILED
#: The borough release the ward series is compared with.
WARD_BOROUGH = catalogue.MPS_BOROUGH_DETAILED
#: The note that a loaded file publishes a series under successive names (written at ingest).
RENAMED = "series renamed"


@dataclass(frozen=True)
class SourcesParams(Params):
    """``first_year``, ``last_year``: the calendar years of the reconciliation table (whole years in
    every source: the borough files start in April 2010 and end in November 2023)."""

    first_year: int = 2011
    last_year: int = 2022

    def __post_init__(self) -> None:
        for name in ("first_year", "last_year"):
            object.__setattr__(self, name, check_year(name, getattr(self, name), 2011))
        if self.last_year < self.first_year:
            raise ParamsError(f"last_year: {self.last_year} is before first_year {self.first_year}")


@dataclass(frozen=True)
class WardCheck:
    """Violence against the person summed over wards (``ward_total``) and over boroughs
    (``borough_total``) in the months ``first`` to ``last`` that the ward series covers."""

    first: pd.Timestamp
    last: pd.Timestamp
    ward_total: int
    borough_total: int

    @property
    def change_pct(self) -> float:
        """How far the ward sum is from the borough sum, in percent of the borough sum."""
        if not self.borough_total:
            return math.nan
        return 100.0 * (self.ward_total - self.borough_total) / self.borough_total

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], jsonable({
            "first": self.first, "last": self.last, "ward_total": self.ward_total,
            "borough_total": self.borough_total, "change_pct": self.change_pct}))


@dataclass(frozen=True)
class SourceEntry:
    """A catalogue entry with data in the warehouse: ``info``, its metadata, the number of ``files``
    loaded, and ``renamed``: (file name, note) for each series a loaded file publishes under
    successive names."""

    info: catalogue.SourceInfo
    files: int
    renamed: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The metadata (all but the bundled folder), ``files`` and ``renamed``."""
        info = {k: v for k, v in dataclasses.asdict(self.info).items() if k != "bundled"}
        return cast(dict[str, Any], jsonable(info | {"files": self.files, "renamed": self.renamed}))


@dataclass(frozen=True)
class SourcesResult:
    """``annual``: London violence against the person by source (index: source key, of
    :data:`BOROUGH_SOURCES` and :data:`LSOA_ANNUAL`, those loaded) and calendar year (columns,
    ``first_year`` to ``last_year``); NaN where a source has no figure or a known-wrong one.
    ``ward``: :class:`WardCheck` (None without ward data). ``catalogue``: the loaded sources, in
    catalogue order. ``left_out``: (section, why) for each section of the report left out for
    want of data (filled in by the report)."""

    params: SourcesParams
    annual: pd.DataFrame
    ward: WardCheck | None
    catalogue: tuple[SourceEntry, ...]
    left_out: tuple[tuple[str, str], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        annual = self.annual.copy()
        annual.columns = [str(c) for c in annual.columns]
        return cast(dict[str, Any], jsonable({
            "params": self.params, "annual": annual.rename_axis("source").reset_index(),
            "ward": self.ward, "catalogue": self.catalogue,
            "left_out": [{"section": s, "reason": r} for s, r in self.left_out]}))


def run(wh: Warehouse, params: SourcesParams | None = None) -> SourcesResult:
    """The reconciliation of the crime sources and the catalogue of what the warehouse holds."""
    p = params or SourcesParams()
    return SourcesResult(p, _annual(wh, p), _ward(wh), _catalogue(wh))


def _annual(wh: Warehouse, p: SourcesParams) -> pd.DataFrame:
    rows: dict[str, pd.Series] = {}
    for src in BOROUGH_SOURCES:
        s = q.crime_series(wh, source=src, level="borough", category=VAP)
        if not s.empty:
            rows[src] = s.assign(year=s["month"].dt.year).groupby("year")["count"].sum()
    a = q.crime_annual(wh, source=LSOA_ANNUAL, level="lsoa", category=VAP)
    if not a.empty:
        rows[LSOA_ANNUAL] = a.groupby("year")["count"].sum(min_count=1)
    years = list(range(p.first_year, p.last_year + 1))
    t = pd.DataFrame({src: y.reindex(years).astype(float) for src, y in rows.items()}).T
    return t.reindex(columns=years).rename_axis("source")


def _ward(wh: Warehouse) -> WardCheck | None:
    w = q.crime_series(wh, source=WARD, level="ward", category=VAP)
    if w.empty:
        return None
    b = q.crime_series(wh, source=WARD_BOROUGH, level="borough", category=VAP)
    lo, hi = w["month"].min(), w["month"].max()
    bsum = int(b[(b["month"] >= lo) & (b["month"] <= hi)]["count"].sum())
    return WardCheck(lo, hi, int(w["count"].sum()), bsum)


def _catalogue(wh: Warehouse) -> tuple[SourceEntry, ...]:
    loaded = q.sources(wh)
    out = []
    for s in catalogue.CATALOGUE:
        n = loaded[loaded["source"].str.startswith(s.key)]
        if n.empty:
            continue
        renamed = tuple(
            (Path(str(path)).name, note)
            for path, notes in zip(n["path"], n["notes"], strict=True)
            for note in str(notes or "").split("\n") if note.startswith(RENAMED))
        out.append(SourceEntry(s, len(n), renamed))
    return tuple(out)
