"""Spatial weights for any area level (LSOA, ward, borough, grid cell) as a libpysal ``Graph``.

:func:`build_weights` builds the weights from polygons (or points) in a projected CRS in metres
(British National Grid, EPSG:27700: e.g. ``vru.sources.boundaries.to_geodataframe(
vru.warehouse.queries.areas(wh, "lsoa", "2011"))`` or the cells of :mod:`vru.geography.grids`).
Every rule is a libpysal ``Graph`` builder (libpysal 4.10+, ``libpysal.graph``); contiguity and
k-nearest neighbours go through :mod:`vru.geography.neighbours`, which validates the areas and
lists the islands:

=============  ===============================================================================
rule           neighbours of area *i*
=============  ===============================================================================
``queen``      areas sharing at least one boundary point (``Graph.build_contiguity(rook=False)``)
``rook``       areas sharing a boundary segment (``Graph.build_contiguity(rook=True)``)
``knn``        the ``k`` areas with the nearest centroids (``Graph.build_knn``; not symmetric)
``distance``   areas whose centroid is within ``distance`` metres of *i*'s centroid
               (``Graph.build_distance_band(binary=True)``)
=============  ===============================================================================

Weights: ``transform="B"`` binary (1 per neighbour: the form of Getis & Ord's Gi* and of ArcGIS),
``"R"`` row-standardised (each area's weights sum to 1; esda's default for Local Moran).

**Islands** (areas with no neighbour under the rule: an area cut off by the Thames, which the
bundled boundaries stop at; an offshore polygon; any area beyond the distance band) are handled by
an explicit policy, ``islands=``:

- ``"keep"`` (default): the island stays in the graph with no neighbour (libpysal stores it as a
  zero-weight self-loop). Local statistics of an area alone say nothing about clustering:
  :mod:`vru.analysis.hotspots` gives it NaN statistics and :mod:`vru.analysis.emerging` no
  category (``island=True``); its value still counts in the global mean and variance.
- ``"knn1"``: each island is linked to the nearest other area (the smallest distance between the
  geometries, ties broken by input order) in both directions, so contiguity stays symmetric; the
  link has weight 1 before the transform. This is libpysal's ``weights.util.attach_islands``
  idea, applied to geometries rather than centroids.
- ``"drop"``: islands are removed from the graph; the caller must drop them from the values too.

The islands found (before the policy) and what was done with them are reported: the returned
graph carries a :class:`WeightsReport` as ``graph.vru_report`` (read it with :func:`report`; a
libpysal method that returns a new graph, such as ``transform``, does not copy it), and a warning
is logged. The report also gives the number of connected components: Gi* and Local Moran are
local statistics, so several components are allowed, but a small component (e.g. two islands
linked to each other) compares its areas only with each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from pyproj import CRS

from vru.geography import neighbours

log = logging.getLogger(__name__)

RULES = ("queen", "rook", "knn", "distance")
TRANSFORMS = ("B", "R")
ISLAND_POLICIES = ("keep", "knn1", "drop")


@dataclass(frozen=True)
class WeightsReport:
    """How a graph was built and what happened to its islands."""

    rule: str
    transform: str
    policy: str
    n_areas: int  # areas in the graph returned (after "drop")
    islands: tuple = ()  # areas with no neighbour under the rule, before the policy
    attached: tuple = ()  # (island, nearest area, distance in metres) for "knn1"
    dropped: tuple = ()  # areas removed by "drop"
    n_components: int = 1
    component_sizes: tuple = ()  # sizes of the connected components, largest first
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        """One sentence for logs and reports."""
        s = (f"{self.rule} weights ({'binary' if self.transform == 'B' else 'row-standardised'}) "
             f"on {self.n_areas:,} areas")
        if self.islands:
            what = {"keep": "kept without neighbours", "knn1": "each linked to its nearest area",
                    "drop": "dropped"}[self.policy]
            s += f"; {len(self.islands)} island(s) {what} (e.g. {', '.join(map(str, self.islands[:3]))})"
        else:
            s += "; no islands"
        if self.n_components > 1:
            s += (f"; {self.n_components} connected components (sizes "
                  f"{', '.join(map(str, self.component_sizes[:5]))}"
                  f"{', ...' if len(self.component_sizes) > 5 else ''})")
        return s


def _check_crs(gdf: gpd.GeoDataFrame) -> None:
    if gdf.crs is None:
        raise ValueError("the areas have no CRS: set it (British National Grid is EPSG:27700)")
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_projected:
        raise ValueError(f"the areas are in a geographic CRS ({crs.name}): distances must be in "
                         "metres, reproject first, e.g. gdf.to_crs(27700)")


def _indexed(areas: gpd.GeoDataFrame, id_col: str | None) -> gpd.GeoDataFrame:
    """The areas indexed by id, checked: unique ids, at least one area, every geometry present."""
    g = areas if id_col is None else areas.set_index(id_col)
    if g.index.has_duplicates:
        raise ValueError(f"duplicate area id {g.index[g.index.duplicated()][0]!r}")
    if len(g) == 0:
        raise ValueError("no areas")
    empty = g.geometry.isna() | g.geometry.is_empty
    if empty.any():
        raise ValueError(f"area {g.index[empty][0]!r} has no geometry")
    return g


def _base_table(g: gpd.GeoDataFrame, rule: str, k: int | None, distance: float | None
                ) -> pd.DataFrame:
    """Binary neighbour table (focal, neighbor, weight) with attrs ids/islands."""
    if rule in ("queen", "rook"):
        return neighbours.contiguity(g, id_col=None, rook=rule == "rook")
    if rule == "knn":
        if k is None:
            raise ValueError("rule='knn' needs k (the number of neighbours)")
        return neighbours.knn(g, int(k), id_col=None)
    if distance is None or not np.isfinite(distance) or distance <= 0:
        raise ValueError("rule='distance' needs a positive distance in metres")
    pts = gpd.GeoSeries(g.geometry.centroid, index=g.index, crs=g.crs)
    graph = Graph.build_distance_band(pts, float(distance), binary=True)
    adj = graph.adjacency.reset_index()
    adj.columns = neighbours.COLUMNS
    isolated = set(graph.isolates)
    adj = adj[~adj["focal"].isin(isolated)]  # libpysal stores an island as (i, i, 0)
    table = adj.sort_values(["focal", "neighbor"]).reset_index(drop=True)
    table["weight"] = 1.0
    table.attrs["islands"] = [i for i in g.index if i in isolated]
    table.attrs["ids"] = list(g.index)
    return table


def _attach(g: gpd.GeoDataFrame, table: pd.DataFrame, isl: list) -> tuple[pd.DataFrame, tuple]:
    """Link each island to its nearest other area (both directions)."""
    if len(g) < 2:
        raise ValueError("islands='knn1' needs at least 2 areas")
    pos = g.index.get_indexer(isl)
    geoms = g.geometry.to_numpy()
    links, attached = [], []
    for i, p in zip(isl, pos, strict=True):
        dist = shapely.distance(geoms[p], geoms)
        dist[p] = np.inf
        # equal geometries at distance 0 are other areas, not self: keep them
        j = int(np.argmin(dist))  # first in input order among ties
        nb = g.index[j]
        links += [(i, nb, 1.0), (nb, i, 1.0)]
        attached.append((i, nb, float(dist[j])))
    extra = pd.DataFrame(links, columns=neighbours.COLUMNS)
    out = pd.concat([table[neighbours.COLUMNS], extra], ignore_index=True)
    out = out.drop_duplicates(["focal", "neighbor"]).sort_values(["focal", "neighbor"])
    out = out.reset_index(drop=True)
    out.attrs = dict(table.attrs)
    out.attrs["islands"] = []
    return out, tuple(attached)


def build_weights(gdf: gpd.GeoDataFrame, rule: str = "queen", *, k: int | None = None,
                  distance: float | None = None, transform: str = "B",
                  id_col: str | None = "code", islands: str = "keep") -> Graph:
    """Spatial weights of the areas in ``gdf`` as a libpysal ``Graph`` (see the module doc).

    ``gdf``: polygons (or points) in a projected CRS in metres, one row per area, ids in
    ``id_col`` (``None``: the index); ids must be unique and geometries non-empty. ``rule``:
    ``"queen"``, ``"rook"``, ``"knn"`` (with ``k``) or ``"distance"`` (with ``distance`` in
    metres, between centroids). ``transform``: ``"B"`` or ``"R"``. ``islands``: ``"keep"``,
    ``"knn1"`` or ``"drop"``. The graph's ids are in input order; its
    ``vru_report`` (:class:`WeightsReport`) lists the islands and what was done with them.
    """
    if rule not in RULES:
        raise ValueError(f"unknown neighbour rule {rule!r}: one of {', '.join(RULES)}")
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}: 'B' (binary) or 'R' (row-standardised)")
    if islands not in ISLAND_POLICIES:
        raise ValueError(f"unknown island policy {islands!r}: one of {', '.join(ISLAND_POLICIES)}")
    if id_col is not None and id_col not in gdf.columns:
        raise ValueError(f"no id column {id_col!r} in the areas")
    _check_crs(gdf)
    g = _indexed(gdf, id_col)
    table = _base_table(g, rule, k, distance)
    ids = list(g.index)
    isl = list(table.attrs.get("islands", []))
    attached: tuple = ()
    dropped: tuple = ()
    if isl and islands == "knn1":
        table, attached = _attach(g, table, isl)
    elif isl and islands == "drop":
        if len(isl) == len(ids):
            raise ValueError("every area is an island under this rule: nothing left to analyse")
        dropped = tuple(isl)
        gone = set(isl)
        ids = [i for i in ids if i not in gone]
        table = table[~table["focal"].isin(gone)].reset_index(drop=True)
    graph = neighbours.to_graph(table, ids)
    if transform == "R":
        graph = graph.transform("r")
    sizes = np.bincount(np.asarray(graph.component_labels.reindex(ids).to_numpy(), dtype=int))
    rep = WeightsReport(
        rule=rule, transform=transform, policy=islands, n_areas=len(ids), islands=tuple(isl),
        attached=attached, dropped=dropped, n_components=int(graph.n_components),
        component_sizes=tuple(int(s) for s in sorted(sizes, reverse=True)),
        params={"k": k, "distance": distance, "id_col": id_col},
    )
    graph.vru_report = rep
    if isl:
        log.warning("%s", rep.text())
    return graph


def report(graph: Graph) -> WeightsReport:
    """The :class:`WeightsReport` of a graph from :func:`build_weights`; for any other graph, a
    report computed from the graph itself (rule ``"unknown"``, islands = its isolates)."""
    rep = getattr(graph, "vru_report", None)
    if rep is not None:
        return rep
    ids = list(graph.unique_ids)
    sizes = np.bincount(np.asarray(graph.component_labels.reindex(ids).to_numpy(), dtype=int))
    return WeightsReport(rule="unknown", transform="?", policy="keep", n_areas=len(ids),
                         islands=tuple(graph.isolates), n_components=int(graph.n_components),
                         component_sizes=tuple(int(s) for s in sorted(sizes, reverse=True)))


__all__ = ["RULES", "TRANSFORMS", "ISLAND_POLICIES", "WeightsReport", "build_weights", "report"]
