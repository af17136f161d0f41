"""Trust and confidence in the police (MOPAC Public Attitude Survey): the data and the method.

From the warehouse: the PAS borough measures (``survey`` rows of source ``mopac_pas``), serious
violence per 1,000 residents and IMD 2019 by borough, and respondent-level survey answers where a
unit has loaded them (table ``survey_responses``). The statistics are in
:mod:`vru.analysis.confidence` (borough figures) and :mod:`vru.analysis.survey_weights` with
:mod:`vru.analysis.disclosure` (microdata); methods in ``docs/methods-confidence.md``.

:func:`run` returns a :class:`ConfidenceResult`, whose section of the report is
:func:`vru.outputs.sections.confidence.present`. ``vru confidence`` (and :func:`vru.api.confidence`)
calls :func:`borough_table` (one measure by borough) or, for a respondent-level file,
:func:`group_table` (weighted shares by group, small cells suppressed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vru.analysis import confidence as c
from vru.analysis import disclosure
from vru.analysis import survey_weights as sw
from vru.analysis.disclosure import DEFAULT_MIN_N
from vru.geography import BOROUGHS, MPS_BOROUGHS
from vru.geography.boroughs import LONDON_CODE
from vru.pipelines.base import MissingData, Params, ParamsError
from vru.plain import jsonable
from vru.sources import catalogue, pas_microdata
from vru.taxonomy import SERIOUS_VIOLENCE
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

SOURCE = catalogue.MOPAC_PAS
CRIME_SOURCE = catalogue.MPS_BOROUGH_DETAILED
#: The PAS measures, in the order of :data:`vru.analysis.confidence.MEASURE_LABELS`.
MEASURES = tuple(c.MEASURE_LABELS)
#: The columns respondent-level answers may be grouped by.
GROUPINGS = ("ethnicity", "sex", "age_band", "area_code")
#: Documented categories of the grouping columns (the microdata file format): every one is listed.
CATEGORIES = {"ethnicity": pas_microdata.ETHNICITY, "sex": pas_microdata.SEX,
              "age_band": pas_microdata.AGE_BANDS, "area_code": tuple(BOROUGHS)}
#: Gaps shown from microdata: (grouping column, group a, group b).
GAPS = (("ethnicity", "Black", "White"), ("ethnicity", "Mixed", "White"),
        ("ethnicity", "Asian", "White"), ("sex", "Female", "Male"), ("age_band", "16-24", "65+"))
#: The group tables of the report's respondent-level part, protected together for each measure.
GROUP_TABLES = ("ethnicity", "sex", "age_band")
#: The measure whose borough values the scatter plots of the relationships part show.
SCATTER_MEASURE = "good_job_local"
NO_PAS = "the warehouse holds no MOPAC PAS data: run `vru init` or ingest the file"


# -- parameters ----------------------------------------------------------------------------------

def _measure(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in c.MEASURE_LABELS:
        raise ParamsError(f"{name}: {value!r} is not a PAS measure: one of {', '.join(MEASURES)}")
    return str(value)


@dataclass(frozen=True)
class ConfidenceParams(Params):
    """The choices of the trust-and-confidence pipeline.

    ``assumptions``: the base sizes and design the significance tests assume (the published borough
    figures give shares only). ``measures``: the measures of the report's borough blocks and group
    tables, in order (a comma-separated string is split). ``min_n``: groups with fewer respondents
    are suppressed. ``measure``, ``as_of`` (a quarter end; default the latest), ``by`` (one or two of
    :data:`GROUPINGS`, or a comma-separated string) and ``dont_know_in_base``: the one table of
    :func:`borough_table` and :func:`group_table`.
    """

    assumptions: c.Assumptions = c.Assumptions()
    measures: tuple[str, ...] = c.HEADLINE
    min_n: int = DEFAULT_MIN_N
    measure: str = "good_job_local"
    as_of: pd.Timestamp | None = None
    by: tuple[str, ...] = ("ethnicity",)
    dont_know_in_base: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.assumptions, c.Assumptions):
            raise ParamsError(f"assumptions: expected vru.analysis.confidence.Assumptions, "
                              f"got {type(self.assumptions).__name__}")
        measures = self.measures
        if isinstance(measures, str):
            measures = tuple(m.strip() for m in measures.split(",") if m.strip())
        if not isinstance(measures, list | tuple) or not measures:
            raise ParamsError(f"measures: expected one or more PAS measures, got {self.measures!r}")
        object.__setattr__(self, "measures", tuple(_measure("measures", m) for m in measures))
        _measure("measure", self.measure)
        if isinstance(self.min_n, bool) or not isinstance(self.min_n, int | np.integer) or self.min_n < 1:
            raise ParamsError(f"min_n: expected a whole number of respondents, at least 1, "
                              f"got {self.min_n!r}")
        object.__setattr__(self, "min_n", int(self.min_n))
        if self.as_of is not None:
            try:
                if isinstance(self.as_of, bool | int | float | np.number):
                    raise TypeError("a number is not a date")
                t = pd.Timestamp(self.as_of)
            except (TypeError, ValueError):
                t = pd.NaT
            if pd.isna(t):
                raise ParamsError(f"as_of: expected a quarter end date (YYYY-MM-DD), got {self.as_of!r}")
            object.__setattr__(self, "as_of", t.normalize())
        by = self.by
        if isinstance(by, str):
            by = tuple(b.strip() for b in by.split(","))
        if not isinstance(by, list | tuple) or not 1 <= len(by) <= 2:
            raise ParamsError(f"by: expected one or two of {', '.join(GROUPINGS)}, got {self.by!r}")
        for b in by:
            if b not in GROUPINGS:
                raise ParamsError(f"by: {b!r} is not a grouping: one or two of {', '.join(GROUPINGS)}")
        if len(set(by)) < len(by):
            raise ParamsError(f"by: {by[0]!r} is named twice")
        object.__setattr__(self, "by", tuple(by))
        if not isinstance(self.dont_know_in_base, bool | np.bool_):
            raise ParamsError(f"dont_know_in_base: expected true or false, got {self.dont_know_in_base!r}")
        object.__setattr__(self, "dont_know_in_base", bool(self.dont_know_in_base))


# -- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasureBlock:
    """One measure by borough at its latest quarter: ``summary`` is
    :func:`vru.analysis.confidence.borough_summary` (sorted by rank); ``trend`` the share agreeing
    by quarter (rows) and borough code, with London (columns), for the first measure only."""

    measure: str
    label: str
    summary: pd.DataFrame
    trend: pd.DataFrame | None = None

    @property
    def period_end(self) -> pd.Timestamp:
        return self.summary["period_end"].iloc[0]

    @property
    def significant_3y(self) -> pd.DataFrame:
        """The rows of the boroughs whose change over three years is significant."""
        return self.summary[self.summary["change_3y_label"].str.startswith("significant")]

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "label": self.label, "period_end": jsonable(self.period_end),
                "boroughs": jsonable(self.summary)}


@dataclass(frozen=True)
class Relationships:
    """Each measure against serious violence and deprivation across the boroughs, at one quarter.

    ``covariates``: one column per covariate with data (``violence_rate``: serious violence per
    1,000 residents over ``violence_window``, population of mid-``population_year``; ``imd_score``:
    IMD 2019 average score), index area_code. ``correlations``: measure ->
    :func:`vru.analysis.confidence.relationships` (index covariate). ``values``: the borough values
    of :data:`SCATTER_MEASURE`, with ``scatter`` its correlations (None without that measure)."""

    period_end: pd.Timestamp
    covariates: pd.DataFrame
    violence_window: tuple[pd.Timestamp, pd.Timestamp] | None
    population_year: int | None
    correlations: Mapping[str, pd.DataFrame]
    values: pd.Series | None
    scatter: pd.DataFrame | None

    def as_dict(self) -> dict[str, Any]:
        return {"period_end": jsonable(self.period_end),
                "covariates": jsonable(self.covariates.reset_index()),
                "violence_window": jsonable(self.violence_window),
                "population_year": self.population_year,
                "correlations": {m: jsonable(r.reset_index()) for m, r in self.correlations.items()}}


@dataclass(frozen=True)
class GroupTables:
    """One measure from respondent-level answers: ``tables`` (grouping column -> weighted shares,
    :func:`vru.analysis.survey_weights.weighted_percentages`, protected together) and ``gaps``
    (one row per gap of :data:`GAPS` whose groups are in the tables: column, group_a, group_b and
    :func:`vru.analysis.survey_weights.gaps`'s gap, ci_low, ci_high, label)."""

    measure: str
    label: str
    tables: Mapping[str, pd.DataFrame]
    gaps: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "label": self.label,
                "tables": {k: jsonable(v) for k, v in self.tables.items()}, "gaps": jsonable(self.gaps)}


@dataclass(frozen=True)
class Microdata:
    """The group tables of the latest four quarters of respondent-level answers (``first`` to
    ``last``: the first day of the window and its last quarter end)."""

    respondents: int
    first: pd.Timestamp
    last: pd.Timestamp
    min_n: int
    measures: tuple[GroupTables, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"respondents": self.respondents, "first": jsonable(self.first),
                "last": jsonable(self.last), "min_n": self.min_n,
                "measures": [m.as_dict() for m in self.measures]}


@dataclass(frozen=True)
class ConfidenceResult:
    """The numbers of the trust-and-confidence section.

    ``london``: :func:`vru.analysis.confidence.london_summary`; ``london_trend``: London's share
    agreeing by quarter (rows) and measure label (columns); ``measures``: a block per measure of
    ``params.measures`` that the warehouse holds; ``detectable_change`` and
    ``detectable_change_london``: the smallest change (0-1, at a share of 50%) a borough's or
    London's test detects with 80% power; ``sampling_error``: a borough value's 95% margin of error
    at 50% (0-1); ``relationships`` and ``microdata``: None where the warehouse lacks their data."""

    params: ConfidenceParams
    london: pd.DataFrame
    london_trend: pd.DataFrame
    measures: tuple[MeasureBlock, ...]
    detectable_change: float
    detectable_change_london: float
    sampling_error: float
    relationships: Relationships | None = None
    microdata: Microdata | None = None

    @property
    def assumptions(self) -> c.Assumptions:
        return self.params.assumptions

    def as_dict(self) -> dict[str, Any]:
        return {"params": self.params.as_dict(),
                "detectable_change": self.detectable_change,
                "detectable_change_london": self.detectable_change_london,
                "sampling_error": self.sampling_error,
                "london": jsonable(self.london), "london_trend": jsonable(self.london_trend.reset_index()),
                "measures": [m.as_dict() for m in self.measures],
                "relationships": jsonable(self.relationships), "microdata": jsonable(self.microdata)}


# -- warehouse queries ---------------------------------------------------------------------------

def survey_rows(wh: Warehouse, source: str = SOURCE) -> pd.DataFrame:
    """The PAS borough rows of the ``survey`` table."""
    return wh.sql("SELECT area_code, period_end, measure, value, london_value FROM survey "
                  "WHERE source = ? AND level = 'borough' ORDER BY measure, area_code, period_end",
                  [source])


def covariates(wh: Warehouse, as_of: pd.Timestamp) -> tuple[pd.DataFrame, tuple | None, int | None]:
    """Serious violence per 1,000 residents and IMD 2019 average score by MPS borough.

    Violence (violence with injury, robbery, knife offences; MPS detailed classification) is
    counted over the 12 months ending with the survey quarter, or the latest 12 months of crime
    data if those end earlier, per resident of the population year nearest the window's end.
    Returns the frame (index area_code; a column only for what the warehouse holds), the violence
    window (first and last month, or None) and the population year (or None).
    """
    cols: dict[str, pd.Series] = {}
    window, year = None, None
    first, last = q.crime_months(wh, CRIME_SOURCE)
    if not pd.isna(last):
        end = min(pd.Timestamp(as_of).to_period("M").to_timestamp(), pd.Timestamp(last))
        start = end - pd.DateOffset(months=11)
        if start >= first:
            parts = [q.crime_series(wh, source=CRIME_SOURCE, level="borough", category=cat,
                                    start=str(start.date()), end=str(end.date()))
                     for cat in SERIOUS_VIOLENCE]
            count = pd.concat(parts).groupby("area_code")["count"].sum()
            years = wh.sql("SELECT DISTINCT year FROM population WHERE level = 'lsoa'")["year"]
            if not years.empty:
                year = int(min(years, key=lambda y: (abs(y - end.year), -y)))
                pop = q.population(wh, level="borough", year=year).set_index("area_code")
                rate = 1000.0 * count / pop["population"].reindex(count.index)
                cols["violence_rate"] = rate.reindex(MPS_BOROUGHS)
                window = (start, end)
    imd = q.deprivation(wh, level="borough", measure="imd_average_score")
    if not imd.empty:
        cols["imd_score"] = imd.set_index("area_code")["value"].reindex(MPS_BOROUGHS)
    frame = pd.DataFrame(cols, index=pd.Index(MPS_BOROUGHS, name="area_code"))
    return frame, window, year


def responses(wh: Warehouse) -> pd.DataFrame | None:
    """Respondent-level answers, if the warehouse has a ``survey_responses`` table with rows."""
    if "survey_responses" not in wh.tables():
        return None
    df = wh.sql("SELECT * FROM survey_responses")
    return None if df.empty else df


# -- the tables of `vru confidence` --------------------------------------------------------------

def borough_table(wh: Warehouse, params: ConfidenceParams | None = None) -> pd.DataFrame:
    """:func:`vru.analysis.confidence.borough_summary` of ``params.measure`` at ``params.as_of``
    on the warehouse's PAS rows. :class:`MissingData` without PAS rows; ``ValueError`` for a
    quarter or measure the data do not cover."""
    p = params or ConfidenceParams()
    rows = survey_rows(wh)
    if rows.empty:
        raise MissingData(NO_PAS)
    return c.borough_summary(rows, p.measure, p.as_of, p.assumptions)


def quarters_label(resp: pd.DataFrame) -> tuple[str, ...]:
    """The quarters (``YYYY-Qn``) a set of answers covers: the period of the tables made from it."""
    quarters = pd.to_datetime(resp["period_end"]).dt.to_period("Q")
    return tuple(sorted({f"{p.year}-Q{p.quarter}" for p in quarters}))


def group_table(resp: pd.DataFrame, params: ConfidenceParams | None = None, *,
                ledger: disclosure.Ledger | None = None) -> pd.DataFrame:
    """Weighted share agreeing with ``params.measure`` by ``params.by`` from respondent-level
    answers (a ``survey_responses`` frame), every documented category listed, groups of fewer than
    ``params.min_n`` respondents suppressed (:func:`vru.analysis.survey_weights.weighted_percentages`)
    together with the cells already published in ``ledger`` (to which the table is added). The
    table's period is the quarters of ``resp``; its population is the base of the measure, "don't
    know" in it or not (``params.dont_know_in_base``). ``ValueError`` when no answer is for the
    measure."""
    p = params or ConfidenceParams()
    x = resp[resp["measure"] == p.measure]
    if x.empty:
        raise ValueError(f"no answers for measure {p.measure!r}")
    excluded = () if p.dont_know_in_base else (pas_microdata.DONT_KNOW,)
    x = x.assign(y=sw.indicator(x["answer"], pas_microdata.AGREE, excluded))
    population = f"{p.measure}, don't know {'in' if p.dont_know_in_base else 'out of'} the base"
    by = p.by[0] if len(p.by) == 1 else list(p.by)
    return sw.weighted_percentages(x, "y", by, min_n=p.min_n, categories=CATEGORIES,
                                   period=quarters_label(resp), population=population, ledger=ledger)


# -- the report section --------------------------------------------------------------------------

def _relationships(wh: Warehouse, rows: pd.DataFrame) -> Relationships | None:
    have = set(rows["measure"])
    t = max(c.quarters(rows, m)[-1] for m in ([m for m in c.HEADLINE if m in have] or have))
    cov, window, year = covariates(wh, t)
    cov = cov.dropna(axis=1, how="all")
    if cov.empty:
        return None
    correlations = {}
    for m in [m for m in MEASURES if m in have]:
        if t not in set(c.quarters(rows, m)):
            continue
        s = c.trend(rows, m).loc[t].drop(LONDON_CODE)
        correlations[m] = c.relationships(s, cov).set_index("covariate")
    values = scatter = None
    if SCATTER_MEASURE in correlations:
        values = c.trend(rows, SCATTER_MEASURE).loc[t].drop(LONDON_CODE)
        scatter = correlations[SCATTER_MEASURE]
    return Relationships(t, cov, window, year, correlations, values, scatter)


def microdata(resp: pd.DataFrame, params: ConfidenceParams | None = None) -> Microdata:
    """Weighted shares by ethnicity, sex and age band, and the gaps between groups, for each of
    ``params.measures`` from respondent-level answers (the latest four quarters), groups of fewer
    than ``params.min_n`` respondents suppressed; the three tables of a measure are protected
    together."""
    p = params or ConfidenceParams()
    last = resp["period_end"].max()
    first = c.shift_quarters(last, 3)
    recent = resp[resp["period_end"] >= first]
    blocks = []
    for m in p.measures:
        if not (recent["measure"] == m).any():
            continue
        published = disclosure.Ledger.empty()  # the three tables are protected together
        one = dataclasses.replace(p, measure=m, dont_know_in_base=True)
        tables = {col: group_table(recent, dataclasses.replace(one, by=(col,)), ledger=published)
                  for col in GROUP_TABLES}
        gaps = []
        for col, ga, gb in GAPS:
            tab = tables[col]
            if not {ga, gb} <= set(tab[col]):
                continue
            g = sw.gaps(tab, col, [(ga, gb)]).iloc[0]
            gaps.append({"column": col, "group_a": ga, "group_b": gb, "gap": g["gap"],
                         "ci_low": g["ci_low"], "ci_high": g["ci_high"], "label": g["label"]})
        blocks.append(GroupTables(m, c.MEASURE_LABELS[m], tables, pd.DataFrame(
            gaps, columns=["column", "group_a", "group_b", "gap", "ci_low", "ci_high", "label"])))
    window_start = first - pd.offsets.QuarterEnd(1) + pd.Timedelta(days=1)
    return Microdata(int(recent["respondent_id"].nunique()), window_start, last, p.min_n, tuple(blocks))


def run(wh: Warehouse, params: ConfidenceParams | None = None) -> ConfidenceResult:
    """The numbers of the trust-and-confidence section: London's measures and their trend, each of
    ``params.measures`` by borough, the relationships with violence and deprivation, and the group
    tables of respondent-level answers where the warehouse holds them. :class:`MissingData` when
    the warehouse holds no PAS data."""
    p = params or ConfidenceParams()
    a = p.assumptions
    rows = survey_rows(wh)
    if rows.empty:
        raise MissingData(NO_PAS)
    have = set(rows["measure"])
    london = c.london_summary(rows, a=a)
    london_trend = pd.DataFrame({c.MEASURE_LABELS[m]: c.trend(rows, m)[LONDON_CODE]
                                 for m in MEASURES if m in have})
    blocks = tuple(
        MeasureBlock(m, c.MEASURE_LABELS[m], c.borough_summary(rows, m, a=a),
                     c.trend(rows, m) if i == 0 else None)
        for i, m in enumerate(x for x in p.measures if x in have))
    resp = responses(wh)
    return ConfidenceResult(
        params=p, london=london, london_trend=london_trend, measures=blocks,
        detectable_change=c.detectable_change(0.5, a),
        detectable_change_london=c.detectable_change(0.5, a, london=True),
        sampling_error=float(a.z * np.sqrt(0.25 / a.borough_n_eff)),
        relationships=_relationships(wh, rows),
        microdata=None if resp is None else microdata(resp, p))
