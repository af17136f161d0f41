"""The dashboard in a real browser (headless Debian Chromium driven by Playwright), signed in through
the real sign-in form as an analyst.

Every page (overview, borough, area, hot spots, drivers, targeting, evaluation), at phone (390 px) and
desktop (1280 px) widths:

- loads under the site's strict Content-Security-Policy with no console error and no request to
  another host (the platform is offline by design);
- passes axe-core's WCAG 2.0/2.1/2.2 A and AA rules (``browser_util.assert_accessible``);
- has one ``h1``; every chart is an image that loads and has a text alternative;
- fits a phone: the page itself never scrolls sideways (wide tables scroll inside their own region).

Keyboard use: the skip link is the first tab stop and moves focus to the main content; the filters can
be changed and applied with the keyboard alone. An invalid filter shows the GOV.UK error message next
to its field.

Screenshots of each page at both widths go to ``$VRU_SCREENSHOTS_DIR/web/dashboard-<page>-<width>.png``
when that variable is set (``VRU_SCREENSHOTS_DIR=docs/screenshots`` refreshes those in the docs).
"""

from __future__ import annotations

import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from django.urls import reverse
from factories import user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("dashboard_warehouse")]

PASSWORD = "a long enough password 1"
SOUTHWARK = "E09000028"
PAGES = {
    "overview": reverse("dashboard:overview"),
    "borough": reverse("dashboard:borough", args=[SOUTHWARK]),
    "area": reverse("dashboard:area", args=["E01003968"]),
    "hotspots": reverse("dashboard:hotspots") + f"?borough={SOUTHWARK}",
    "drivers": reverse("dashboard:drivers"),
    "targeting": reverse("dashboard:targeting"),
    "evaluation": reverse("dashboard:evaluation"),
}


def _analyst() -> str:
    return user("analyst.browser@example.org", "analyst", password=PASSWORD).email


def _check_page(page, name: str, path: str, width: str) -> int:
    """Open one page and check everything the module docstring lists; return its number of images."""
    resp = page.goto(page.base + path, wait_until="load")
    assert resp.status == 200, path
    assert page.locator("h1").count() == 1, path
    imgs = page.eval_on_selector_all(
        "main img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0, e.src])")
    for alt, loaded, src in imgs:
        assert alt.strip(), f"image without alt text on {path}: {src}"
        assert loaded, f"image did not load on {path}: {src}"
    assert_accessible(page)
    if width == "phone":
        # (1 px: the rounding of fractional CSS widths)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow} px on a phone"
    screenshot(page, f"dashboard-{name}-{width}")
    return len(imgs)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_dashboard_page_is_accessible_offline_and_fits(browser, live_server, width):
    email = _analyst()
    page = open_page(browser, live_server.url, PHONE if width == "phone" else DESKTOP)
    page.set_default_timeout(180_000)  # a page's first view computes its analysis
    page.base = live_server.url
    login(page, live_server.url, email, PASSWORD)
    charts = sum(_check_page(page, name, path, width) for name, path in PAGES.items())
    assert charts >= 15
    page.watch.assert_clean()


def test_dashboard_by_keyboard_alone(browser, live_server):
    email = _analyst()
    page = open_page(browser, live_server.url, DESKTOP)
    page.set_default_timeout(180_000)
    login(page, live_server.url, email, PASSWORD)
    page.goto(live_server.url + reverse("dashboard:hotspots"), wait_until="load")

    # the skip link is the first stop and takes focus to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"

    # tab on to the harm-weighting radio, choose it with the arrow key, apply with Enter
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "weighting":
            break
    else:
        pytest.fail("the weighting filter cannot be reached with the Tab key")
    assert page.evaluate("document.activeElement.value") == "count"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "css"
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    assert "weighting=css" in page.url
    assert page.locator("input[name=weighting][value=css]").is_checked()

    # an invalid value in the address bar: the message is next to the field and in the summary
    page.goto(live_server.url + reverse("dashboard:hotspots") + "?weighting=guess", wait_until="load")
    assert page.locator("#id_weighting-error").is_visible()
    # the summary links to the first radio of the group (GOV.UK), which exists, and following the
    # link with the keyboard moves focus there
    link = page.locator(".govuk-error-summary a[href='#id_weighting_0']")
    assert link.count() == 1 and page.locator("#id_weighting_0").count() == 1
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_weighting_0"
    assert_accessible(page)
    page.watch.assert_clean()
