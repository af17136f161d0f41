"""Browser tests of the web platform: headless Debian Chromium driven by Playwright, axe-core for
accessibility (WCAG 2.0, 2.1 and 2.2, levels A and AA), and checks that a page makes no request off
the machine and logs no error (a CSP violation is logged as a console error).

Use it from any test module in tests/web (pytest puts this folder on ``sys.path``)::

    import pytest
    from browser_util import PHONE, DESKTOP, assert_accessible, login, open_page, screenshot

    pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

    def test_my_page(browser, live_server):            # ``browser``: tests/conftest.py
        page = open_page(browser, live_server.url, PHONE)
        login(page, live_server.url, "analyst@example.org", PASSWORD)
        page.goto(live_server.url + "/dashboard/")
        assert_accessible(page)                        # axe: fails listing every violation
        screenshot(page, "dashboard-overview-phone")   # when VRU_SCREENSHOTS_DIR is set
        page.watch.assert_clean()                      # no console error, nothing off the machine

``live_server`` (pytest-django) needs ``django_db(transaction=True)`` data: create users in the test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

AXE = Path(__file__).parent / "assets" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class PageWatch:
    """What a page did that a test should fail on: console errors, uncaught exceptions, and requests
    to any host but the live server (those are blocked, then reported)."""

    origin: str
    errors: list[str] = field(default_factory=list)
    offhost: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.offhost, "requests left the machine:\n  " + "\n  ".join(self.offhost)
        assert not self.errors, "errors in the browser console:\n  " + "\n  ".join(self.errors)


def open_page(browser, live_server_url: str, viewport: dict = DESKTOP, *, javascript: bool = True):
    """A new page in its own context (fresh cookies) watched by a :class:`PageWatch` (``page.watch``).

    Requests to other hosts are aborted (the platform is offline by design) and recorded."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_server_url))
    watch = PageWatch(origin)

    def route(r):
        url = r.request.url
        if url.startswith((origin + "/", "data:", "blob:")) or url == origin:
            r.continue_()
        else:
            watch.offhost.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: watch.errors.append(f"{m.text} ({page.url})") if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"{e} ({page.url})"))
    page.watch = watch
    return page


def assert_no_offhost_requests(page) -> None:
    assert not page.watch.offhost, "requests left the machine:\n  " + "\n  ".join(page.watch.offhost)


def console_errors(page) -> list[str]:
    return list(page.watch.errors)


def login(page, live_server_url: str, email: str, password: str) -> None:
    """Sign in through the real form (CSRF token and all) and wait for the home page."""
    page.goto(live_server_url + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, f"sign-in as {email} failed: {page.url}"


def assert_accessible(page, *, exclude: list[str] | None = None) -> None:
    """Run axe-core in the page; fail on any WCAG 2.0/2.1/2.2 A or AA violation, listing each rule,
    its impact and the elements (CSS selectors) that break it. ``exclude``: CSS selectors to leave out.

    axe's source is run with ``page.evaluate`` (through the DevTools protocol, which the page's
    Content-Security-Policy does not govern), so the page keeps its real, strict CSP while axe runs.
    ``page.add_script_tag`` would not work: it inserts an inline ``<script>``, which ``script-src 'self'``
    blocks (tests/web/test_platform_browser.py checks both)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    context = {"exclude": [[s] for s in exclude]} if exclude else None
    result = page.evaluate(
        "([context, options]) => context ? axe.run(context, options) : axe.run(document, options)",
        [context, options],
    )
    violations = result["violations"]
    if violations:
        lines = []
        for v in violations:
            targets = ", ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                                for n in v["nodes"][:8])
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
        raise AssertionError(f"accessibility violations on {page.url}:\n  " + "\n  ".join(lines))


def screenshot(page, name: str, *, full_page: bool = True, max_height: int = 3000) -> Path | None:
    """Save ``$VRU_SCREENSHOTS_DIR/web/<name>.png`` when that variable is set (the docs' screenshots
    are refreshed with ``VRU_SCREENSHOTS_DIR=docs/screenshots``); otherwise do nothing. A full page is
    cut at ``max_height`` CSS pixels, so that the images in the repository stay small."""
    shots = os.environ.get("VRU_SCREENSHOTS_DIR")
    if not shots:
        return None
    path = Path(shots) / "web" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if full_page:
        height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
        width = page.viewport_size["width"]
        page.screenshot(path=str(path), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": height})
    else:
        page.screenshot(path=str(path))
    _shrink(path)
    return path


def _shrink(path: Path) -> None:
    """Re-save a screenshot with a 256-colour palette (Pillow, which matplotlib already brings): a
    third of the size for pages of text, tables and charts, with no visible change at 100%."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                            dither=Image.Dither.NONE)
    small.save(path, optimize=True)
