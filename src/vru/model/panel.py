"""A panel: one measure for a set of units over a run of periods, validated once.

A :class:`Panel` is what the evaluation methods (:mod:`vru.analysis.did`, :mod:`vru.analysis.synth`,
:mod:`vru.analysis.evaluation`) take: a balanced matrix of finite numbers, ``values[i, t]`` for unit
``units[i]`` in period ``periods[t]`` (both sorted), with, when there are some, each unit's
*cohort* (its first treated period, missing for never treated) and a cluster (a unit attribute,
e.g. the borough of an LSOA, for clustered standard errors), and where it came from: ``source``,
``measure`` and ``measure_unit`` (units of measurement, e.g. "offences per 1,000 residents per
month").

Build one with a named constructor:

- :meth:`Panel.from_long`: a long DataFrame, one row per unit and period;
- :meth:`Panel.from_wide`: one row per unit, one column per period (e.g. a spreadsheet of years);
- :meth:`Panel.from_warehouse`: monthly counts (or rates) of a crime category from the warehouse.

**Invariants**, checked in :meth:`Panel.__post_init__` whatever the constructor: units and periods
unique, each of one kind (numbers, text or dates, not a mix), sorted; the values a finite
``units x periods`` float matrix; every cohort one of the periods. The DataFrame constructors
also refuse a missing column, a missing unit, period or value, a value that is not a number, a
unit-period given twice, a unit without a row for some period, and a cohort or cluster that
varies within a unit. Every message names the column, the unit, the period and the kind of value
at fault, e.g. "cohort column 'cohort' holds numbers, period column 'year' holds text".

**Field conventions.** Never treated may be coded as missing, or as ``0`` when the periods are
numbers and 0 is not one of them (the convention of R's ``did`` and of ``csdid``): such cohorts
are read as never treated and a note says so (:attr:`Panel.notes`). Periods are numbers (e.g.
years, or months counted 1, 2, ...), dates (``Timestamp``, e.g. the first day of each month) or
text that sorts in time order. With date periods, cohorts given as text (``"2021-07"``) are
read as dates.

Pure: pandas and numpy in, a frozen object out (its arrays are read-only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vru.errors import VRUError
from vru.sources.catalogue import MPS_BOROUGH_DETAILED

if TYPE_CHECKING:
    from vru.warehouse.store import Warehouse

__all__ = ["Panel", "PanelError", "kind", "show"]


class PanelError(VRUError, ValueError):
    """A panel cannot be built as given (a missing column, a value of the wrong kind, a gap)."""


# --- words for messages ----------------------------------------------------------------------------


def show(value: object) -> str:
    """A value for a message: numpy scalars as plain Python (``1980``, not ``np.int64(1980)``),
    whole floats as integers, monthly timestamps as ``YYYY-MM``, text quoted."""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m}" if value == value.normalize() and value.day == 1 else str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a year read as 1980.0 because the column has missing values
    return repr(value) if isinstance(value, str) else str(value)


def _missing(v: object) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def kind(values: Any) -> str:
    """``"numbers"``, ``"text"``, ``"dates"`` or ``"values"`` (a mix, or anything else): what a
    column holds, missing values aside."""
    vals = [v for v in values if not _missing(v)]
    if not vals:
        return "values"
    if all(isinstance(v, str) for v in vals):
        return "text"
    if all(isinstance(v, pd.Timestamp | np.datetime64) for v in vals):
        return "dates"
    if all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
           for v in vals):
        return "numbers"
    return "values"


def _kinds_present(values: Any) -> str:
    """``"numbers and text"``: the kinds of value a mixed column holds, with an example of each."""
    seen: dict[str, object] = {}
    for v in values:
        if _missing(v):
            continue
        seen.setdefault(kind([v]) if kind([v]) != "values" else type(v).__name__, v)
    return " and ".join(f"{k} (e.g. {show(v)})" for k, v in seen.items())


def _sorted_index(values: Any, column: str, what: str) -> pd.Index:
    """The distinct values, sorted; a column that mixes kinds (which cannot be sorted) is refused."""
    idx = pd.Index(pd.unique(values))
    try:
        return idx.sort_values()
    except TypeError:
        raise PanelError(f"column {column!r} mixes {_kinds_present(idx)}: give every {what} as "
                         f"the same kind of value") from None


# --- the panel ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Panel:
    """Units x periods of one measure, validated (see the module docstring).

    ``values``: ``len(units) x len(periods)`` floats. ``cohorts``: per unit (indexed by ``units``)
    the first treated period, missing for never treated; ``None`` when the panel has no treatment.
    ``clusters``: per unit, a cluster label, or ``None``. ``names``: the column names the panel
    came from (``unit``, ``period``, ``value``, ``cohort``), used in messages and by
    :meth:`to_long`. ``notes``: conventions applied on the way in.
    """

    units: pd.Index
    periods: pd.Index
    values: np.ndarray
    cohorts: pd.Series | None = None
    clusters: pd.Series | None = None
    source: str = ""
    measure: str = ""
    measure_unit: str = ""
    names: Mapping[str, str] = field(default_factory=lambda: {
        "unit": "unit", "period": "period", "value": "value", "cohort": "cohort"})
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        names = {"unit": "unit", "period": "period", "value": "value", "cohort": "cohort",
                 **dict(self.names)}
        set_(self, "names", names)
        units = pd.Index(self.units)
        periods = pd.Index(self.periods)
        for idx, what in ((units, "unit"), (periods, "period")):
            col = names[what]
            if len(idx) == 0:
                raise PanelError(f"the panel has no {what}s (column {col!r} is empty)")
            if any(_missing(v) for v in idx):
                raise PanelError(f"column {col!r} has a missing {what}")
            if idx.has_duplicates:
                raise PanelError(f"{what} {show(idx[idx.duplicated()][0])} appears more than once "
                                 f"in column {col!r}")
            try:
                ordered = idx.is_monotonic_increasing
            except TypeError:
                ordered = False
            if not ordered:
                try:
                    idx.sort_values()
                except TypeError:
                    raise PanelError(f"column {col!r} mixes {_kinds_present(idx)}: give every "
                                     f"{what} as the same kind of value") from None
                raise PanelError(f"the {what}s are not in sorted order (build the panel with "
                                 f"Panel.from_long or Panel.from_wide, which sort them)")
        if isinstance(periods, pd.DatetimeIndex) or kind(periods) == "dates":
            periods = pd.DatetimeIndex(periods)
        values = np.array(self.values, dtype=float)  # a copy: the panel owns its matrix
        if values.shape != (len(units), len(periods)):
            raise PanelError(f"the values are {values.shape[0]} x {values.shape[1]}, but the panel "
                             f"has {len(units)} units x {len(periods)} periods")
        if not np.isfinite(values).all():
            i, t = (int(a[0]) for a in np.nonzero(~np.isfinite(values)))
            raise PanelError(f"column {names['value']!r} is not a finite number for unit "
                             f"{show(units[i])}, period {show(periods[t])} ({show(values[i, t])})")
        values.flags.writeable = False
        set_(self, "units", units)
        set_(self, "periods", periods)
        set_(self, "values", values)
        notes = list(self.notes)
        if self.cohorts is not None:
            set_(self, "cohorts", self._check_cohorts(self.cohorts, units, periods, names, notes))
        if self.clusters is not None:
            cl = pd.Series(self.clusters)
            if not cl.index.equals(units):
                cl = cl.reindex(units)
            if cl.isna().any():
                raise PanelError(f"cluster is missing for unit {show(cl.index[cl.isna()][0])}")
            set_(self, "clusters", cl)
        set_(self, "notes", tuple(notes))

    @staticmethod
    def _check_cohorts(cohorts: pd.Series | Mapping, units: pd.Index, periods: pd.Index,
                       names: Mapping[str, str], notes: list[str]) -> pd.Series:
        """Cohorts per unit, 0 read as never treated where that is the convention, each one of
        the periods (the message says so when the cohorts and periods are different kinds)."""
        first = pd.Series(cohorts, dtype=object) if not isinstance(cohorts, pd.Series) \
            else cohorts.astype(object)
        if not first.index.equals(units):
            extra = first.index.difference(units)
            if len(extra):
                raise PanelError(f"a cohort is given for unit {show(extra[0])}, which is not in "
                                 f"the panel")
            first = first.reindex(units)
        first = first.astype(object).where(first.notna(), None)
        never = first.isna().to_numpy().copy()
        p_kind = kind(periods)
        coh_col, per_col = names["cohort"], names["period"]
        blank = [i for i, v in enumerate(first) if isinstance(v, str) and not v.strip()]
        if blank:
            zero_ok = p_kind == "numbers" and 0 not in set(periods)
            raise PanelError(f"cohort column {coh_col!r} holds empty text for unit "
                             f"{show(units[blank[0]])} ({len(blank)} unit{'s' if len(blank) > 1 else ''}"
                             f" in all): code never-treated units as missing"
                             f"{' or 0' if zero_ok else ''}, not as ''")
        if p_kind == "numbers" and 0 not in set(periods):
            zero = np.array([kind([v]) == "numbers" and v == 0 for v in first], dtype=bool)
            if zero.any():
                never |= zero  # never treated coded as 0 (R did, csdid)
                notes.append(f"cohort 0 read as never treated (the convention of R's did and "
                             f"csdid) for {int(zero.sum())} unit{'' if zero.sum() == 1 else 's'}")
        if isinstance(periods, pd.DatetimeIndex) and (~never).any():
            txt = [i for i in np.flatnonzero(~never) if isinstance(first.iloc[i], str)]
            for i in txt:
                try:
                    first.iloc[i] = pd.Timestamp(first.iloc[i])
                except (ValueError, TypeError):
                    raise PanelError(f"cohort column {coh_col!r} holds text that is not a date "
                                     f"(unit {show(units[i])}: {show(first.iloc[i])}), but the "
                                     f"periods in {per_col!r} are dates") from None
        first[never] = None
        if (~never).any():
            idx = periods.get_indexer(pd.Index(list(first[~never])))
            if (idx < 0).any():
                u = first[~never].index[int(np.flatnonzero(idx < 0)[0])]
                c_kind = kind(first[~never])
                if c_kind != p_kind and "values" not in (c_kind, p_kind):
                    raise PanelError(
                        f"cohort column {coh_col!r} holds {c_kind}, period column {per_col!r} holds "
                        f"{p_kind} (unit {show(u)}: first treated period {show(first[u])}): give "
                        f"the cohorts as values of {per_col!r}")
                hint = (" (code never-treated units as missing or 0)"
                        if p_kind == "numbers" and kind([first[u]]) == "numbers" else "")
                raise PanelError(
                    f"unit {show(u)}: first treated period {show(first[u])} is outside the panel "
                    f"({show(periods[0])} to {show(periods[-1])}) or not one of its periods{hint}")
            first[~never] = list(periods[idx])
        return first

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def from_long(cls, df: pd.DataFrame, *, unit: str = "unit", period: str = "period",
                  value: str = "value", cohort: str | None = None, cluster: str | None = None,
                  source: str = "", measure: str = "", measure_unit: str = "") -> Panel:
        """A panel from a long DataFrame: one row per ``unit`` and ``period`` with its ``value``.

        ``cohort``: a column with each unit's first treated period (missing, or 0 where that is
        the convention, for never treated), the same on every row of the unit. ``cluster``: a
        column with each unit's cluster. ``measure`` defaults to the name of the value column.
        """
        if not isinstance(df, pd.DataFrame):
            raise PanelError(f"a long panel must be a pandas DataFrame, not {type(df).__name__}")
        roles = {"unit": unit, "period": period, "value": value, "cohort": cohort,
                 "cluster": cluster}
        cols = [unit, period, value] + [c for c in (cohort, cluster) if c]
        for c in dict.fromkeys(cols):
            named = [r for r, v in roles.items() if v == c]
            if len(named) > 1:
                hint = (" (each unit is its own cluster by default: leave cluster out)"
                        if named == ["unit", "cluster"] else "")
                raise PanelError(f"column {c!r} is named as the {' and the '.join(named)}: each "
                                 f"needs a column of its own{hint}")
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise PanelError(f"the panel has no column {missing[0]!r} (columns: "
                             f"{', '.join(map(str, df.columns))})")
        dup = [c for c in cols if (df.columns == c).sum() > 1]
        if dup:
            raise PanelError(f"the panel has {int((df.columns == dup[0]).sum())} columns named "
                             f"{dup[0]!r}: give each column a name of its own")
        d = df[cols]
        for c in (unit, period, value):
            if d[c].isna().any():
                i = int(np.flatnonzero(d[c].isna().to_numpy())[0])
                where = "" if c == unit else f", unit {show(d[unit].iloc[i])}"
                where += f", period {show(d[period].iloc[i])}" if c == value else ""
                raise PanelError(f"the panel has a missing {c!r} (row {i}{where})")
        y_raw = pd.to_numeric(d[value], errors="coerce")
        bad = ~np.isfinite(y_raw.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            v = d[value].iloc[i]
            what = kind([v])
            held = f"it holds {'text' if what == 'text' else what} ({show(v)})" \
                if what in ("text", "dates", "values") else f"{show(v)}"
            raise PanelError(f"column {value!r} is not a finite number in row {i} (unit "
                             f"{show(d[unit].iloc[i])}, period {show(d[period].iloc[i])}: {held})")
        if d.duplicated([unit, period]).any():
            r = d[d.duplicated([unit, period])].iloc[0]
            raise PanelError(f"the panel has more than one row for unit {show(r[unit])}, "
                             f"period {show(r[period])}")
        units = _sorted_index(d[unit], unit, "unit")
        periods = _sorted_index(d[period], period, "period")
        if len(d) != len(units) * len(periods):
            counts = d.groupby(unit, sort=True).size()
            short = counts[counts < len(periods)].index[0]
            have = set(d.loc[d[unit] == short, period])
            gap = next(p for p in periods if p not in have)
            raise PanelError(f"the panel is not balanced: unit {show(short)} has no row for "
                             f"period {show(gap)} (every unit needs a row for every period, with "
                             f"no missing or non-numeric value; {len(units)} units x "
                             f"{len(periods)} periods expected, {len(d)} rows)")
        ui = units.get_indexer(d[unit])
        ti = periods.get_indexer(d[period])
        y = np.empty((len(units), len(periods)))
        y[ui, ti] = y_raw.to_numpy(dtype=float)
        per_unit = d.groupby(unit, sort=True)
        cohorts = clusters = None
        if cohort:
            n = per_unit[cohort].nunique(dropna=False)
            if (n > 1).any():
                raise PanelError(f"the cohort (first treated period) of unit "
                                 f"{show(n[n > 1].index[0])} varies between its rows (column "
                                 f"{cohort!r})")
            cohorts = per_unit[cohort].first().reindex(units)
            # first() skips missing values; a unit whose rows are all missing stays missing
        if cluster:
            n = per_unit[cluster].nunique(dropna=False)
            if (n > 1).any():
                raise PanelError(f"cluster {cluster!r} varies within unit "
                                 f"{show(n[n > 1].index[0])}")
            clusters = per_unit[cluster].first().reindex(units)
            if clusters.isna().any():
                raise PanelError(f"cluster {cluster!r} is missing for some units (unit "
                                 f"{show(clusters.index[clusters.isna()][0])})")
        return cls(units, periods, y, cohorts, clusters, source=source, measure=measure or value,
                   measure_unit=measure_unit,
                   names={"unit": unit, "period": period, "value": value,
                          "cohort": cohort or "cohort"})

    @classmethod
    def from_wide(cls, df: pd.DataFrame, *, unit: str | None = None, cohort: str | None = None,
                  cluster: str | None = None, source: str = "", measure: str = "value",
                  measure_unit: str = "") -> Panel:
        """A panel from a wide DataFrame: one row per unit, one column per period.

        The units are the column ``unit``, or the index when ``unit`` is ``None``; every other
        column (except ``cohort`` and ``cluster``) is a period. Column labels that are whole
        numbers written as text (``"2019"``, as read from a CSV header) are read as numbers,
        and labels ``YYYY-MM`` or ``YYYY-MM-DD`` as dates.
        """
        if not isinstance(df, pd.DataFrame):
            raise PanelError(f"a wide panel must be a pandas DataFrame, not {type(df).__name__}")
        d = df.copy()
        if unit is None:
            unit = str(d.index.name or "unit")
            d = d.rename_axis(unit).reset_index()
        elif unit not in d.columns:
            raise PanelError(f"the panel has no column {unit!r} (columns: "
                             f"{', '.join(map(str, d.columns))})")
        for c in (cohort, cluster):
            if c and c not in d.columns:
                raise PanelError(f"the panel has no column {c!r} (columns: "
                                 f"{', '.join(map(str, d.columns))})")
        keep = {unit, cohort, cluster} - {None}
        period_cols = [c for c in d.columns if c not in keep]
        if not period_cols:
            raise PanelError("the wide panel has no period columns")
        labels = _period_labels(period_cols)
        long = d.melt(id_vars=list(keep), value_vars=period_cols, var_name="_label",
                      value_name="_value")
        long["_period"] = long["_label"].map(dict(zip(period_cols, labels, strict=True)))
        if long["_value"].isna().any():
            r = long[long["_value"].isna()].iloc[0]
            raise PanelError(f"column {show(r['_label'])} has no value for unit {show(r[unit])} "
                             f"(every unit needs a number in every period column)")
        y = pd.to_numeric(long["_value"], errors="coerce")
        if y.isna().any():
            r = long[y.isna()].iloc[0]
            raise PanelError(f"column {show(r['_label'])} holds {kind([r['_value']])} for unit "
                             f"{show(r[unit])} ({show(r['_value'])}), not a number")
        try:
            p = cls.from_long(long, unit=unit, period="_period", value="_value", cohort=cohort,
                              cluster=cluster, source=source, measure=measure,
                              measure_unit=measure_unit)
        except PanelError as e:
            raise PanelError(_wide_message(str(e))) from None
        return replace(p, names={**p.names, "period": "period", "value": measure})

    @classmethod
    def from_warehouse(cls, warehouse: Warehouse | str | Path | None, measure: str, *,
                       source: str = MPS_BOROUGH_DETAILED, level: str = "borough",
                       start: str | None = None, end: str | None = None,
                       exclude: tuple[str, ...] = (), per: int | None = None,
                       pop_year: int = 2020, cohorts: Mapping | None = None) -> Panel:
        """Monthly counts of a crime category (``measure``, a :mod:`vru.taxonomy` category, with
        everything beneath it) per area of ``level`` from ``source``, from ``start`` to ``end``
        (``YYYY-MM``). MPS pseudo-areas (codes starting ``X-``) and the codes in ``exclude`` are
        left out. ``per``: a rate per ``per`` residents (ONS mid-``pop_year`` estimates) instead
        of counts. ``cohorts``: area code -> first treated month. ``warehouse``: an open
        :class:`~vru.warehouse.store.Warehouse` or its path (default path when ``None``).
        """
        from vru.warehouse import queries as q
        from vru.warehouse.store import Warehouse as _Warehouse

        if isinstance(warehouse, _Warehouse):
            return cls._from_open_warehouse(warehouse, measure, source=source, level=level,
                                            start=start, end=end, exclude=exclude, per=per,
                                            pop_year=pop_year, cohorts=cohorts, q=q)
        with _Warehouse.open(warehouse, read_only=True) as wh:
            return cls._from_open_warehouse(wh, measure, source=source, level=level, start=start,
                                            end=end, exclude=exclude, per=per, pop_year=pop_year,
                                            cohorts=cohorts, q=q)

    @classmethod
    def _from_open_warehouse(cls, wh: Warehouse, measure: str, *, source: str, level: str,
                             start: str | None, end: str | None, exclude: tuple[str, ...],
                             per: int | None, pop_year: int, cohorts: Mapping | None,
                             q: Any) -> Panel:
        from vru import taxonomy

        try:
            s = q.crime_series(wh, source=source, level=level, category=measure, start=start,
                               end=end)
        except KeyError:
            raise PanelError(f"unknown crime category {measure!r}") from None
        if s.empty:
            raise PanelError(f"no {measure} counts from {source} at {level} level in the warehouse")
        s = s[~s["area_code"].str.startswith("X-") & ~s["area_code"].isin(list(exclude))].copy()
        s["value"] = s["count"].astype(float)
        unit_words = "offences per month"
        if per:
            pop = q.population(wh, level=level, year=pop_year).set_index("area_code")["population"]
            s["population"] = s["area_code"].map(pop)
            if s["population"].isna().any():
                raise PanelError(f"no mid-{pop_year} population for area "
                                 f"{s.loc[s['population'].isna(), 'area_code'].iloc[0]}")
            s["value"] = per * s["count"] / s["population"]
            unit_words = f"offences per {per:,} residents per month"
        if cohorts is not None:
            s["cohort"] = s["area_code"].map(dict(cohorts))
        label = taxonomy.label(measure)
        return cls.from_long(s, unit="area_code", period="month", value="value",
                             cohort="cohort" if cohorts is not None else None,
                             source=source, measure=str(label), measure_unit=unit_words)

    # --- views and derived panels ------------------------------------------------------------

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def cohort_index(self) -> np.ndarray:
        """Per unit, the position in :attr:`periods` of its first treated period; -1 for never
        treated (and for every unit when the panel has no cohorts)."""
        out = np.full(len(self.units), -1, dtype=np.int64)
        if self.cohorts is None:
            return out
        treated = self.cohorts.notna().to_numpy()
        if treated.any():
            out[treated] = self.periods.get_indexer(pd.Index(list(self.cohorts[treated])))
        return out

    def with_cohorts(self, cohorts: Mapping | pd.Series | None) -> Panel:
        """The same panel with these cohorts (unit -> first treated period; units not named are
        never treated)."""
        if cohorts is None:
            return replace(self, cohorts=None, notes=())
        ser = pd.Series(dict(cohorts) if not isinstance(cohorts, pd.Series) else cohorts,
                        dtype=object).reindex(self.units)
        return replace(self, cohorts=ser, notes=())

    def to_wide(self) -> pd.DataFrame:
        """Periods x units (the layout of the synthetic control), named by the source columns."""
        out = pd.DataFrame(self.values.T.copy(), index=self.periods.copy(), columns=self.units.copy())
        out.index.name = self.names["period"]
        out.columns.name = self.names["unit"]
        return out

    def to_long(self) -> pd.DataFrame:
        """One row per unit and period, in the source's column names (with the cohort, if any)."""
        n = self.names
        out = pd.DataFrame({n["unit"]: np.repeat(self.units.to_numpy(), self.n_periods),
                            n["period"]: np.tile(self.periods.to_numpy(), self.n_units),
                            n["value"]: self.values.ravel()})
        if self.cohorts is not None:
            out[n["cohort"]] = np.repeat(self.cohorts.to_numpy(), self.n_periods)
        return out

    def describe(self) -> str:
        """The panel in one line."""
        what = self.measure or self.names["value"]
        if self.measure_unit:
            what += f" ({self.measure_unit})"
        n_t = 0 if self.cohorts is None else int(self.cohorts.notna().sum())
        src = f" from {self.source}" if self.source else ""
        u = "unit" if self.n_units == 1 else "units"
        p = "period" if self.n_periods == 1 else "periods"
        return (f"{what}{src}: {self.n_units} {u} x {self.n_periods} {p}, "
                f"{show(self.periods[0])} to {show(self.periods[-1])}; {n_t} treated")


_MONTH = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def _wide_message(msg: str) -> str:
    """A message of :meth:`Panel.from_long` about the long frame :meth:`Panel.from_wide` builds,
    in the wide frame's words: its periods are the column headers, not a column '_period'."""
    for internal, words in (("period column '_period' holds", "the period column headers hold"),
                            ("column '_period' mixes", "the period column headers mix"),
                            ("values of '_period'", "values like the period column headers"),
                            ("'_period'", "the period column headers"),
                            ("'_value'", "the values in the period columns")):
        msg = msg.replace(internal, words)
    return msg


def _period_labels(cols: list) -> list:
    """Wide column labels as periods: whole numbers as text -> int, ``YYYY-MM(-DD)`` -> date."""
    if all(isinstance(c, str) and c.strip().lstrip("-").isdigit() for c in cols):
        return [int(c) for c in cols]
    if all(isinstance(c, str) and _MONTH.match(c.strip()) for c in cols):
        try:
            return [pd.Timestamp(c.strip()) for c in cols]
        except ValueError as e:
            raise PanelError(f"a period column is not a date: {e}") from None
    return list(cols)
