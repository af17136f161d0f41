"""The evidential report of a qualified match: HTML and PDF, drawn offline (docs/tagging-report.md).

Modelled on the exhibits of the Ministry of Justice "Acquisitive Crime Proximity Alert"
(research note A.4): a summary, the request summary (the crime as the police sent it), the per-person
summary, the track image (EMAC/01), the detailed map (EMAC/02), the map key (EMAC/03), the table of
positions (EMAC/04: sequence, date/time, latitude, longitude, confidence circle, speed, direction) and
the mandatory disclaimer. We add what a court may ask of a published algorithm: its version, its
parameters, the score with its explanation, and who qualified the match, when and why.

Pure functions, no Django, no network:

- :func:`map_geometry` computes what a map shows, in British National Grid metres: the extent, the
  bundled ward and LSOA boundaries clipped to it (no map tiles), the crime and its radius, the points
  with their confidence circles and labels, the track in fix-time order;
- :func:`render_svg_map` draws that geometry as SVG with presentation attributes only (no ``style``
  attribute, no ``<style>`` element: the platform's Content Security Policy forbids inline styles), no
  external reference, every text escaped, output byte-for-byte deterministic;
- :func:`drawing_svg` draws the same bundled boundaries, in grid metres, for drawing a zone on (the
  tagging app's zone form);
- :func:`report_context` gathers everything a template or the PDF needs; the web app renders its own
  Django template from it;
- :func:`render_html` writes a standalone HTML file (for the command line and saving/printing; it
  carries a ``<style>`` block allowed by its own ``<meta>`` CSP hash, and is not served by the web app);
- :func:`render_pdf` writes the same content as a PDF with matplotlib (vector map, embedded DejaVu
  fonts, page numbers), deterministic (no creation date).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from vru.tagging import schema as s

TITLE = "Crime Proximity Alert"
#: boundary layers drawn for orientation (vru.sources.boundaries.BUNDLED names), finest first
LAYERS = ("lsoa2021", "ward2018")
#: points' table rows per PDF page
ROWS_PER_PAGE = 40
LONDON_TZ = "Europe/London"
# Okabe-Ito palette (distinguishable with colour-blindness), one colour per visit
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CRIME_COLOUR = "#D55E00"
COARSE_COLOUR = "#808080"

DISCLAIMER = (
    "This data does not confirm that the tag wearer perpetrated or witnessed a crime. It shows only "
    "that the wearer's tag reported positions within the stated distance of the reported crime location "
    "during the stated period, widened by the stated tolerance.",
    "It does not rule out that other people, including other tag wearers, were present, and it covers "
    "only the periods in which the tag was monitored: the absence of a match is not evidence that a "
    "wearer was elsewhere.",
    "Every position is an estimate. Its confidence circle is the area within which the true position "
    "lay with the stated confidence. An interpolated point was not reported by the tag: it is inferred "
    "between two reported positions. Consecutive numbers do not necessarily indicate sequential "
    "movement.",
    "An analyst reviewed this match and qualified it on professional judgement, on the accuracy of the "
    "data. The score is an aid to that judgement, not a measure of guilt.",
)
#: cases in which a tag cannot be monitored, or reports positions that are wrong
INABILITY_TO_MONITOR = (
    "the tag's battery was not charged;",
    "the tag was removed or tampered with but continued to transmit;",
    "the tag or the monitoring equipment was faulty;",
    "the satellite signal was blocked (indoors, underground, between tall buildings), so positions "
    "are missing or less accurate;",
    "positions came from mobile network cells (LBS) or RF beacons: these are coarse, never make a "
    "match on their own, and are shown only beside GPS or WiFi positions;",
    "the data connection was interrupted: positions are then sent late and are ordered here by the "
    "time they were taken, not the time they arrived.",
)

#: pseudonymous attributes of a wearer shown in the per-person summary, with their labels
WEARER_FIELDS = (
    ("wearer_ref", "Wearer reference (pseudonymous)"),
    ("order_type", "Order type"),
    ("organisation", "Responsible organisation"),
    ("order_start", "Order start"),
    ("order_end", "Order end"),
    ("device_id", "Device (EMS) ID"),
)
#: identifying details, shown only when passed as ``identity`` to :func:`report_context`
IDENTITY_FIELDS = (
    ("name", "Name"),
    ("date_of_birth", "Date of birth"),
    ("pnc_id", "PNC ID"),
    ("address", "Specified address"),
)
PARAMETER_MEANINGS = {
    "radius_m": "search radius R around the crime location (m)",
    "tolerance_s": "added to each side of the crime window (s)",
    "max_gap_s": "longest gap between two fixes interpolated across (s)",
    "max_speed_mps": "fastest movement interpolated across (m/s)",
    "visit_gap_s": "a new visit starts after this long without a point (s)",
    "confidence": "confidence of a position's circle",
    "bridge_var_m2_s": "Brownian-bridge motion variance of an interpolated point (m^2/s)",
}
TABLE_COLUMNS = (
    ("label", "Seq. no."), ("time_utc", "Date/time (UTC)"), ("time_local", "London time"),
    ("lat", "Lat (WGS84)"), ("lon", "Long (WGS84)"), ("precision", "Confidence circle (m)"),
    ("speed", "Speed (km/h)"), ("heading", "Direction (deg)"), ("source", "Source"),
    ("distance", "Distance to crime (m)"),
)

_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
_NEEDED = (s.VISIT, s.SEQ, s.FIX_TIME, s.EASTING, s.NORTHING, s.PRECISION_M, s.MECHANISM, s.DISTANCE_M,
           s.INTERPOLATED)


# ------------------------------------------------------------------------------------------ inputs
def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "t")
    return bool(v) if not pd.isna(v) else False


def points_frame(points: pd.DataFrame) -> pd.DataFrame:
    """The match points (schema.MATCHES columns, from :func:`matching.match` or its points.csv), typed
    and sorted in fix-time order, with ``label`` (visit + seq). Raises ``ValueError`` naming missing
    columns or a bad value."""
    missing = [c for c in _NEEDED if c not in points.columns]
    if missing:
        raise ValueError(f"match points lack the column(s) {', '.join(missing)}")
    df = points.copy()
    for c in (s.SPEED_KMH, s.HEADING_DEG):
        if c not in df:
            df[c] = np.nan
    df[s.FIX_TIME] = pd.to_datetime(df[s.FIX_TIME], utc=True)
    for c in (s.EASTING, s.NORTHING, s.PRECISION_M, s.DISTANCE_M, s.SPEED_KMH, s.HEADING_DEG):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for i, r in enumerate(df.itertuples(index=False)):
        for c in (s.EASTING, s.NORTHING, s.PRECISION_M):
            v = getattr(r, c)
            if not math.isfinite(v) or (c == s.PRECISION_M and v < 0):
                raise ValueError(f"match points row {i + 1}: column {c} holds {v!r}")
        if pd.isna(getattr(r, s.FIX_TIME)):
            raise ValueError(f"match points row {i + 1}: column {s.FIX_TIME} is missing")
    df[s.INTERPOLATED] = df[s.INTERPOLATED].map(_truthy).astype(bool)
    df[s.VISIT] = df[s.VISIT].astype(str)
    df[s.SEQ] = pd.to_numeric(df[s.SEQ], errors="raise").astype("int64")
    df[s.MECHANISM] = df[s.MECHANISM].astype(str).str.upper()
    df["label"] = df[s.VISIT] + df[s.SEQ].astype(str)
    return df.sort_values([s.FIX_TIME, s.VISIT, s.SEQ], kind="stable").reset_index(drop=True)


def crime_point(crime: Mapping) -> tuple[float, float]:
    """The crime's (easting, northing): given, or converted from ``lat``/``lon`` (WGS84)."""
    e, n = crime.get(s.EASTING), crime.get(s.NORTHING)
    if e is not None and n is not None and not (pd.isna(e) or pd.isna(n)):
        return float(e), float(n)
    lat, lon = crime.get(s.LAT), crime.get(s.LON)
    if lat is None or lon is None or pd.isna(lat) or pd.isna(lon):
        raise ValueError("the crime has no location: give easting/northing or lat/lon")
    from vru.geography.grids import to_bng

    x, y = to_bng([float(lon)], [float(lat)])
    return float(x[0]), float(y[0])


def to_wgs84(easting, northing) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid metres -> (latitude, longitude) WGS84 degrees (pyproj)."""
    lon, lat = _TO_WGS84.transform(np.asarray(easting, dtype=float), np.asarray(northing, dtype=float))
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


# ----------------------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class MapPoint:
    label: str
    visit: str
    x: float
    y: float
    precision_m: float
    interpolated: bool
    coarse: bool  # LBS or RF
    time: pd.Timestamp


@dataclass(frozen=True)
class MapGeometry:
    """What a map shows, in British National Grid metres (``ymax`` at the top)."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    crime_x: float
    crime_y: float
    crime_ref: str
    radius_m: float
    points: tuple[MapPoint, ...]
    visits: tuple[str, ...]  # in time order
    lines: tuple[tuple[str, np.ndarray], ...]  # (layer, n x 2 coordinates) boundary lines
    names: tuple[tuple[float, float, str], ...]  # ward names for orientation

    def colour(self, visit: str) -> str:
        return PALETTE[self.visits.index(visit) % len(PALETTE)] if visit in self.visits else PALETTE[0]


def _boundaries(box: tuple[float, float, float, float], layers: Sequence[str], busy):
    """Boundary lines clipped to ``box``, and ward names placed away from the ``busy`` area (the scene)."""
    from vru.geography.boroughs import CITY_OF_LONDON, borough_name
    from vru.sources.boundaries import read_bundled

    xmin, ymin, xmax, ymax = box
    frame = shapely.box(xmin, ymin, xmax, ymax)
    free = frame.difference(busy)
    lines, names = [], []
    for layer in layers:
        gdf = read_bundled(layer)
        idx = np.sort(gdf.sindex.query(frame, predicate="intersects"))
        if not len(idx):
            continue
        sub = gdf.iloc[idx]
        merged = shapely.union_all(shapely.boundary(sub.geometry.values))
        clipped = shapely.line_merge(shapely.clip_by_rect(merged, xmin, ymin, xmax, ymax))
        for part in shapely.get_parts(clipped):
            if isinstance(part, shapely.LineString | shapely.LinearRing) and not part.is_empty:
                lines.append((layer, np.asarray(part.coords, dtype=float)[:, :2]))
        if sub.iloc[0]["level"] == "ward":
            for name, parent, geom in zip(sub["name"], sub["parent_code"], sub.geometry, strict=True):
                if parent == CITY_OF_LONDON:  # the bundled set merges the City's 25 wards into one unit
                    name = borough_name(CITY_OF_LONDON)
                inside = shapely.intersection(geom, free)
                if inside.area >= 0.04 * frame.area:
                    p = inside.representative_point()
                    names.append((float(p.x), float(p.y), str(name)))
    return tuple(lines), tuple(names)


def map_geometry(points: pd.DataFrame, crime: Mapping, *, radius_m: float = 100.0, margin_m: float = 250.0,
                 aspect: float = 4 / 3, layers: Sequence[str] = LAYERS) -> MapGeometry:
    """The geometry of a map of ``points`` (match points of one wearer) around ``crime``.

    The extent holds the crime's radius circle and every confidence circle, plus ``margin_m`` on each
    side, widened to the ``aspect`` (width / height). The bundled boundaries (``layers``) are clipped
    to it; a scene outside the bundled area (London) simply has none.
    """
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"radius_m must be a positive number, not {radius_m!r}")
    pts = points_frame(points)
    cx, cy = crime_point(crime)
    # coarse (LBS/RF) circles can be kilometres wide: the extent holds their centres only
    prec = pts[s.PRECISION_M].where(~pts[s.MECHANISM].isin(s.COARSE_MECHANISMS), 0.0)
    xs = np.concatenate([[cx - radius_m, cx + radius_m], pts[s.EASTING] - prec, pts[s.EASTING] + prec])
    ys = np.concatenate([[cy - radius_m, cy + radius_m], pts[s.NORTHING] - prec, pts[s.NORTHING] + prec])
    scene = shapely.box(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    xmin, xmax = float(xs.min()) - margin_m, float(xs.max()) + margin_m
    ymin, ymax = float(ys.min()) - margin_m, float(ys.max()) + margin_m
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:
        extra = (h * aspect - w) / 2
        xmin, xmax = xmin - extra, xmax + extra
    else:
        extra = (w / aspect - h) / 2
        ymin, ymax = ymin - extra, ymax + extra
    lines, names = _boundaries((xmin, ymin, xmax, ymax), layers, scene.buffer(0.05 * (xmax - xmin)))
    mp = tuple(MapPoint(str(r["label"]), str(r[s.VISIT]), float(r[s.EASTING]), float(r[s.NORTHING]),
                        float(r[s.PRECISION_M]), bool(r[s.INTERPOLATED]),
                        r[s.MECHANISM] in s.COARSE_MECHANISMS, r[s.FIX_TIME]) for _, r in pts.iterrows())
    visits = tuple(dict.fromkeys(p.visit for p in mp))
    return MapGeometry(xmin, ymin, xmax, ymax, cx, cy, str(crime.get(s.CRIME_REF, "")), float(radius_m),
                       mp, visits, lines, names)


def _scale_length(width_m: float) -> float:
    """The longest 'nice' length not over a quarter of the map's width."""
    best = 1.0
    for base in (1, 2, 2.5, 5):
        for exp in range(0, 6):
            v = base * 10 ** exp
            if v <= width_m / 4:
                best = max(best, v)
    return best


def map_description(geo: MapGeometry) -> str:
    """A text alternative of the map: the crime, the radius and each visit."""
    parts = [f"Map of the area around crime {geo.crime_ref or '(no reference)'}: its location (easting "
             f"{geo.crime_x:.0f}, northing {geo.crime_y:.0f}) with a {geo.radius_m:g} m radius circle, "
             f"and {len(geo.points)} position(s) of the tag in {len(geo.visits)} visit(s), each with its "
             "confidence circle, joined in time order."]
    for v in geo.visits:
        vp = [p for p in geo.points if p.visit == v]
        near = min(vp, key=lambda p: math.hypot(p.x - geo.crime_x, p.y - geo.crime_y))
        d = math.hypot(near.x - geo.crime_x, near.y - geo.crime_y)
        n_int = sum(p.interpolated for p in vp)
        parts.append(f"Visit {v}: {len(vp)} point(s) from {vp[0].time:%H:%M:%S} to {vp[-1].time:%H:%M:%S} "
                     f"UTC on {vp[0].time:%d/%m/%Y}; closest {near.label}, {d:.0f} m from the crime"
                     + (f"; {n_int} interpolated" if n_int else "") + ".")
    parts.append("Boundaries: wards (named) and LSOAs, for orientation. The table of positions lists "
                 "every point.")
    return " ".join(parts)


# -------------------------------------------------------------------------------------------- SVG
def _f(v: float) -> str:
    """A coordinate as SVG text: two decimals, deterministic."""
    out = f"{v:.2f}"
    return "0.00" if out == "-0.00" else out


def render_svg_map(points: pd.DataFrame, crime: Mapping, *, radius_m: float = 100.0, width: int = 800,
                   height: int = 600, margin_m: float = 250.0, id_prefix: str = "map",
                   layers: Sequence[str] = LAYERS, geometry: MapGeometry | None = None) -> str:
    """An SVG map (a string) of the match ``points`` of one wearer around ``crime``.

    Pixel ``(px, py) = ((x - xmin) * k, (ymax - y) * k)`` with ``k = width / (xmax - xmin)`` px per
    metre (grid north up); the map is ``width`` x ``height`` px, the key a band below it. Presentation
    attributes only, no external reference, every text escaped, deterministic. ``id_prefix`` keeps
    element ids unique when several maps share a page.
    """
    geo = geometry or map_geometry(points, crime, radius_m=radius_m, margin_m=margin_m,
                                   aspect=width / height, layers=layers)
    k = width / (geo.xmax - geo.xmin)

    def px(x):
        return _f((x - geo.xmin) * k)

    def py(y):
        return _f((geo.ymax - y) * k)

    key_h = 96
    total_h = height + key_h
    title = f"Positions of the tag near crime {geo.crime_ref}".strip()
    svg = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "version": "1.1", "width": str(width),
        "height": str(total_h), "viewBox": f"0 0 {width} {total_h}", "role": "img",
        "aria-labelledby": f"{id_prefix}-title {id_prefix}-desc", "font-family": "DejaVu Sans, sans-serif",
        "font-size": "11"})
    ET.SubElement(svg, "title", {"id": f"{id_prefix}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{id_prefix}-desc"}).text = map_description(geo)
    clip = ET.SubElement(ET.SubElement(svg, "defs"), "clipPath", {"id": f"{id_prefix}-clip"})
    ET.SubElement(clip, "rect", {"x": "0", "y": "0", "width": str(width), "height": str(height)})
    ET.SubElement(svg, "rect", {"x": "0", "y": "0", "width": str(width), "height": str(height),
                                "fill": "#FFFFFF", "stroke": "#333333", "stroke-width": "1"})
    frame = ET.SubElement(svg, "g", {"clip-path": f"url(#{id_prefix}-clip)"})

    bounds = ET.SubElement(frame, "g", {"id": f"{id_prefix}-boundaries", "fill": "none"})
    for layer, coords in geo.lines:
        ward = layer.startswith("ward")
        d = "M" + " L".join(f"{px(x)} {py(y)}" for x, y in coords)
        ET.SubElement(bounds, "path", {"d": d, "stroke": "#6E6E6E" if ward else "#B4B4B4",
                                       "stroke-width": "1.4" if ward else "0.7"})
    for x, y, name in geo.names:
        ET.SubElement(bounds, "text", {"x": px(x), "y": py(y), "text-anchor": "middle", "fill": "#6E6E6E",
                                       "font-size": "12", "font-style": "italic"}).text = name

    ET.SubElement(frame, "circle", {
        "id": f"{id_prefix}-crime-radius", "cx": px(geo.crime_x), "cy": py(geo.crime_y),
        "r": _f(geo.radius_m * k), "fill": CRIME_COLOUR, "fill-opacity": "0.08", "stroke": CRIME_COLOUR,
        "stroke-width": "2"})

    conf = ET.SubElement(frame, "g", {"id": f"{id_prefix}-confidence", "fill-opacity": "0.12",
                                    "stroke-width": "1"})
    for p in geo.points:
        col = COARSE_COLOUR if p.coarse else geo.colour(p.visit)
        attrs = {"cx": px(p.x), "cy": py(p.y), "r": _f(p.precision_m * k), "fill": col, "stroke": col}
        if p.interpolated:
            attrs["stroke-dasharray"] = "4 3"
            attrs["fill-opacity"] = "0.05"
        ET.SubElement(conf, "circle", attrs)

    track = ET.SubElement(frame, "g", {"id": f"{id_prefix}-track", "fill": "none", "stroke-width": "1.8"})
    prev = None
    for v in geo.visits:
        vp = [p for p in geo.points if p.visit == v]
        if prev is not None:
            ET.SubElement(track, "path", {"d": f"M{px(prev.x)} {py(prev.y)} L{px(vp[0].x)} {py(vp[0].y)}",
                                          "stroke": "#999999", "stroke-width": "1",
                                          "stroke-dasharray": "2 4"})
        if len(vp) > 1:
            ET.SubElement(track, "polyline", {"points": " ".join(f"{px(p.x)},{py(p.y)}" for p in vp),
                                              "stroke": geo.colour(v), "stroke-linejoin": "round"})
        prev = vp[-1]

    dots = ET.SubElement(frame, "g", {"id": f"{id_prefix}-points", "stroke-width": "1.5"})
    for p in geo.points:
        col = COARSE_COLOUR if p.coarse else geo.colour(p.visit)
        if p.interpolated:
            ET.SubElement(dots, "rect", {"x": _f((p.x - geo.xmin) * k - 3.5),
                                         "y": _f((geo.ymax - p.y) * k - 3.5), "width": "7", "height": "7",
                                         "fill": "#FFFFFF", "stroke": col})
        else:
            ET.SubElement(dots, "circle", {"cx": px(p.x), "cy": py(p.y), "r": "3.5", "fill": col,
                                           "stroke": "#FFFFFF"})
    labels = ET.SubElement(frame, "g", {"id": f"{id_prefix}-labels", "font-weight": "bold",
                                      "stroke": "#FFFFFF", "stroke-width": "3", "paint-order": "stroke",
                                      "fill": "#111111"})
    for p in geo.points:
        ET.SubElement(labels, "text", {"x": _f((p.x - geo.xmin) * k + 6), "y": _f((geo.ymax - p.y) * k - 5)}
                      ).text = p.label
    ET.SubElement(frame, "path", {"d": f"M{_f(float(px(geo.crime_x)) - 6)} {py(geo.crime_y)} h12 "
                                     f"M{px(geo.crime_x)} {_f(float(py(geo.crime_y)) - 6)} v12",
                                "stroke": CRIME_COLOUR, "stroke-width": "2.5", "id": f"{id_prefix}-crime"})

    # scale bar (bottom left) and north arrow (top right)
    length = _scale_length(geo.xmax - geo.xmin)
    bar = ET.SubElement(svg, "g", {"id": f"{id_prefix}-scale", "stroke": "#111111", "stroke-width": "2",
                                   "fill": "#111111"})
    x0, y0, lpx = 16.0, height - 18.0, length * k
    ET.SubElement(bar, "path", {"d": f"M{_f(x0)} {_f(y0 - 5)} v5 h{_f(lpx)} v-5", "fill": "none"})
    ET.SubElement(bar, "text", {"x": _f(x0 + lpx / 2), "y": _f(y0 - 8), "text-anchor": "middle",
                                "stroke": "none"}).text = f"{length:g} m"
    north = ET.SubElement(svg, "g", {"id": f"{id_prefix}-north", "fill": "#111111"})
    nx, ny = width - 26.0, 14.0
    ET.SubElement(north, "path", {"d": f"M{_f(nx)} {_f(ny)} l8 24 l-8 -6 l-8 6 z"})
    ET.SubElement(north, "text", {"x": _f(nx), "y": _f(ny + 38), "text-anchor": "middle",
                                  "font-weight": "bold"}).text = "N"

    # key (a band below the map)
    key = ET.SubElement(svg, "g", {"id": f"{id_prefix}-key"})
    ET.SubElement(key, "text", {"x": "8", "y": _f(height + 16), "font-weight": "bold"}).text = "Key"
    entries = key_entries(geo)
    col_w = width / 2
    for i, (symbol, text) in enumerate(entries):
        cx0 = 14 + (i % 2) * col_w
        cy0 = height + 32 + (i // 2) * 18
        _key_symbol(key, symbol, cx0, cy0, geo)
        ET.SubElement(key, "text", {"x": _f(cx0 + 16), "y": _f(cy0 + 4)}).text = text
    ET.indent(svg, space="")
    return ET.tostring(svg, encoding="unicode") + "\n"


def key_entries(geo: MapGeometry | None = None) -> list[tuple[str, str]]:
    """The map key (EMAC/03): (symbol, meaning) pairs."""
    r = f"{geo.radius_m:g} m" if geo is not None else "R"
    return [
        ("crime", f"Crime location and its {r} search radius"),
        ("fix", "Position reported by the tag (GPS/WiFi), with its confidence circle"),
        ("interpolated", "Interpolated point (not reported), with its widened circle"),
        ("coarse", "Cell (LBS) or RF position: coarse, never a match alone"),
        ("track", "Track in time order (a colour per visit; dotted: between visits)"),
        ("boundary", "Ward (named) and LSOA boundaries; grid north up"),
    ]


def _key_symbol(parent, symbol: str, x: float, y: float, geo: MapGeometry) -> None:
    c0 = geo.colour(geo.visits[0]) if geo.visits else PALETTE[0]
    if symbol == "crime":
        ET.SubElement(parent, "circle", {"cx": _f(x), "cy": _f(y), "r": "6", "fill": CRIME_COLOUR,
                                         "fill-opacity": "0.08", "stroke": CRIME_COLOUR, "stroke-width": "2"})
    elif symbol == "fix":
        ET.SubElement(parent, "circle", {"cx": _f(x), "cy": _f(y), "r": "3.5", "fill": c0})
    elif symbol == "interpolated":
        ET.SubElement(parent, "rect", {"x": _f(x - 3.5), "y": _f(y - 3.5), "width": "7", "height": "7",
                                       "fill": "#FFFFFF", "stroke": c0, "stroke-width": "1.5"})
    elif symbol == "coarse":
        ET.SubElement(parent, "circle", {"cx": _f(x), "cy": _f(y), "r": "3.5", "fill": COARSE_COLOUR})
    elif symbol == "track":
        ET.SubElement(parent, "path", {"d": f"M{_f(x - 7)} {_f(y)} h14", "stroke": c0, "stroke-width": "1.8"})
    else:
        ET.SubElement(parent, "path", {"d": f"M{_f(x - 7)} {_f(y)} h14", "stroke": "#6E6E6E",
                                       "stroke-width": "1.4"})


# ------------------------------------------------------------------------------------- drawing map
#: the layers of the zone-drawing map: ward boundaries for detail, boroughs (named) on top
DRAW_LAYERS = ("ward2018", "lad2022")
#: changes when :func:`drawing_svg`'s output does (the web app caches the map under it)
DRAWING_VERSION = 2


def drawing_svg(box: tuple[float, float, float, float] | None = None, *, layers: Sequence[str] = DRAW_LAYERS,
                simplify_m: float = 5.0, id_prefix: str = "zone-draw") -> str:
    """An SVG map for drawing a zone on (the tagging app's zone form), in British National Grid metres.

    The same bundled boundaries as the report's maps (:func:`_boundaries`, clipped to ``box``, default
    all of London and 1 km round it), drawn with the user coordinate system **equal to the grid**:
    ``x = easting``, ``y = -northing`` (grid north up), so the browser's own screen-to-SVG matrix
    (``getScreenCTM``) turns a click into easting and -northing with no formula of ours; the ``viewBox``
    is the extent, and zooming is changing it. Lines are simplified to ``simplify_m`` (a few metres:
    smaller than a pixel until zoomed to a street) and written in whole metres, relative, to keep the
    page small; strokes do not scale with zoom (``vector-effect``). Presentation attributes only, no
    external reference, deterministic; borough names at their representative points (the drawing
    script scales their ``font-size`` with the zoom). Attributes ``data-extent`` (xmin ymin xmax ymax)
    and the ids ``{id_prefix}-drawn`` (an empty group for the drawn polygon) are the script's."""
    from vru.sources.boundaries import read_bundled

    if box is None:
        b = read_bundled("lad2022").total_bounds
        box = (float(b[0]) - 1000, float(b[1]) - 1000, float(b[2]) + 1000, float(b[3]) + 1000)
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"the drawing map's box must have xmin < xmax and ymin < ymax, not {box!r}")
    lines, _ = _boundaries((xmin, ymin, xmax, ymax), layers, shapely.Polygon())
    w, h = xmax - xmin, ymax - ymin
    svg = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "version": "1.1", "id": f"{id_prefix}-map",
        "viewBox": f"{_f(xmin)} {_f(-ymax)} {_f(w)} {_f(h)}", "preserveAspectRatio": "xMidYMid meet",
        "role": "img", "aria-labelledby": f"{id_prefix}-title {id_prefix}-desc",
        "data-extent": f"{_f(xmin)} {_f(ymin)} {_f(xmax)} {_f(ymax)}",
        "font-family": "DejaVu Sans, sans-serif"})
    ET.SubElement(svg, "title", {"id": f"{id_prefix}-title"}).text = "Map for drawing a zone"
    ET.SubElement(svg, "desc", {"id": f"{id_prefix}-desc"}).text = (
        "London's borough and ward boundaries in British National Grid, grid north up. Each click or tap "
        "adds a corner of the zone; the boundary is written into the GeoJSON field below as grid "
        "metres. The field can also be typed or pasted.")
    ET.SubElement(svg, "rect", {"x": _f(xmin), "y": _f(-ymax), "width": _f(w), "height": _f(h),
                                "fill": "#FFFFFF"})
    bounds = ET.SubElement(svg, "g", {"id": f"{id_prefix}-boundaries", "fill": "none",
                                      "stroke-linejoin": "round"})
    order = {layer: i for i, layer in enumerate(layers)}
    for layer, coords in sorted(lines, key=lambda lc: order.get(lc[0], 0)):
        line = shapely.LineString(coords)
        line = line.simplify(simplify_m) if simplify_m > 0 else line
        xy = np.rint(np.asarray(line.coords, dtype=float)[:, :2]).astype(np.int64)
        xy[:, 1] = -xy[:, 1]
        steps = [(dx, dy) for dx, dy in np.diff(xy, axis=0).tolist() if dx or dy]
        if not steps:  # shorter than a metre once rounded: nothing to draw
            continue
        d = f"M{xy[0, 0]} {xy[0, 1]}l" + " ".join(f"{dx} {dy}" for dx, dy in steps)
        borough = layer.startswith("lad")
        ET.SubElement(bounds, "path", {"d": d, "stroke": "#505a5f" if borough else "#b1b4b6",
                                       "stroke-width": "1.6" if borough else "0.8",
                                       "vector-effect": "non-scaling-stroke"})
    names = ET.SubElement(svg, "g", {"id": f"{id_prefix}-names", "fill": "#505a5f", "text-anchor": "middle",
                                     "font-size": _f(w / 90), "font-style": "italic"})
    if any(layer.startswith("lad") for layer in layers):
        from vru.geography.boroughs import borough_name

        frame = shapely.box(xmin, ymin, xmax, ymax)
        gdf = read_bundled("lad2022")
        for code, geom in sorted(zip(gdf["code"], gdf.geometry, strict=True)):
            inside = geom.intersection(frame)
            if inside.is_empty or inside.area < 0.002 * frame.area:
                continue
            p = inside.representative_point()
            ET.SubElement(names, "text", {"x": _f(p.x), "y": _f(-p.y)}).text = borough_name(code)
    ET.SubElement(svg, "g", {"id": f"{id_prefix}-drawn"})
    ET.indent(svg, space="")
    return ET.tostring(svg, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------------------- context
def _fmt_time(t, tz: str = "UTC", fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return ""
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        raise ValueError(f"time {t!r} has no time zone; give times in UTC")
    return ts.tz_convert(tz).strftime(fmt)


def _num(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return "n/a"
    return format(float(v), fmt)


def _text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, datetime | pd.Timestamp):
        return _fmt_time(v, fmt="%d/%m/%Y %H:%M:%S UTC")
    return str(v)


def report_context(points: pd.DataFrame, summary_row: Mapping, crime: Mapping, run: Mapping,
                   wearer: Mapping, reviewer: str, qualified_at, reason: str, *,
                   identity: Mapping | None = None, radius_m: float | None = None,
                   generated_at=None) -> dict:
    """Everything the report's HTML template and PDF need, for one qualified match.

    ``points``: the match points (schema.MATCHES; rows of other crime versions or wearers are dropped
    by ``summary_row``'s keys); ``summary_row``: the match's row of ``MatchResult.summary``; ``crime``:
    the crime version (schema.CRIMES keys, plus optional ``batch_id``, ``crime_type_description``,
    ``crime_text``); ``run``: the run record (``MatchResult.run``); ``wearer``: pseudonymous attributes
    (:data:`WEARER_FIELDS`; other keys are ignored, so a name in it is never shown); ``identity``: the
    identifying details (:data:`IDENTITY_FIELDS`), shown only when given. Times are UTC-aware.
    """
    pts = points_frame(points)
    cv, wref = summary_row.get(s.CRIME_VERSION_ID), summary_row.get(s.WEARER_REF)
    for col, val in ((s.CRIME_VERSION_ID, cv), (s.WEARER_REF, wref)):
        if val is not None and col in pts.columns:
            pts = pts[pts[col].astype(str) == str(val)]
    if pts.empty:
        raise ValueError(f"no match points for crime version {cv} and wearer {wref}")
    pts = pts.reset_index(drop=True)
    params = dict(run.get("parameters") or {})
    radius = float(radius_m if radius_m is not None else params.get("radius_m", 100.0))
    cx, cy = crime_point(crime)
    clat, clon = to_wgs84([cx], [cy])
    lat, lon = to_wgs84(pts[s.EASTING], pts[s.NORTHING])

    fixes = []
    for i, r in pts.iterrows():
        mech = r[s.MECHANISM]
        fixes.append({
            "label": r["label"], "visit": r[s.VISIT], "seq": int(r[s.SEQ]),
            "time_utc": _fmt_time(r[s.FIX_TIME]),
            "time_local": _fmt_time(r[s.FIX_TIME], LONDON_TZ, "%H:%M:%S"),
            "lat": f"{lat[i]:.6f}", "lon": f"{lon[i]:.6f}",
            "easting": f"{r[s.EASTING]:.0f}", "northing": f"{r[s.NORTHING]:.0f}",
            "precision": _num(r[s.PRECISION_M], ".0f"), "speed": _num(r[s.SPEED_KMH], ".1f"),
            "heading": _num(r[s.HEADING_DEG], ".0f"), "distance": _num(r[s.DISTANCE_M], ".0f"),
            "mechanism": mech, "interpolated": bool(r[s.INTERPOLATED]),
            "source": f"interpolated ({mech})" if r[s.INTERPOLATED] else mech,
        })

    crime_ref = _text(crime.get(s.CRIME_REF))
    request = [
        ("Batch ID", _text(crime.get("batch_id"))),
        ("Police force", _text(crime.get(s.FORCE))),
        ("Crime reference", crime_ref),
        ("Crime version", _text(crime.get(s.CRIME_VERSION_ID))),
        ("Crime type", " - ".join(x for x in (_text(crime.get(s.CRIME_TYPE)),
                                              _text(crime.get("crime_type_description"))) if x)),
        ("Crime date/time from", _text(crime.get(s.TIME_FROM))),
        ("Crime date/time to", _text(crime.get(s.TIME_TO))),
        ("Location (easting, northing)", f"{cx:.0f}, {cy:.0f}"),
        ("Location (lat, long WGS84)", f"{clat[0]:.6f}, {clon[0]:.6f}"),
        ("Crime text", _text(crime.get("crime_text"))),
    ]
    person = [(label, _text(wearer.get(key))) for key, label in WEARER_FIELDS
              if key == "wearer_ref" or _text(wearer.get(key))]
    if not _text(wearer.get("wearer_ref")):
        person[0] = (person[0][0], _text(wref))
    identity_rows = [(label, _text(identity.get(key))) for key, label in IDENTITY_FIELDS
                     if _text(identity.get(key))] if identity else []

    p_within = summary_row.get("p_within")
    dwell = summary_row.get("dwell_s")
    n_visits = len(dict.fromkeys(pts[s.VISIT]))
    summary = [
        ("Crime reference", crime_ref),
        ("Wearer reference", _text(wref) or _text(wearer.get("wearer_ref"))),
        ("Positions in the vicinity", f"{len(pts)} in {n_visits} visit(s)"
         + (f" ({int(pts[s.INTERPOLATED].sum())} interpolated)" if pts[s.INTERPOLATED].any() else "")),
        ("First and last position", f"{fixes[0]['time_utc']} to {fixes[-1]['time_utc']} UTC"),
        ("Closest position", f"{_num(summary_row.get('min_distance_m'), '.0f')} m from the crime location"),
        ("Probability within the radius", _num(p_within, ".2f")),
        ("Longest visit (dwell)", f"{_num(dwell, '.0f')} s"),
        ("Qualified by", _text(reviewer)),
        ("Qualified at", _text(qualified_at)),
        ("Reason", _text(reason)),
    ]
    param_rows = [(name, f"{value:g}" if isinstance(value, int | float) else _text(value),
                   PARAMETER_MEANINGS.get(name, "")) for name, value in params.items()]
    run_rows = [(label, _text(run.get(key))) for key, label in (
        ("algorithm_version", "Algorithm version"), ("run_id", "Run ID"), ("trigger", "Trigger"),
        ("backend", "Engine"), ("started", "Started"), ("ended", "Ended"), ("status", "Status"))]

    overview = map_geometry(pts, crime, radius_m=radius, margin_m=600.0, aspect=4 / 3)
    detail = map_geometry(pts, crime, radius_m=radius, margin_m=40.0, aspect=4 / 3)
    return {
        "title": TITLE,
        "crime_ref": crime_ref,
        "wearer_ref": _text(wref),
        "generated_at": _text(generated_at),
        "summary": summary,
        "request": request,
        "person": person,
        "identity": identity_rows,
        "identity_included": bool(identity_rows),
        "fixes": fixes,
        "fix_columns": list(TABLE_COLUMNS),
        "algorithm_version": _text(run.get("algorithm_version")),
        "parameters": param_rows,
        "run": run_rows,
        "score_explanation": _text(summary_row.get("explanation")),
        "qualification": {"reviewer": _text(reviewer), "qualified_at": _text(qualified_at),
                          "reason": _text(reason)},
        "disclaimer": list(DISCLAIMER),
        "inability_to_monitor": list(INABILITY_TO_MONITOR),
        "map_key": key_entries(overview),
        "map_text": map_description(detail),
        "map_svg": render_svg_map(pts, crime, geometry=overview, id_prefix="emac01"),
        "map_detail_svg": render_svg_map(pts, crime, geometry=detail, id_prefix="emac02"),
        "geometry": {"overview": overview, "detail": detail},
    }


# ------------------------------------------------------------------------------------------- HTML
_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5rem auto; max-width: 60rem; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.4rem; text-align: left;
 vertical-align: top; font-size: 0.85rem; } th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .disclaimer { border: 2px solid #D55E00;
 padding: 0.5rem 1rem; } svg { max-width: 100%; height: auto; } figure { margin: 0.5rem 0; }
@media print { h2 { break-after: avoid; } figure, .disclaimer { break-inside: avoid; } }
""".strip()


def _rows(pairs) -> str:
    return "\n".join(f"<tr><th scope=\"row\">{html.escape(a)}</th><td>{html.escape(b)}</td></tr>"
                     for a, b in pairs)


def render_html(context: Mapping) -> str:
    """A complete, standalone HTML document of the report, for saving and printing (CLI export).

    No ``<script>``, no ``style`` attribute, no external reference: a ``<meta>`` Content Security
    Policy (``default-src 'none'``) forbids every request, and allows only the one ``<style>`` block by
    its SHA-256 hash. The web app does not serve this file: it renders its own Django template from
    :func:`report_context` under the platform's CSP (which forbids the ``<style>`` block).
    """
    c = context
    h = html.escape
    css_hash = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    fixes_head = "".join(f"<th scope=\"col\">{h(label)}</th>" for _, label in c["fix_columns"])
    numeric = {"lat", "lon", "precision", "speed", "heading", "distance"}
    fixes_rows = "\n".join(
        "<tr>" + "".join(f"<td class=\"n\">{h(str(f[key]))}</td>" if key in numeric
                         else f"<td>{h(str(f[key]))}</td>" for key, _ in c["fix_columns"]) + "</tr>"
        for f in c["fixes"])
    key_rows = "\n".join(f"<li>{h(text)}</li>" for _, text in c["map_key"])
    params = "\n".join(f"<tr><th scope=\"row\">{h(n)}</th><td class=\"n\">{h(v)}</td><td>{h(m)}</td></tr>"
                       for n, v, m in c["parameters"])
    identity = ""
    if c["identity_included"]:
        identity = f"<h3>Identifying details</h3>\n<table>\n{_rows(c['identity'])}\n</table>\n"
    disclaimer = "\n".join(f"<p>{h(p)}</p>" for p in c["disclaimer"])
    inability = "\n".join(f"<li>{h(p)}</li>" for p in c["inability_to_monitor"])
    generated = f"<p>Report produced {h(c['generated_at'])}.</p>\n" if c.get("generated_at") else ""
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-{css_hash}'">
<meta name="referrer" content="no-referrer">
<title>{h(c['title'])}: {h(c['crime_ref'])}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{h(c['title'])}</h1>
<p>Crime {h(c['crime_ref'])}, wearer {h(c['wearer_ref'])}. Algorithm {h(c['algorithm_version'])}.</p>
{generated}<section class="disclaimer" aria-labelledby="disclaimer">
<h2 id="disclaimer">Disclaimer</h2>
{disclaimer}
<p>The tag may not be monitored, or may report wrong positions, when:</p>
<ul>
{inability}
</ul>
</section>
<h2>Summary</h2>
<table>
{_rows(c['summary'])}
</table>
<h3>Score</h3>
<p>{h(c['score_explanation'])}</p>
<h2>Request summary</h2>
<table>
{_rows(c['request'])}
</table>
<h2>Per-person summary</h2>
<table>
{_rows(c['person'])}
</table>
{identity}<h2>EMAC/01 Track</h2>
<figure>
{c['map_svg']}<figcaption>{h(c['map_text'])}</figcaption>
</figure>
<h2>EMAC/02 Detailed map</h2>
<figure>
{c['map_detail_svg']}</figure>
<h2>EMAC/03 Map key</h2>
<ul>
{key_rows}
</ul>
<h2>EMAC/04 Table of positions</h2>
<table>
<thead><tr>{fixes_head}</tr></thead>
<tbody>
{fixes_rows}
</tbody>
</table>
<h2>Algorithm and run</h2>
<table>
{_rows(c['run'])}
</table>
<table>
<thead><tr><th scope="col">Parameter</th><th scope="col">Value</th><th scope="col">Meaning</th></tr></thead>
<tbody>
{params}
</tbody>
</table>
</main>
</body>
</html>
"""


# -------------------------------------------------------------------------------------------- PDF
_A4 = (8.27, 11.69)
_MARGIN = 0.7  # inches
_LINE = 0.19  # inches per text line at 9 pt


class _Pages:
    """Text laid out in lines on A4 figures, a new page when one is full."""

    def __init__(self, plt) -> None:
        self.plt = plt
        self.figs: list = []
        self.y = 0.0
        self.fig = None

    def new(self):
        self.fig = self.plt.figure(figsize=_A4)
        self.figs.append(self.fig)
        self.y = _A4[1] - _MARGIN
        return self.fig

    def need(self, inches: float) -> None:
        if self.fig is None or self.y - inches < _MARGIN + 0.3:
            self.new()

    def text(self, x_in: float, s_: str, *, size: float = 9, weight: str = "normal", dy: float = _LINE,
             color: str = "#111111") -> None:
        self.need(dy)
        self.fig.text(x_in / _A4[0], self.y / _A4[1], s_, fontsize=size, fontweight=weight, color=color,
                      va="top", ha="left")
        self.y -= dy

    def para(self, s_: str, *, indent: float = 0.0, width: int = 108, **kw) -> None:
        for line in textwrap.wrap(s_, width) or [""]:
            self.text(_MARGIN + indent, line, **kw)

    def heading(self, s_: str) -> None:
        self.need(4 * _LINE)
        self.y -= 0.12
        self.text(_MARGIN, s_, size=12, weight="bold", dy=0.28)

    def pairs(self, pairs) -> None:
        for a, b in pairs:
            lines = textwrap.wrap(b, 82) or [""]
            self.need(_LINE * len(lines))
            self.fig.text(_MARGIN / _A4[0], self.y / _A4[1], a, fontsize=9, fontweight="bold", va="top")
            for line in lines:
                self.text(_MARGIN + 2.5, line)


def _draw_map(ax, geo: MapGeometry) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Rectangle

    for layer, coords in geo.lines:
        ward = layer.startswith("ward")
        ax.plot(coords[:, 0], coords[:, 1], color="#6E6E6E" if ward else "#B4B4B4",
                linewidth=0.9 if ward else 0.45, zorder=1)
    for x, y, name in geo.names:
        ax.text(x, y, name, color="#6E6E6E", fontsize=7, style="italic", ha="center", va="center", zorder=1)
    ax.add_patch(Circle((geo.crime_x, geo.crime_y), geo.radius_m, facecolor=CRIME_COLOUR, alpha=0.08,
                        zorder=2))
    ax.add_patch(Circle((geo.crime_x, geo.crime_y), geo.radius_m, fill=False, edgecolor=CRIME_COLOUR,
                        linewidth=1.5, zorder=2))
    for p in geo.points:
        col = COARSE_COLOUR if p.coarse else geo.colour(p.visit)
        ax.add_patch(Circle((p.x, p.y), p.precision_m, facecolor=col, alpha=0.05 if p.interpolated else 0.12,
                            zorder=3))
        ax.add_patch(Circle((p.x, p.y), p.precision_m, fill=False, edgecolor=col, linewidth=0.7,
                            linestyle="--" if p.interpolated else "-", zorder=3))
    prev = None
    for v in geo.visits:
        vp = [p for p in geo.points if p.visit == v]
        if prev is not None:
            ax.plot([prev.x, vp[0].x], [prev.y, vp[0].y], color="#999999", linewidth=0.7, linestyle=":",
                    zorder=4)
        ax.plot([p.x for p in vp], [p.y for p in vp], color=geo.colour(v), linewidth=1.3, zorder=4)
        prev = vp[-1]
    for p in geo.points:
        col = COARSE_COLOUR if p.coarse else geo.colour(p.visit)
        if p.interpolated:
            ax.plot(p.x, p.y, marker="s", markersize=4.5, markerfacecolor="white", markeredgecolor=col,
                    zorder=5)
        else:
            ax.plot(p.x, p.y, marker="o", markersize=4.5, markerfacecolor=col, markeredgecolor="white",
                    markeredgewidth=0.6, zorder=5)
        ax.annotate(p.label, (p.x, p.y), xytext=(4, 3), textcoords="offset points", fontsize=7,
                    fontweight="bold", zorder=6)
    ax.plot(geo.crime_x, geo.crime_y, marker="+", markersize=10, color=CRIME_COLOUR, markeredgewidth=2,
            zorder=6)
    ax.set_xlim(geo.xmin, geo.xmax)
    ax.set_ylim(geo.ymin, geo.ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    width = geo.xmax - geo.xmin
    length = _scale_length(width)
    x0, y0 = geo.xmin + 0.03 * width, geo.ymin + 0.04 * (geo.ymax - geo.ymin)
    ax.add_patch(Rectangle((x0, y0), length, 0.006 * width, color="#111111", zorder=7))
    ax.text(x0 + length / 2, y0 + 0.012 * width, f"{length:g} m", ha="center", va="bottom", fontsize=8,
            zorder=7)
    ax.annotate("N", xy=(0.96, 0.96), xytext=(0.96, 0.86), xycoords="axes fraction", ha="center", va="top",
                fontsize=9, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "#111111"})
    c0 = geo.colour(geo.visits[0]) if geo.visits else PALETTE[0]
    handles = [
        Line2D([], [], marker="o", markersize=9, markerfacecolor=CRIME_COLOUR, markeredgecolor=CRIME_COLOUR,
               alpha=0.5, linestyle="none"),
        Line2D([], [], marker="o", markerfacecolor=c0, markeredgecolor="white", linestyle="none"),
        Line2D([], [], marker="s", markerfacecolor="white", markeredgecolor=c0, linestyle="none"),
        Line2D([], [], marker="o", markerfacecolor=COARSE_COLOUR, markeredgecolor="white", linestyle="none"),
        Line2D([], [], color=c0, linewidth=1.3),
        Line2D([], [], color="#6E6E6E", linewidth=0.9),
    ]
    ax.legend(handles, [t for _, t in key_entries(geo)], loc="upper center", bbox_to_anchor=(0.5, -0.02),
              ncol=1, fontsize=7.5, frameon=False, title="Key (EMAC/03)", title_fontsize=8)


def render_pdf(context: Mapping) -> bytes:
    """The report as PDF bytes: summary pages, the two maps (vector), the table of positions
    (:data:`ROWS_PER_PAGE` rows a page), the disclaimer first, "Page i of N" on every page.

    DejaVu Sans (bundled with matplotlib) is embedded; the output is deterministic (no creation date).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.text import Text

    c = context
    with matplotlib.rc_context({"pdf.fonttype": 3, "font.family": "DejaVu Sans", "svg.hashsalt": "vru",
                                "path.simplify": False}):
        pg = _Pages(plt)
        pg.new()
        pg.text(_MARGIN, c["title"], size=16, weight="bold", dy=0.34)
        pg.para(f"Crime {c['crime_ref']}, wearer {c['wearer_ref']}. Algorithm {c['algorithm_version']}."
                + (f" Report produced {c['generated_at']}." if c.get("generated_at") else ""))
        pg.heading("Disclaimer")
        for p in c["disclaimer"]:
            pg.para(p)
            pg.y -= 0.06
        pg.para("The tag may not be monitored, or may report wrong positions, when:")
        for p in c["inability_to_monitor"]:
            lines = textwrap.wrap(p, 104)
            for i, line in enumerate(lines):
                pg.text(_MARGIN + 0.15, ("- " if i == 0 else "  ") + line)
        pg.heading("Summary")
        pg.pairs(c["summary"])
        pg.heading("Score")
        pg.para(c["score_explanation"])
        pg.heading("Request summary")
        pg.pairs(c["request"])
        pg.heading("Per-person summary")
        pg.pairs(c["person"])
        if c["identity_included"]:
            pg.heading("Identifying details")
            pg.pairs(c["identity"])
        pg.heading("Algorithm and run")
        pg.pairs(c["run"])
        pg.y -= 0.08
        for name, value, meaning in c["parameters"]:
            pg.text(_MARGIN, f"{name} = {value}   ({meaning})")

        for title, key in (("EMAC/01 Track", "overview"), ("EMAC/02 Detailed map", "detail")):
            fig = pg.new()
            fig.text(_MARGIN / _A4[0], 1 - _MARGIN / _A4[1], title, fontsize=12, fontweight="bold", va="top")
            ax = fig.add_axes((_MARGIN / _A4[0], 0.36, 1 - 2 * _MARGIN / _A4[0], 0.55))
            _draw_map(ax, c["geometry"][key])
        fig = pg.figs[-1]
        for i, line in enumerate(textwrap.wrap(c["map_text"], 135)[:12]):
            fig.text(_MARGIN / _A4[0], (2.6 - i * 0.14) / _A4[1], line, fontsize=7, va="top")

        cols = c["fix_columns"]
        xs = (0.0, 0.55, 1.75, 2.4, 3.1, 3.8, 4.5, 5.05, 5.65, 6.7)
        rows = c["fixes"]
        for start in range(0, max(len(rows), 1), ROWS_PER_PAGE):
            fig = pg.new()
            fig.text(_MARGIN / _A4[0], 1 - _MARGIN / _A4[1], "EMAC/04 Table of positions", fontsize=12,
                     fontweight="bold", va="top")
            y = _A4[1] - _MARGIN - 0.45
            for x, (_, label) in zip(xs, cols, strict=True):
                words = textwrap.wrap(label, 10)
                for j, w in enumerate(words):
                    fig.text((_MARGIN + x) / _A4[0], (y - j * 0.13) / _A4[1], w, fontsize=7,
                             fontweight="bold", va="top")
            y -= 0.45
            for f in rows[start:start + ROWS_PER_PAGE]:
                for x, (key, _) in zip(xs, cols, strict=True):
                    fig.text((_MARGIN + x) / _A4[0], y / _A4[1], str(f[key]), fontsize=7, va="top")
                y -= 0.2
        n = len(pg.figs)
        buf = io.BytesIO()
        meta = {"Title": f"{c['title']}: {c['crime_ref']}", "Creator": "vru.tagging.report",
                "Producer": "matplotlib", "CreationDate": None, "ModDate": None}
        with PdfPages(buf, metadata=meta) as pdf:
            for i, fig in enumerate(pg.figs, start=1):
                fig.text(0.5, 0.4 / _A4[1], f"Page {i} of {n}", fontsize=8, ha="center")
                fig.text(1 - _MARGIN / _A4[0], 0.4 / _A4[1], f"Crime {c['crime_ref']}", fontsize=8,
                         ha="right")
                # no ligatures: the text must read, search and copy letter for letter ("fi", not one glyph)
                for artist in fig.findobj(Text):
                    artist.set_fontfeatures(["-liga", "-clig"])
                pdf.savefig(fig)
                plt.close(fig)
    return buf.getvalue()
