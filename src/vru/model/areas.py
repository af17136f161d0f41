"""A set of areas as one validated object: :class:`AreaSet`.

An :class:`AreaSet` holds, for each area, its code, its name and its parent (e.g. the borough of
an LSOA; may be missing), and its geometry in British National Grid (EPSG:27700, metres), with
the level (``"lsoa"``, ``"ward"``, ``"borough"``, or anything a user names: ``"beat"``,
``"grid cell"``) and the vintage of the boundaries (``"2011"``; may be ``None``). It is checked
once, when built:

- codes are present, unique, and text or whole numbers;
- names are text (default: the code);
- every geometry is present, non-empty, and a polygon, multipolygon or point;
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
import pandas as pd
from pyproj import CRS

from vru.errors import VRUError

if TYPE_CHECKING:
    from vru.warehouse.store import Warehouse

BNG = 27700
_KINDS = ("Polygon", "MultiPolygon", "Point")


class AreaError(VRUError, ValueError):
    """An area set cannot be built as given (a missing column, a value of the wrong kind, a
    duplicate code, a missing geometry or CRS)."""


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


@dataclass(frozen=True)
class AreaSet:
    """Areas with codes, names, parents and geometry in British National Grid (frozen).

    ``frame``: a GeoDataFrame indexed by code (index name ``code``) with columns ``name``,
    ``parent`` and ``geometry`` in EPSG:27700. Build it with :meth:`from_geodataframe` or
    :meth:`from_warehouse`; the properties return copies.
    """

    frame: gpd.GeoDataFrame
    level: str
    vintage: str | None = None

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
        geom = f.geometry
        empty = geom.isna() | geom.is_empty
        if empty.any():
            raise AreaError(f"area {f.index[empty.to_numpy()][0]!r} has no geometry")
        kinds = geom.geom_type
        bad = ~kinds.isin(_KINDS)
        if bad.any():
            raise AreaError(f"area {f.index[bad.to_numpy()][0]!r} has a {kinds[bad].iloc[0]} "
                            "geometry: areas must be polygons, multipolygons or points")
        object.__setattr__(self, "frame", f[["name", "parent", "geometry"]].copy())

    # --- constructors ----------------------------------------------------------------------------

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, *, code: str = "code",
                          name: str | None = None, parent: str | None = None,
                          level: str = "area", vintage: str | None = None) -> AreaSet:
        """The areas of ``gdf``, one row each: codes in column ``code``, names in ``name``
        (default: the code), parents in ``parent`` (default: none). ``gdf`` must have a CRS; it
        is reprojected to British National Grid. Messages name the column and its type."""
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
        if CRS.from_user_input(gdf.crs).to_epsg() != BNG:
            geom = geom.to_crs(BNG)
        frame = gpd.GeoDataFrame({"name": names.to_numpy(dtype=object),
                                  "parent": parents.to_numpy(dtype=object)},
                                 geometry=geom.to_numpy(), crs=BNG,
                                 index=pd.Index(codes.to_numpy(), name="code"))
        return cls(frame, level, vintage)

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
                            "load them first (vru load <file>)")
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
        return AreaSet(self.frame.loc[want], self.level, self.vintage)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """``code``, ``name``, ``parent``, ``geometry`` (EPSG:27700), one row per area."""
        return self.frame.reset_index()


__all__ = ["AreaSet", "AreaError", "BNG"]
