"""Small maps for the web pages, as SVG for an ``<img>``: the one place the web apps draw a map.

- :func:`area_svg`: a programme area's boundary inside its borough (programme register), drawn in
  British National Grid (metres), so shapes keep their true proportions.
- :func:`venue_svg`: a borough, its wards and their names, with a venue marked (Local Village
  Network), drawn in the borough's
  :class:`Frame`: a local equirectangular projection (x = longitude x cos(latitude at the borough's
  centre), y = latitude), so that a pixel converts to latitude and longitude by a linear formula. The
  provider form's map picker (``opportunities/opportunities.mjs``) uses the same formula in the
  browser; across a borough (at most 20 km) east-west and north-south scales differ by under 0.5%
  (measured against WGS84 with ``pyproj.Geod``); a click converts back to exactly the point drawn.

The page's Content-Security-Policy forbids style attributes, so the SVG uses presentation
attributes only (fill, stroke) and is embedded as an image, never inline. Every outline comes from
the bundled ONS boundaries: no map tiles, nothing fetched.
"""

from __future__ import annotations

import base64
import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
import shapely
import shapely.geometry
from pyproj import Transformer

from vru.geography.boroughs import BOROUGHS
from vru.sources.boundaries import read_bundled

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
SIZE = 480  # px, the SVG's nominal width


@functools.lru_cache(maxsize=64)
def _borough_outline(code: str):
    gdf = read_bundled("lad2022")
    hit = gdf[gdf["code"] == code]
    return None if hit.empty else hit.geometry.iloc[0]


def _to_bng(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1])))


def _path(geom, minx, maxy, scale) -> str:
    """SVG path data of a (multi)polygon, y flipped (SVG y grows downwards)."""
    parts = []
    polys = geom.geoms if hasattr(geom, "geoms") else [geom]
    for poly in polys:
        if poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}" for x, y in ring.coords]
            parts.append("M" + " L".join(pts) + " Z")
    return " ".join(parts)


def area_svg(geometry: dict, borough_code: str, label: str) -> str:
    """SVG text: the borough in grey, the area in blue on top, with a title for screen readers."""
    area = _to_bng(shapely.geometry.shape(geometry))
    borough = _borough_outline(borough_code)
    frame = borough.union(area) if borough is not None else area
    minx, miny, maxx, maxy = frame.bounds
    pad = 0.03 * max(maxx - minx, maxy - miny, 1.0)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = SIZE / (maxx - minx)
    width, height = SIZE, (maxy - miny) * scale
    esc = label.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    layers = []
    if borough is not None:
        layers.append(f'<path d="{_path(borough, minx, maxy, scale)}" fill="#f3f2f1" stroke="#505a5f" '
                      'stroke-width="1" fill-rule="evenodd"/>')
    layers.append(f'<path d="{_path(area, minx, maxy, scale)}" fill="#1d70b8" fill-opacity="0.75" '
                  'stroke="#003078" stroke-width="1.5" fill-rule="evenodd"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{esc}">'
            f"<title>{esc}</title>{''.join(layers)}</svg>")


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


# --- a borough with a venue (Local Village Network) ----------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """Where a borough's venue map puts each point: pixel (x, y) of the SVG (``width`` x ``height``)
    from latitude and longitude, and back. ``k`` is pixels per degree of latitude; ``cos`` the cosine
    of the latitude at the borough's centre (a degree of longitude is ``cos`` degrees of latitude
    long there)."""

    code: str
    min_lon: float
    max_lat: float
    k: float
    cos: float
    width: float
    height: float

    def to_px(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.min_lon) * self.cos * self.k, (self.max_lat - lat) * self.k

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return self.max_lat - y / self.k, self.min_lon + x / (self.cos * self.k)

    def as_dict(self) -> dict:
        return asdict(self)


def _to_wgs(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_WGS.transform(xy[:, 0], xy[:, 1])))


def _frame_path(geom, frame: Frame) -> str:
    parts = []
    for poly in (geom.geoms if hasattr(geom, "geoms") else [geom]):
        if poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [f"{x:.1f},{y:.1f}" for x, y in (frame.to_px(lat, lon) for lon, lat in ring.coords)]
            parts.append("M" + " L".join(pts) + " Z")
    return " ".join(parts)


@functools.lru_cache(maxsize=40)
def borough_frame(code: str) -> tuple[Frame, str] | None:
    """The borough's :class:`Frame` and its outline as SVG path data, or None for a code that is not
    one of the 33 London boroughs (the City included)."""
    if code not in BOROUGHS:
        return None
    outline = _borough_outline(code)
    if outline is None:
        return None
    wgs = _to_wgs(outline)
    min_lon, min_lat, max_lon, max_lat = wgs.bounds
    cos = math.cos(math.radians((min_lat + max_lat) / 2))
    pad = 0.04 * max((max_lon - min_lon) * cos, max_lat - min_lat)
    min_lon, max_lon = min_lon - pad / cos, max_lon + pad / cos
    min_lat, max_lat = min_lat - pad, max_lat + pad
    k = SIZE / ((max_lon - min_lon) * cos)
    frame = Frame(code=code, min_lon=round(min_lon, 6), max_lat=round(max_lat, 6), k=round(k, 4),
                  cos=round(cos, 8), width=SIZE, height=round((max_lat - min_lat) * k, 1))
    return frame, _frame_path(wgs, frame)


@functools.lru_cache(maxsize=40)
def _wards_svg(code: str) -> str:
    """The borough's wards (2018, the bundled GLA boundaries) as thin outlines with their names, so
    that a place can be found on the map without street tiles."""
    frame, _ = borough_frame(code)
    wards = read_bundled("ward2018")
    wards = wards[wards["parent_code"] == code]
    lines, names = [], []
    for name, geom in zip(wards["name"], wards.geometry, strict=True):
        wgs = _to_wgs(geom)
        lines.append(_frame_path(wgs, frame))
        p = wgs.representative_point()
        x, y = frame.to_px(p.y, p.x)
        esc = str(name).replace("&", "&amp;").replace("<", "&lt;")
        names.append(f'<text x="{x:.1f}" y="{y:.1f}">{esc}</text>')
    return (f'<path d="{" ".join(lines)}" fill="none" stroke="#b1b4b6" stroke-width="0.8"/>'
            '<g font-family="system-ui, sans-serif" font-size="9" fill="#505a5f" text-anchor="middle">'
            f'{"".join(names)}</g>')


def venue_svg(code: str, label: str, point: tuple[float, float] | None = None) -> str:
    """SVG text: the borough ``code`` in grey and, when given, the venue ``point`` (latitude,
    longitude) as a marker, with a title for screen readers. Raises KeyError for an unknown borough."""
    found = borough_frame(code)
    if found is None:
        raise KeyError(code)
    frame, d = found
    esc = label.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    marker = ""
    if point is not None:
        x, y = frame.to_px(*point)
        marker = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#d4351c" stroke="#0b0c0c" '
                  'stroke-width="2"/>'
                  f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#ffffff"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
            f'width="{frame.width:.0f}" height="{frame.height:.0f}" role="img" aria-label="{esc}">'
            f'<title>{esc}</title><path d="{d}" fill="#f3f2f1" stroke="#505a5f" stroke-width="1.5" '
            f'fill-rule="evenodd"/>{_wards_svg(code)}{marker}</svg>')
