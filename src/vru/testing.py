"""Helpers for testing code built on the platform: make a panel with a known answer, build a small
warehouse quickly, and compare two panels cell by cell.

>>> from vru import testing
>>> panel = testing.staggered_panel(n_units=40, effect=2.0, seed=1)
>>> sorted(panel.columns)
['cohort', 'outcome', 'period', 'unit']

Everything here is synthetic or bundled open data: no personal data, no network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vru.model.panel import Panel
from vru.warehouse import ingest as _ingest
from vru.warehouse.store import Warehouse

__all__ = ["SMALL_BUNDLED_FOLDERS", "assert_panels_equal", "staggered_panel", "tiny_warehouse"]

# Bundled folders that load in a few seconds and still give every table a few rows: borough crime,
# the City of London's street-level crimes, borough unemployment and the published PAS figures.
SMALL_BUNDLED_FOLDERS: tuple[str, ...] = (
    "mps_crime_borough", "police_uk_street_city_of_london_2023", "unemployment_borough", "mopac_pas_borough",
)


def staggered_panel(*, n_units: int = 60, n_periods: int = 10, cohorts: Sequence[int] = (4, 6, 9),
                    never_treated: float = 0.4, effect: float = 1.0, noise: float = 1.0,
                    poisson: bool = False, seed: int = 0) -> pd.DataFrame:
    """A long panel ``unit, period, outcome, cohort`` with staggered adoption and a known effect.

    Units get a level of their own and share period effects (parallel trends hold by construction).
    A share ``never_treated`` of them is never treated (``cohort`` missing); the rest are spread evenly
    over ``cohorts`` (the first treated period, 1-based). From its cohort on, a treated unit's outcome
    is raised by ``effect`` (``poisson=False``: outcome = level + period effect + effect + normal
    noise) or multiplied by ``exp(effect)`` (``poisson=True``: outcome is a Poisson count), so the
    true ATT(g, t) is ``effect`` in every post-treatment cell (on the log scale for counts).
    """
    if n_units < 2 or n_periods < 2:
        raise ValueError("a panel needs at least 2 units and 2 periods")
    if not 0 <= never_treated < 1:
        raise ValueError("never_treated is a share in [0, 1)")
    if any(not 1 < int(g) <= n_periods for g in cohorts):
        raise ValueError(f"every cohort must be a period in 2..{n_periods} (one period before it at least)")
    rng = np.random.default_rng(seed)
    n_never = int(round(n_units * never_treated))
    first = np.full(n_units, np.nan)
    treated = n_units - n_never
    if treated and cohorts:
        first[n_never:] = np.resize(np.asarray(cohorts, dtype=float), treated)
    level = rng.normal(0.0, 1.0, n_units)
    period_effect = np.linspace(0.0, 1.0, n_periods)
    t = np.arange(1, n_periods + 1)
    on = ~np.isnan(first)[:, None] & (t[None, :] >= np.nan_to_num(first, nan=np.inf)[:, None])
    if poisson:
        mu = np.exp(2.0 + 0.3 * level[:, None] + 0.3 * period_effect[None, :] + effect * on)
        y = rng.poisson(mu).astype(float)
    else:
        y = level[:, None] + period_effect[None, :] + effect * on + rng.normal(0.0, noise, on.shape)
    return pd.DataFrame({
        "unit": np.repeat([f"u{i:03d}" for i in range(n_units)], n_periods),
        "period": np.tile(t, n_units),
        "outcome": y.ravel(),
        "cohort": np.repeat(first, n_periods),
    })


def tiny_warehouse(path: str | Path, folders: Iterable[str] = SMALL_BUNDLED_FOLDERS, *,
                   replace: bool = False) -> Path:
    """A warehouse at ``path`` holding only the named bundled folders (default
    :data:`SMALL_BUNDLED_FOLDERS`: a few seconds, against minutes for ``vru init``). Returns the path."""
    root = _ingest.bundled_dir()
    files: list[Path] = []
    for name in folders:
        folder = root / name
        if not folder.is_dir():
            known = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
            raise ValueError(f"no bundled folder {name!r}; the bundled folders are: {known}")
        files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".md")
    wh = Warehouse.create(path, replace=replace)
    try:
        _ingest.ingest(wh, files)
    finally:
        wh.close()
    return Path(path)


def assert_panels_equal(left: pd.DataFrame | Panel, right: pd.DataFrame | Panel, *,
                        keys: Sequence[str] = ("unit", "period"), value: str = "outcome",
                        rtol: float = 0.0, atol: float = 0.0) -> None:
    """Fail (AssertionError) unless the two long panels hold the same cells with the same ``value``
    (within ``rtol``/``atol``; missing equals missing), whatever their row order. The message names the
    first cell that differs, or the cells one panel has and the other lacks. A :class:`vru.model.Panel`
    is compared by its cells (units x periods; ``keys`` and ``value`` name a DataFrame's columns)."""
    left, right = (_as_long(p, keys, value) for p in (left, right))
    cols = [*keys, value]
    for name, df in (("left", left), ("right", right)):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise AssertionError(f"the {name} panel has no column {', '.join(map(repr, missing))}")
        dup = df.duplicated(list(keys))
        if dup.any():
            cell = _plain(tuple(df.loc[dup, list(keys)].iloc[0]))
            raise AssertionError(f"the {name} panel has cell {cell} more than once")
    a = left[cols].set_index(list(keys))[value]
    b = right[cols].set_index(list(keys))[value]
    only_left, only_right = a.index.difference(b.index), b.index.difference(a.index)
    if len(only_left) or len(only_right):
        first_left, first_right = _plain(tuple(only_left[:3])), _plain(tuple(only_right[:3]))
        raise AssertionError(f"cells differ: {len(only_left)} only in left (first {first_left}), "
                             f"{len(only_right)} only in right (first {first_right})")
    b = b.reindex(a.index)
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    same = np.isclose(x, y, rtol=rtol, atol=atol) | (np.isnan(x) & np.isnan(y))
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        raise AssertionError(f"{int((~same).sum())} cells differ; first {_plain(a.index[i])}: "
                             f"{_plain(x[i])!r} != {_plain(y[i])!r}")


def _as_long(panel: pd.DataFrame | Panel, keys: Sequence[str], value: str) -> pd.DataFrame:
    """A Panel as a long DataFrame with the columns ``keys`` (unit, period) and ``value``."""
    if not isinstance(panel, Panel):
        return panel
    if len(keys) != 2:
        raise AssertionError("a Panel is compared on two keys: its unit and its period")
    n = panel.names
    return panel.to_long().rename(columns={n["unit"]: keys[0], n["period"]: keys[1], n["value"]: value})


def _plain(value: object) -> object:
    """numpy scalars (and tuples of them) as Python values, so messages read 2, not np.int64(2)."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value
