"""The accounts pages in headless Chromium at phone (390 px) and desktop (1280 px) widths: WCAG 2.2 AA
by axe-core, keyboard use, the strict CSP left in force, nothing loaded from off the machine, no
console error. Screenshots go to ``$VRU_SCREENSHOTS_DIR/web/accounts-*.png`` when that is set."""

from __future__ import annotations

import pytest
from browser_util import (
    AXE,
    DESKTOP,
    PHONE,
    assert_accessible,
    login,
    open_page,
    screenshot,
)
from factories import org, user

from vru.web.accounts.models import User
from vru.web.accounts.roles import ROLES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # live_server needs committed data; the role groups survive the flush after each test
    # (vru.web.accounts.roles.sync_roles runs on post_migrate)
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "a long browser test passphrase"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture
def role_users() -> dict[str, User]:
    riverside = org("Riverside Youth Collective (test)")
    return {role: user(role.replace(" ", ".") + "@example.org", role, riverside, password=PASSWORD,
                       full_name=f"Test {role.title()}", is_staff=role == "administrator") for role in ROLES}


def test_axe_runs_under_the_pages_real_csp(browser, live_server):
    """The page keeps ``script-src 'self'``: an inline script tag (Playwright's add_script_tag) is
    blocked, so browser_util runs axe through page.evaluate instead, and that works."""
    page = open_page(browser, live_server.url)
    response = page.goto(live_server.url + "/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    try:
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    except Exception:
        pass
    assert page.evaluate("() => typeof window.axe") == "undefined"
    assert any("Content Security Policy" in e for e in page.watch.errors)
    page.watch.errors.clear()
    assert_accessible(page)
    assert page.evaluate("() => typeof window.axe.run") == "function"
    page.watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_public_pages_are_accessible(browser, live_server, width):
    page = open_page(browser, live_server.url, WIDTHS[width])
    for path, name in [("/", "landing"), ("/accounts/login/", "login"),
                       ("/accounts/password_reset/", "password-reset")]:
        page.goto(live_server.url + path)
        assert_accessible(page)
        screenshot(page, f"accounts-{name}-{width}")
    # a form sent empty: the error summary and the messages next to the fields are accessible too
    page.goto(live_server.url + "/accounts/login/")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.locator("#id_username-error").is_visible()
    assert_accessible(page)
    screenshot(page, f"accounts-login-errors-{width}")
    page.goto(live_server.url + "/accounts/password_reset/")
    page.fill("#id_email", "nobody@example.org")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Check your email"
    assert_accessible(page)
    page.watch.assert_clean()


def test_sign_in_with_the_keyboard_alone(browser, live_server, role_users):
    page = open_page(browser, live_server.url, DESKTOP)
    page.goto(live_server.url + "/accounts/login/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"
    page.locator("#id_username").focus()
    page.keyboard.type("analyst@example.org")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert "Welcome, Test Analyst" in page.locator("h1").inner_text()
    page.watch.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_each_roles_home_page_is_accessible(browser, live_server, role_users, width):
    for role, who in role_users.items():
        page = open_page(browser, live_server.url, WIDTHS[width])
        login(page, live_server.url, who.email, PASSWORD)
        assert page.url == live_server.url + "/"
        assert role in page.locator(".govuk-summary-list").inner_text()
        assert_accessible(page)
        screenshot(page, f"accounts-home-{role.replace(' ', '-')}-{width}")
        page.watch.assert_clean()
        page.context.close()
