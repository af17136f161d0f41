"""The Python API behind every ``vru`` command (the CLI is a thin shell over these functions).

>>> from vru import api
>>> api.init()                              # build the warehouse from the bundled London data
>>> api.ingest(["2024-01-metropolitan-street.csv"])
>>> api.report("needs-assessment.html")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from vru.errors import VRUError
from vru.model.panel import Panel
from vru.warehouse import ingest as _ingest
from vru.warehouse.store import FileResult, Warehouse, default_path

if TYPE_CHECKING:
    import geopandas as gpd

    from vru.pipelines.hotspots import HotspotTable

T = TypeVar("T")


@contextmanager
def _refused(*errors: type[Exception], prefix: str = "") -> Iterator[None]:
    """Bad input found by the code below (``errors``, default ``ValueError``) as a
    :class:`VRUError` with its message (after ``prefix``); a ``VRUError`` passes unchanged."""
    caught = errors or (ValueError,)
    try:
        yield
    except VRUError:
        raise
    except caught as e:
        raise VRUError(f"{prefix}{e}") from None


def _read(warehouse: str | Path | None, run: Callable[[Warehouse], T]) -> T:
    """``run(wh)`` on the warehouse opened read-only; a ``ValueError`` it raises is
    :func:`_refused`."""
    with Warehouse.open(warehouse, read_only=True) as wh, _refused():
        return run(wh)


def init(warehouse: str | Path | None = None, *, replace: bool = False,
         progress: Callable[[str, int], None] | None = None) -> list[FileResult]:
    """Create the warehouse (default :func:`vru.warehouse.store.default_path`) from bundled data.
    ``progress(name, total)`` is called after each file read."""
    wh, results = _ingest.init(warehouse, replace=replace, progress=progress)
    wh.close()
    return results


def ingest(paths: Iterable[str | Path], warehouse: str | Path | None = None, *,
           backend: str = "duckdb", force: bool = False,
           category_map: str | Path | None = None,
           progress: Callable[[str, int], None] | None = None) -> list[FileResult]:
    """Add files (any supported format; directories are searched) to an existing warehouse.

    ``category_map``: a user category map CSV (``major,minor,category``) for MPS categories the
    platform does not know yet (:func:`vru.taxonomy.read_user_map`). ``progress(name, total)`` is
    called after each file read."""
    with Warehouse.open(warehouse) as wh:
        return _ingest.ingest(wh, paths, backend=backend, force=force, category_map=category_map,
                              progress=progress)


def report(out: str | Path, warehouse: str | Path | None = None, *,
           progress: Callable[[str, int], None] | None = None) -> Path:
    """Write the HTML needs assessment to ``out``. ``progress(step, total)`` is called after each of
    the report's steps."""
    from vru.outputs.report import write_report  # matplotlib is slow to import

    with Warehouse.open(warehouse, read_only=True) as wh:
        return write_report(wh, out, progress)


def report_html(warehouse: str | Path | None = None, *,
                progress: Callable[[str, int], None] | None = None) -> str:
    """The HTML needs assessment as a string (what :func:`report` writes)."""
    from vru.outputs.report import report_html as build  # matplotlib is slow to import

    with Warehouse.open(warehouse, read_only=True) as wh:
        return build(wh, progress)


def hotspots(warehouse: str | Path | gpd.GeoDataFrame | None = None, out: str | Path | None = None,
             fmt: str | None = None, *, code: str = "code", value: str = "value",
             period: str | None = None, name: str | None = None, source: str | None = None,
             areas: str | Path | gpd.GeoDataFrame | None = None,
             **params: Any) -> HotspotTable:
    """Hot spots, on the warehouse's crime data or on any areas you bring.

    Warehouse (``warehouse`` a path or ``None``): emerging hot spot analysis (Getis-Ord Gi* per
    period, Mann-Kendall trend, the 17 ArcGIS categories or sfhotspot's scheme); ``params`` are
    fields of :class:`vru.pipelines.hotspots.HotspotParams` (level, categories, weighting,
    rates, start, end, rule, k, distance, islands, time_lag, ...).

    Your own areas (``warehouse`` a GeoDataFrame with a geometry column, any CRS, any place):
    area codes in ``code``, numbers in ``value``, names in ``name`` (default: the code). Without
    ``period``, one row per area: Getis-Ord Gi* hot and cold spots. With ``period``, one row per
    area and period: the emerging hot spot analysis. ``params``: ``rule``, ``k``, ``distance``,
    ``islands``, ``time_lag``, ``global_window``, ``alpha``, ``fdr``, ``scheme`` (see
    :func:`vru.pipelines.hotspots.run_for_areas`).

    A record-level source's LSOA-month panel in the warehouse (``source="police_uk"``: the
    data.police.uk street crime of every force ingested, national included): emerging hot spots
    per LSOA and month; the LSOA geometry in ``areas`` (a GeoDataFrame, a boundary file, or a CSV
    of centroids with ``code``, ``longitude``, ``latitude``; ``code`` names its code column),
    else the warehouse's LSOA boundaries (only London's are bundled: a panel LSOA without
    geometry is refused, naming it). ``params``: ``categories`` (default all crime but
    anti-social behaviour), ``start``, ``end`` (YYYY-MM) and those of your own areas (with
    centroids, ``rule="knn"`` and ``k``). See
    :func:`vru.pipelines.hotspots.run_for_source`.

    Returns the result (:class:`vru.pipelines.hotspots.HotspotTable`): ``areas``, one row per
    area (a GeoDataFrame), with ``periods``, ``notes``, ``parameters``, ``weights`` and
    ``as_dict()`` (the JSON of ``vru hotspots``); with ``out``, also writes it as CSV, GeoJSON or
    JSON (:mod:`vru.outputs.hotspot_files`). Bad input raises :class:`vru.errors.VRUError` naming
    the column and the type.
    """
    import geopandas as gpd

    from vru.outputs import hotspot_files
    from vru.pipelines import hotspots as ph

    if source is not None:
        if isinstance(warehouse, pd.DataFrame):
            raise VRUError("source= reads the warehouse: pass its path (or None), and your LSOA "
                           "geometry as areas=")
        if period is not None or value != "value":
            raise VRUError("period and value apply to your own areas, not to a source's panel")
        with Warehouse.open(warehouse, read_only=True) as wh, _refused(ValueError, TypeError):
            result = ph.run_for_source(wh, source, areas, code=code, name=name, **params)
    elif areas is not None:
        raise VRUError("areas= goes with source= (e.g. source='police_uk'); to analyse your own "
                       "areas and values pass the GeoDataFrame as the first argument")
    elif isinstance(warehouse, gpd.GeoDataFrame):
        with _refused(ValueError, TypeError):
            result = ph.run_for_areas(warehouse, code=code, value=value, period=period,
                                      name=name, **params)
    else:
        if isinstance(warehouse, pd.DataFrame):
            raise VRUError("your areas need geometry: pass a GeoDataFrame (e.g. "
                           "geopandas.GeoDataFrame(df, geometry=..., crs=27700)), not a plain "
                           "DataFrame")
        if period is not None or name is not None or code != "code" or value != "value":
            raise VRUError("code, value, period and name apply to your own areas (a "
                           "GeoDataFrame), not to the warehouse")
        with Warehouse.open(warehouse, read_only=True) as wh, _refused(ValueError, TypeError):
            p = ph.make_params(ph.HotspotParams, "the warehouse's London crime", **params)
            result = ph.run(wh, p, compare=False)
    if out is not None:
        with _refused():
            hotspot_files.write(result, out, fmt)
    return result


def drivers(warehouse: str | Path | None = None, *,
            progress: Callable[[str, int], None] | None = None, **params: Any) -> dict:
    """The drivers analysis (City Hall statements, correlations, count regressions) as plain data.

    ``params`` are fields of :class:`vru.pipelines.drivers.DriverParams` (``categories`` may be a
    comma-separated string); an unknown name or an impossible value is refused naming it.
    ``progress(stage, total)`` is called after each stage (:data:`vru.pipelines.drivers.STAGES`).
    """
    from vru.pipelines import drivers

    p = drivers.DriverParams.of(**params)
    return _read(warehouse, lambda wh: drivers.run(wh, p, progress=progress).as_dict())


def target(warehouse: str | Path | None = None, *,
           progress: Callable[[str, int], None] | None = None, **params: Any) -> dict:
    """Targeting: scored candidates, the shortlist, the budget allocation and its sensitivity.

    ``params`` are fields of :class:`vru.pipelines.targeting.TargetParams` (an unknown name or an
    impossible value is refused by name); the result is :func:`vru.pipelines.targeting.run`'s, as
    plain data. ``progress(stage, total)`` is called after each stage
    (:data:`vru.pipelines.targeting.STAGES`).
    """
    from vru.pipelines import targeting as pt

    p = pt.TargetParams.of(**params)
    return _read(warehouse, lambda wh: pt.run(wh, p, progress=progress).as_dict())


def confidence(warehouse: str | Path | None = None, *, measure: str = "good_job_local",
               as_of: str | None = None, microdata: str | Path | None = None,
               by: str | list[str] = "ethnicity", min_n: int = 50,
               ledger: str | Path | None = None) -> pd.DataFrame:
    """Trust and confidence.

    Without ``microdata``: each borough's value of a PAS ``measure`` at ``as_of`` (default the
    latest quarter), with its interval, comparison with London, rank range, and the 1- and 3-year
    changes with significance (see docs/methods-confidence.md for the assumed base sizes).

    With ``microdata`` (a respondent-level file, see :mod:`vru.sources.pas_microdata`): weighted
    shares agreeing by group (``by``: one or two of ethnicity, sex, age_band, area_code, as a list or
    comma-separated) with 95% intervals, small cells (fewer than ``min_n`` respondents) suppressed
    with secondary suppression. The options are checked by
    :class:`vru.pipelines.confidence.ConfidenceParams` (an error names the one at fault); the tables
    are :func:`vru.pipelines.confidence.borough_table` and :func:`~vru.pipelines.confidence.group_table`.
    ``ledger``: a JSON file of the cells published before (created if missing): the table is
    protected together with them, so that no earlier period, year to date or other order of ``by``
    gives a small cell away, and is then recorded in it.
    """
    from vru.outputs.ledger import read_ledger, write_ledger
    from vru.pipelines import confidence as pc
    from vru.sources import pas_microdata

    params = pc.ConfidenceParams.of(measure=measure, as_of=as_of, by=by, min_n=min_n)
    if microdata is not None:
        resp = pas_microdata.read(microdata)
        with _refused():
            book = None if ledger is None else read_ledger(ledger)
        with _refused(prefix=f"{microdata}: "):
            out = pc.group_table(resp, params, ledger=book)
        if book is not None and ledger is not None:
            write_ledger(book, ledger)
        return out
    return _read(warehouse, lambda wh: pc.borough_table(wh, params))


def synthetic_survey(out: str | Path, warehouse: str | Path | None = None, *,
                     quarters: Iterable[str] = ("2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"),
                     per_borough: int = 100, seed: int = 0) -> Path:
    """Write SYNTHETIC respondent-level PAS-style answers (never real people) to ``out``
    (:func:`synthetic_survey_frame`; gzipped if ``out`` ends in ``.gz``)."""
    from vru.synthetic import pas_microdata as synth

    return synth.write_csv(synthetic_survey_frame(warehouse, quarters=quarters, per_borough=per_borough,
                                                  seed=seed), out)


def synthetic_survey_frame(warehouse: str | Path | None = None, *,
                           quarters: Iterable[str] = ("2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"),
                           per_borough: int = 100, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC respondent-level PAS-style answers (never real people), one row per respondent.

    If the warehouse holds the published PAS borough figures, each borough's synthetic share is
    aimed at its published value for the quarter, so demos look like London.
    """
    from vru.pipelines import confidence as pc
    from vru.synthetic import pas_microdata as synth

    targets = None
    try:
        with Warehouse.open(warehouse, read_only=True) as wh:
            targets = pc.survey_rows(wh)
    except VRUError:
        targets = None  # no warehouse: generic levels
    return synth.generate(quarters=list(quarters), per_borough=per_borough,
                          targets=targets if targets is not None and len(targets) else None, seed=seed)


def evaluate(warehouse: str | Path | pd.DataFrame | Panel | None = None, *,
             panel: pd.DataFrame | Panel | None = None, treated: Any = None,
             unit: str = "unit", period: str = "period", value: str = "value",
             cohort: str | None = None, progress: Callable[[str, int], None] | None = None,
             **params: Any) -> dict:
    """Did violence fall where the programme went? Staggered difference-in-differences
    (Callaway-Sant'Anna, rates and Poisson counts), synthetic control with placebo p-values,
    spillover to neighbouring areas, and the minimum detectable effect.

    **Your own panel** (``panel``: a long DataFrame, one row per ``unit`` and ``period`` with
    its ``value``, or a :class:`vru.model.Panel`): any units (counties, wards, schools) and
    periods (years as numbers, months as dates). ``treated``: unit -> first treated period (or
    a DataFrame ``area, start``), or leave it out and name a ``cohort`` column (each unit's
    first treated period; missing or 0 for never treated, as in R's ``did``). ``params`` are
    options of :func:`vru.analysis.evaluation.evaluate` (methods, model, control, n_draws,
    pre_periods, outcome_label, ...). A DataFrame or Panel given as the first argument is taken
    as ``panel``.

    **The warehouse** (``panel`` not given): borough level, ``treated`` and ``params`` are fields
    of :class:`vru.pipelines.evaluation.EvalParams` (treated, start, starts, category,
    window_start, window_end, ...); the default is the MyEnds worked example
    (:func:`vru.pipelines.evaluation.run`); ``progress(stage, total)`` is called after each stage
    (:data:`vru.pipelines.evaluation.STAGES`). With your own panel it is called once, as
    ``("evaluation", 1)``, when the evaluation is done.

    Returns plain, JSON-ready data (``statement``, ``limits``, ``design``, ``did``, ``synth``,
    ``tables``). Errors (:class:`vru.errors.VRUError`) name the column and the kind of value at
    fault.
    """
    if isinstance(warehouse, pd.DataFrame | Panel):
        if panel is not None:
            raise VRUError("give the panel once: as the first argument or as panel=")
        panel, warehouse = warehouse, None
    if panel is not None:
        if warehouse is not None:
            raise VRUError("give either a panel or a warehouse, not both")
        if not isinstance(panel, pd.DataFrame | Panel):
            raise VRUError(f"panel must be a pandas DataFrame (long: {unit}, {period}, {value}) "
                           f"or a vru.model.Panel, not {type(panel).__name__}")
        import inspect

        from vru.analysis import evaluation as ev

        known = set(inspect.signature(ev.evaluate).parameters) - {"panel", "treated", "unit",
                                                                   "period", "outcome", "cohort"}
        bad = sorted(set(params) - known)
        if bad:
            raise VRUError(f"vru.api.evaluate() got an unexpected keyword argument {bad[0]!r} "
                           f"(options for your own panel: {', '.join(sorted(known))})")
        answer = ev.evaluate(panel, treated, unit=unit, period=period, outcome=value,
                             cohort=cohort, **params).as_dict()
        if progress is not None:
            progress("evaluation", 1)
        return answer
    from vru.pipelines import evaluation as pe

    if treated is not None:
        params["treated"] = treated
    p = pe.EvalParams.of(**params)
    return _read(warehouse, lambda wh: pe.run(wh, p, progress=progress).as_dict())


def status(warehouse: str | Path | None = None) -> list[dict]:
    """Per source: the files loaded (each with its own rows), the rows and periods held
    (:func:`vru.warehouse.queries.status`)."""
    from vru.warehouse import queries

    with Warehouse.open(warehouse, read_only=True) as wh:
        return queries.status(wh)


__all__ = ["confidence", "default_path", "drivers", "evaluate", "hotspots", "ingest", "init",
           "report", "report_html", "status", "synthetic_survey", "synthetic_survey_frame", "target"]
