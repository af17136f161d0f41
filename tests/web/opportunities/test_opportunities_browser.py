"""Local Village Network in headless Chromium (Playwright) against a live server, on a phone screen.

(a) A young person finds a free football session for a 15-year-old within 2 km in Lambeth, signs in
and books a place. (b) A provider posts an opportunity (after a form error shown next to its field);
it is not in search until a moderator approves it.

Screenshots (390 px wide) go to ``$VRU_SCREENSHOTS_DIR/web/opportunities-*.png`` when that variable is
set (``VRU_SCREENSHOTS_DIR=docs/screenshots`` refreshes the ones in the documentation).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from django.core import mail
from django.utils import timezone
from factories import (
    BRIXTON,
    LAMBETH,
    PASSWORD,
    SOUTHWARK,
    offset,
    opportunity,
    org,
    user,
    young_person,
)

from vru.web.core.maps import borough_frame
from vru.web.opportunities import bookings, geo
from vru.web.opportunities.models import Opportunity, Registration

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]



def _phone(browser, live_server):
    """A new phone-sized page that fails the test on any console error (a CSP violation included) or any
    request leaving the live server."""
    page = browser.new_page(viewport=PHONE, base_url=live_server.url)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"external request {r.url}")
            if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)
    page.errors = errors
    return page


def _shot(page, name: str) -> None:
    shots = os.environ.get("VRU_SCREENSHOTS_DIR")
    if shots:
        out = Path(shots) / "web"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / f"opportunities-{name}.png"), full_page=True)


def _sign_in(page, email: str) -> None:
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_young_person_finds_free_football_for_15_within_2km_in_lambeth_and_books(browser, live_server):
    club = org("Brixton Youth Club")
    point = BRIXTON
    target = opportunity(club, title="Free football for beginners", topic="football", capacity=12,
                         latitude=offset(*point, north_km=1.2)[0], longitude=point[1],
                         address="Max Roach Park, Brixton", min_age=14, max_age=17)
    # near misses, each failing exactly one of the filters
    opportunity(club, title="Football academy (paid)", topic="football", is_free=False, price="8.00")
    opportunity(club, title="Football far away", topic="football",
                latitude=offset(*point, north_km=2.6)[0])
    opportunity(club, title="Football for over-18s", topic="football", min_age=18, max_age=24)
    opportunity(club, title="Free coding club", topic="coding", description="Learn to code")
    opportunity(org("Peckham Boxing"), title="Football in Southwark", topic="football", borough=SOUTHWARK,
                latitude=51.474, longitude=-0.069)
    opportunity(club, title="Football, not approved yet", topic="football", status="pending")
    sam = young_person("sam@example.org", "Sam", age=15)

    page = _phone(browser, live_server)
    page.goto("/opportunities/")
    page.fill("#id_q", "football")
    page.select_option("#id_borough", LAMBETH)
    page.fill("#id_age", "15")
    page.check("#id_free")
    page.fill("#id_lat", f"{point[0]}")
    page.fill("#id_lon", f"{point[1]}")
    page.fill("#id_radius", "2")
    page.select_option("#id_sort", "distance")
    _shot(page, "phone-search")
    page.click("button:has-text('Search')")
    assert page.inner_text("#results") == "1 result"
    cards = page.locator(".lvn-card")
    assert cards.count() == 1
    assert "Free football for beginners" in cards.first.inner_text()
    assert "1.2 km away" in cards.first.inner_text()
    assert "12 left" in cards.first.inner_text()
    _no_horizontal_scroll(page)
    _shot(page, "phone-results")

    page.click("a:has-text('Free football for beginners')")
    assert page.inner_text("#places") == "12 places left"
    page.click("a:has-text('Book a place')")
    _sign_in(page, "sam@example.org")  # the booking page asks to sign in, then comes back
    assert page.inner_text("h1") == "Book a place"
    page.fill("#id_note", "First time playing")
    _shot(page, "phone-book")
    page.click("button:has-text('Book my place')")
    assert "You have a place: Free football for beginners" in page.inner_text("main")
    assert "Shared with Brixton Youth Club: Sam" in page.inner_text("main")
    _no_horizontal_scroll(page)
    _shot(page, "phone-booked")
    assert page.errors == []

    reg = Registration.objects.get(user=sam, opportunity=target)
    assert reg.shared_name == "Sam" and reg.shared_email == "" and reg.note == "First time playing"
    assert Opportunity.objects.get(pk=target.pk).places_taken == 1


def _fill_opportunity(page, **override) -> None:
    today = timezone.localdate()
    values = {
        "#id_title": "Street dance workshop", "#id_description": "Learn street dance with a pro",
        "#id_topic": "dance", "#id_address": "Brixton Community Hall", "#id_postcode": "SW2 1RW",
        "#id_latitude": "51.4600", "#id_longitude": "-0.1150", "#id_min_age": "14", "#id_max_age": "19",
        "#id_start_date": (today + dt.timedelta(days=10)).isoformat(),
        "#id_end_date": (today + dt.timedelta(days=10)).isoformat(),
        "#id_start_time": "18:00", "#id_end_time": "20:00", "#id_capacity": "15",
        "#id_how_to_apply": "Book a place on this site",
    }
    values.update(override)
    page.select_option("#id_kind", "event")
    page.select_option("#id_borough", LAMBETH)
    page.select_option("#id_recurrence", "one_off")
    for sel, value in values.items():
        page.fill(sel, value)
    page.check("#id_is_free")


def _found(browser, live_server, keyword: str) -> list[str]:
    page = _phone(browser, live_server)
    page.goto(f"/opportunities/?q={keyword}")
    titles = page.locator(".lvn-card__title").all_inner_texts()
    assert page.errors == []
    page.close()
    return titles


def test_provider_posts_and_it_appears_only_after_approval(browser, live_server):
    user("staff@brixtonyouth.example.org", "provider", org("Brixton Youth Club"), password=PASSWORD)
    user("moderator@example.org", "programme manager", password=PASSWORD)

    page = _phone(browser, live_server)
    page.goto("/opportunities/provider/new/")
    _sign_in(page, "staff@brixtonyouth.example.org")
    assert page.inner_text("h1") == "Post an opportunity"
    # bad input first: the ages the wrong way round; the message is next to the field
    _fill_opportunity(page, **{"#id_min_age": "19", "#id_max_age": "14"})
    page.click("button:has-text('Send for moderation')")
    assert "There is a problem" in page.inner_text(".govuk-error-summary")
    error = page.inner_text("#id_max_age-error")
    assert "maximum age must be the same as or more than the minimum age" in error
    # the message sits in the max age field's group, right above its input
    group = page.locator(".govuk-form-group--error").filter(has=page.locator("#id_max_age"))
    assert group.count() == 1
    _shot(page, "phone-provider-error")
    page.fill("#id_min_age", "14")
    page.fill("#id_max_age", "19")
    page.click("button:has-text('Send for moderation')")
    assert "Sent for moderation" in page.inner_text("main")
    assert "Pending moderation" in page.inner_text("main")
    _shot(page, "phone-provider-posted")
    assert page.errors == []
    assert _found(browser, live_server, "dance") == []

    mod = _phone(browser, live_server)
    mod.goto("/opportunities/moderation/")
    _sign_in(mod, "moderator@example.org")
    mod.click("a:has-text('Street dance workshop')")
    _shot(mod, "phone-moderate")
    mod.click("button:has-text('Approve')")
    assert "Street dance workshop: now published" in mod.inner_text("main")
    assert mod.errors == []

    assert _found(browser, live_server, "dance") == ["Street dance workshop"]
    opp = Opportunity.objects.get(title="Street dance workshop")
    assert [(e.from_status, e.to_status) for e in opp.events.all()] == [
        ("", "pending"), ("pending", "approved"), ("approved", "published")]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_opportunities_page_passes_axe(browser, live_server, width):
    """WCAG 2.0/2.1/2.2 A and AA (axe-core) on every page of the app, for each kind of visitor, with
    nothing scrolling sideways on a phone; the provider form is also checked with its error messages."""
    club = org("Brixton Youth Club")
    opp = opportunity(club, title="Free football for beginners", capacity=12)
    pending = opportunity(club, title="Street dance, waiting", status="pending")
    booked = opportunity(club, title="Coding club", topic="coding", capacity=4)
    sam = young_person("sam@example.org", "Sam", age=15)
    bookings.register(sam, booked, shared_name="Sam")
    user("staff@brixtonyouth.example.org", "provider", club, password=PASSWORD)
    user("admin@example.org", "administrator", password=PASSWORD)
    visitors = {
        None: ["/opportunities/", f"/opportunities/?q=football&borough={LAMBETH}&age=15&free=on",
               f"/opportunities/{opp.pk}/", "/opportunities/sign-up/",
               f"/opportunities/shortlist/?ids={opp.pk},{booked.pk}",
               f"/opportunities/shortlist/print/?ids={opp.pk}", "/accounts/login/",
               "/opportunities/sign-up/check-your-email/", "/opportunities/sign-up/confirm/MQ/expired/"],
        "sam@example.org": ["/opportunities/mine/", f"/opportunities/{opp.pk}/register/"],
        "staff@brixtonyouth.example.org": ["/opportunities/provider/", "/opportunities/provider/new/",
                                           f"/opportunities/provider/{booked.pk}/",
                                           f"/opportunities/provider/{booked.pk}/edit/",
                                           f"/opportunities/provider/{booked.pk}/registrations/"],
        "admin@example.org": ["/opportunities/moderation/", f"/opportunities/moderation/{pending.pk}/",
                              "/opportunities/organisations/"],
    }
    for who, paths in visitors.items():
        page = open_page(browser, live_server.url, PHONE if width == "phone" else DESKTOP)
        if who:
            login(page, live_server.url, who, PASSWORD)
        for path in paths:
            resp = page.goto(live_server.url + path, wait_until="load")
            assert resp.status == 200, path
            assert page.locator("h1").count() == 1, path
            assert_accessible(page)
            if width == "phone":
                _no_horizontal_scroll(page)
        if who == "staff@brixtonyouth.example.org":
            page.goto(live_server.url + "/opportunities/provider/new/", wait_until="load")
            with page.expect_navigation(wait_until="load"):
                page.click("button:has-text('Send for moderation')")  # everything left empty
            assert page.locator(".govuk-error-summary").is_visible()
            assert page.locator("#id_title-error").is_visible()
            assert_accessible(page)
            screenshot(page, f"opportunities-provider-form-errors-{width}")
        if who is None:  # sign-up: its errors, then the emailed link's "choose your password" form
            page.goto(live_server.url + "/opportunities/sign-up/", wait_until="load")
            with page.expect_navigation(wait_until="load"):
                page.click("button:has-text('Continue')")  # everything left empty
            assert page.locator("#id_email-error").is_visible()
            assert_accessible(page)
            page.fill("#id_email", f"new-{width}@example.org")
            page.fill("#id_nickname", "Nia")
            page.fill("#id_birth_year", str(timezone.localdate().year - 16))
            with page.expect_navigation(wait_until="load"):
                page.click("button:has-text('Continue')")
            assert page.locator("h1").inner_text() == "Check your email"
            link = re.search(r"https?://[^/\s]+(/opportunities/sign-up/confirm/\S+/)", mail.outbox[-1].body)
            page.goto(live_server.url + link.group(1), wait_until="load")
            assert page.locator("h1").inner_text() == "Choose your password"
            assert_accessible(page)
            if width == "phone":
                _no_horizontal_scroll(page)
        page.watch.assert_clean()
        page.context.close()


def test_provider_places_the_venue_on_the_borough_map(browser, live_server):
    """The map picker: a click on the borough's map fills in the latitude and longitude of that point
    (within a few metres: one pixel of the map is about 20 m), the marker shows it, typed numbers move
    the marker, and the saved opportunity has the point that was clicked."""
    user("staff@brixtonyouth.example.org", "provider", org("Brixton Youth Club"), password=PASSWORD)
    page = open_page(browser, live_server.url, DESKTOP)
    login(page, live_server.url, "staff@brixtonyouth.example.org", PASSWORD)
    page.goto(live_server.url + "/opportunities/provider/new/", wait_until="load")
    _fill_opportunity(page)  # Lambeth, with typed numbers
    mapimg = page.locator("#lvn-picker-map")
    page.wait_for_function("() => { const i = document.getElementById('lvn-picker-map');"
                           " return i.complete && i.naturalWidth > 0; }")
    assert page.locator(".lvn-picker__marker").is_visible()  # the typed point is shown
    assert_accessible(page)

    frame, _ = borough_frame(LAMBETH)
    target = offset(*BRIXTON, north_km=0.8, east_km=-0.5)
    scale = mapimg.evaluate("i => i.clientWidth") / frame.width
    border = mapimg.evaluate("i => i.clientLeft")
    x, y = frame.to_px(*target)
    mapimg.click(position={"x": x * scale, "y": y * scale})
    lat, lon = float(page.input_value("#id_latitude")), float(page.input_value("#id_longitude"))
    assert geo.haversine_km(*target, lat, lon) < 0.04

    def marker_at(px: float, py: float) -> bool:
        box, m = mapimg.bounding_box(), page.locator(".lvn-picker__marker").bounding_box()
        cx, cy = m["x"] + m["width"] / 2, m["y"] + m["height"] / 2
        return (abs(cx - (box["x"] + border + px * scale)) < 2
                and abs(cy - (box["y"] + border + py * scale)) < 2)

    assert marker_at(x, y)
    # typed numbers move the marker to their point
    page.fill("#id_latitude", f"{BRIXTON[0]}")
    page.fill("#id_longitude", f"{BRIXTON[1]}")
    assert marker_at(*frame.to_px(*BRIXTON))
    mapimg.click(position={"x": x * scale, "y": y * scale})
    mapimg.scroll_into_view_if_needed()
    screenshot(page, "opportunities-map-picker-desktop", full_page=False)
    page.click("button:has-text('Send for moderation')")
    assert "Sent for moderation" in page.inner_text("main")
    saved = Opportunity.objects.get(title="Street dance workshop")
    assert geo.haversine_km(*target, saved.latitude, saved.longitude) < 0.04
    assert geo.borough_at(saved.latitude, saved.longitude)[0] == LAMBETH
    page.watch.assert_clean()
