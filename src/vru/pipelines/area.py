"""One 2011 LSOA at a glance: its name and borough, its annual offences with the rate per 1,000
residents, and its deprivation (IMD 2019 score, rank and decile).

The numbers behind the dashboard's area page (:mod:`vru.web.dashboard`). The offences are the annual
LSOA series of the needs assessment's LSOA map and the rates use the same residents (the defaults
are :class:`vru.pipelines.london.LondonParams`'s ``lsoa_source`` and ``pop_year``), computed with
:func:`vru.analysis.needs.rate_per_1000`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from vru import taxonomy
from vru.analysis import needs
from vru.errors import VRUError
from vru.pipelines.base import (
    MissingData,
    Params,
    ParamsError,
    check_category,
    check_source,
    check_year,
    jsonable,
)
from vru.pipelines.london import LondonParams
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

#: A 2011 LSOA code (England or Wales).
LSOA_CODE = re.compile(r"^[EW]01[0-9]{6}$")
#: The deprivation measures of the result (IoD 2019, LSOA level).
IMD_MEASURES = ("imd_score", "imd_rank", "imd_decile")


class UnknownArea(VRUError, LookupError):
    """The warehouse has 2011 LSOAs, but not the one asked for."""


@dataclass(frozen=True)
class AreaParams(Params):
    """``code``: the 2011 LSOA (required). ``category``: the crime category counted each year;
    ``lsoa_source``: the annual LSOA crime series (a catalogue key); ``pop_year``: the ONS mid-year
    estimate of the residents."""

    code: str
    category: str = taxonomy.VIOLENCE_AGAINST_THE_PERSON
    lsoa_source: str = LondonParams.lsoa_source
    pop_year: int = LondonParams.pop_year

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not LSOA_CODE.match(self.code):
            raise ParamsError(f"code: a 2011 LSOA code such as E01003968, not {self.code!r}")
        check_category("category", self.category)
        check_source("lsoa_source", self.lsoa_source)
        object.__setattr__(self, "pop_year", check_year("pop_year", self.pop_year))

    @classmethod
    def of(cls, params: AreaParams | None = None, /, **overrides: Any) -> AreaParams:
        """As :meth:`vru.pipelines.base.Params.of`; without ``params``, ``code`` must be given (there
        is no default LSOA)."""
        if params is None:
            if overrides.get("code") is None:
                raise ParamsError("code: name the LSOA, a 2011 LSOA code such as E01003968")
            params = cls(code=overrides.pop("code"))
        return super().of(params, **overrides)


@dataclass(frozen=True)
class AreaResult:
    """``name`` and ``borough`` (GSS code) of the LSOA; ``population``: its residents in
    ``params.pop_year`` (None when the estimates lack it); ``series``: one row a year of the crime
    source (``year``, ``count``, ``rate_per_1000``; a year the source marks as missing has no count
    and no rate); ``deprivation``: each of :data:`IMD_MEASURES` (None when not loaded)."""

    params: AreaParams
    name: str
    borough: str
    population: int | None
    series: pd.DataFrame
    deprivation: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], jsonable({
            "params": self.params, "code": self.params.code, "name": self.name,
            "borough": self.borough, "population": self.population, "series": self.series,
            **self.deprivation}))


def run(wh: Warehouse, params: AreaParams) -> AreaResult:
    """The figures of the LSOA ``params.code``. Raises :class:`UnknownArea` when the warehouse has no
    such LSOA, :class:`MissingData` when it has no 2011 LSOAs at all."""
    p = params
    a = wh.sql("SELECT code, name, parent_code FROM areas WHERE level = 'lsoa' AND vintage = '2011' "
               "AND code = ?", [p.code])
    if a.empty:
        n = wh.sql("SELECT count(*) AS n FROM areas WHERE level = 'lsoa' AND vintage = '2011'")["n"]
        if n.iloc[0] == 0:
            raise MissingData("the warehouse has no 2011 LSOAs: build it with `vru init`")
        raise UnknownArea(f"no 2011 LSOA {p.code!r} in the warehouse")
    annual = q.crime_annual(wh, source=p.lsoa_source, level="lsoa", category=p.category)
    counts = annual[annual["area_code"] == p.code].set_index("year")["count"]
    pop = q.population(wh, level="lsoa", year=p.pop_year).set_index("area_code")["population"]
    population = pop.get(p.code)
    rows = []
    for year, count in counts.items():
        rate = needs.rate_per_1000(pd.Series({p.code: count}), pop).iloc[0]
        rows.append({"year": int(year), "count": None if pd.isna(count) else int(count),
                     "rate_per_1000": None if pd.isna(rate) else float(rate)})
    series = pd.DataFrame(rows, columns=["year", "count", "rate_per_1000"]).astype(
        {"year": "int64", "count": "Int64", "rate_per_1000": "float64"})
    deprivation: dict[str, float | None] = {}
    for m in IMD_MEASURES:
        d = q.deprivation(wh, level="lsoa", measure=m)
        v = d.loc[d["area_code"] == p.code, "value"]
        deprivation[m] = None if v.empty else float(v.iloc[0])
    return AreaResult(p, str(a["name"].iloc[0]), str(a["parent_code"].iloc[0]),
                      None if population is None or pd.isna(population) else int(population),
                      series, deprivation)
