"""Drawing a zone on the offline map, in a real browser (headless Chromium, Playwright): an offender
manager zooms in, clicks the corners of a zone, undoes one, saves, and the stored zone has exactly those
British National Grid vertices (within a metre); nothing leaves the machine, no CSP error, axe passes.
Without JavaScript the map is hidden and the GeoJSON field works."""

from __future__ import annotations

import json

import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from test_tagging_util import PASSWORD, make_world

from vru.web.accounts.models import AuditLog
from vru.web.tagging.models import Zone

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: the corners to draw (easting, northing): a block near Elephant and Castle
CORNERS = [(531_950, 178_900), (532_350, 178_950), (532_300, 178_600), (531_900, 178_550)]


def _screen(page, e: float, n: float) -> tuple[float, float]:
    """Where the grid point (e, n) is on the screen: the SVG's own matrix, as the page's script reads
    a click the other way."""
    return tuple(page.evaluate(
        """([e, n]) => { const svg = document.getElementById('zone-draw-map');
             const p = new DOMPoint(e, -n).matrixTransform(svg.getScreenCTM());
             return [p.x, p.y]; }""", [e, n]))


def _grid_of(page, x: float, y: float) -> tuple[float, float]:
    return tuple(page.evaluate(
        """([x, y]) => { const svg = document.getElementById('zone-draw-map');
             const p = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM().inverse());
             return [p.x, -p.y]; }""", [x, y]))


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_zone_drawn_by_clicks_is_stored_with_those_grid_vertices(browser, live_server, settings, tmp_path,
                                                                    width):
    w = make_world(settings, tmp_path, store=False)
    wearer = w.wearers[0]
    page = open_page(browser, live_server.url, DESKTOP if width == "desktop" else PHONE)
    login(page, live_server.url, w.om.email, PASSWORD)
    page.goto(live_server.url + f"/tagging/wearers/{wearer.pk}/zones/new/")
    assert page.locator("#zone-draw").is_visible()
    assert_accessible(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the zone form scrolls sideways by {overflow} px"
    # zoom in four times (one sixteenth of London's width) around the corners: centre them first
    for _ in range(4):
        page.get_by_role("button", name="Zoom in").click()
    vb = [float(v) for v in page.locator("#zone-draw-map").get_attribute("viewBox").split()]
    assert vb[2] < 5_000  # zoomed
    # pan until the corners are on the map (the buttons move a third of the view)
    for _ in range(40):
        vb = [float(v) for v in page.locator("#zone-draw-map").get_attribute("viewBox").split()]
        cx, cy = vb[0] + vb[2] / 2, -(vb[1] + vb[3] / 2)
        if abs(cx - 532_150) < vb[2] / 3 and abs(cy - 178_750) < vb[3] / 3:
            break
        if abs(cx - 532_150) >= vb[2] / 3:
            page.get_by_role("button", name="East" if cx < 532_150 else "West").click()
        else:
            page.get_by_role("button", name="North" if cy < 178_750 else "South").click()
    page.locator("#zone-draw-map").scroll_into_view_if_needed()
    clicked = []
    for e, n in [*CORNERS, (532_600, 179_200)]:  # the last one is a mistake, undone below
        x, y = (round(v) for v in _screen(page, e, n))  # a mouse event lands on a whole pixel
        page.mouse.click(x, y)
        clicked.append(_grid_of(page, x, y))  # the grid point under the pixel actually clicked
    page.get_by_role("button", name="Undo").click()
    clicked.pop()
    assert "4 corners" in page.locator("#zone-draw-status").inner_text()
    text = page.locator("#id_geojson").input_value()
    drawn = json.loads(text)["coordinates"][0]
    assert page.locator("#id_crs").input_value() == "BNG" and len(drawn) == 5 and drawn[0] == drawn[-1]
    page.get_by_label("Name").fill("Victim's street (drawn)")
    page.locator("#id_kind").select_option("exclusion")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save").click()
    z = Zone.objects.get(name="Victim's street (drawn)")
    stored = z.geometry["coordinates"][0]
    assert len(stored) == 5
    ring = stored[:-1]
    # the stored ring is the clicked one (a polygon may be stored from any corner, either way round)
    for ce, cn in clicked:
        assert min(abs(se - ce) + abs(sn - cn) for se, sn in ring) <= 1.0, (ce, cn, ring)
    for (ce, cn), (e, n) in zip(clicked, CORNERS, strict=True):
        assert abs(ce - e) < 30 and abs(cn - n) < 30  # and the clicks landed where aimed (a pixel or two)
    assert AuditLog.objects.filter(action="add zone", user=w.om).count() == 1
    screenshot(page, f"tagging-zone-drawn-{width}")
    page.watch.assert_clean()


def test_without_javascript_the_map_is_hidden_and_the_geojson_field_works(browser, live_server, settings,
                                                                          tmp_path):
    w = make_world(settings, tmp_path, store=False)
    wearer = w.wearers[0]
    page = open_page(browser, live_server.url, DESKTOP, javascript=False)
    login(page, live_server.url, w.om.email, PASSWORD)
    page.goto(live_server.url + f"/tagging/wearers/{wearer.pk}/zones/new/")
    assert not page.locator("#zone-draw").is_visible()
    page.get_by_label("Name").fill("Typed zone")
    page.locator("#id_kind").select_option("exclusion")
    page.locator("#id_crs").select_option("BNG")
    ring = [[531_000, 179_000], [531_200, 179_000], [531_200, 179_200], [531_000, 179_000]]
    page.locator("#id_geojson").fill(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save").click()
    assert Zone.objects.get(name="Typed zone").geometry["type"] == "Polygon"
    page.watch.assert_clean()
