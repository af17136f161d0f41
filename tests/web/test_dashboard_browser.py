"""The dashboard in a real browser (headless Chromium): every page loads under the site's strict
Content-Security-Policy with no console error, no request to another host, and every chart is an
image that loads and has a text alternative."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from vru.web.accounts.models import User

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("VRU_DASHBOARD_SCREENSHOTS")  # a directory: keep a screenshot of each page


@pytest.fixture(autouse=True)
def _warehouse(settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)


@pytest.mark.browser
def test_every_dashboard_page_in_chromium(live_server, transactional_db):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (make test installs it)")
    user = User.objects.create_user("browser@example.org", "a long enough password 1")
    user.groups.add(Group.objects.get(name="provider"))
    c = Client()
    c.force_login(user)
    session = c.cookies["sessionid"].value
    host = urlparse(live_server.url).netloc
    pages = [reverse("dashboard:overview"), reverse("dashboard:borough", args=["E09000028"]),
             reverse("dashboard:area", args=["E01003968"]), reverse("dashboard:hotspots"),
             reverse("dashboard:hotspots") + "?borough=E09000028&weighting=guess",
             reverse("dashboard:drivers"), reverse("dashboard:targeting"),
             reverse("dashboard:evaluation")]
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        ctx = browser.new_context()
        ctx.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = ctx.new_page()
        page.set_default_timeout(180_000)  # a page's first view computes its analysis
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def request(r):
            u = urlparse(r.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.netloc != host:
                problems.append(f"request off host: {r.url}")

        page.on("request", request)
        page.on("response", lambda r: r.status >= 400 and problems.append(
            f"{r.status} for {r.url}"))
        charts = 0
        for path in pages:
            resp = page.goto(live_server.url + path, wait_until="load")
            assert resp.status == 200, path
            assert page.locator("h1").count() == 1
            imgs = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0, e.src])")
            for alt, loaded, src in imgs:
                assert alt.strip(), f"image without alt text on {path}: {src}"
                assert loaded, f"image did not load on {path}: {src}"
            charts += len(imgs)
            if "guess" in path:  # an invalid filter: the GOV.UK error message next to the field
                assert page.locator("#id_weighting-error").is_visible()
                assert page.locator(".govuk-error-summary a[href='#id_weighting']").count() == 1
            if SHOTS:
                page.screenshot(path=os.path.join(SHOTS, path.strip("/").replace("/", "_")
                                                  .replace("?", "_") + ".png"), full_page=True)
        # keyboard: the skip link is the first stop and leads to the main content
        page.goto(live_server.url + reverse("dashboard:overview"))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == \
            "Skip to main content"
        browser.close()
    assert charts >= 15
    assert not problems, "\n".join(problems)
