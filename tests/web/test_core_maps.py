"""The web apps' small maps (vru.web.core.maps): the venue map's frame converts between latitude and
longitude and pixels both ways, keeps true proportions across a borough, and the public borough map
and the opportunity page's venue map are served from the bundled boundaries."""

from __future__ import annotations

import math
import re

import pytest
from django.test import Client
from django.urls import reverse
from factories import BRIXTON, LAMBETH, offset, opportunity

from vru.geography.boroughs import BOROUGHS
from vru.web.core import maps
from vru.web.opportunities import geo


@pytest.mark.parametrize("code", sorted(BOROUGHS))
def test_frame_round_trips_and_holds_the_borough(code):
    frame, path = maps.borough_frame(code)
    lat, lon = geo.borough_centre(code)
    x, y = frame.to_px(lat, lon)
    assert 0 < x < frame.width and 0 < y < frame.height
    back = frame.to_latlon(x, y)
    assert back == pytest.approx((lat, lon), abs=1e-9)
    # every vertex of the outline lies inside the drawing
    pts = [(float(a), float(b)) for a, b in re.findall(r"(-?\d+\.\d),(-?\d+\.\d)", path)]
    assert len(pts) > 50
    assert all(0 <= x <= frame.width and 0 <= y <= frame.height for x, y in pts)


def test_a_kilometre_is_as_long_east_as_north_on_the_map():
    """The local equirectangular frame keeps proportions near a borough's centre (under 0.2% here)."""
    frame, _ = maps.borough_frame(LAMBETH)
    east, north = offset(*BRIXTON, east_km=1.0), offset(*BRIXTON, north_km=1.0)
    x0, y0 = frame.to_px(*BRIXTON)
    dx = math.dist((x0, y0), frame.to_px(*east))
    dy = math.dist((x0, y0), frame.to_px(*north))
    assert dx == pytest.approx(dy, rel=2e-3)
    # and a pixel back is a point at the right distance
    lat, lon = frame.to_latlon(x0 + dx, y0)
    assert geo.haversine_km(*BRIXTON, lat, lon) == pytest.approx(1.0, rel=2e-3)


def test_venue_svg_marks_the_point_where_the_frame_puts_it():
    frame, _ = maps.borough_frame(LAMBETH)
    svg = maps.venue_svg(LAMBETH, "Map of Lambeth with the venue marked", BRIXTON)
    x, y = frame.to_px(*BRIXTON)
    assert f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9"' in svg
    assert "<title>Map of Lambeth with the venue marked</title>" in svg
    assert "style=" not in svg  # the CSP forbids style attributes
    with pytest.raises(KeyError):
        maps.venue_svg("E09999999", "nowhere")
    assert maps.borough_frame("E12000007") is None  # London as a region is not a borough


@pytest.mark.django_db
def test_borough_map_is_public_cached_and_refuses_unknown_codes():
    r = Client().get(reverse("opportunities:borough_map", args=[LAMBETH]))
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    assert "max-age=86400" in r["Cache-Control"] and "public" in r["Cache-Control"]
    assert r.content.decode().startswith("<svg") and "<circle" not in r.content.decode()
    for code in ("E09999999", "E12000007", "x" * 200):
        assert Client().get(reverse("opportunities:borough_map", args=[code])).status_code == 404


@pytest.mark.django_db
def test_the_opportunity_page_shows_the_venue_on_its_borough_map():
    opp = opportunity(title="Football session")
    hidden = opportunity(title="Not approved", status="pending")
    html = Client().get(reverse("opportunities:detail", args=[opp.pk])).content.decode()
    url = reverse("opportunities:venue_map", args=[opp.pk])
    assert f'src="{url}"' in html and 'alt="Map of Lambeth with the venue marked"' in html
    svg = Client().get(url)
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    frame, _ = maps.borough_frame(LAMBETH)
    x, y = frame.to_px(opp.latitude, opp.longitude)
    assert f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9"' in svg.content.decode()
    assert "Coldharbour" in svg.content.decode()  # a Lambeth ward's name, for orientation
    # only live opportunities have a map, as only they have a page; a cached copy is revalidated each
    # time (304 while unchanged), so taking an item down removes its map at once
    assert Client().get(reverse("opportunities:venue_map", args=[hidden.pk])).status_code == 404
    assert "no-cache" in svg["Cache-Control"]
    assert Client().get(url, headers={"If-None-Match": svg["ETag"]}).status_code == 304
    opp.status = "archived"
    opp.save()
    assert Client().get(url, headers={"If-None-Match": svg["ETag"]}).status_code == 404


def test_scale_error_across_every_borough_is_under_half_a_percent_on_the_ellipsoid():
    """Against WGS84 geodesics (pyproj.Geod), not the project's own spherical formulas: a 1 km step
    east and north, at each corner of every borough's frame, is drawn with the same length to 0.5%."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    worst = 0.0
    for code in sorted(BOROUGHS):
        frame, _ = maps.borough_frame(code)
        for x, y in ((0, 0), (frame.width, 0), (0, frame.height), (frame.width, frame.height)):
            lat, lon = frame.to_latlon(x, y)
            lon_e, lat_e, _ = geod.fwd(lon, lat, 90, 1000)
            lon_n, lat_n, _ = geod.fwd(lon, lat, 0, 1000)
            east = math.dist(frame.to_px(lat, lon), frame.to_px(lat_e, lon_e))
            north = math.dist(frame.to_px(lat, lon), frame.to_px(lat_n, lon_n))
            worst = max(worst, abs(east / north - 1))
    assert worst < 0.005
