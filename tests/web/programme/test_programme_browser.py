"""The MyEnds programme register in a real browser (headless Debian Chromium driven by Playwright),
signed in through the real sign-in form as a programme manager.

Every page of the register (index with its roll-ups, programme area with its map, consortium, grant,
the forms to add an area and record delivery, CSV import), at phone (390 px) and desktop (1280 px)
widths: axe-core's WCAG 2.0/2.1/2.2 A and AA rules pass, one ``h1``, images have a text alternative,
nothing scrolls sideways on a phone, no console error and no request off the machine. A form sent
with mistakes shows each message next to its field and in the error summary, and still passes axe.

Screenshots go to ``$VRU_SCREENSHOTS_DIR/web/programme-<page>-<width>.png`` when that is set.
"""

from __future__ import annotations

import datetime as dt

import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from factories import awarded_grant, consortium, estate, org, user

from vru.web.programme.models import Intervention

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough password 1"
SQUARE = {"type": "Polygon", "coordinates": [[[-0.09, 51.48], [-0.08, 51.48], [-0.08, 51.49],
                                              [-0.09, 51.49], [-0.09, 51.48]]]}


def _world() -> dict:
    area = estate(geometry=SQUARE)
    cons = consortium("Canal and Riverside consortium", area, org("Canal Youth (test)"),
                      org("Riverside Mentors (test)"))
    grant = awarded_grant(cons, "TEST-CAN-1", "600000", "550000", dt.date(2021, 9, 1), dt.date(2023, 8, 31))
    Intervention.objects.create(grant=grant, kind="mentoring", name="Mentoring", year=2022,
                                sessions_delivered=120, reached_10_13=14, reached_14_17=22)
    manager = user("pm.browser@example.org", "programme manager", password=PASSWORD)
    return {"email": manager.email, "pages": {
        "index": "/programme/",
        "area": f"/programme/areas/{area.pk}/",
        "consortium": f"/programme/consortia/{cons.pk}/",
        "grant": f"/programme/grants/{grant.pk}/",
        "new-area": "/programme/areas/new/",
        "record-delivery": f"/programme/grants/{grant.pk}/interventions/new/",
        "import": "/programme/import/",
    }}


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_programme_page_is_accessible_and_fits(browser, live_server, width):
    world = _world()
    page = open_page(browser, live_server.url, PHONE if width == "phone" else DESKTOP)
    login(page, live_server.url, world["email"], PASSWORD)
    for name, path in world["pages"].items():
        resp = page.goto(live_server.url + path, wait_until="load")
        assert resp.status == 200, path
        assert page.locator("h1").count() == 1, path
        alts = page.eval_on_selector_all("main img", "els => els.map(e => e.alt)")
        assert all(a.strip() for a in alts), path
        assert_accessible(page)
        if width == "phone":
            # (1 px: the rounding of fractional CSS widths)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow} px on a phone"
        screenshot(page, f"programme-{name}-{width}")
    page.watch.assert_clean()


def test_a_form_with_mistakes_shows_each_message_by_its_field(browser, live_server):
    world = _world()
    page = open_page(browser, live_server.url, PHONE)
    login(page, live_server.url, world["email"], PASSWORD)
    page.goto(live_server.url + world["pages"]["record-delivery"], wait_until="load")
    page.fill("#id_sessions_delivered", "-3")
    page.fill("#id_year", "1990")
    with page.expect_navigation(wait_until="load"):
        page.locator("main button[type=submit]").first.click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    for field in ("sessions_delivered", "year"):
        assert page.locator(f"#id_{field}-error").is_visible(), field
        assert summary.locator(f"a[href='#id_{field}']").count() >= 1, field
    assert Intervention.objects.count() == 1  # nothing saved
    assert_accessible(page)
    screenshot(page, "programme-record-delivery-errors-phone")
    page.watch.assert_clean()
