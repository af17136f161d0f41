"""The Python API behind every ``vru`` command (the CLI is a thin shell over these functions).

>>> from vru import api
>>> api.init()                              # build the warehouse from the bundled London data
>>> api.ingest(["2024-01-metropolitan-street.csv"])
>>> api.report("needs-assessment.html")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from vru.warehouse import ingest as _ingest
from vru.warehouse.store import FileResult, Warehouse, default_path


def init(warehouse: str | Path | None = None, *, replace: bool = False) -> list[FileResult]:
    """Create the warehouse (default :func:`vru.warehouse.store.default_path`) from bundled data."""
    wh, results = _ingest.init(warehouse, replace=replace)
    wh.close()
    return results


def ingest(paths: Iterable[str | Path], warehouse: str | Path | None = None, *,
           backend: str = "duckdb", force: bool = False) -> list[FileResult]:
    """Add files (any supported format; directories are searched) to an existing warehouse."""
    with Warehouse.open(warehouse) as wh:
        return _ingest.ingest(wh, paths, backend=backend, force=force)


def report(out: str | Path, warehouse: str | Path | None = None) -> Path:
    """Write the HTML needs assessment to ``out``."""
    from vru.outputs.report import write_report  # noqa: PLC0415 (matplotlib is slow to import)

    with Warehouse.open(warehouse, read_only=True) as wh:
        return write_report(wh, out)


def drivers(warehouse: str | Path | None = None, **params) -> dict:
    """The drivers analysis (City Hall statements, correlations, count regressions) as plain data.

    ``params`` are fields of :class:`vru.outputs.section_drivers.DriverParams`.
    """
    from vru.outputs import section_drivers as sd  # noqa: PLC0415

    with Warehouse.open(warehouse, read_only=True) as wh:
        return sd.results(wh, sd.DriverParams(**params))


def target(warehouse: str | Path | None = None, **params) -> dict:
    """Targeting: scored candidates, the shortlist, the budget allocation and its sensitivity.

    ``params`` are fields of :class:`vru.outputs.section_targeting.TargetParams`.
    """
    from vru.outputs import section_targeting as st  # noqa: PLC0415

    with Warehouse.open(warehouse, read_only=True) as wh:
        return st.results(wh, st.TargetParams(**params))


def status(warehouse: str | Path | None = None) -> pd.DataFrame:
    """One row per loaded file: source, path, rows, when."""
    from vru.warehouse import queries  # noqa: PLC0415

    with Warehouse.open(warehouse, read_only=True) as wh:
        return queries.sources(wh)


__all__ = ["default_path", "drivers", "ingest", "init", "report", "status", "target"]
