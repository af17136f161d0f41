"""Where things are: distances between points, and London's boroughs from the bundled boundaries.

- :func:`haversine_km`: great-circle distance (the search computes the same formula in SQL,
  :func:`vru.web.opportunities.search.distance_expression`).
- :func:`bounding_box`: the latitude/longitude box that contains every point within ``km`` of a point,
  used to prefilter on the indexed ``(latitude, longitude)`` columns before the exact distance.
- :func:`borough_centre`, :func:`borough_at`: from the ONS borough boundaries bundled with the package
  (``vru.sources.boundaries``, read once per process). A borough's centre is a point inside it
  (shapely's representative point), so "near the centre of Lambeth" is always in Lambeth.
"""

from __future__ import annotations

import functools
import math

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
# A point "in London" may lie this far outside the (generalised, 20 m) boundary: venues on a border.
BORDER_TOLERANCE_M = 250.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) containing every point within ``km`` of (lat, lon)."""
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    # the widest longitude span is at the latitude farthest from the equator inside the box
    far = math.radians(min(89.0, abs(lat) + dlat))
    dlon = math.degrees(km / (EARTH_RADIUS_KM * math.cos(far)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


@functools.lru_cache(maxsize=1)
def _boroughs():
    """Borough polygons in British National Grid (metres) and a transformer from WGS84."""
    from pyproj import Transformer

    from vru.sources.boundaries import read_bundled

    gdf = read_bundled("lad2022")
    gdf = gdf[gdf["level"] == "borough"]
    shapes = dict(zip(gdf["code"], gdf.geometry, strict=True))
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    centres = {}
    for code, shape in shapes.items():
        p = shape.representative_point()
        lon, lat = to_wgs.transform(p.x, p.y)
        centres[code] = (round(lat, 5), round(lon, 5))
    return shapes, to_bng, centres


def borough_centre(code: str) -> tuple[float, float]:
    """(latitude, longitude) of a point inside the borough ``code`` (GSS code)."""
    return _boroughs()[2][code]


def borough_at(lat: float, lon: float, tolerance_m: float = BORDER_TOLERANCE_M) -> list[str]:
    """GSS codes of the boroughs containing the point (or within ``tolerance_m`` of it), nearest first;
    empty when the point is not in London."""
    from shapely.geometry import Point

    shapes, to_bng, _ = _boroughs()
    x, y = to_bng.transform(lon, lat)
    pt = Point(x, y)
    near = [(shape.distance(pt), code) for code, shape in shapes.items()]
    return [code for d, code in sorted(near) if d <= tolerance_m]
