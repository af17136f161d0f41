"""The tagging pages in headless Chromium: offender managers, the reviewer and the police analyst, the
figures, and drawing a zone by clicks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from factories import PASSWORD, user
from tagging_util import START, ingest, make_world, planted

from vru.web.accounts.models import AuditLog
from vru.web.tagging import demo, services
from vru.web.tagging.models import Match, Zone

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _go(page, locator):
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def _nav_to_tagging(page) -> None:
    """Follow "GPS tagging" in the service navigation (on a phone, behind the Menu button)."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    _go(page, page.locator("#navigation").get_by_role("link", name="GPS tagging"))


def _check(page, path_or_none, name, width):
    assert page.locator("h1").count() == 1, page.url
    assert_accessible(page)
    if width == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{page.url} scrolls sideways by {overflow} px on a phone"
    screenshot(page, f"tagging-{name}-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_an_offender_manager_sees_only_their_own_wearers(browser, live_server, settings, tmp_path, width):
    w = make_world(settings, tmp_path, password=PASSWORD)
    Zone.objects.create(wearer=w.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(w.sim, w.wearers[0].ref))
    breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    page = open_page(browser, live_server.url, PHONE if width == "phone" else DESKTOP)
    login(page, live_server.url, w.om.email, PASSWORD)
    # the service navigation leads an offender manager to their wearers
    _nav_to_tagging(page)
    assert page.url == live_server.url + "/tagging/"
    rows = page.locator("#wearers tbody tr").all_inner_texts()
    assert len(rows) == 2 and all(x.ref in "".join(rows) for x in w.wearers[:2])
    assert not any(x.ref in "".join(rows) for x in w.wearers[2:])
    _check(page, None, "wearers", width)
    _go(page, page.get_by_role("link", name=w.wearers[0].ref))
    assert "Secret Name 0" not in page.content()  # identity only after a reason
    _check(page, None, "wearer", width)
    page.get_by_label("Purpose").select_option("victim safeguarding")
    page.get_by_label("Justification").fill("Victim moved house, check the exclusion zone")
    _go(page, page.get_by_role("button", name="Show identifying details"))
    assert "Secret Name 0" in page.content()
    assert AuditLog.objects.get(action="view identity").purpose.startswith("victim safeguarding: Victim")
    _check(page, None, "wearer-identity", width)
    _go(page, page.get_by_role("link", name="Search the trail"))
    page.get_by_label("Justification").fill("Checking the alert raised on 4 March")
    page.get_by_label("Purpose").select_option("breach review")
    page.get_by_label("From (London time)").fill("2024-03-04T10:00")
    page.get_by_label("To (London time)").fill("2024-03-04T12:00")
    _go(page, page.get_by_role("button", name="Search"))
    assert page.locator("#fixes tbody tr").count() > 10
    _check(page, None, "trail", width)
    assert AuditLog.objects.filter(action="view trail", user=w.om,
                                   purpose__contains="Checking the alert").count() == 1
    page.goto(live_server.url + f"/tagging/breaches/{breach.pk}/")
    _check(page, None, "breach", width)
    page.watch.assert_clean()
    # changing the id in the address: another organisation's wearer and trail are not found (the 404s
    # are the only console errors from here on)
    other = w.wearers[2]
    for path in (f"/tagging/wearers/{other.pk}/", f"/tagging/wearers/{other.pk}/trail/"):
        resp = page.goto(live_server.url + path)
        assert resp.status == 404, path
        assert "Secret Name 2" not in page.content() and other.ref not in page.content()
    assert not page.watch.offhost


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_reviewer_qualifies_a_match_and_the_police_analyst_reads_its_report_offline(
        browser, live_server, settings, tmp_path, width):
    w = make_world(settings, tmp_path, password=PASSWORD)
    batch = ingest(planted(2, decoys=0), w.pa)
    match = Match.objects.filter(run__batch=batch).first()
    viewport = PHONE if width == "phone" else DESKTOP
    # the unit's hub reviews the pending match
    page = open_page(browser, live_server.url, viewport)
    login(page, live_server.url, w.reviewer.email, PASSWORD)
    _nav_to_tagging(page)
    assert page.url == live_server.url + "/tagging/matches/"
    _check(page, None, "matches", width)
    _go(page, page.get_by_role("link", name=match.crime_version.version_id))
    _check(page, None, "justify", width)
    page.get_by_label("Purpose").select_option("crime investigation")
    page.get_by_label("Justification").fill("Hub review of the Met's batch, robbery")
    _go(page, page.get_by_role("button", name="Continue"))
    assert page.locator("#points tbody tr").count() >= 1
    _check(page, None, "match", width)
    page.get_by_label("Qualify: share with the force").check()
    page.get_by_label("Reason").fill("Positions within 30 m during the window; corroborated")
    _go(page, page.get_by_role("button", name="Record the decision"))
    assert page.locator("#status").inner_text() == "Qualified"
    page.watch.assert_clean()
    assert Match.objects.get(pk=match.pk).status == "qualified"
    views = AuditLog.objects.filter(object_id=str(match.pk), user=w.reviewer)
    assert list(views.order_by("pk").values_list("action", flat=True)) == [
        "view match", "qualify match", "view match"]
    # the force's police analyst: the batch, and now the qualified match with its report
    page = open_page(browser, live_server.url, viewport)
    login(page, live_server.url, w.pa.email, PASSWORD)
    _nav_to_tagging(page)
    assert page.url == live_server.url + "/tagging/matches/"
    page.goto(live_server.url + "/tagging/batches/")
    _check(page, None, "batches", width)
    page.goto(live_server.url + f"/tagging/batches/{batch.pk}/")
    _check(page, None, "batch", width)
    page.goto(live_server.url + "/tagging/matches/")
    _go(page, page.get_by_role("link", name=match.crime_version.version_id))
    page.get_by_label("Purpose").select_option("crime investigation")
    page.get_by_label("Justification").fill("Robbery investigation, officer in case request")
    _go(page, page.get_by_role("button", name="Continue"))
    assert page.get_by_role("button", name="Record the decision").count() == 0  # the hub's decision
    _go(page, page.get_by_role("link", name="Evidential report"))
    assert page.locator("#map svg").count() == 1
    disclaimer = page.locator("#disclaimer").inner_text()
    assert "does not confirm that the wearer perpetrated or witnessed" in disclaimer
    _check(page, None, "report", width)
    page.watch.assert_clean()  # the map and everything else came from the machine itself
    # every view leaves one audit row with the justification
    views = AuditLog.objects.filter(object_id=str(match.pk), user=w.pa)
    assert list(views.order_by("pk").values_list("action", flat=True)) == ["view match", "view match report"]
    assert all("Robbery investigation" in v.purpose for v in views)


def test_the_unit_sees_the_figures_from_the_dashboard(browser, live_server, settings, tmp_path):
    make_world(settings, tmp_path)
    u = user("unit.browser@x.test", "analyst", password=PASSWORD)
    page = open_page(browser, live_server.url, DESKTOP)
    login(page, live_server.url, u.email, PASSWORD)
    page.goto(live_server.url + "/tagging/figures/")
    assert "[c]" in page.content()
    _check(page, None, "figures", "desktop")
    page.watch.assert_clean()


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
    w = make_world(settings, tmp_path, store=False, password=PASSWORD)
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
    w = make_world(settings, tmp_path, store=False, password=PASSWORD)
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
