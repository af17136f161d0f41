"""The evidential report of a qualified match (vru.tagging.report): SVG map, context, HTML and PDF."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zlib

import pandas as pd
import pytest

from vru.tagging import report as R
from vru.tagging import schema as S
from vru.tagging.matching import Params, match

SVG = "{http://www.w3.org/2000/svg}"
T0 = pd.Timestamp("2024-06-01 13:00:00", tz="UTC")


def _points(cx: float, cy: float, *, visit="A", n=3, interpolated=(), mechanisms=None) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            S.CRIME_VERSION_ID: "cv1", S.WEARER_REF: "W-001", S.DEVICE_ID: "D1",
            S.VISIT: visit, S.SEQ: i + 1, S.FIX_TIME: T0 + pd.Timedelta(minutes=i),
            S.EASTING: cx + 20.0 * i, S.NORTHING: cy - 10.0 * i, S.PRECISION_M: 5.0 + 3 * i,
            S.SPEED_KMH: 4.5 if i != 1 else None, S.HEADING_DEG: 120.0, S.MECHANISM:
            (mechanisms or ["GPS"] * n)[i], S.DISTANCE_M: math.hypot(20.0 * i, 10.0 * i),
            S.INTERPOLATED: i in interpolated})
    return pd.DataFrame(rows)


def _crime(cx: float, cy: float, ref="CR-2024/0001") -> dict:
    return {S.CRIME_VERSION_ID: "cv1", S.CRIME_REF: ref, S.FORCE: "CoLP", S.CRIME_TYPE: "TFP",
            "crime_type_description": "Theft from the person", "batch_id": "CoLP20240601",
            S.TIME_FROM: T0 - pd.Timedelta(minutes=30), S.TIME_TO: T0 + pd.Timedelta(minutes=30),
            S.EASTING: cx, S.NORTHING: cy, "crime_text": "Phone snatched by a cyclist"}


SUMMARY = {S.CRIME_VERSION_ID: "cv1", S.WEARER_REF: "W-001", "p_within": 0.99, "dwell_s": 120.0,
           "min_distance_m": 0.0, "explanation": "within 100 m with probability 0.99 (best point A1)"}
RUN = {"run_id": "run-1", "algorithm_version": "vru-match-1.0", "parameters": {"radius_m": 100.0,
       "tolerance_s": 300.0}, "trigger": "AUTO", "backend": "duckdb", "started": T0, "ended": T0,
       "status": "SUCCESS"}


def _context(points, crime, **kw):
    return R.report_context(points, SUMMARY, crime, RUN, {"wearer_ref": "W-001", "order_type": "knife crime",
                                                          "name": "Jane Example"},
                            "analyst.one", T0 + pd.Timedelta(days=1), "positions close to the scene", **kw)


def _pdf_text(pdf: bytes) -> str:
    """The text of a matplotlib PDF (Type 3 fonts): the string literals of each text object, joined."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for block in re.findall(rb"BT(.*?)ET", data, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", block, re.S)
            raw = b"".join(parts)
            raw = re.sub(rb"\\([0-7]{1,3})", lambda g: bytes([int(g.group(1), 8)]), raw)
            raw = re.sub(rb"\\(.)", rb"\1", raw)
            out.append(raw.decode("latin-1"))
    return re.sub(r"\s+", " ", " ".join(out))


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


# ------------------------------------------------------------------------------------------- SVG
def test_svg_hand_computed_positions():
    # crime (530000, 180000), R 100; one GPS fix 50 m east, precision 10; margin 250 m:
    # extent x 529650..530350, y 179650..180350 (700 x 700 m), widened to 4:3 -> x 529533.33..530466.67,
    # k = 800 / 933.33 = 0.857143 px/m; the crime at (400, 300) with r = 85.71; the fix at (442.86, 300)
    pts = pd.DataFrame([{S.VISIT: "A", S.SEQ: 1, S.FIX_TIME: T0, S.EASTING: 530050.0, S.NORTHING: 180000.0,
                         S.PRECISION_M: 10.0, S.MECHANISM: "GPS", S.DISTANCE_M: 50.0, S.INTERPOLATED: False}])
    svg = R.render_svg_map(pts, _crime(530000.0, 180000.0), radius_m=100, width=800, height=600,
                           margin_m=250, id_prefix="m")
    root = ET.fromstring(svg)
    crime = root.find(f".//{SVG}circle[@id='m-crime-radius']")
    assert (crime.get("cx"), crime.get("cy"), crime.get("r")) == ("400.00", "300.00", "85.71")
    conf = root.findall(f".//{SVG}g[@id='m-confidence']/{SVG}circle")
    assert [(c.get("cx"), c.get("cy"), c.get("r")) for c in conf] == [("442.86", "300.00", "8.57")]
    assert root.find(f".//{SVG}g[@id='m-scale']/{SVG}text").text == "200 m"  # <= 933 m / 4
    assert root.find(f".//{SVG}g[@id='m-north']/{SVG}text").text == "N"
    assert root.find(f"{SVG}title").text and "530000" in root.find(f"{SVG}desc").text


def test_svg_one_circle_per_fix_radius_is_precision_and_labels():
    pts = _points(533000.0, 181400.0, n=4, interpolated=(2,), mechanisms=["GPS", "WIFI", "GPS", "LBS"])
    geo = R.map_geometry(pts, _crime(533000.0, 181400.0), aspect=800 / 600)
    k = 800 / (geo.xmax - geo.xmin)
    root = ET.fromstring(R.render_svg_map(pts, _crime(533000.0, 181400.0), geometry=geo, id_prefix="x"))
    conf = root.findall(f".//{SVG}g[@id='x-confidence']/{SVG}circle")
    assert [c.get("r") for c in conf] == [f"{p * k:.2f}" for p in pts[S.PRECISION_M]]
    assert [c.get("stroke-dasharray") for c in conf] == [None, None, "4 3", None]  # interpolated: dashed
    assert conf[3].get("fill") == R.COARSE_COLOUR  # LBS drawn grey
    assert [t.text for t in root.findall(f".//{SVG}g[@id='x-labels']/{SVG}text")] == ["A1", "A2", "A3", "A4"]
    dots = root.find(f".//{SVG}g[@id='x-points']")
    assert [e.tag for e in dots] == [f"{SVG}circle", f"{SVG}circle", f"{SVG}rect", f"{SVG}circle"]
    track = root.find(f".//{SVG}g[@id='x-track']/{SVG}polyline").get("points").split()
    assert len(track) == 4


def test_svg_escapes_labels_and_has_no_style_or_external_reference():
    pts = _points(533000.0, 181400.0, visit="<script>alert(1)</script>", n=2)
    svg = R.render_svg_map(pts, _crime(533000.0, 181400.0, ref='"><script>x</script>'))
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;1" in svg
    root = ET.fromstring(svg)  # still well-formed XML
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text and "script" in t.text]
    assert "<script>alert(1)</script>1" in labels
    assert not any(e.get("style") is not None for e in root.iter())
    assert root.find(f".//{SVG}style") is None
    # the SVG namespace name is an identifier, never fetched; nothing else names a URL
    assert not re.search(r"https?:|xlink|href|@import|<image", svg.replace(f'xmlns="{SVG[1:-1]}"', ""))
    # the only url() is the local clip path
    assert set(re.findall(r"url\(([^)]*)\)", svg)) == {"#map-clip"}


def test_svg_is_deterministic():
    pts, crime = _points(533000.0, 181400.0), _crime(533000.0, 181400.0)
    assert R.render_svg_map(pts, crime) == R.render_svg_map(pts.sample(frac=1, random_state=1), crime)


def test_city_of_london_and_borough_edge():
    from vru.sources.boundaries import read_bundled

    city = _crime(532500.0, 181300.0)
    geo = R.map_geometry(_points(532500.0, 181300.0), city, margin_m=600)
    assert geo.lines and "City of London" in [n for _, _, n in geo.names]
    # a point on the boundary between the City of London and its neighbour
    boroughs = read_bundled("lad2022")
    x, y = boroughs.loc[boroughs["code"] == "E09000001", "geometry"].iloc[0].exterior.coords[0]
    geo = R.map_geometry(_points(x, y), _crime(x, y), margin_m=600)
    assert len({n for _, _, n in geo.names}) >= 2
    # the edge of London: part of the map has no bundled boundary, still drawn
    region = boroughs.loc[boroughs["level"] == "region", "geometry"].iloc[0]
    edge = region.geoms[0] if hasattr(region, "geoms") else region
    x, y = edge.exterior.coords[0]
    ctx = _context(_points(x, y), _crime(x, y))
    assert ET.fromstring(ctx["map_svg"]) is not None and R.render_pdf(ctx).startswith(b"%PDF")


def test_scene_outside_the_bundled_boundaries_has_none():
    geo = R.map_geometry(_points(350000.0, 400000.0), _crime(350000.0, 400000.0))  # Manchester
    assert geo.lines == () and geo.names == ()
    ET.fromstring(R.render_svg_map(_points(350000.0, 400000.0), _crime(350000.0, 400000.0)))


def test_missing_columns_and_bad_values_are_named():
    pts = _points(533000.0, 181400.0).drop(columns=[S.PRECISION_M])
    with pytest.raises(ValueError, match="precision_m"):
        R.render_svg_map(pts, _crime(533000.0, 181400.0))
    pts = _points(533000.0, 181400.0)
    pts.loc[1, S.EASTING] = float("nan")
    with pytest.raises(ValueError, match="row 2: column easting"):
        R.map_geometry(pts, _crime(533000.0, 181400.0))
    with pytest.raises(ValueError, match="no location"):
        R.crime_point({S.CRIME_REF: "x"})


# --------------------------------------------------------------------------------------- context
def test_context_pseudonymous_unless_identity_given():
    pts = _points(533000.0, 181400.0)
    ctx = _context(pts, _crime(533000.0, 181400.0))
    assert ("Wearer reference (pseudonymous)", "W-001") in ctx["person"]
    assert "Jane Example" not in repr({k: v for k, v in ctx.items() if k != "geometry"})
    assert not ctx["identity_included"] and "Jane Example" not in R.render_html(ctx)
    ctx = _context(pts, _crime(533000.0, 181400.0), identity={"name": "Jane Example", "pnc_id": "12/345X"})
    assert ctx["identity"] == [("Name", "Jane Example"), ("PNC ID", "12/345X")]
    assert "Jane Example" in R.render_html(ctx)


def test_context_fixes_table_in_wgs84():
    # BNG (533000, 181400) is 51.5158 N, 0.0847 W (pyproj; the Bank of England is at 51.514, -0.088)
    ctx = _context(_points(533000.0, 181400.0), _crime(533000.0, 181400.0))
    f = ctx["fixes"]
    assert [r["label"] for r in f] == ["A1", "A2", "A3"]
    assert abs(float(f[0]["lat"]) - 51.5158) < 2e-4 and abs(float(f[0]["lon"]) + 0.0847) < 2e-4
    assert f[0]["time_utc"] == "01/06/2024 13:00:00" and f[0]["time_local"] == "14:00:00"  # BST
    assert (f[1]["precision"], f[1]["speed"], f[1]["heading"]) == ("8", "n/a", "120")
    assert ("Location (lat, long WGS84)", f"{f[0]['lat']}, {f[0]['lon']}") in ctx["request"]
    assert ctx["algorithm_version"] == "vru-match-1.0"
    assert ("radius_m", "100", R.PARAMETER_MEANINGS["radius_m"]) in ctx["parameters"]
    assert ctx["disclaimer"][0].startswith("This data does not confirm that the tag wearer perpetrated "
                                           "or witnessed a crime")
    assert any("battery" in x for x in ctx["inability_to_monitor"])


def test_context_keeps_only_the_matched_crime_and_wearer():
    pts = pd.concat([_points(533000.0, 181400.0), _points(533000.0, 181400.0).assign(wearer_ref="W-002")])
    assert len(_context(pts, _crime(533000.0, 181400.0))["fixes"]) == 3
    with pytest.raises(ValueError, match="no match points"):
        _context(pts.assign(wearer_ref="W-009"), _crime(533000.0, 181400.0))


def test_context_from_a_real_match():
    # a wearer walks east past the crime with fixes 5 minutes apart: the interpolated point is reported
    t = [T0 + pd.Timedelta(minutes=5 * i) for i in range(3)]
    pos = pd.DataFrame({S.DEVICE_ID: "D1", S.FIX_TIME: t, S.EASTING: [532700.0, 533000.0 + 300, 533600.0],
                        S.NORTHING: 181400.0, S.PRECISION_M: 10.0, S.SPEED_KMH: 3.6, S.HEADING_DEG: 90.0,
                        S.MECHANISM: "GPS"})
    act = pd.DataFrame({S.DEVICE_ID: ["D1"], S.WEARER_REF: ["W-001"],
                        S.ACTIVE_FROM: [T0 - pd.Timedelta(days=1)],
                        S.ACTIVE_TO: pd.Series([pd.NaT], dtype="datetime64[us, UTC]")})
    crime = _crime(533150.0, 181400.0)
    r = match(pos, act, pd.DataFrame([crime]), Params())
    assert len(r.summary) == 1
    ctx = R.report_context(r.points, r.summary.iloc[0].to_dict(), crime, r.run, {"wearer_ref": "W-001"},
                           "analyst", T0, "reason")
    assert ctx["fixes"] and ctx["score_explanation"] == r.summary.iloc[0]["explanation"]
    assert ctx["algorithm_version"] == r.run["algorithm_version"]


# ------------------------------------------------------------------------------------------ HTML
def test_html_has_disclaimer_every_row_and_nothing_external():
    pts = _points(533000.0, 181400.0, n=5, visit="<b>")
    doc = R.render_html(_context(pts, _crime(533000.0, 181400.0, ref="<i>REF</i>")))
    assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert "This data does not confirm that the tag wearer perpetrated or witnessed a crime" in doc
    for i in range(1, 6):
        assert f"<td>&lt;b&gt;{i}</td>" in doc
    assert "<i>REF" not in doc and "&lt;i&gt;REF&lt;/i&gt;" in doc
    assert "<script" not in doc and " style=" not in doc
    assert not re.search(r"<link|https?:|src=|@import|href", doc.replace(f'xmlns="{SVG[1:-1]}"', ""))
    assert "default-src 'none'" in doc
    # the <style> block is allowed by its hash, nothing else
    import base64
    import hashlib

    css = re.search(r"<style>(.*?)</style>", doc, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in doc
    assert doc.count('id="emac01-title"') == 1 and doc.count('id="emac02-title"') == 1


# ------------------------------------------------------------------------------------------- PDF
@pytest.mark.slow
def test_pdf_pages_text_and_determinism():
    crime = _crime(533000.0, 181400.0, ref="CR-2024/0001")
    ctx = _context(_points(533000.0, 181400.0), crime)
    pdf = R.render_pdf(ctx)
    assert pdf.startswith(b"%PDF")
    n = _pages(pdf)
    # text pages, the two maps, one page of table
    text = _pdf_text(pdf)
    assert f"Page 1 of {n}" in text and f"Page {n} of {n}" in text and f"Page {n + 1} of" not in text
    assert "CR-2024/0001" in text
    assert "This data does not confirm that the tag wearer perpetrated or witnessed a crime" in text
    assert "EMAC/01 Track" in text and "EMAC/04 Table of positions" in text
    assert "51.515" in text  # a latitude from the table
    assert b"/FontFile" in pdf or b"/Type3" in pdf.replace(b" ", b"")  # fonts embedded
    assert b"CreationDate" not in pdf
    assert R.render_pdf(ctx) == pdf  # same input, same bytes


@pytest.mark.slow
def test_pdf_table_pages_grow_with_rows():
    crime = _crime(533000.0, 181400.0)
    small = _pages(R.render_pdf(_context(_points(533000.0, 181400.0, n=3), crime)))
    n = R.ROWS_PER_PAGE + 1
    big_ctx = _context(_points(533000.0, 181400.0, n=n), crime)
    big = R.render_pdf(big_ctx)
    assert _pages(big) == small + 1  # two table pages instead of one
    text = _pdf_text(big)
    assert all(f"A{i}" in text for i in (1, R.ROWS_PER_PAGE + 1, n))


# ------------------------------------------------------------------------------------- drawing map
def _drawing_paths(svg: str) -> list[list[tuple[int, int]]]:
    """The absolute grid points of each boundary path of a drawing map (``M x y l dx dy ...``)."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for p in root.iter(f"{ns}path"):
        m = re.fullmatch(r"M(-?\d+) (-?\d+)l(.*)", p.get("d"))
        assert m, p.get("d")[:80]
        x, y = int(m.group(1)), int(m.group(2))
        nums = [int(v) for v in m.group(3).split()]
        assert nums and len(nums) % 2 == 0
        pts = [(x, -y)]
        for dx, dy in zip(nums[::2], nums[1::2], strict=True):
            x, y = x + dx, y + dy
            pts.append((x, -y))
        out.append(pts)
    return out


def test_the_drawing_map_is_in_grid_metres_from_the_bundled_boundaries():
    import shapely

    from vru.sources.boundaries import read_bundled

    box = (530_000.0, 178_000.0, 534_000.0, 181_000.0)  # Southwark / Lambeth / the City
    svg = R.drawing_svg(box, simplify_m=5.0)
    assert svg == R.drawing_svg(box, simplify_m=5.0)  # deterministic
    root = ET.fromstring(svg)
    assert root.get("viewBox") == "530000.00 -181000.00 4000.00 3000.00"  # y = -northing
    assert root.get("data-extent") == "530000.00 178000.00 534000.00 181000.00"
    # CSP: presentation attributes only, nothing fetched
    assert " style=" not in svg and "<style" not in svg and "href" not in svg
    paths = _drawing_paths(svg)
    assert len(paths) > 10
    lines = shapely.union_all([shapely.union_all(shapely.boundary(read_bundled(layer).geometry.values))
                               for layer in R.DRAW_LAYERS])
    for pts in paths:
        for x, y in pts:
            assert 529_999 <= x <= 534_001 and 177_999 <= y <= 181_001
        # each vertex on a ward or borough boundary: the simplification (5 m) plus rounding (under 1 m)
        worst = max(lines.distance(shapely.Point(x, y)) for x, y in pts[:: max(1, len(pts) // 20)])
        assert worst <= 6.0
    names = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Southwark" in names and "Lambeth" in names
    assert root.find(".//{http://www.w3.org/2000/svg}g[@id='zone-draw-drawn']") is not None


def test_the_drawing_map_refuses_an_empty_box():
    with pytest.raises(ValueError, match="xmin < xmax"):
        R.drawing_svg((530_000.0, 178_000.0, 530_000.0, 181_000.0))
