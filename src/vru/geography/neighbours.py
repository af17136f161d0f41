"""Neighbours of areas (LSOAs, wards, boroughs) as a plain table, built with libpysal's ``Graph``.

Every function takes a GeoDataFrame of polygons (e.g. from
:func:`vru.sources.boundaries.read_boundaries` or :func:`vru.sources.boundaries.to_geodataframe`)
and returns a DataFrame with columns ``focal, neighbor, weight``: one row per ordered pair of
neighbours (symmetric for contiguity), sorted by focal then neighbor.

- :func:`contiguity`: polygons sharing a vertex (queen, ``rook=False``, the default) or an edge
  (rook, ``rook=True``), via ``Graph.build_contiguity``; or, with ``buffer`` (metres), polygons
  that intersect once each is buffered by that distance (``Graph.build_fuzzy_contiguity``), which
  joins areas separated by a river or a small gap in generalised boundaries.
- :func:`knn`: the ``k`` nearest areas by centroid distance (``Graph.build_knn``).

**Islands.** An area with no neighbour (e.g. an offshore polygon, or any area once the Thames
separates it from everything) has *no rows* in the table: it is never given itself or a dummy
neighbour with weight 0. The table's ``attrs["islands"]`` lists such areas (``attrs["ids"]``
lists every area, in input order), and a warning is logged. Note that the bundled borough and
LSOA boundaries stop at the river bank, so queen contiguity does not link areas facing each other
across the Thames (the City of London's contiguous neighbours are Camden, Hackney, Islington,
Tower Hamlets and Westminster; with ``buffer=300`` Lambeth and Southwark join them).

Weights: ``transform="B"`` binary (1 per neighbour), ``"R"`` row-standardised (each focal's
weights sum to 1). :func:`to_graph` turns a table back into a libpysal ``Graph`` (islands kept as
isolates) for use with esda.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd
from libpysal.graph import Graph

log = logging.getLogger(__name__)

COLUMNS = ["focal", "neighbor", "weight"]


def _indexed(areas: gpd.GeoDataFrame, id_col: str | None) -> gpd.GeoDataFrame:
    g = areas if id_col is None else areas.set_index(id_col)
    if g.index.has_duplicates:
        dup = g.index[g.index.duplicated()][0]
        raise ValueError(f"duplicate area id {dup!r}")
    if len(g) == 0:
        raise ValueError("no areas")
    if g.geometry.isna().any() or g.geometry.is_empty.any():
        bad = g.index[g.geometry.isna() | g.geometry.is_empty][0]
        raise ValueError(f"area {bad!r} has no geometry")
    return g


def _table(graph: Graph, ids: list, transform: str) -> pd.DataFrame:
    if transform not in ("B", "R"):
        raise ValueError(f"unknown transform {transform!r}: 'B' (binary) or 'R' (row-standardised)")
    graph = graph.transform(transform.lower()) if transform == "R" else graph
    adj = graph.adjacency.reset_index()
    adj.columns = COLUMNS
    islands = [i for i in ids if i in set(graph.isolates)]
    adj = adj[~adj["focal"].isin(islands)]  # libpysal stores an island as (i, i, 0)
    out = adj.sort_values(["focal", "neighbor"]).reset_index(drop=True)
    out["weight"] = out["weight"].astype("float64")
    out.attrs["islands"] = islands
    out.attrs["ids"] = list(ids)
    if islands:
        log.warning("%d areas have no neighbour (islands), e.g. %s", len(islands), islands[:5])
    return out


def contiguity(areas: gpd.GeoDataFrame, *, id_col: str | None = "code", rook: bool = False,
               buffer: float | None = None, transform: str = "B") -> pd.DataFrame:
    """Contiguity neighbours: queen (default), rook, or fuzzy with a ``buffer`` in CRS units.

    ``id_col``: the column holding area ids (``None``: use the index).
    """
    g = _indexed(areas, id_col)
    if buffer is not None:
        if buffer <= 0:
            raise ValueError("buffer must be positive")
        graph = Graph.build_fuzzy_contiguity(g, buffer=buffer)
    else:
        graph = Graph.build_contiguity(g, rook=rook)
    return _table(graph, list(g.index), transform)


def knn(areas: gpd.GeoDataFrame, k: int, *, id_col: str | None = "code",
        transform: str = "B") -> pd.DataFrame:
    """The ``k`` nearest areas of each area by distance between centroids (not symmetric)."""
    g = _indexed(areas, id_col)
    if not 1 <= k < len(g):
        raise ValueError(f"k must be between 1 and the number of areas - 1 ({len(g) - 1})")
    pts = gpd.GeoSeries(g.geometry.centroid, index=g.index, crs=g.crs)
    graph = Graph.build_knn(pts, k)
    return _table(graph, list(g.index), transform)


def islands(table: pd.DataFrame) -> list:
    """Areas with no neighbour in a table made by this module."""
    return list(table.attrs.get("islands", []))


def to_graph(table: pd.DataFrame, ids: list | None = None) -> Graph:
    """A libpysal ``Graph`` from a neighbour table; islands become isolates.

    ``ids`` (all areas, in order) defaults to ``table.attrs["ids"]``; areas in ``ids`` with no
    row are the islands.
    """
    ids = list(ids if ids is not None else table.attrs.get("ids", []))
    if not ids:
        ids = list(dict.fromkeys(table["focal"]))
    unknown = set(table["focal"]) - set(ids) | set(table["neighbor"]) - set(ids)
    if unknown:
        raise ValueError(f"table names areas not in ids, e.g. {sorted(unknown)[:3]}")
    present = set(table["focal"])
    loops = pd.DataFrame({"focal": [i for i in ids if i not in present],
                          "neighbor": [i for i in ids if i not in present], "weight": 0.0})
    adj = pd.concat([table[COLUMNS], loops], ignore_index=True)
    order = {v: n for n, v in enumerate(ids)}
    adj = adj.sort_values(["focal", "neighbor"], key=lambda s: s.map(order), kind="stable")
    return Graph.from_adjacency(adj)
