"""A set of areas as one validated object: :class:`AreaSet`.

An :class:`AreaSet` holds, for each area, its code, its name and its parent (e.g. the borough of
an LSOA; may be missing), and its geometry in British National Grid (EPSG:27700, metres), with
the level (``"lsoa"``, ``"ward"``, ``"borough"``, or anything a user names: ``"beat"``,
``"grid cell"``) and the vintage of the boundaries (``"2011"``; may be ``None``). It is checked
once, when built:

- codes are present, unique, and text or whole numbers;
- names are text (default: the code);
- every geometry is present, non-empty, valid (no self-intersection, no ring crossing another)
  and a polygon, multipolygon or point. An invalid one is refused, naming the area and the fault;
  ``from_geodataframe(..., repair=True)`` mends it with ``shapely.make_valid`` instead (keeping
  the polygonal parts) and lists the areas mended in :attr:`AreaSet.repaired`;
- the coordinate reference system is set; the geometry is reprojected to British National Grid.

Constructors: :meth:`AreaSet.from_geodataframe` (any areas a user brings, in any CRS) and
:meth:`AreaSet.from_warehouse` (the boundaries loaded into the warehouse). Spatial weights of an
area set: :meth:`vru.model.weights.SpatialWeights.from_areas`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from vru.errors import VRUError

if TYPE_CHECKING:
    from vru.warehouse.store import Warehouse

BNG = 27700
_KINDS = ("Polygon", "MultiPolygon", "Point")


class AreaError(VRUError, ValueError):
    """An area set cannot be built as given (a missing column, a value of the wrong kind, a
    duplicate code, a missing, empty or invalid geometry, no CRS)."""


def _dtype_words(s: pd.Series) -> str:
    return str(s.dtype)


def _check_codes(codes: pd.Series, column: str) -> None:
    if len(codes) == 0:
        raise AreaError("no areas: the table has no rows")
    missing = codes.isna()
    if missing.any():
        raise AreaError(f"column {column!r}: row {int(missing.to_numpy().argmax())} has no area "
                        "code")
    if pd.api.types.is_float_dtype(codes) or pd.api.types.is_bool_dtype(codes) or not (
            pd.api.types.is_integer_dtype(codes) or pd.api.types.is_string_dtype(codes)
            or codes.map(lambda v: isinstance(v, str)).all()):
        raise AreaError(f"column {column!r} holds {_dtype_words(codes)} values: area codes must be "
                        "text (such as a GSS code) or whole numbers")
    dup = codes[codes.duplicated()]
    if len(dup):
        raise AreaError(f"column {column!r}: area code {dup.iloc[0]!r} appears more than once")


def _some(codes: pd.Index, what: str) -> str:
    """``area 'a' has ...``, ``3 areas ('a', 'b', 'c') have ...`` or ``12 areas ('a', 'b', 'c', ...)
    have ...`` for a message; ``what`` starts with "has"."""
    if len(codes) == 1:
        return f"area {codes[0]!r} {what}"
    shown = ", ".join(repr(c) for c in codes[:3]) + (", ..." if len(codes) > 3 else "")
    return f"{len(codes)} areas ({shown}) have{what.removeprefix('has')}"


def _invalid(geom: gpd.GeoSeries) -> np.ndarray:
    """Per geometry: the reason it is invalid (shapely's words, e.g. ``Self-intersection[5 5]``), or
    ``None`` where it is valid."""
    reasons = np.asarray(shapely.is_valid_reason(geom.to_numpy()), dtype=object)
    reasons[reasons == "Valid Geometry"] = None
    return reasons


def _check_geometry(codes: pd.Index, geom: gpd.GeoSeries) -> None:
    missing = geom.isna().to_numpy()
    if missing.any():
        raise AreaError(_some(codes[missing], "has no geometry (it is missing)"))
    empty = geom.is_empty.to_numpy()
    if empty.any():
        raise AreaError(_some(codes[empty], "has no geometry (it is empty)"))
    kinds = geom.geom_type
    bad = ~kinds.isin(_KINDS).to_numpy()
    if bad.any():
        raise AreaError(_some(codes[bad], f"has a {kinds[bad].iloc[0]} geometry: areas must be "
                              "polygons, multipolygons or points"))
    reasons = _invalid(geom)
    invalid = pd.notna(reasons)
    if invalid.any():
        raise AreaError(_some(codes[invalid], f"has an invalid geometry ({reasons[invalid][0]}): "
                              "mend the boundaries first, e.g. gdf['geometry'] = "
                              "gdf.make_valid(method='structure'), or build the areas with "
                              "AreaSet.from_geodataframe(..., repair=True)"))


def _repair(codes: pd.Index, geom: gpd.GeoSeries) -> tuple[gpd.GeoSeries, tuple[Any, ...]]:
    """``geom`` with each invalid geometry replaced by ``shapely.make_valid``'s polygonal repair
    (``method="structure"``: a bow-tie becomes its two triangles, parts that collapse to lines are
    dropped), and the codes of the areas mended. One with no area left once mended (a ring folded
    onto a line) is refused."""
    invalid = pd.notna(_invalid(geom)) & ~geom.isna().to_numpy()
    if not invalid.any():
        return geom, ()
    mended = geom.copy()
    fixed = shapely.make_valid(geom.to_numpy()[invalid], method="structure", keep_collapsed=False)
    flat = shapely.is_empty(fixed)
    if flat.any():
        raise AreaError(_some(codes[invalid][flat], "has an invalid geometry with no area (its "
                              "rings fold onto lines): it cannot be repaired"))
    mended[invalid] = fixed
    return mended, tuple(codes[invalid])


@dataclass(frozen=True)
class AreaSet:
    """Areas with codes, names, parents and geometry in British National Grid (frozen).

    ``frame``: a GeoDataFrame indexed by code (index name ``code``) with columns ``name``,
    ``parent`` and ``geometry`` in EPSG:27700. Build it with :meth:`from_geodataframe` or
    :meth:`from_warehouse`; the properties return copies. ``repaired``: the codes of the areas
    whose invalid geometry was mended (``from_geodataframe(..., repair=True)``), in code order.
    """

    frame: gpd.GeoDataFrame
    level: str
    vintage: str | None = None
    repaired: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        f = self.frame
        if not isinstance(f, gpd.GeoDataFrame):
            raise AreaError(f"an AreaSet needs a GeoDataFrame, not {type(f).__name__}")
        if not isinstance(self.level, str) or not self.level:
            raise AreaError(f"level must be a non-empty text such as 'lsoa', not {self.level!r}")
        if self.vintage is not None and not isinstance(self.vintage, str):
            raise AreaError(f"vintage must be text such as '2011' or None, not "
                            f"{type(self.vintage).__name__} {self.vintage!r}")
        for col in ("name", "parent"):
            if col not in f.columns:
                raise AreaError(f"the area frame has no column {col!r}")
        if f.crs is None or CRS.from_user_input(f.crs).to_epsg() != BNG:
            raise AreaError("the area frame must be in British National Grid (EPSG:27700): build "
                            "it with AreaSet.from_geodataframe, which reprojects")
        _check_codes(pd.Series(f.index, dtype=f.index.dtype), "code")
        _check_geometry(f.index, f.geometry)
        if not isinstance(self.repaired, tuple) or any(c not in f.index for c in self.repaired):
            raise AreaError(f"repaired must be a tuple of the set's codes, not {self.repaired!r}")
        object.__setattr__(self, "frame", f[["name", "parent", "geometry"]].copy())

    # --- constructors ----------------------------------------------------------------------------

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, *, code: str = "code",
                          name: str | None = None, parent: str | None = None,
                          level: str = "area", vintage: str | None = None,
                          repair: bool = False) -> AreaSet:
        """The areas of ``gdf``, one row each: codes in column ``code``, names in ``name``
        (default: the code), parents in ``parent`` (default: none). ``gdf`` must have a CRS; it
        is reprojected to British National Grid. Messages name the column and its type.

        A missing, empty or invalid geometry (a self-intersecting "bow-tie", a hole outside its
        shell) is refused naming the area; with ``repair=True`` an invalid one is mended with
        ``shapely.make_valid`` first and the areas mended are listed in :attr:`repaired`."""
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise AreaError(f"areas must be a GeoDataFrame (with a geometry column), not "
                            f"{type(gdf).__name__}")
        for role, col in (("code", code), ("name", name), ("parent", parent)):
            if col is not None and col not in gdf.columns:
                raise AreaError(f"no {role} column {col!r} in the areas: columns are "
                                f"{', '.join(map(str, gdf.columns))}")
        if gdf.crs is None:
            raise AreaError("the areas have no coordinate reference system (CRS): set the one "
                            "the coordinates are in, e.g. gdf.set_crs(27700) for British "
                            "National Grid or gdf.set_crs(4326) for longitude/latitude")
        codes = gdf[code].reset_index(drop=True)
        _check_codes(codes, code)
        if name is None:
            names = codes.astype(str)
        else:
            raw = gdf[name].reset_index(drop=True)
            if not (pd.api.types.is_string_dtype(raw) or raw.map(
                    lambda v: v is None or isinstance(v, str)).all()):
                raise AreaError(f"column {name!r} holds {_dtype_words(raw)} values: area names "
                                "must be text")
            names = raw.where(raw.notna(), codes.astype(str))
        parents = (gdf[parent].reset_index(drop=True).astype(object) if parent is not None
                   else pd.Series([None] * len(gdf), dtype=object))
        geom = gdf.geometry.reset_index(drop=True)
        if not repair:  # checked in the user's coordinates, so that a fault's position is theirs
            _check_geometry(pd.Index(codes.to_numpy()), geom)
        if CRS.from_user_input(gdf.crs).to_epsg() != BNG:
            geom = geom.to_crs(BNG)
        repaired: tuple[Any, ...] = ()
        if repair:
            geom, repaired = _repair(pd.Index(codes.to_numpy()), geom)
        frame = gpd.GeoDataFrame({"name": names.to_numpy(dtype=object),
                                  "parent": parents.to_numpy(dtype=object)},
                                 geometry=geom.to_numpy(), crs=BNG,
                                 index=pd.Index(codes.to_numpy(), name="code"))
        return cls(frame, level, vintage, repaired)

    @classmethod
    def from_warehouse(cls, warehouse: Warehouse | str | Path | None = None, level: str = "lsoa",
                       vintage: str | None = "2011", *, codes: Any = None) -> AreaSet:
        """The areas of ``level`` (and ``vintage``) whose boundaries are in the warehouse (an open
        :class:`~vru.warehouse.store.Warehouse`, its path, or ``None`` for the default), in code
        order; ``codes``: only these (every one must have a boundary)."""
        from vru.sources.boundaries import to_geodataframe
        from vru.warehouse import queries as q
        from vru.warehouse.store import Warehouse as _Warehouse

        if isinstance(warehouse, _Warehouse):
            rows = q.areas(warehouse, level, vintage)
        else:
            with _Warehouse.open(warehouse, read_only=True) as wh:
                rows = q.areas(wh, level, vintage)
        what = f"{level} {vintage}" if vintage else level
        if rows.empty:
            raise AreaError(f"no {what} areas in the warehouse")
        rows = rows[rows["geometry"].notna()]
        if rows.empty:
            raise AreaError(f"the warehouse holds no {what} boundaries (codes and names only): "
                            "load them first (vru ingest <file>)")
        if codes is not None:
            want = list(dict.fromkeys(codes))
            have = set(rows["code"])
            lost = [c for c in want if c not in have]
            if lost:
                raise AreaError(f"{len(lost)} code(s) have no {what} boundary in the warehouse, "
                                f"e.g. {lost[:5]}")
            rows = rows.set_index("code", drop=False).loc[want].reset_index(drop=True)
        gdf = to_geodataframe(rows.reset_index(drop=True))
        return cls.from_geodataframe(gdf, code="code", name="name", parent="parent_code",
                                     level=level, vintage=vintage)

    # --- views -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def codes(self) -> pd.Index:
        return self.frame.index.copy()

    @property
    def names(self) -> pd.Series:
        return self.frame["name"].copy()

    @property
    def parent(self) -> pd.Series:
        return self.frame["parent"].copy()

    @property
    def geometry(self) -> gpd.GeoSeries:
        return self.frame.geometry.copy()

    def subset(self, codes: Any) -> AreaSet:
        """These areas only, in the order given (every code must be in the set)."""
        want = list(codes)
        lost = [c for c in want if c not in self.frame.index]
        if lost:
            raise AreaError(f"{len(lost)} code(s) are not in the area set, e.g. {lost[:5]}")
        kept = set(want)
        return AreaSet(self.frame.loc[want], self.level, self.vintage,
                       tuple(c for c in self.repaired if c in kept))

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """``code``, ``name``, ``parent``, ``geometry`` (EPSG:27700), one row per area."""
        return self.frame.reset_index()


__all__ = ["AreaSet", "AreaError", "BNG"]
