"""A small map of an area's boundary inside its borough, as SVG for an ``<img>`` (data: URI).

The page's Content-Security-Policy forbids style attributes, so the SVG uses presentation
attributes only (fill, stroke) and is embedded as an image, never inline. Coordinates are drawn in
British National Grid (metres), so shapes keep their true proportions.
"""

from __future__ import annotations

import base64
import functools

import numpy as np
import shapely
import shapely.geometry
from pyproj import Transformer

from vru.sources.boundaries import read_bundled

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
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
