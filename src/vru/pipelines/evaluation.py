"""Did violence fall where MyEnds went? The worked real example of :mod:`vru.analysis.evaluation`.

The 8 boroughs with a funded MyEnds consortium (Brent, Croydon, Hackney, Haringey, Lambeth, Newham,
Southwark, Tower Hamlets; programme from mid-2021, taken as July 2021) against the other 24 boroughs
policed by the Metropolitan Police (the City of London, which the MPS does not police, and the MPS
pseudo-areas such as the airports are left out), on monthly violence with injury (MPS recorded
crime, detailed classification) per 1,000 residents (ONS mid-2020 estimates, so the rate is the
count over a fixed denominator). Window: three years before the start to the last month in the data.

Three analyses: DiD (Callaway-Sant'Anna) and synthetic control on the rate, with placebo tests and
the power of the design; DiD with the Poisson model on the counts (ratio of expected counts); and
DiD with the boroughs next to a MyEnds borough left out of the controls (spillover). The honest
limit is the geography: MyEnds funded a few estates or a ward in each borough, and a borough is far
larger, so a borough-level null says little; the minimum detectable effect says how little.

:func:`run` returns an :class:`EvaluationRun` (``as_dict()`` for ``vru evaluate`` and the API); its
section of the needs assessment is :mod:`vru.outputs.sections.evaluation`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from vru import format as fmt
from vru import taxonomy
from vru.analysis import evaluation as ev
from vru.analysis.did import EvaluationError
from vru.geography import CITY_OF_LONDON, MYENDS_BOROUGHS, borough_code, borough_name
from vru.model.areas import AreaSet
from vru.model.weights import SpatialWeights
from vru.pipelines.base import MissingData, Params, ParamsError, check_category, check_source, check_year
from vru.plain import jsonable
from vru.sources import catalogue
from vru.warehouse import queries as q
from vru.warehouse.store import Warehouse

SOURCE = catalogue.MPS_BOROUGH_DETAILED
BOROUGH_VINTAGE = "2022"  # the boundaries of the spillover neighbours
#: The MyEnds boroughs by name (vru.geography.MYENDS_BOROUGHS), the default treated areas.
MYENDS = tuple(borough_name(c) for c in MYENDS_BOROUGHS)
#: The most placebo and power draws a run may ask for.
MAX_DRAWS = 100_000


_MONTH = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def _month(name: str, v: Any) -> None:
    if not isinstance(v, str):
        raise ParamsError(f"{name}: a month as text (YYYY-MM), not {v!r}")
    try:
        if not _MONTH.fullmatch(v):
            raise ValueError(v)
        pd.Timestamp(v)
    except ValueError:
        raise ParamsError(f"{name}: {v!r} is not a month (YYYY-MM)") from None


def _whole(name: str, v: Any, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ParamsError(f"{name}: a whole number >= {lo}, not {v!r}")


def _share(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1:
        raise ParamsError(f"{name}: a number between 0 and 1 (exclusive), not {v!r}")


def _code(name: str, area: Any) -> str:
    """The GSS code of a borough given by name or code (a code ``E09...`` is taken as given)."""
    c = area if str(area).startswith("E09") else borough_code(str(area))
    if c is None:
        raise ParamsError(f"{name}: unknown borough {area!r}")
    return str(c)


@dataclass(frozen=True)
class EvalParams(Params):
    """Every choice of the worked example, with its default (see docs/methods-evaluation.md).

    ``treated``: borough names or codes (a comma-separated string is split). ``start``: the first
    month of the programme; ``starts``: per-area first months (area name or code -> "YYYY-MM",
    a mapping or pairs), staggered, for the areas they name. ``window_start``, ``window_end``: the
    months of the panel (``None``: the last month of ``source``). ``pop_year``, ``per``: the
    rate's population estimate and its unit. ``pre_periods``: months the synthetic control is
    fitted on; ``rings``: spillover neighbour rings (0 skips the spillover analysis).
    """

    treated: tuple[str, ...] = MYENDS
    start: str = "2021-07"  # first month of the programme ("mid-2021")
    starts: tuple[tuple[str, str], ...] | None = None
    category: str = taxonomy.VIOLENCE_WITH_INJURY
    source: str = SOURCE
    window_start: str = "2018-07"  # three years before the start
    window_end: str | None = None
    pop_year: int = 2020
    per: int = 1000
    pre_periods: int = 36  # synthetic control fitted on the 36 months before the start
    rings: int = 1  # spillover: contiguous neighbours
    n_draws: int = 1000
    max_lead: int = 12
    alpha: float = 0.05
    target_power: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        t = self.treated
        if isinstance(t, str):
            t = tuple(s.strip() for s in t.split(","))
        elif isinstance(t, list):
            t = tuple(t)
        if not isinstance(t, tuple) or not all(isinstance(x, str) and x.strip() for x in t):
            raise ParamsError(f"treated: borough names or codes, not {self.treated!r}")
        if not t:
            raise ParamsError("treated: name at least one borough")
        object.__setattr__(self, "treated", t)
        codes = [_code("treated", x) for x in t]
        if len(set(codes)) != len(codes):
            raise ParamsError("treated: a borough is named twice")
        _month("start", self.start)
        s = self.starts
        if s is not None:
            if isinstance(s, Mapping):
                s = tuple(s.items())
            elif isinstance(s, list):
                s = tuple(s)
            if not isinstance(s, tuple) or not all(isinstance(x, tuple | list) and len(x) == 2
                                                   for x in s):
                raise ParamsError(f"starts: a mapping area -> first month (YYYY-MM), not "
                                  f"{self.starts!r}")
            s = tuple((str(a), m) for a, m in s)
            named: dict[str, str] = {}
            for a, m in s:
                c = _code("starts", a)
                _month(f"starts[{a!r}]", m)
                if c not in codes:
                    raise ParamsError(f"starts: {a!r} is not one of the treated boroughs")
                if c in named:
                    raise ParamsError(f"starts: {borough_name(c)} is named twice ({named[c]!r} and {a!r})")
                named[c] = a
            object.__setattr__(self, "starts", s)
        check_category("category", self.category)
        check_source("source", self.source)
        _month("window_start", self.window_start)
        if self.window_end is not None:
            _month("window_end", self.window_end)
            if pd.Period(self.window_end, freq="M") < pd.Period(self.window_start, freq="M"):
                raise ParamsError(f"window_end: {self.window_end} is before window_start "
                                  f"{self.window_start}")
        object.__setattr__(self, "pop_year", check_year("pop_year", self.pop_year))
        for name, lo in (("per", 1), ("pre_periods", 1), ("rings", 0), ("n_draws", 1),
                         ("max_lead", 1), ("seed", 0)):
            _whole(name, getattr(self, name), lo)
        if self.n_draws > MAX_DRAWS:
            raise ParamsError(f"n_draws: at most {MAX_DRAWS:,}, not {self.n_draws!r}")
        _share("alpha", self.alpha)
        _share("target_power", self.target_power)

    @property
    def codes(self) -> tuple[str, ...]:
        """The treated boroughs' GSS codes, in the order of ``treated``."""
        return tuple(_code("treated", t) for t in self.treated)

    @property
    def first_months(self) -> dict[str, str]:
        """Treated borough code -> its first month (``starts`` where it names one, else ``start``)."""
        own = {_code("starts", a): str(m) for a, m in (self.starts or ())}
        return {c: own.get(c, self.start) for c in self.codes}

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready Python; ``starts`` as a mapping area -> month."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["starts"] = None if self.starts is None else dict(self.starts)
        return cast(dict[str, Any], jsonable(d))


@dataclass(frozen=True)
class EvaluationRun:
    """The three evaluations of the worked example.

    ``panel``: monthly ``count``, ``population`` and ``rate`` per MPS borough (:func:`panel`);
    ``codes``: the treated boroughs' codes. ``main``: DiD and synthetic control on the rate;
    ``poisson``: DiD with the Poisson model on the counts; ``spillover``: DiD with the neighbours
    of the treated boroughs estimated separately (``None`` without borough boundaries, with
    ``rings`` 0, or when it cannot be estimated: ``spillover_error`` says why).
    ``before_after``: :func:`before_after`. ``limits``: the limits of the borough-level design
    (those of each method are in ``main.limits``). ``synth_mean``: the mean over the treated
    boroughs of their ``actual`` rate, their ``synthetic`` control's and the ``gap`` between the
    two, by month (None without a synthetic control).
    """

    params: EvalParams
    panel: pd.DataFrame
    codes: tuple[str, ...]
    main: ev.EvaluationResult
    poisson: ev.EvaluationResult
    spillover: ev.EvaluationResult | None
    spillover_error: str | None
    before_after: pd.DataFrame
    limits: tuple[str, ...]
    synth_mean: pd.DataFrame | None = None

    @property
    def myends(self) -> bool:
        """Whether the treated boroughs are the MyEnds boroughs (the worked example)."""
        return is_myends(self.codes)

    @property
    def treated_group(self) -> str:
        """The treated boroughs as a group, as ``before_after`` names them."""
        return group_name(self.codes)

    @property
    def n_controls(self) -> int:
        """The boroughs of the panel that are not treated."""
        return int(self.panel["area_code"].nunique()) - len(self.codes)

    @property
    def staggered(self) -> bool:
        """Whether the treated boroughs start in different months (``params.starts``)."""
        return len(set(self.params.first_months.values())) > 1

    @property
    def first_month(self) -> pd.Timestamp:
        return self.panel["month"].min()

    @property
    def last_month(self) -> pd.Timestamp:
        return self.panel["month"].max()

    @property
    def treated_population(self) -> pd.Series:
        """Population (``params.pop_year``) of each treated borough, by code."""
        return self.panel.groupby("area_code")["population"].first().reindex(list(self.codes))

    def as_dict(self) -> dict[str, Any]:
        p = self.params
        return cast(dict[str, Any], jsonable({
            "parameters": p.as_dict() | {"treated_codes": list(self.codes)},
            "data": {"source": p.source, "category": p.category,
                     "areas": int(self.panel["area_code"].nunique()),
                     "first_month": self.first_month, "last_month": self.last_month,
                     "population_year": p.pop_year},
            "before_after": self.before_after,
            "rate": self.main.as_dict(),
            "poisson_counts": self.poisson.as_dict(),
            "spillover": None if self.spillover is None else self.spillover.as_dict(),
            "spillover_error": self.spillover_error,
            "limits": list(self.limits),
        }))


def panel(wh: Warehouse, p: EvalParams | None = None) -> pd.DataFrame:
    """Monthly ``count`` and ``rate`` (per ``p.per`` residents) per MPS borough in the window.
    Raises :class:`MissingData` without the counts or the population."""
    p = p or EvalParams()
    s = q.crime_series(wh, source=p.source, level="borough", category=p.category,
                       start=p.window_start, end=p.window_end)
    if s.empty:
        raise MissingData(f"no {p.category} counts from {p.source} in the warehouse")
    s = s[~s["area_code"].str.startswith("X-") & (s["area_code"] != CITY_OF_LONDON)].copy()
    pop = q.population(wh, level="borough", year=p.pop_year).set_index("area_code")["population"]
    if pop.empty:
        raise MissingData(f"no mid-{p.pop_year} population estimates in the warehouse")
    s["population"] = s["area_code"].map(pop)
    if s["population"].isna().any():
        raise MissingData(f"no mid-{p.pop_year} population for borough "
                          f"{s.loc[s['population'].isna(), 'area_code'].iloc[0]}")
    s["rate"] = p.per * s["count"] / s["population"]
    s["count"] = s["count"].astype(float)
    return s.reset_index(drop=True)


def neighbours(wh: Warehouse) -> SpatialWeights | None:
    """Queen contiguity of the 2022 borough boundaries in the warehouse (None unless every
    borough has one)."""
    a = q.areas(wh, "borough", BOROUGH_VINTAGE)
    if a.empty or a["geometry"].isna().any():
        return None
    return SpatialWeights.from_areas(AreaSet.from_warehouse(wh, "borough", BOROUGH_VINTAGE), "queen")


def is_myends(codes: list[str] | tuple[str, ...]) -> bool:
    """Whether ``codes`` are the MyEnds boroughs (in any order)."""
    return set(codes) == set(MYENDS_BOROUGHS)


def group_name(codes: list[str] | tuple[str, ...]) -> str:
    """The treated boroughs as a group: "MyEnds boroughs" for the MyEnds boroughs, else
    "treated boroughs"."""
    return "MyEnds boroughs" if is_myends(codes) else "treated boroughs"


def before_after(pan: pd.DataFrame, codes: list[str] | tuple[str, ...], start: str,
                 per: int) -> pd.DataFrame:
    """The Mayor's comparison: rate per year (12 months from the start's month) in the year before
    the start and each full year after, treated boroughs (``group`` :func:`group_name`) and the
    others, with the change from the year before (``year`` 0 is the first year from the start;
    ``period`` its months, e.g. "Jul 2021 – Jun 2022")."""
    s = pd.Timestamp(start)
    pan = pan.assign(year=((pan["month"].dt.year - s.year) * 12 + pan["month"].dt.month
                           - s.month) // 12)
    rows = []
    for y in sorted(pan["year"].unique()):
        d = pan[pan["year"] == y]
        if d["month"].nunique() < 12 or y < -1:
            continue
        for grp, mask in ((group_name(codes), d["area_code"].isin(codes)),
                          ("other boroughs", ~d["area_code"].isin(codes))):
            g = d[mask]
            pop = g.groupby("area_code")["population"].first().sum()
            rows.append({"year": y, "group": grp, "count": float(g["count"].sum()),
                         "rate": per * g["count"].sum() / pop})
    out = pd.DataFrame(rows)
    base = out[out["year"] == -1].set_index("group")["rate"]
    out["change_pct"] = 100 * (out["rate"] / out["group"].map(base) - 1)
    out["period"] = [fmt.month_range(s + pd.DateOffset(years=int(y)),
                                     s + pd.DateOffset(years=int(y) + 1, months=-1), short=True)
                     for y in out["year"]]
    return out


def borough_limits(pop: pd.Series, start: str = "2021-07", *, staggered: bool = False) -> tuple[str, ...]:
    """The limits of a borough-level evaluation, given the treated boroughs' populations (indexed
    by code) and the programme's start (``staggered``: the boroughs start in the months given for
    each): a programme's neighbourhoods are a small part of each borough, and (for MyEnds) the
    start is approximate."""
    myends = is_myends(list(pop.index))
    n = len(pop)
    size = (f"the {n} boroughs have {fmt.number(pop.sum() / 1e6, 2)} million residents, "
            f"{fmt.number(pop.min() / 1e3, 0)},000 to {fmt.number(pop.max() / 1e3, 0)},000 each"
            if n > 1 else f"{borough_name(pop.index[0])} has {fmt.number(pop.sum() / 1e6, 2)} "
                          f"million residents")
    dilution = (f"is diluted by everything else in the borough: if they hold a tenth of a borough's "
                f"violence, a 20% fall there is a 2% fall in the borough, far below what this design "
                f"can detect. A borough-level null result therefore says little about "
                f"{'MyEnds' if myends else 'a programme that works in a few neighbourhoods'}.")
    ward = "(the ward series starts only in December 2021)"
    when = "in the month given for each borough" if staggered else f"in {fmt.month(pd.Timestamp(start))}"
    if myends:
        geography = (f"Geography: MyEnds funded a few estates or a ward in each borough (e.g. in "
                     f"Southwark the Rockingham, North Peckham, Brandon and Aylesbury estates), but "
                     f"the outcome here is the whole borough: {size}. An effect confined to the "
                     f"funded neighbourhoods {dilution}")
        timing = ((f"Treatment timing is approximate: consortia started at different times in 2021, "
                   f"and {fmt.month(pd.Timestamp(start))} is used for all" if not staggered else
                   "Treatment timing is approximate: consortia started at different times in 2021, "
                   "and the month given for each borough is used")
                  + f"; the LSOA or ward data needed to evaluate the funded areas themselves are not "
                    f"in the warehouse {ward}.")
    else:
        geography = (f"Geography: the outcome here is the whole borough: {size}. An effect confined "
                     f"to the neighbourhoods a programme works in {dilution}")
        timing = (f"Treatment timing: the programme is taken to start {when}; the LSOA or ward data "
                  f"needed to evaluate smaller areas are not in the warehouse {ward}.")
    return geography, timing


def synth_mean(result: ev.EvaluationResult) -> pd.DataFrame | None:
    """The mean over the treated areas of their actual outcome, their synthetic control's and the
    gap, by period (None without a synthetic control)."""
    units = result.synth.units if result.synth is not None else []
    if not units:
        return None
    return pd.DataFrame({
        "actual": pd.concat([u.actual for u in units], axis=1).mean(axis=1),
        "synthetic": pd.concat([u.synthetic for u in units], axis=1).mean(axis=1),
        "gap": pd.concat([u.gap for u in units], axis=1).mean(axis=1)})


#: The stages :func:`run` reports to its progress callback, in order (spillover too when skipped).
STAGES = ("panel", "DiD and synthetic control", "Poisson DiD", "spillover", "summaries")


def run(wh: Warehouse, params: EvalParams | None = None, *,
        progress: Callable[[str, int], None] | None = None) -> EvaluationRun:
    """The three evaluations of ``params`` (default :class:`EvalParams`: the MyEnds example).
    ``progress(stage, total)`` is called after each of the :data:`STAGES`.

    Raises :class:`MissingData` when the warehouse lacks the counts or the population, or when its
    months cannot support the design (the evaluation's own message: e.g. a start outside the
    panel, too few controls).
    """
    done = progress or (lambda _stage, _total: None)
    p = params or EvalParams()
    pan = panel(wh, p)
    done("panel", len(STAGES))
    codes = p.codes
    treated = p.first_months
    label = taxonomy.label(p.category).lower()
    unit = f"offences per {fmt.integer(p.per)} residents per month"
    common: dict[str, Any] = {"unit": "area_code", "period": "month", "n_draws": p.n_draws, "alpha": p.alpha,
              "target_power": p.target_power, "max_lead": p.max_lead, "seed": p.seed,
              "recorded_crime": True}
    try:
        main = ev.evaluate(pan, treated, outcome="rate", methods=("did", "synth"),
                           pre_periods=p.pre_periods, outcome_label=label, outcome_unit=unit,
                           **common)
        done("DiD and synthetic control", len(STAGES))
        poisson = ev.evaluate(pan, treated, outcome="count", methods=("did",), model="poisson",
                              outcome_label=f"{label} (count)", outcome_unit="offences per month",
                              **common)
        done("Poisson DiD", len(STAGES))
    except EvaluationError as e:
        raise MissingData(str(e)) from e
    nb = neighbours(wh) if p.rings else None
    spill = None
    spill_error = None
    if nb is not None:
        try:
            spill = ev.evaluate(pan, treated, outcome="rate", methods=("did",), neighbours=nb,
                                rings=p.rings, spillover="separate", outcome_label=label,
                                outcome_unit=unit, **common)
        except EvaluationError as e:
            spill_error = str(e)
    done("spillover", len(STAGES))
    pop = pan.groupby("area_code")["population"].first().reindex(list(codes))
    staggered = len(set(treated.values())) > 1
    out = EvaluationRun(params=p, panel=pan, codes=codes, main=main, poisson=poisson,
                        spillover=spill, spillover_error=spill_error,
                        before_after=before_after(pan, codes, p.start, p.per),
                        limits=borough_limits(pop, p.start, staggered=staggered),
                        synth_mean=synth_mean(main))
    done("summaries", len(STAGES))
    return out


__all__ = ["EvalParams", "EvaluationRun", "MAX_DRAWS", "MYENDS", "SOURCE", "STAGES", "before_after",
           "borough_limits", "group_name", "is_myends", "neighbours", "panel", "run", "synth_mean"]
