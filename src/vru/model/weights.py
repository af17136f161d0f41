"""Spatial weights as one validated object: :class:`SpatialWeights`.

A :class:`SpatialWeights` is a libpysal ``Graph`` together with the island policy it was built
with and a :class:`WeightsReport` (the islands found, what was done with them, the connected
components and the cardinalities). It is the one form of spatial weights that
:mod:`vru.analysis.hotspots`, :mod:`vru.analysis.emerging`, :mod:`vru.analysis.targeting` and
:func:`vru.analysis.evaluation.spillover_rings` take; at their edge they also accept a plain
libpysal ``Graph`` (or ``W``, a ``scipy.sparse`` matrix or a dense array), converted once by
:meth:`SpatialWeights.coerce`.

Constructors:

- :meth:`SpatialWeights.from_areas`: from an :class:`vru.model.areas.AreaSet` (British National
  Grid, so distances are in metres);
- :meth:`SpatialWeights.from_geodataframe` (and the function :func:`build_weights`): from
  polygons (or points) in any projected CRS in metres;
- :meth:`SpatialWeights.from_graph`: a libpysal ``Graph`` built elsewhere (policy ``"keep"``,
  report computed from the graph);
- :meth:`SpatialWeights.coerce`: any accepted input, including sparse or dense matrices.

Neighbour rules (every one a libpysal ``Graph`` builder, libpysal 4.10+):

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
- ``"drop"``: islands are removed from the graph; the caller must drop them from the values too
  (``weights.ids`` lists the areas kept).

The islands found (before the policy) and what was done with them are in ``weights.report``, and
a warning is logged. The report also gives the number of connected components: Gi* and Local
Moran are local statistics, so several components are allowed, but a small component (e.g. two
islands linked to each other) compares its areas only with each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from libpysal.graph import Graph
from pyproj import CRS

if TYPE_CHECKING:
    from vru.model.areas import AreaSet

log = logging.getLogger(__name__)

RULES = ("queen", "rook", "knn", "distance")
TRANSFORMS = ("B", "R")
ISLAND_POLICIES = ("keep", "knn1", "drop")
_COLUMNS = ["focal", "neighbor", "weight"]


@dataclass(frozen=True)
class WeightsReport:
    """How a set of weights was built and what happened to its islands."""

    rule: str
    transform: str
    policy: str
    n_areas: int  # areas in the weights (after "drop")
    islands: tuple = ()  # areas with no neighbour under the rule, before the policy
    attached: tuple = ()  # (island, nearest area, distance in metres) for "knn1"
    dropped: tuple = ()  # areas removed by "drop"
    n_components: int = 1
    component_sizes: tuple = ()  # sizes of the connected components, largest first
    cardinality_range: tuple = (0, 0)  # fewest and most neighbours of an area (islands count 0)
    mean_cardinality: float = 0.0
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        """One sentence for logs and reports."""
        kind = {"B": "binary", "R": "row-standardised"}.get(self.transform, "given")
        s = f"{self.rule} weights ({kind}) on {self.n_areas:,} areas"
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


def _base_graph(g: gpd.GeoDataFrame, rule: str, k: int | None, distance: float | None) -> Graph:
    """The binary graph of the rule, ids in input order (islands as zero self-loops)."""
    if rule in ("queen", "rook"):
        return Graph.build_contiguity(g, rook=rule == "rook")
    pts = gpd.GeoSeries(g.geometry.centroid, index=g.index, crs=g.crs)
    if rule == "knn":
        if k is None:
            raise ValueError("rule='knn' needs k (the number of neighbours)")
        if not 1 <= int(k) < len(g):
            raise ValueError(f"k must be between 1 and the number of areas - 1 ({len(g) - 1})")
        return Graph.build_knn(pts, int(k))
    if distance is None or not np.isfinite(distance) or distance <= 0:
        raise ValueError("rule='distance' needs a positive distance in metres")
    return Graph.build_distance_band(pts, float(distance), binary=True)


def _edges(graph: Graph) -> pd.DataFrame:
    """The graph's links (focal, neighbor, weight), the islands' zero self-loops left out."""
    adj = graph.adjacency.reset_index()
    adj.columns = _COLUMNS
    isolated = set(graph.isolates)
    return adj[~adj["focal"].isin(isolated)]


def _graph(edges: pd.DataFrame, ids: list) -> Graph:
    """A binary-or-weighted ``Graph`` over ``ids`` (in that order) from its links; areas of ``ids``
    without a link become isolates (zero self-loops, libpysal's form)."""
    present = set(edges["focal"])
    alone = [i for i in ids if i not in present]
    loops = pd.DataFrame({"focal": alone, "neighbor": alone, "weight": 0.0})
    adj = pd.concat([edges[_COLUMNS].astype({"weight": "float64"}), loops], ignore_index=True)
    order = {v: n for n, v in enumerate(ids)}
    adj = adj.sort_values(["focal", "neighbor"], key=lambda s: s.map(order), kind="stable")
    return Graph.from_adjacency(adj)


def _attach(g: gpd.GeoDataFrame, edges: pd.DataFrame, isl: list) -> tuple[pd.DataFrame, tuple]:
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
    extra = pd.DataFrame(links, columns=_COLUMNS)
    out = pd.concat([edges[_COLUMNS], extra], ignore_index=True)
    return out.drop_duplicates(["focal", "neighbor"]), tuple(attached)


def _validated_matrix(matrix: Any) -> sp.csr_array:
    """CSR float64, square, finite, non-negative, explicit zeros removed, indices sorted."""
    m = sp.csr_array(matrix, dtype=np.float64, copy=True)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"weights must be a square n x n matrix, got shape {m.shape}")
    if not np.isfinite(m.data).all():
        raise ValueError("weights contain NaN or infinite values")
    if (m.data < 0).any():
        raise ValueError("weights must be non-negative")
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    return m


def off_diagonal(matrix: sp.csr_array) -> sp.csr_array:
    """A copy of ``matrix`` without its diagonal (self-weights), CSR with sorted indices."""
    off = sp.csr_array(matrix, copy=True)
    off.setdiag(0)
    off.eliminate_zeros()
    off.sort_indices()
    return off


def _components(graph: Graph, ids: list) -> tuple[int, tuple]:
    sizes = np.bincount(np.asarray(graph.component_labels.reindex(ids).to_numpy(), dtype=int))
    return int(graph.n_components), tuple(int(s) for s in sorted(sizes, reverse=True))


@dataclass(frozen=True)
class SpatialWeights:
    """A libpysal ``Graph``, its island policy and its :class:`WeightsReport` (frozen).

    Build it with :meth:`from_areas`, :meth:`from_geodataframe`, :meth:`from_graph` or
    :meth:`coerce`. ``ids`` are the area ids in the order of the rows of :attr:`sparse`
    (``None`` for a bare matrix given without ids: the values then name the areas).
    """

    graph: Graph
    policy: str
    report: WeightsReport
    labelled: bool = True
    _matrix: sp.csr_array | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.graph, Graph):
            raise TypeError(f"SpatialWeights.graph must be a libpysal Graph, not "
                            f"{type(self.graph).__name__}")
        if self.policy not in ISLAND_POLICIES:
            raise ValueError(f"unknown island policy {self.policy!r}: one of "
                             f"{', '.join(ISLAND_POLICIES)}")
        matrix = _validated_matrix(self._matrix if self._matrix is not None else self.graph.sparse)
        object.__setattr__(self, "_matrix", matrix)
        if matrix.shape[0] != len(self.graph.unique_ids):
            raise ValueError("the weights matrix and the graph have different numbers of areas")

    # --- constructors ----------------------------------------------------------------------------

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, rule: str = "queen", *, k: int | None = None,
                          distance: float | None = None, transform: str = "B",
                          id_col: str | None = "code", islands: str = "keep") -> SpatialWeights:
        """Weights of the areas in ``gdf`` (see the module doc).

        ``gdf``: polygons (or points) in a projected CRS in metres, one row per area, ids in
        ``id_col`` (``None``: the index); ids must be unique and geometries non-empty. ``rule``:
        ``"queen"``, ``"rook"``, ``"knn"`` (with ``k``) or ``"distance"`` (with ``distance`` in
        metres, between centroids). ``transform``: ``"B"`` or ``"R"``. ``islands``: ``"keep"``,
        ``"knn1"`` or ``"drop"``. The ids keep the input order.
        """
        if rule not in RULES:
            raise ValueError(f"unknown neighbour rule {rule!r}: one of {', '.join(RULES)}")
        if transform not in TRANSFORMS:
            raise ValueError(f"unknown transform {transform!r}: 'B' (binary) or 'R' "
                             "(row-standardised)")
        if islands not in ISLAND_POLICIES:
            raise ValueError(f"unknown island policy {islands!r}: one of "
                             f"{', '.join(ISLAND_POLICIES)}")
        if id_col is not None and id_col not in gdf.columns:
            raise ValueError(f"no id column {id_col!r} in the areas")
        _check_crs(gdf)
        g = _indexed(gdf, id_col)
        base = _base_graph(g, rule, k, distance)
        ids = list(g.index)
        isolated = set(base.isolates)
        isl = [i for i in ids if i in isolated]
        edges = _edges(base).assign(weight=1.0)
        attached: tuple = ()
        dropped: tuple = ()
        if isl and islands == "knn1":
            edges, attached = _attach(g, edges, isl)
        elif isl and islands == "drop":
            if len(isl) == len(ids):
                raise ValueError("every area is an island under this rule: nothing left to analyse")
            dropped = tuple(isl)
            ids = [i for i in ids if i not in isolated]
        graph = _graph(edges, ids)
        if transform == "R":
            graph = graph.transform("r")
        n_comp, sizes = _components(graph, ids)
        card = graph.cardinalities.reindex(ids).fillna(0).to_numpy()
        rep = WeightsReport(
            rule=rule, transform=transform, policy=islands, n_areas=len(ids), islands=tuple(isl),
            attached=attached, dropped=dropped, n_components=n_comp, component_sizes=sizes,
            cardinality_range=(int(card.min()), int(card.max())),
            mean_cardinality=float(card.mean()),
            params={"k": k, "distance": distance, "id_col": id_col},
        )
        if isl:
            log.warning("%s", rep.text())
        return cls(graph, islands, rep)

    @classmethod
    def from_areas(cls, areas: AreaSet, rule: str = "queen", *, k: int | None = None,
                   distance: float | None = None, transform: str = "B",
                   islands: str = "keep") -> SpatialWeights:
        """Weights of an :class:`~vru.model.areas.AreaSet` (British National Grid, metres), ids
        in the area set's order."""
        return cls.from_geodataframe(areas.frame, rule, k=k, distance=distance,
                                     transform=transform, id_col=None, islands=islands)

    @classmethod
    def from_graph(cls, graph: Graph, *, rule: str = "given") -> SpatialWeights:
        """Wrap a libpysal ``Graph`` built elsewhere: policy ``"keep"``, its isolates as islands."""
        if not isinstance(graph, Graph):
            raise TypeError(f"expected a libpysal Graph, not {type(graph).__name__}")
        ids = list(graph.unique_ids)
        n_comp, sizes = _components(graph, ids)
        card = graph.cardinalities.reindex(ids).fillna(0).to_numpy()
        rep = WeightsReport(rule=rule, transform="?", policy="keep", n_areas=len(ids),
                            islands=tuple(graph.isolates), n_components=n_comp,
                            component_sizes=sizes,
                            cardinality_range=(int(card.min()), int(card.max())) if ids else (0, 0),
                            mean_cardinality=float(card.mean()) if ids else 0.0)
        return cls(graph, "keep", rep)

    @classmethod
    def coerce(cls, weights: Any, ids: Any = None) -> SpatialWeights:
        """``weights`` as :class:`SpatialWeights`: itself, a libpysal ``Graph`` or ``W`` (its
        matrix at its current transform, in ``unique_ids``/``id_order``), a table of neighbour
        pairs (:meth:`from_pairs`), a ``scipy.sparse`` matrix or a dense 2-D array. ``ids`` names
        the areas of a bare matrix (or every area of a table); given with weights
        that carry ids, it must equal them (same order)."""
        from libpysal.weights import W

        labelled = True
        if isinstance(weights, SpatialWeights):
            out = weights
        elif isinstance(weights, Graph):
            out = cls.from_graph(weights)
        elif isinstance(weights, pd.DataFrame):
            out = cls.from_pairs(weights, ids)
            ids = None
        elif isinstance(weights, W):
            matrix = _validated_matrix(weights.sparse)
            g = Graph.from_sparse(matrix, ids=list(weights.id_order))
            out = cls._bare(g, matrix)
        elif sp.issparse(weights) or (isinstance(weights, np.ndarray) and weights.ndim == 2):
            matrix = _validated_matrix(weights)
            labelled = ids is not None
            names = list(pd.Index(ids)) if labelled else list(range(matrix.shape[0]))
            if len(names) != matrix.shape[0]:
                raise ValueError(f"{len(names)} ids given for {matrix.shape[0]} areas in the "
                                 "weights")
            if pd.Index(names).has_duplicates:
                dup = pd.Index(names)
                raise ValueError(f"duplicate area ids: {list(dup[dup.duplicated()][:5])}")
            out = cls._bare(Graph.from_sparse(matrix, ids=names), matrix, labelled=labelled)
            ids = None
        else:
            raise TypeError(
                "weights must be vru.model.SpatialWeights, a libpysal Graph or W, a scipy.sparse "
                f"matrix or a 2-D numpy array, not {type(weights).__name__}"
            )
        if ids is not None:
            ids = pd.Index(ids)
            if len(ids) != out.n:
                raise ValueError(f"{len(ids)} ids given for {out.n} areas in the weights")
            if not ids.equals(out.ids):
                raise ValueError("ids differ from the ids (or their order) carried by the weights")
        return out

    @classmethod
    def from_pairs(cls, pairs: pd.DataFrame, ids: Any = None) -> SpatialWeights:
        """Weights from a table of neighbour pairs a user brings: columns ``focal`` and
        ``neighbor`` (one row per ordered pair, taken as given: add both directions for a
        symmetric relation) and optionally ``weight`` (default 1). ``ids``: every area, in order
        (areas without a row are islands); default: the areas named in the table, in order of
        appearance."""
        missing = [c for c in ("focal", "neighbor") if c not in pairs.columns]
        if missing:
            raise ValueError(f"the neighbour table has no column {missing[0]!r}: it needs "
                             "'focal' and 'neighbor' (and optionally 'weight')")
        edges = pd.DataFrame({"focal": pairs["focal"].to_numpy(),
                              "neighbor": pairs["neighbor"].to_numpy(),
                              "weight": (pd.to_numeric(pairs["weight"], errors="raise").to_numpy(
                                  dtype="float64") if "weight" in pairs.columns else 1.0)})
        edges = edges[edges["focal"] != edges["neighbor"]]
        named = list(dict.fromkeys([*edges["focal"], *edges["neighbor"]]))
        if ids is None:
            ids = named
        else:
            ids = list(ids)
            unknown = set(named) - set(ids)
            if unknown:
                raise ValueError(f"the neighbour table names areas not in ids, e.g. "
                                 f"{sorted(map(str, unknown))[:3]}")
        if not ids:
            raise ValueError("the neighbour table is empty and no ids were given")
        edges = edges.drop_duplicates(["focal", "neighbor"])
        graph = _graph(edges, ids)
        return cls._bare(graph, graph.sparse)

    @classmethod
    def _bare(cls, graph: Graph, matrix: sp.csr_array, labelled: bool = True) -> SpatialWeights:
        ids = list(graph.unique_ids)
        n_comp, sizes = _components(graph, ids)
        card = np.diff(off_diagonal(matrix).indptr)
        isl = tuple(i for i, c in zip(ids, card, strict=True) if c == 0)
        rep = WeightsReport(rule="given", transform="?", policy="keep", n_areas=len(ids),
                            islands=isl, n_components=n_comp, component_sizes=sizes,
                            cardinality_range=(int(card.min()), int(card.max())) if ids else (0, 0),
                            mean_cardinality=float(card.mean()) if ids else 0.0)
        return cls(graph, "keep", rep, labelled, matrix)

    # --- views -----------------------------------------------------------------------------------

    def _csr(self) -> sp.csr_array:
        if self._matrix is None:  # pragma: no cover - set by __post_init__
            raise RuntimeError("SpatialWeights built without its matrix")
        return self._matrix

    @property
    def n(self) -> int:
        """Number of areas."""
        return int(self._csr().shape[0])

    @property
    def ids(self) -> pd.Index | None:
        """Area ids in row order (``None`` for a bare matrix given without ids)."""
        return pd.Index(self.graph.unique_ids) if self.labelled else None

    @property
    def sparse(self) -> sp.csr_array:
        """The weights as a CSR float64 matrix (row i = the neighbours of area i; a copy)."""
        return self._csr().copy()

    @property
    def cardinality(self) -> np.ndarray:
        """Number of neighbours of each area (itself excluded), in row order."""
        return np.diff(off_diagonal(self._csr()).indptr)

    @property
    def islands(self) -> np.ndarray:
        """Boolean mask of areas without any neighbour other than themselves, in row order."""
        return np.asarray(self.cardinality == 0)

    @property
    def unique_ids(self) -> pd.Index:
        return self.graph.unique_ids

    @property
    def adjacency(self) -> pd.Series:
        return self.graph.adjacency

    @property
    def cardinalities(self) -> pd.Series:
        return self.graph.cardinalities

    @property
    def n_edges(self) -> int:
        return int(self.graph.n_edges)

    @property
    def n_nodes(self) -> int:
        return int(self.graph.n_nodes)

    @property
    def isolates(self) -> pd.Index:
        return self.graph.isolates

    def neighbours(self) -> dict:
        """Each area's neighbours (itself excluded), as ``{id: [ids]}`` in row order."""
        off = off_diagonal(self._csr())
        ids = list(self.graph.unique_ids)
        return {ids[i]: [ids[j] for j in off.indices[off.indptr[i]:off.indptr[i + 1]]]
                for i in range(self.n)}


def build_weights(gdf: gpd.GeoDataFrame, rule: str = "queen", *, k: int | None = None,
                  distance: float | None = None, transform: str = "B",
                  id_col: str | None = "code", islands: str = "keep") -> SpatialWeights:
    """:meth:`SpatialWeights.from_geodataframe` as a function."""
    return SpatialWeights.from_geodataframe(gdf, rule, k=k, distance=distance, transform=transform,
                                            id_col=id_col, islands=islands)


__all__ = ["RULES", "TRANSFORMS", "ISLAND_POLICIES", "WeightsReport", "SpatialWeights",
           "build_weights", "off_diagonal"]
