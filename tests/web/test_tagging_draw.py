"""The zone form's drawing map without a browser (the clicks are tests/web/test_tagging_draw_browser.py):
the page carries the offline map (bundled boundaries in grid metres, hidden until the script shows it)
and the script as a static module; a polygon the script writes (British National Grid) is checked and
stored by the same form path as pasted GeoJSON, and refused the same way."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from test_tagging_util import client, make_world

from vru.web.tagging.models import Zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def test_the_zone_form_carries_the_offline_drawing_map_and_its_script(world):
    r = client(world.om).get(reverse("tagging:zone_create", args=[world.wearers[0].pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert re.search(r'<div class="tagging-draw" id="zone-draw" hidden>', body)  # shown by the script only
    assert '<script type="module" src="/static/tagging/zone-draw.mjs"></script>' in body
    svg = re.search(r'<svg [^>]*id="zone-draw-map".*?</svg>', body, re.S).group(0)
    assert 'data-extent="' in svg and ' style=' not in svg and "http" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    vb = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert 500_000 < vb[0] < 510_000 and -205_000 < vb[1] < -200_000  # London in grid metres, y = -northing
    assert svg.count("<path") > 500  # wards and boroughs
    for field in ('id="id_geojson"', 'id="id_crs"'):
        assert field in body  # the fields the script writes


def test_a_drawn_polygon_is_stored_in_grid_metres_like_pasted_geojson(world):
    ring = [[531950, 178901], [532350, 178953], [532298, 178602], [531897, 178551], [531950, 178901]]
    url = reverse("tagging:zone_create", args=[world.wearers[0].pk])
    r = client(world.om).post(url, {"kind": "exclusion", "name": "Drawn", "crs": "BNG",
                                    "geojson": json.dumps({"type": "Polygon", "coordinates": [ring]})})
    assert r.status_code == 302
    stored = Zone.objects.get(name="Drawn").geometry["coordinates"][0]
    assert sorted(map(tuple, stored[:-1])) == sorted(tuple(map(float, p)) for p in ring[:-1])


def test_a_drawn_polygon_that_crosses_itself_is_refused_next_to_the_field(world):
    bow = [[531000, 179000], [531200, 179200], [531200, 179000], [531000, 179200], [531000, 179000]]
    url = reverse("tagging:zone_create", args=[world.wearers[0].pk])
    r = client(world.om).post(url, {"kind": "exclusion", "name": "Bow", "crs": "BNG",
                                    "geojson": json.dumps({"type": "Polygon", "coordinates": [bow]})})
    assert r.status_code == 200 and not Zone.objects.exists()
    assert "govuk-error-message" in r.content.decode()
