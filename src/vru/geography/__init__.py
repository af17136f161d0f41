"""One geography for the whole platform.

- :mod:`vru.geography.boroughs`: borough codes, names and every known spelling.
- :mod:`vru.geography.lookup`: LSOA 2011 <-> 2021 best fit by area overlap, LSOA -> borough.
- :mod:`vru.geography.grids`: regular grids of cells over a study area.
- :mod:`vru.geography.weights`: spatial weights (re-exported from :mod:`vru.model.weights`:
  ``SpatialWeights.from_areas(areas, "queen")``).

The lookup functions are re-exported lazily, so that importing the borough names (as every loader
does) does not import geopandas.
"""

from __future__ import annotations

import importlib

from vru.geography.boroughs import (
    AIRPORTS_CODE,
    BOROUGHS,
    CITY_OF_LONDON,
    LONDON_CODE,
    MPS_BOROUGHS,
    MYENDS_BOROUGHS,
    UNKNOWN_CODE,
    borough_code,
    borough_name,
    is_geographic,
)

_LAZY = {n: "vru.geography.lookup" for n in (
    "SLIVER_SHARE", "best_fit", "bundled_overlap", "lsoa_2011_2021_overlap", "lsoa_to_borough",
    "to_2011", "to_2021")}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vru.geography' has no attribute {name!r}")


__all__ = [
    "AIRPORTS_CODE",
    "BOROUGHS",
    "CITY_OF_LONDON",
    "LONDON_CODE",
    "MPS_BOROUGHS",
    "MYENDS_BOROUGHS",
    "UNKNOWN_CODE",
    "borough_code",
    "borough_name",
    "is_geographic",
    *_LAZY,
]
