"""Spatial weights for any area level (LSOA, ward, borough, grid cell).

The implementation lives in :mod:`vru.model.weights`: :class:`~vru.model.weights.SpatialWeights`
(a libpysal ``Graph`` with its island policy and report) and :func:`build_weights`, re-exported
here for the geography package (e.g. ``build_weights(grid.cells, "queen", id_col="cell_id")`` on
the cells of :mod:`vru.geography.grids`). See that module for the rules, transforms and island
policies.
"""

from __future__ import annotations

from vru.model.weights import (
    ISLAND_POLICIES,
    RULES,
    TRANSFORMS,
    SpatialWeights,
    WeightsReport,
    build_weights,
)

__all__ = ["RULES", "TRANSFORMS", "ISLAND_POLICIES", "SpatialWeights", "WeightsReport",
           "build_weights"]
