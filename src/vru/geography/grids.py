"""Regular square and hexagonal grids for point data (e.g. data.police.uk crime locations).

All grids are in British National Grid (EPSG:27700), cell size in metres. A grid is a lattice
anchored at ``anchor`` (default the false origin, ``(0, 0)``), so two grids of the same kind and
size share their cells and cell ids whatever area they cover:

- **square** (``size`` = side): cell ``(col, row)`` is the half-open box
  ``[ax + col*size, ax + (col+1)*size) x [ay + row*size, ay + (row+1)*size)``; a point on a shared
  edge belongs to the cell above / to the right. Area ``size**2``.
- **hexagonal**, pointy-topped, odd rows shifted right by half a cell, ``size`` = distance between
  the centres of neighbouring cells (the width across flats), as ``cellsize`` in R sf's
  ``st_make_grid(square = FALSE)``: centre of ``(col, row)`` at
  ``(ax + (col + (row mod 2)/2) * size, ay + row * size * sqrt(3)/2)``, side ``size/sqrt(3)``,
  area ``sqrt(3)/2 * size**2``. A point is assigned by rounding its axial (cube) coordinates
  (Red Blob Games, "Hexagonal Grids", cube rounding), which is exactly the nearest centre, i.e.
  the hexagon containing the point; a point on a shared edge goes to one of the two cells,
  deterministically.

Cell ids are ``"<s|h><size>m:<col>:<row>"`` (e.g. ``"h250m:2103:812"``).

:func:`make_grid` covers an area: a polygon (or polygons, e.g. the borough boundaries) keeps the
cells whose interior meets it (``keep="intersects"``, whole cells, not clipped, so all cells have
the same area); a set of points keeps every cell of their bounding box (``keep="all"``, so that
cells with no point are present and counted as zero, as a hot spot analysis needs).

Points: :func:`to_bng` reprojects longitude/latitude (WGS 84, EPSG:4326) with pyproj. Without
the OSTN15 grid file pyproj uses a Helmert transformation, accurate to a few metres: far below a
cell and below the anonymisation of data.police.uk locations (snapped to the centre of a street
segment or a public place). :func:`count_points` counts (or sums weights of) points per cell and
period, zero-filled, and reports the points outside the grid and those without coordinates.
:func:`vru.sources.police_uk_points.police_uk_points` reads data.police.uk street files into
such points, validated and de-duplicated exactly as the street file loader does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS as _CRS
from pyproj import Transformer

CRS = "EPSG:27700"
KINDS = ("square", "hex")
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Grid:
    """A set of cells of one lattice. ``cells``: GeoDataFrame with ``cell_id`` (also the index),
    ``col``, ``row``, ``geometry`` (EPSG:27700), ordered by row then column."""

    kind: str
    size: float
    anchor: tuple[float, float]
    cells: gpd.GeoDataFrame

    @property
    def cell_area(self) -> float:
        """Area of every cell in square metres."""
        return self.size**2 if self.kind == "square" else _SQRT3 / 2 * self.size**2

    def lattice(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Lattice ``(col, row)`` of each point (float arrays; NaN where a coordinate is NaN)."""
        return _lattice(self.kind, self.size, self.anchor, np.asarray(x, float), np.asarray(y, float))

    def assign(self, x, y) -> np.ndarray:
        """The ``cell_id`` of the cell holding each point (object array; ``None`` for a point
        without coordinates or outside the grid's cells)."""
        col, row = self.lattice(x, y)
        out = np.full(col.shape, None, dtype=object)
        ok = np.isfinite(col) & np.isfinite(row)
        if ok.any():
            key = pd.MultiIndex.from_arrays([col[ok].astype(np.int64), row[ok].astype(np.int64)])
            have = pd.MultiIndex.from_arrays([self.cells["col"].to_numpy(np.int64),
                                              self.cells["row"].to_numpy(np.int64)])
            pos = have.get_indexer(key)
            ids = self.cells["cell_id"].to_numpy(dtype=object)
            got = np.where(pos >= 0, ids[np.maximum(pos, 0)], None)
            out[ok] = got
        return out


def _lattice(kind: str, size: float, anchor, x: np.ndarray, y: np.ndarray):
    ax, ay = anchor
    u, v = x - ax, y - ay
    if kind == "square":
        return np.floor(u / size), np.floor(v / size)
    side = size / _SQRT3
    # axial coordinates of a pointy-top lattice with the cell (0, 0) centred on the anchor
    q = (_SQRT3 / 3 * u - v / 3) / side
    r = (2 / 3 * v) / side
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    # axial -> offset ("odd-r": odd rows shifted right)
    parity = np.mod(rr, 2)
    col = rq + (rr - parity) / 2
    return col, rr


def _cell_polygons(kind: str, size: float, anchor, col: np.ndarray, row: np.ndarray):
    ax, ay = anchor
    if kind == "square":
        x0 = ax + col * size
        y0 = ay + row * size
        return shapely.box(x0, y0, x0 + size, y0 + size)
    # vertices on the lattice of half-widths (x) and half-sides (y), so that neighbouring cells
    # share bit-identical vertices (contiguity and tiling are then exact)
    half_w, half_s = size / 2, size / _SQRT3 / 2
    kx = 2 * col + np.mod(row, 2)  # centre x in half-widths
    ky = 3 * row  # centre y in half-sides
    # pointy-top hexagon, counter-clockwise from the lower right vertex
    dx = np.array([1, 1, 0, -1, -1, 0, 1])
    dy = np.array([-1, 1, 2, 1, -1, -2, -1])
    xs = ax + (kx[:, None] + dx[None, :]) * half_w
    ys = ay + (ky[:, None] + dy[None, :]) * half_s
    ring = np.stack([xs, ys], axis=-1)
    return shapely.polygons(ring)


def _cell_ids(kind: str, size: float, col, row) -> list[str]:
    tag = f"{kind[0]}{size:g}m"
    return [f"{tag}:{c}:{r}" for c, r in zip(col.tolist(), row.tolist(), strict=True)]


def _geometries(area) -> tuple[np.ndarray, str | None]:
    """Geometries (EPSG:27700 assumed when no CRS can be read) and the CRS found."""
    if isinstance(area, gpd.GeoDataFrame):
        area = area.geometry
    if isinstance(area, gpd.GeoSeries):
        crs = area.crs
        if crs is None:
            raise ValueError("the area has no CRS: set it (British National Grid is EPSG:27700)")
        if _CRS.from_user_input(crs) != _CRS.from_user_input(CRS):
            area = area.to_crs(CRS)
        geoms = area.to_numpy()
    elif isinstance(area, shapely.Geometry):
        geoms = np.array([area], dtype=object)
    else:
        raise TypeError("area must be a GeoDataFrame, GeoSeries or shapely geometry (EPSG:27700)")
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        raise ValueError("the area has no geometry")
    return geoms, CRS


def make_grid(area, size: float, kind: str = "square", *, anchor: tuple[float, float] = (0.0, 0.0),
              keep: str | None = None) -> Grid:
    """A grid of ``kind`` (``"square"`` or ``"hex"``) with cells of ``size`` metres covering
    ``area`` (see the module doc).

    ``area``: a GeoDataFrame or GeoSeries (reprojected to EPSG:27700 if in another CRS) or a
    shapely geometry in EPSG:27700, of polygons or points. ``keep``: ``"intersects"`` (cells whose
    interior meets the geometries; the default for polygons) or ``"all"`` (every cell of the
    bounding box; the default for points and lines).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown grid kind {kind!r}: 'square' or 'hex'")
    if not (isinstance(size, int | float) and math.isfinite(size) and size > 0):
        raise ValueError(f"cell size must be a positive number of metres, not {size!r}")
    size = float(size)
    geoms, _ = _geometries(area)
    polygonal = bool(np.all(np.isin(shapely.get_type_id(geoms), [3, 6])))
    keep = keep or ("intersects" if polygonal else "all")
    if keep not in ("intersects", "all"):
        raise ValueError(f"keep must be 'intersects' or 'all', not {keep!r}")
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    ax, ay = anchor
    if kind == "square":
        c0, c1 = math.floor((minx - ax) / size), math.floor((maxx - ax) / size)
        r0, r1 = math.floor((miny - ay) / size), math.floor((maxy - ay) / size)
    else:
        dy = size * _SQRT3 / 2
        c0, c1 = math.floor((minx - ax) / size) - 1, math.ceil((maxx - ax) / size) + 1
        r0, r1 = math.floor((miny - ay) / dy) - 1, math.ceil((maxy - ay) / dy) + 1
    n = (c1 - c0 + 1) * (r1 - r0 + 1)
    if n > 5_000_000:
        raise ValueError(f"{n:,} cells: choose a larger cell size than {size:g} m for this area")
    row, col = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
    col, row = col.ravel(), row.ravel()
    polys = _cell_polygons(kind, size, (ax, ay), col.astype(float), row.astype(float))
    target = np.array([shapely.box(minx, miny, maxx, maxy)]) if keep == "all" else geoms
    tree = shapely.STRtree(target)
    pi, gi = tree.query(polys, predicate="intersects")
    inner = ~shapely.touches(polys[pi], target[gi])  # the cell's interior meets the target
    mask = np.zeros(len(polys), bool)
    mask[pi[inner]] = True
    if not polygonal:
        # a point on a cell's lower/left edge (or on the box's edge) belongs to that cell
        xy = shapely.get_coordinates(geoms)
        pc, pr = _lattice(kind, size, (ax, ay), xy[:, 0], xy[:, 1])
        have = pd.MultiIndex.from_arrays([col, row])
        pos = have.get_indexer(pd.MultiIndex.from_arrays([pc.astype(np.int64), pr.astype(np.int64)]))
        mask[pos[pos >= 0]] = True
    col, row, polys = col[mask], row[mask], polys[mask]
    ids = _cell_ids(kind, size, col, row)
    cells = gpd.GeoDataFrame({"cell_id": ids, "col": col.astype(np.int64), "row": row.astype(np.int64)},
                             geometry=gpd.GeoSeries(polys, crs=CRS), crs=CRS)
    cells.index = pd.Index(ids, name="cell")
    return Grid(kind=kind, size=size, anchor=(float(ax), float(ay)), cells=cells)


def square_grid(area, size: float, **kwargs) -> Grid:
    """A square grid (see :func:`make_grid`)."""
    return make_grid(area, size, "square", **kwargs)


def hex_grid(area, size: float, **kwargs) -> Grid:
    """A hexagonal grid (see :func:`make_grid`)."""
    return make_grid(area, size, "hex", **kwargs)


_TO_BNG = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)


def to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (WGS 84) -> British National Grid easting/northing in metres.

    NaN in, NaN out. Coordinates outside longitude -180..180 or latitude -90..90 are refused.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.shape != lat.shape:
        raise ValueError("longitude and latitude differ in length")
    with np.errstate(invalid="ignore"):
        bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"point {i}: ({lon[i]}, {lat[i]}) is not a longitude/latitude pair")
    x, y = _TO_BNG.transform(lon, lat)
    missing = np.isnan(lon) | np.isnan(lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x[missing] = np.nan
    y[missing] = np.nan
    return x, y


@dataclass(frozen=True, eq=False)
class PointCounts:
    """What :func:`count_points` returns. ``counts``: points (or the sum of their weights) per cell,
    indexed by ``cell_id`` in the grid's order, one column per period (``"count"`` without periods).
    ``n_points``: the points given; ``n_no_location``: those with NaN coordinates; ``n_outside``: those
    outside the grid's cells (all unweighted). The points of the last two groups are in no cell."""

    counts: pd.DataFrame
    n_points: int
    n_no_location: int
    n_outside: int


def count_points(grid: Grid, x, y, *, period=None, weight=None,
                 periods: Sequence | None = None) -> PointCounts:
    """Points (or the sum of ``weight``) per cell, one column per period, every cell present.

    ``x``, ``y``: easting/northing in EPSG:27700 (see :func:`to_bng`). ``period``: one label per
    point (e.g. month); without it the result has one column, ``"count"``. ``periods``: the
    columns wanted, in order (default: the periods present, sorted); a period with no point is a
    column of zeros, so give ``periods`` only where no points means zero events, not no data.
    A point whose period is not in ``periods`` is refused. ``weight``: a number per point (e.g.
    a harm weight, :mod:`vru.analysis.harm`); NaN weights are refused.

    Returns a :class:`PointCounts`: the table (``counts``, indexed by ``cell_id`` in the grid's
    order) and how many points there were, without a location and outside the grid (unweighted);
    the points of the last two groups are not counted in any cell.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    n = len(x)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"{len(w)} weights for {n} points")
    if not np.isfinite(w).all():
        raise ValueError(f"weight of point {int(np.flatnonzero(~np.isfinite(w))[0])} is missing")
    cell = grid.assign(x, y)
    no_loc = np.isnan(x) | np.isnan(y)
    inside = np.array([c is not None for c in cell], dtype=bool)
    ids = grid.cells["cell_id"]
    if period is None:
        s = pd.Series(w[inside]).groupby(cell[inside]).sum()
        out = pd.DataFrame({"count": s.reindex(ids, fill_value=0.0).to_numpy()},
                           index=pd.Index(ids, name="cell_id"))
    else:
        per = pd.Series(period).reset_index(drop=True)
        if len(per) != n:
            raise ValueError(f"{len(per)} periods for {n} points")
        if per.isna().any():
            raise ValueError(f"point {int(np.flatnonzero(per.isna())[0])} has no period")
        cols = sorted(per.unique()) if periods is None else list(periods)
        unknown = set(per.unique()) - set(cols)
        if unknown:
            raise ValueError(f"points in periods not asked for: {sorted(map(str, unknown))[:5]}")
        df = pd.DataFrame({"cell": cell[inside], "period": per[inside].to_numpy(),
                           "w": w[inside]})
        table = df.pivot_table(index="cell", columns="period", values="w", aggfunc="sum",
                               fill_value=0.0, observed=True)
        out = table.reindex(index=ids, columns=cols, fill_value=0.0)
        out.index.name = "cell_id"
        out.columns.name = "period"
    return PointCounts(counts=out, n_points=int(n), n_no_location=int(no_loc.sum()),
                       n_outside=int((~inside & ~no_loc).sum()))


__all__ = ["CRS", "KINDS", "Grid", "PointCounts", "make_grid", "square_grid", "hex_grid", "to_bng",
           "count_points"]
