"""Each role in a real browser (headless Chromium driven by Playwright, against a live server).

For the six roles and for a signed-in user with no role: sign in through the real sign-in form, open
each main page (dashboard overview and a borough, the programme register, a consortium of the user's
own organisation and one of another organisation, the moderation queue, the API documentation, the
admin) and check the outcome the documentation promises (the page / 403 "You do not have access" /
404 / the admin's sign-in page); check that the service navigation and the home page offer exactly the
links the role may use and that each of them opens; no console error on pages that load.

Screenshots of each role's home page and main page at desktop (1280x900) and phone (390x844) widths
are written to ``$VRU_SCREENSHOTS_DIR/web/roles-<role>-<page>-<desktop|phone>.png``
(``VRU_SCREENSHOTS_DIR=docs/screenshots`` refreshes those in the documentation; otherwise a temporary
directory). See docs/web-roles-browser.md.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_util import DESKTOP, PHONE
from factories import LAMBETH, SOUTHWARK, awarded_grant, consortium, estate, org, user, ward

from vru.web.programme.models import Grant, Intervention

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # the role groups come from data migrations: keep them across transactional tests
    pytest.mark.django_db(transaction=True),
]

MAX_SHOT_HEIGHT = 3000

OK, DENIED, NOT_FOUND, ADMIN_LOGIN = "page", "403", "404", "admin sign-in"

# The pages each role is checked on: (key, path or a callable of the test's world giving it).
PAGES = [
    ("dashboard", lambda w: "/dashboard/"),
    ("borough", lambda w: f"/dashboard/borough/{SOUTHWARK}/"),
    ("area", lambda w: "/dashboard/area/E01003968/"),
    ("hot spots", lambda w: "/dashboard/hotspots/"),
    ("drivers", lambda w: "/dashboard/drivers/"),
    ("targeting", lambda w: "/dashboard/targeting/"),
    ("evaluation", lambda w: "/dashboard/evaluation/"),
    ("programme", lambda w: "/programme/"),
    ("own consortium", lambda w: f"/programme/consortia/{w['own'].pk}/"),
    ("other consortium", lambda w: f"/programme/consortia/{w['other'].pk}/"),
    ("own programme area", lambda w: f"/programme/areas/{w['own'].area_id}/"),
    ("other programme area", lambda w: f"/programme/areas/{w['other'].area_id}/"),
    ("own grant", lambda w: f"/programme/grants/{w['grant'].pk}/"),
    ("other grant", lambda w: f"/programme/grants/{w['other grant'].pk}/"),
    ("record delivery", lambda w: f"/programme/grants/{w['grant'].pk}/interventions/new/"),
    ("new programme area", lambda w: "/programme/areas/new/"),
    ("import", lambda w: "/programme/import/"),
    ("provider opportunities", lambda w: "/opportunities/provider/"),
    ("moderation", lambda w: "/opportunities/moderation/"),
    ("verify providers", lambda w: "/opportunities/organisations/"),
    ("api docs", lambda w: "/api/docs/"),
    ("admin", lambda w: "/admin/"),
]
DASHBOARD = ("dashboard", "borough", "area", "hot spots", "drivers", "targeting", "evaluation")
PROGRAMME = ("programme", "own consortium", "other consortium", "own programme area", "other programme area",
             "own grant", "other grant", "record delivery", "new programme area", "import")

# What docs/web.md, web-dashboard.md, web-programme.md and web-opportunities.md promise. The API
# documentation (Swagger UI) is public by design (tests/web/platform/test_platform_authz.py:
# PLATFORM_PUBLIC); the admin sends users who are not staff to its own sign-in page; only the administrator
# is staff (as in the demo).
EVERYTHING = dict.fromkeys((k for k, _ in PAGES), OK)
EXPECTED: dict[str, dict[str, str]] = {
    "administrator": {**EVERYTHING, "provider opportunities": DENIED},
    "analyst": {**EVERYTHING, "record delivery": DENIED, "new programme area": DENIED, "import": DENIED,
                "provider opportunities": DENIED, "moderation": DENIED, "verify providers": DENIED,
                "admin": ADMIN_LOGIN},
    "programme manager": {**EVERYTHING, "provider opportunities": DENIED, "verify providers": DENIED,
                          "admin": ADMIN_LOGIN},
    "provider": {**EVERYTHING, "other consortium": NOT_FOUND, "other programme area": NOT_FOUND,
                 "other grant": NOT_FOUND, "new programme area": DENIED, "import": DENIED,
                 "moderation": DENIED, "verify providers": DENIED, "admin": ADMIN_LOGIN},
    "caseworker": {**EVERYTHING, **dict.fromkeys(PROGRAMME, DENIED), "provider opportunities": DENIED,
                   "moderation": DENIED, "verify providers": DENIED, "admin": ADMIN_LOGIN},
    "no role": {**dict.fromkeys(EVERYTHING, DENIED), "api docs": OK, "admin": ADMIN_LOGIN},
}
EXPECTED["offender manager"] = EXPECTED["caseworker"]

# The service navigation (besides "Sign out") and the home page's "What you can use" links, per role.
_STAFF_NAV = ["Dashboard", "Programme register", "Opportunities", "API"]
_SURVEY, _REFERRALS = ["Survey results"], ["Referral figures"]  # published, suppressed aggregates
NAV = {
    "administrator": _STAFF_NAV[:3] + _SURVEY + _REFERRALS + ["API", "Administration"],
    "analyst": _STAFF_NAV[:3] + _SURVEY + _REFERRALS + ["API"],
    "programme manager": _STAFF_NAV[:3] + _SURVEY + ["API"],
    "provider": _STAFF_NAV,
    "caseworker": ["Dashboard", "Opportunities", "Referrals", "API"],
    "offender manager": ["Dashboard", "Opportunities", "GPS tagging", "API"],
    "no role": ["Opportunities"],
}
HOME = {
    "administrator": ["Dashboard", "Programme register", "Moderation", "Provider organisations",
                      "Opportunities for young people", "API documentation", "Administration"],
    "analyst": ["Dashboard", "Programme register", "Opportunities for young people", "API documentation"],
    "programme manager": ["Dashboard", "Programme register", "Moderation", "Opportunities for young people",
                          "API documentation"],
    "provider": ["Dashboard", "Programme register", "Your organisation's opportunities",
                 "Opportunities for young people", "API documentation"],
    "caseworker": ["Dashboard", "Opportunities for young people", "API documentation"],
    "offender manager": ["Dashboard", "Opportunities for young people", "API documentation"],
    "no role": ["Opportunities for young people"],
}

# Pages exempted from a check (none now; the API docs and the consortium page have tests of their own
# at the end).
CONSOLE_KNOWN: set[str] = set()
# Pages with a layout of their own, without the platform's navigation: Django's admin and Swagger UI.
OWN_LAYOUT = ("/admin/", "/api/docs/")
PHONE_KNOWN: set[str] = set()

# The page shown in each role's screenshots besides its home page (None: the home page is the one).
MAIN_PAGE = {
    "administrator": "admin", "analyst": "dashboard", "programme manager": "programme",
    "provider": "own consortium", "caseworker": None, "offender manager": None, "no role": None,
}


@pytest.fixture(autouse=True)
def _warehouse(settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    base = os.environ.get("VRU_SCREENSHOTS_DIR")
    out = Path(base) / "web" if base else tmp_path_factory.mktemp("roles-shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _world(role: str) -> dict:
    """Synthetic organisations, two consortia (the provider's organisation is a member, not the lead,
    of one) and the user of ``role`` with a random password."""
    mine, lead, other = (org(name) for name in ("Riverside Youth (test)", "Canal Mentoring (test)",
                                                 "Hilltop Boxing (test)"))
    unit = org("Test Violence Reduction Unit", kind="vru")
    own = consortium("Canal and Riverside consortium", estate([], geometry=None), lead, mine)
    theirs = consortium("Hilltop consortium", ward(borough=LAMBETH), other)
    their_grant = Grant.objects.create(reference="TEST-HIL-1", consortium=theirs,
                                       amount_requested=Decimal("400000"))
    grant = awarded_grant(own, "TEST-RIV-1", "600000", "550000", dt.date(2021, 9, 1), dt.date(2023, 8, 31))
    Intervention.objects.create(grant=grant, kind="mentoring", name="Mentoring", year=2022,
                                sessions_delivered=120, reached_10_13=14, reached_14_17=22)
    password = secrets.token_urlsafe(16)
    email = role.replace(" ", ".") + "@roles.example.org"
    user(email, None if role == "no role" else role,
         mine if role == "provider" else (None if role == "no role" else unit),
         password=password, full_name=f"Test {role.title()}", is_staff=role == "administrator")
    return {"email": email, "password": password, "own": own, "other": theirs, "grant": grant,
            "other grant": their_grant}


def _sign_in(page, live_server, email: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")
    assert urlparse(page.url).path == "/", f"sign-in failed: {page.url}"
    assert email in page.inner_text(".govuk-phase-banner")


def _nav(page) -> list[str]:
    return [t.strip() for t in page.locator("#navigation a.govuk-service-navigation__link").all_inner_texts()]


def _nav_hrefs(page) -> list[str]:
    return page.eval_on_selector_all("#navigation a.govuk-service-navigation__link",
                                     "els => els.map(e => e.getAttribute('href'))")


def _outcome(page, resp, path: str) -> str:
    """What a visit gave: the page (200), the 403 or 404 page, or the admin's sign-in page."""
    final = urlparse(page.url)
    if final.path.startswith("/admin/login/") and not path.startswith("/admin/login/"):
        return ADMIN_LOGIN
    if resp.status == 403:
        assert "You do not have access" in page.inner_text("h1"), path
        return DENIED
    if resp.status == 404:
        assert page.inner_text("h1") == "Page not found", path
        return NOT_FOUND
    assert resp.status == 200, f"{path}: {resp.status}"
    assert "You do not have access" not in page.inner_text("body"), path
    return OK


def _shot(page, shots: Path, role: str, name: str, width: str) -> None:
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
    viewport = page.viewport_size
    path = shots / f"roles-{role.replace(' ', '-')}-{name.replace(' ', '-')}-{width}.png"
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
    assert path.stat().st_size > 5_000


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_sees_what_the_docs_promise_in_chromium(browser, live_server, shots, role):
    world = _world(role)
    host = urlparse(live_server.url).netloc
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.set_default_timeout(180_000)  # a dashboard page's first view computes its analysis
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"request off host: {r.url}")
            if urlparse(r.url).scheme in ("http", "https") and urlparse(r.url).netloc != host else None)

    def visit(path: str):
        problems.clear()
        resp = page.goto(live_server.url + path, wait_until="load")
        return resp

    try:
        _sign_in(page, live_server, world["email"], world["password"])

        # home: the links the role may use, and the same navigation on every page
        resp = visit("/")
        assert resp.status == 200
        assert page.locator("h1").inner_text().startswith("Welcome")
        home_links = page.locator(".vru-home-links h3 a")
        assert home_links.all_inner_texts() == HOME[role]
        home_hrefs = home_links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert _nav(page) == NAV[role]
        nav_hrefs = _nav_hrefs(page)
        assert not problems, "\n".join(problems)
        if role == "no role":
            assert "You have no role yet" in page.inner_text("main")
        for view in ("desktop", "phone"):
            page.set_viewport_size(DESKTOP if view == "desktop" else PHONE)
            _shot(page, shots, role, "home", view)
        page.set_viewport_size(DESKTOP)

        # every main page: the promised outcome; the navigation is the role's on each page that loads
        got = {}
        for key, path_of in PAGES:
            path = path_of(world)
            resp = visit(path)
            got[key] = _outcome(page, resp, path)
            if got[key] == OK and path not in CONSOLE_KNOWN:
                assert not problems, f"{path}:\n" + "\n".join(problems)
                if not path.startswith(OWN_LAYOUT):
                    assert _nav(page) == NAV[role], path
                    assert page.locator("h1").count() == 1, path
            if got[key] == OK and key == MAIN_PAGE[role]:
                for view in ("desktop", "phone"):
                    page.set_viewport_size(DESKTOP if view == "desktop" else PHONE)
                    if view == "phone" and not path.startswith("/admin/") and key not in PHONE_KNOWN:
                        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, \
                            f"{path} scrolls sideways on a phone"
                    _shot(page, shots, role, key, view)
                page.set_viewport_size(DESKTOP)
        assert got == EXPECTED[role]

        # page content a role may see there
        if got["own consortium"] == OK:
            page.goto(live_server.url + dict(PAGES)["own consortium"](world))
            main = page.inner_text("main")
            assert "Riverside Youth (test)" in main  # the member organisation
            assert "TEST-RIV-1" in main  # its grant
        if role == "provider":
            page.goto(live_server.url + "/programme/")
            main = page.inner_text("main")
            assert "Canal and Riverside consortium" in main
            assert "Hilltop consortium" not in main  # another organisation's consortium is not listed

        # no link on the navigation or the home page leads to a page the role cannot open
        for href in dict.fromkeys(nav_hrefs + home_hrefs):
            resp = visit(href)
            assert resp.status == 200, f"{role}: link {href} gives {resp.status}"
            assert not urlparse(page.url).path.startswith("/admin/login/"), f"{role}: {href} asks to sign in"
            assert href in CONSOLE_KNOWN or not problems, f"{href}:\n" + "\n".join(problems)
    finally:
        ctx.close()


def _page(browser, live_server, viewport):
    page = browser.new_page(viewport=viewport)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def test_api_docs_page_has_no_console_error(browser, live_server):
    page = _page(browser, live_server, DESKTOP)
    try:
        resp = page.goto(live_server.url + "/api/docs/", wait_until="networkidle")
        assert resp.status == 200
        # Swagger UI renders after its bundle has run and the schema has come back, which on a loaded
        # machine can be later than "network idle": wait for the rendered title of the API
        page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
        assert page.locator(".swagger-ui").count() == 1
        assert not page.errors, "\n".join(page.errors)
    finally:
        page.close()


def test_consortium_page_fits_a_phone(browser, live_server):
    world = _world("provider")
    page = _page(browser, live_server, PHONE)
    try:
        _sign_in(page, live_server, world["email"], world["password"])
        resp = page.goto(live_server.url + f"/programme/consortia/{world['own'].pk}/")
        assert resp.status == 200
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    finally:
        page.close()
