"""Boundary files (ESRI shapefiles, zipped or not; GeoJSON with the same attributes) -> ``areas``.

Sources (see ``data/bundled/boundaries/*/SOURCE.md``): ONS LSOA December 2011 and December 2021
boundaries and LAD 2022 boundaries, London subsets generalised to 20 m by J. Millington
(github.com/jamesdamillington/london-data); GLA London wards 2018 with the City of London merged
(London Datastore "Statistical GIS Boundary Files for London"). Open Government Licence; contains
OS data (c) Crown copyright and database right.

The kind of file is recognised by its attribute columns, never by its name:

=============  =====================================  =======  =======  =========================
schema         identifying / required attributes      level    vintage  parent_code
=============  =====================================  =======  =======  =========================
``lsoa2011``   LSOA11CD, LSOA11NM, LAD11CD            lsoa     2011     LAD11CD
``lsoa2021``   LSOA21CD, LSOA21NM, LAD22CD            lsoa     2021     LAD22CD
``ward2018``   GSS_CODE + LAGSSCODE, NAME             ward     2018     LAGSSCODE
``lad2022``    LAD22CD, LAD22NM (no LSOA21CD)         borough  2022     E12000007 (London)
=============  =====================================  =======  =======  =========================

Other attribute columns (MSOA codes, hectares...) are ignored. A file matching none of these is
refused. The London Datastore ward schema is the same for its 2014 and 2018 ward sets, so the ward
vintage is checked from the codes: the 2018 London set contains codes E05011xxx (wards created in
May 2018) and no code from E05012000 on (created after 2018); otherwise the vintage must be given
(``load(path, vintage=...)``).

Output: ``areas`` rows (level, code, vintage, name, parent_code, geometry as WKB in British
National Grid, EPSG:27700). A file in another CRS is reprojected; a file without a CRS is refused.
For a borough file holding all 33 London boroughs one more row is emitted: level ``region``,
code E12000007 "London", the union of the boroughs. Checks: codes are GSS codes of the level's
kind and unique, names present, geometries non-empty polygons; invalid geometries are repaired
with ``shapely.make_valid`` (keeping the polygonal part) and counted in the notes.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vru.errors import SourceError
from vru.geography.boroughs import BOROUGHS, LONDON_CODE, LONDON_NAME
from vru.schema import Batch, conform
from vru.sources import catalogue

SOURCE = catalogue.BOUNDARIES
CRS = "EPSG:27700"  # British National Grid


@dataclass(frozen=True)
class Schema:
    name: str
    level: str
    vintage: str | None  # None: decided from the codes (wards)
    identify: tuple[str, ...]  # all present -> this schema
    code: str
    name_col: str
    parent: str | None  # attribute holding the parent code; None -> region for London boroughs
    code_pattern: str


LAD_PATTERN = r"[EW]0[6-9]\d{6}"
SCHEMAS: tuple[Schema, ...] = (
    Schema("lsoa2011", "lsoa", "2011", ("LSOA11CD",), "LSOA11CD", "LSOA11NM", "LAD11CD",
           r"[EW]01\d{6}"),
    Schema("lsoa2021", "lsoa", "2021", ("LSOA21CD",), "LSOA21CD", "LSOA21NM", "LAD22CD",
           r"[EW]01\d{6}"),
    Schema("ward2018", "ward", None, ("GSS_CODE", "LAGSSCODE"), "GSS_CODE", "NAME", "LAGSSCODE",
           r"[EW]05\d{6}"),
    Schema("lad2022", "borough", "2022", ("LAD22CD",), "LAD22CD", "LAD22NM", None, LAD_PATTERN),
)

#: Bundled boundary files, by schema name.
BUNDLED = {
    "lsoa2011": "lsoa2011_gen20/london-2011-lsoa-gen20.shp.zip",
    "lsoa2021": "lsoa2021_gen20/london-2021-lsoa-gen20.shp.zip",
    "ward2018": "wards2018_citymerged/London_Ward_CityMerged.shp.zip",
    "lad2022": "boroughs_lad22_gen20/london-2021-lad22-gen20.shp.zip",
}


def bundled_path(name: str) -> Path:
    """Path of a bundled boundary file: ``lsoa2011``, ``lsoa2021``, ``ward2018`` or ``lad2022``."""
    from importlib import resources

    if name not in BUNDLED:
        raise KeyError(f"no bundled boundary set {name!r}; known: {sorted(BUNDLED)}")
    root = Path(str(resources.files("vru.data").joinpath("bundled", catalogue.info(SOURCE).bundled)))
    return root / BUNDLED[name]


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".shp") or name.endswith(".geojson"):
        return "file"
    if name.endswith(".zip"):
        return "zip"
    return None


def sniff(path: str | Path) -> bool:
    """A shapefile (``.shp``, ``.shp.zip`` or a ``.zip`` holding one ``.shp``) or ``.geojson``."""
    p = Path(path)
    kind = _kind(p)
    if kind == "file":
        return True
    if kind == "zip":
        if p.name.lower().endswith(".shp.zip"):
            return True
        try:
            with zipfile.ZipFile(p) as z:
                return sum(n.lower().endswith(".shp") for n in z.namelist()) == 1
        except (OSError, zipfile.BadZipFile):
            return False
    return False


def identify(path: str | Path, fields) -> Schema:
    """The schema of a file with these attribute columns; refuses unknown or ambiguous ones."""
    fields = list(fields)
    if "LSOA11CD" in fields and "LSOA21CD" in fields:
        raise SourceError(path, "both LSOA11CD and LSOA21CD: ambiguous LSOA vintage",
                          column="LSOA21CD")
    for s in SCHEMAS:
        if all(c in fields for c in s.identify):
            for c in (s.code, s.name_col, s.parent):
                if c is not None and c not in fields:
                    raise SourceError(path, f"{s.name} boundary file without attribute {c!r}; "
                                      f"attributes are {fields}", column=c)
            return s
    raise SourceError(path, f"unknown boundary attribute schema {fields}: expected one of "
                      + "; ".join(f"{s.name} ({', '.join(s.identify)})" for s in SCHEMAS))


def _ward_vintage(path, codes: pd.Series) -> str:
    if codes.str.startswith("E05011").any() and not (codes >= "E05012000").any():
        return "2018"
    raise SourceError(path, "cannot tell the ward boundary vintage from the codes (the 2018 "
                      "London ward set has E05011xxx codes and none from E05012000 on); give "
                      "the vintage explicitly", column="GSS_CODE")


def read_boundaries(path: str | Path, *, vintage: str | None = None
                    ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read and validate a boundary file.

    Returns a GeoDataFrame with columns level, code, vintage, name, parent_code, geometry (in
    EPSG:27700; one row per feature, plus the London region row for a complete borough file) and
    the notes describing treatments applied. ``vintage`` overrides the vintage the schema implies.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "no such file")
    if p.stat().st_size == 0:
        raise SourceError(p, "file is empty")
    try:
        gdf = gpd.read_file(p)
    except Exception as e:  # pyogrio/GDAL errors for truncated or corrupt files
        raise SourceError(p, f"cannot read as a vector boundary file (truncated or corrupt?): "
                          f"{e}") from None
    if len(gdf) == 0:
        raise SourceError(p, "no features")
    schema = identify(p, [c for c in gdf.columns if c != gdf.geometry.name])
    notes = [f"schema {schema.name}"]
    if gdf.crs is None:
        raise SourceError(p, "no coordinate reference system (missing .prj?): refusing to guess")
    if not gdf.crs.equals(CRS):
        notes.append(f"reprojected from {gdf.crs.to_string()} to {CRS}")
        gdf = gdf.to_crs(CRS)

    rec = np.arange(1, len(gdf) + 1)  # feature (record) numbers, 1-based

    def fail(mask, column, values, message):
        m = np.asarray(mask, dtype=bool)
        if m.any():
            i = int(np.flatnonzero(m)[0])
            raise SourceError(p, f"feature {rec[i]}: {message} (value {np.asarray(values)[i]!r})",
                              row=int(rec[i]), column=column)

    codes = gdf[schema.code].astype("string").fillna("").str.strip()
    fail(~codes.str.fullmatch(schema.code_pattern), schema.code, codes,
         f"not a {schema.level} GSS code")
    fail(codes.duplicated(), schema.code, codes, "duplicate code")
    names = gdf[schema.name_col].astype("string").fillna("").str.strip()
    fail(names == "", schema.name_col, names, "missing name")
    if schema.parent is not None:
        parents = gdf[schema.parent].astype("string").fillna("").str.strip()
        fail(~parents.str.fullmatch(LAD_PATTERN), schema.parent, parents,
             "not a local authority GSS code")
    else:
        parents = pd.Series(np.where(codes.str.startswith("E09"), LONDON_CODE, None),
                            dtype="string")
        if parents.isna().any():
            notes.append(f"{int(parents.isna().sum())} local authorities outside London: "
                         "no parent region")
    if vintage is None:
        vintage = schema.vintage or _ward_vintage(p, codes)

    geoms = shapely.force_2d(np.asarray(gdf.geometry.values, dtype=object))
    fail(shapely.is_missing(geoms) | shapely.is_empty(geoms), "geometry",
         codes, "missing or empty geometry")
    kinds = shapely.get_type_id(geoms)
    fail(~np.isin(kinds, (3, 6)), "geometry", codes, "not a polygon")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        for i in np.flatnonzero(invalid):
            fixed = shapely.make_valid(geoms[i])
            if fixed.geom_type == "GeometryCollection":
                parts = [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(parts) if parts else shapely.Polygon()
            if fixed.is_empty:
                raise SourceError(p, f"feature {rec[i]}: invalid geometry with no area",
                                  row=int(rec[i]), column="geometry")
            geoms[i] = fixed
        notes.append(f"{int(invalid.sum())} invalid geometries repaired with make_valid "
                     f"(e.g. {codes.iloc[int(np.flatnonzero(invalid)[0])]})")

    out = gpd.GeoDataFrame({
        "level": schema.level, "code": codes.to_numpy(), "vintage": vintage,
        "name": names.to_numpy(), "parent_code": parents.to_numpy(),
    }, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)
    if schema.level == "borough":
        london = out[out["code"].isin(list(BOROUGHS))]
        if len(london) == len(BOROUGHS):
            region = shapely.make_valid(shapely.union_all(london.geometry.values))
            out = pd.concat([out, gpd.GeoDataFrame(
                {"level": ["region"], "code": [LONDON_CODE], "vintage": [vintage],
                 "name": [LONDON_NAME], "parent_code": [None]},
                geometry=gpd.GeoSeries([region], crs=CRS), crs=CRS)], ignore_index=True)
            notes.append("region row E12000007 (London) = union of the 33 boroughs")
        elif len(london):
            notes.append(f"only {len(london)} of the 33 London boroughs: no London region row")
    notes.append(f"{len(gdf)} {schema.level} areas, vintage {vintage}")
    return out, notes


def load(path: str | Path, *, vintage: str | None = None) -> Batch:
    """Read, validate and convert a boundary file to ``areas`` rows (geometry as WKB)."""
    gdf, notes = read_boundaries(path, vintage=vintage)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["geometry"] = list(shapely.to_wkb(gdf.geometry.values, output_dimension=2))
    return Batch(path=str(path), source=SOURCE, tables={"areas": conform("areas", df)},
                 notes=notes)


def to_geodataframe(areas: pd.DataFrame) -> gpd.GeoDataFrame:
    """``areas`` rows (WKB geometry, e.g. from the warehouse) -> GeoDataFrame in EPSG:27700.

    Rows without geometry (pseudo-units) get an empty geometry (None).
    """
    geoms = [shapely.from_wkb(g) if g is not None else None for g in areas["geometry"]]
    return gpd.GeoDataFrame(areas.drop(columns="geometry").reset_index(drop=True),
                            geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


@functools.lru_cache(maxsize=8)
def _bundled(name: str) -> gpd.GeoDataFrame:
    return read_boundaries(bundled_path(name))[0]


def read_bundled(name: str) -> gpd.GeoDataFrame:
    """The bundled boundary set ``name`` (see :data:`BUNDLED`) as a validated GeoDataFrame.

    Read once per process (cached); a copy is returned each time.
    """
    return _bundled(name).copy()
