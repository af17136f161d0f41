"""The Victim Voice survey in headless Chromium on a phone screen (docs/web-survey.md): a victim opens an
invitation link, answers in Arabic (right to left) and the code then refuses a second response; the same
survey with JavaScript switched off; axe (WCAG 2.2 AA) on every survey page in every language."""

from __future__ import annotations

import pytest
from browser_util import DESKTOP, PHONE, assert_accessible, login, open_page, screenshot
from factories import PASSWORD, user

from vru.web.accounts.models import User
from vru.web.survey import codes, invitations, results
from vru.web.survey.demo import DEMO_RATES, generate, load_and_publish
from vru.web.survey.models import Invitation, Response

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]



def _police():
    return user("police.browser@example.org", "police analyst")


def _answer_every_page(page, q, *, check_each=None):
    for _group in q.groups:
        if check_each:
            check_each(page)
        for fieldset in page.locator("fieldset").all():
            fieldset.locator("label.govuk-radios__label").first.click()
        if page.locator("select").count():
            page.select_option("select", index=3)
        if page.locator("textarea").count():
            page.fill("textarea", "كان الضابط لطيفًا")
        page.click("#next")
        page.wait_for_load_state("load")


def test_an_invited_victim_answers_in_arabic_right_to_left_and_the_code_is_then_spent(browser, live_server):
    version = load_and_publish()
    _, issued = invitations.issue(_police(), 20)
    page = open_page(browser, live_server.url, PHONE)
    page.goto(f"{live_server.url}/survey/?c={issued[0]}")
    assert Response.objects.count() == 0 and not Invitation.objects.filter(used=True).exists()
    page.click('a[lang="ar"]')
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "ar"
    assert page.input_value("#code") == invitations.codes.display(issued[0])
    assert page.locator("#translation-status").is_visible()
    screenshot(page, "survey-start-ar-phone")
    page.click("#start")
    page.wait_for_load_state("load")
    assert page.locator("#resume-code").inner_text().count("-") == 2
    page.click("#continue")

    def right_to_left(p):
        assert p.locator("html").get_attribute("dir") == "rtl"
        item = p.locator(".govuk-radios__item").first
        if item.count():
            circle = item.locator("input").bounding_box()
            label = item.locator("label").bounding_box()
            assert circle["x"] > label["x"], "the radio button is not on the right of its label"
        heading = p.locator("h1").bounding_box()
        assert heading["x"] + heading["width"] > PHONE["width"] - 40  # the heading starts on the right

    _answer_every_page(page, version.questionnaire, check_each=right_to_left)
    screenshot(page, "survey-check-ar-phone")
    page.click("#submit")
    page.wait_for_load_state("load")
    assert "تم إرسال إجاباتك" in page.locator("#thanks").inner_text()
    assert Response.objects.get().verified and Invitation.objects.filter(used=True).count() == 1
    cookies = {c["name"] for c in page.context.cookies()}
    assert "vru_survey" not in cookies
    page.watch.assert_clean()

    again = open_page(browser, live_server.url, PHONE)
    again.goto(f"{live_server.url}/survey/ar/?c={issued[0]}")
    again.click("#start")
    again.wait_for_load_state("load")
    assert "سبق استخدام هذا الرمز" in again.locator("#error-message").inner_text()
    assert Response.objects.count() == 1


def test_the_survey_works_with_javascript_switched_off(browser, live_server):
    version = load_and_publish()
    page = open_page(browser, live_server.url, PHONE, javascript=False)
    page.goto(f"{live_server.url}/survey/")
    page.click('a[lang="pl"]')
    page.click("#start")
    page.wait_for_load_state("load")
    page.click("#continue")
    # a page sent without an answer shows the error next to the question, still without JavaScript
    page.click("#next")
    page.wait_for_load_state("load")
    assert "Wybierz odpowiedź" in page.locator(".govuk-error-summary").inner_text()
    _answer_every_page(page, version.questionnaire)
    page.click("#submit")
    page.wait_for_load_state("load")
    assert page.locator("#thanks").is_visible()
    r = Response.objects.get()
    assert r.language == "pl" and not r.verified


def test_every_survey_page_in_every_language_passes_axe(browser, live_server):
    version = load_and_publish()
    q = version.questionnaire
    page = open_page(browser, live_server.url, PHONE)
    page.goto(f"{live_server.url}/survey/")
    assert_accessible(page)
    for lang in q.languages:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/survey/{lang}/")
        assert_accessible(page)
        page.goto(f"{live_server.url}/survey/{lang}/resume/")
        assert_accessible(page)
        page.click("button[type=submit]")  # an empty resume code: the error page
        page.wait_for_load_state("load")
        assert_accessible(page)
        page.goto(f"{live_server.url}/survey/{lang}/")
        page.fill("#code", "ACDE-FGHJ-KMNP")  # an invented code: the start page with its error
        page.click("#start")
        page.wait_for_load_state("load")
        assert_accessible(page)
        page.fill("#code", "")
        page.click("#start")
        page.wait_for_load_state("load")
        assert_accessible(page)  # the resume code
        page.click("#continue")
        page.click("#next")  # nothing chosen: the question page with its errors
        page.wait_for_load_state("load")
        assert_accessible(page)
        _answer_every_page(page, q, check_each=assert_accessible)
        assert_accessible(page)  # check your answers
        page.click("#submit")
        page.wait_for_load_state("load")
        assert_accessible(page)  # thank you
    # the pages with a form error answer 400 on purpose (Chromium logs that); nothing else may be logged
    assert not page.watch.offhost
    assert not [e for e in page.watch.errors if "status of 400" not in e], page.watch.errors


def _staff(email: str, role: str) -> str:
    return user(email, role, password=PASSWORD).email


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_results_and_invitation_pages_pass_axe(browser, live_server, viewport):
    """axe WCAG 2.2 AA on the staff pages: the published results (tables), the unsuppressed form with
    its errors and the unsuppressed figures; issuing invitations (the form, its error, the letters)."""
    version = load_and_publish()
    year = codes.iso_week()[0] - 1
    generate(version, 80, year, DEMO_RATES, seed=5)
    analyst = _staff("analyst.survey.browser@example.org", "analyst")
    results.publish_period(f"{year}-Q4", User.objects.get(email=analyst), dimensions=("sex",))
    page = open_page(browser, live_server.url, viewport)
    login(page, live_server.url, analyst, PASSWORD)
    page.goto(f"{live_server.url}/survey/results/")
    assert page.locator("table").count() > 5
    assert_accessible(page)
    page.click("#show-unsuppressed")  # no purpose: the form's errors
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-message, .govuk-error-summary").count()
    assert_accessible(page)
    page.fill("#id_purpose", "checking the borough figures before the board")
    page.fill("#id_period", f"{year}-Q4")
    page.click("#show-unsuppressed")
    page.wait_for_load_state("load")
    assert "for use inside the unit only" in page.content()
    assert_accessible(page)
    page.watch.assert_clean()

    police = open_page(browser, live_server.url, viewport)
    login(police, live_server.url, _staff("police.survey.browser@example.org", "police analyst"), PASSWORD)
    police.goto(f"{live_server.url}/survey/staff/invitations/")
    assert_accessible(police)
    police.fill("#id_count", "5")  # under the minimum: the error next to the field
    police.click("#issue")
    police.wait_for_load_state("load")
    assert "Issue at least 20 codes" in police.content()
    assert_accessible(police)
    police.fill("#id_count", "20")
    police.click("#issue")
    police.wait_for_load_state("load")
    assert police.locator("img").count() == 20  # the QR codes
    assert_accessible(police)
    police.watch.assert_clean()
