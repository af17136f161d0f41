"""The web apps' small maps (vru.web.core.maps): the venue map's frame converts between latitude and
longitude and pixels both ways, keeps true proportions across a borough, and the public borough map
and the opportunity page's venue map are served from the bundled boundaries."""

from __future__ import annotations

import math
import re

import pytest
from django.test import Client
from django.urls import reverse
from test_opportunities_support import BRIXTON, LAMBETH, offset, opportunity

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
    xs = [float(v) for v in re.findall(r"(-?\d+\.\d),", path)]
    assert min(xs) >= 0 and max(xs) <= frame.width


def test_a_kilometre_is_as_long_east_as_north_on_the_map():
    """The local equirectangular frame keeps proportions across a borough (under 0.2% here)."""
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


@pytest.mark.django_db
def test_borough_map_is_public_cached_and_refuses_unknown_codes():
    r = Client().get(reverse("opportunities:borough_map", args=[LAMBETH]))
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    assert "max-age=86400" in r["Cache-Control"] and "public" in r["Cache-Control"]
    assert r.content.decode().startswith("<svg") and "<circle" not in r.content.decode()
    assert Client().get(reverse("opportunities:borough_map", args=["E09999999"])).status_code == 404


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
    # only live opportunities have a map, as only they have a page
    assert Client().get(reverse("opportunities:venue_map", args=[hidden.pk])).status_code == 404
