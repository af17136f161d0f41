"""Rescue and Response in a real browser (headless Debian Chromium driven by Playwright) on a phone
(390 x 844), each person signed in through the real sign-in form: the whole journey of a case.

A professional refers a young person (a date of birth making them 9 is refused next to the field first); a
provider manager accepts the referral and allocates it by the rules; a caseworker records two sessions, a need
and a rescue, and closes the case with its outcomes; the analyst's figures then count it. On every page of the
app visited: axe-core's WCAG 2.0/2.1/2.2 A and AA rules pass, one ``h1``, nothing scrolls sideways, no
console error and no request off the machine; the page title never holds the young person's name.

The service's 2020-21 demo data (593 referrals) is loaded first, so that the figures, which hide counts below
10, are published and the one new case shows in them.

Screenshots go to ``$VRU_SCREENSHOTS_DIR/web/referrals-<page>-phone.png`` when that is set.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from browser_util import PHONE, assert_accessible, login, open_page, screenshot
from django.utils import timezone
from factories import PASSWORD, user

from vru.web.accounts.models import AuditLog, Organisation, User
from vru.web.referrals import demo, reports
from vru.web.referrals.models import Closure, Contact, Provider, Referral, Rescue

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NAME = "Quentin Browsertest"
BARKING = "E09000002"


def _person(email: str, role: str, org: Organisation | None) -> str:
    """The address of a new user in ``role``, named after it, who signs in with ``PASSWORD``."""
    return user(email, role, org, password=PASSWORD, full_name=email.split("@")[0].title()).email


def _world() -> dict:
    demo.generate(seed=11)
    st_giles = Organisation.objects.get(name="St Giles Trust (demo)")
    Provider.objects.filter(organisation=st_giles).update(triage_hub=True)  # its manager triages
    school = Organisation.objects.create(name="A school (browser test)", kind="other")
    return {
        "referrer": _person("referrer.browser@example.org", "referrer", school),
        "manager": _person("manager.browser@example.org", "provider manager", st_giles),
        "caseworker": _person("caseworker.browser@example.org", "caseworker", st_giles),
        "analyst": _person("analyst.browser@example.org", "analyst", None),
    }


def _check(page, name: str, seen: list[str]) -> None:
    """What every page of the app must be, on a phone."""
    assert "/referrals/" in page.url, page.url
    assert page.locator("h1").count() == 1, page.url
    assert NAME not in page.title() and "Quentin" not in page.url, page.url
    assert_accessible(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow} px on a phone"  # 1 px: rounding
    screenshot(page, f"referrals-{name}-phone")
    seen.append(name)


def _clean(page, bad_requests: int = 0) -> None:
    """No request off the machine and no console error, but for the ``bad_requests`` form pages sent with
    mistakes on purpose: they answer 400, which Chromium logs as a failed resource."""
    expected = [e for e in page.watch.errors if "the server responded with a status of 400" in e]
    assert len(expected) == bad_requests, page.watch.errors
    page.watch.errors[:] = [e for e in page.watch.errors if e not in expected]
    page.watch.assert_clean()


def _submit(page, button: str = "main button[type=submit]") -> None:
    with page.expect_navigation(wait_until="load"):
        page.locator(button).first.click()


def _follow(page, link: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name=link).click()


def _signed_in(browser, live_server, email: str):
    page = open_page(browser, live_server.url, PHONE)
    login(page, live_server.url, email, PASSWORD)
    return page


def test_the_whole_journey_of_a_case_on_a_phone(browser, live_server, monkeypatch):
    people = _world()
    before = reports.service_report()
    engaged_before = Closure.objects.filter(engaged=True).count()  # 151 of the demo's 243 accepted
    assert before["total"] == 593
    seen: list[str] = []
    base = live_server.url
    today = timezone.localdate()

    # 1. a professional refers
    page = _signed_in(browser, live_server, people["referrer"])
    page.goto(base + "/referrals/mine/", wait_until="load")
    _check(page, "mine", seen)
    _follow(page, "Make a referral")
    _check(page, "new", seen)
    page.check("#id_kind_0")  # intervention
    page.select_option("#id_sector", "education")
    page.fill("#id_name", NAME)
    page.fill("#id_date_of_birth", today.replace(year=today.year - 9).isoformat())  # 9 today
    page.select_option("#id_gender", "male")
    page.select_option("#id_borough", BARKING)
    page.check("#id_ind_county_lines")
    page.check("#id_need_rescue")
    page.fill("#id_missing_episodes", "3")
    page.check("#id_consent_0")
    page.check("#id_lawful_basis_0")
    page.fill("#id_concerns", "Found in a trap house in another county")
    _submit(page, "button[name=submit]")
    error = page.locator("#id_date_of_birth-error")
    assert error.is_visible() and "makes them 9" in error.inner_text() and "MASH" in error.inner_text()
    assert page.locator(".govuk-error-summary a[href='#id_date_of_birth']").count() == 1
    assert not Referral.objects.filter(person__name=NAME).exists()
    _check(page, "new-errors", seen)
    page.fill("#id_date_of_birth", today.replace(year=today.year - 16).isoformat())
    _submit(page, "button[name=submit]")
    assert page.locator(".govuk-error-summary").count() == 0, page.content()[:3000]
    _check(page, "submitted", seen)
    r = Referral.objects.get(person__name=NAME)
    assert r.status == "submitted" and r.reference in page.locator("h1").inner_text()
    assert str(r.pk) in page.url
    _clean(page, bad_requests=1)
    page.context.close()

    # 2. a provider manager accepts and allocates
    page = _signed_in(browser, live_server, people["manager"])
    page.goto(base + "/referrals/triage/", wait_until="load")
    _check(page, "triage", seen)
    _follow(page, r.reference)
    _check(page, "decide", seen)
    page.check("#id_decision_0")  # accept
    _submit(page)
    assert "/allocate/" in page.url
    _check(page, "allocate", seen)
    assert "St Giles Trust (demo)" in page.locator("#suggested").inner_text()  # a rescue: the rule's provider
    assert page.locator("#id_provider option:checked").inner_text().startswith("St Giles Trust (demo)")
    _submit(page)
    _check(page, "case-manager", seen)
    r.refresh_from_db()
    assert r.status == "accepted" and r.current_provider.organisation.name == "St Giles Trust (demo)"
    _clean(page)
    page.context.close()

    # 3. a caseworker records sessions, a need and a rescue, then closes the case
    page = _signed_in(browser, live_server, people["caseworker"])
    page.goto(base + "/referrals/", wait_until="load")
    _check(page, "cases", seen)
    _follow(page, r.reference)
    _check(page, "case", seen)
    case_url = page.url
    now = timezone.localtime()
    earlier = max(now - timedelta(hours=2), now.replace(hour=0, minute=1))
    for i, attendance in enumerate(("late", "attended")):
        page.goto(case_url, wait_until="load")
        _follow(page, "Record a contact or session")
        if i == 0:
            _check(page, "contact", seen)
        page.fill("#id_when", (earlier + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M"))
        page.select_option("#id_kind", "session")
        page.check(f"#id_attendance_{['attended', 'late', 'dna'].index(attendance)}")
        page.fill("#id_note", f"Session {i + 1} at the youth club")
        _submit(page)
        assert page.url == case_url, page.url
    _follow(page, "Add a need and desired outcome")
    _check(page, "need", seen)
    page.select_option("#id_category", "exit")
    page.fill("#id_desired_outcome", "Stops running lines")
    _submit(page)
    _follow(page, "Record a rescue")
    _check(page, "rescue", seen)
    page.fill("#id_county", "Norfolk")
    page.select_option("#id_police_force", "Norfolk")
    page.fill("#id_rescued_on", today.isoformat())
    page.fill("#id_returned_on", today.isoformat())
    _submit(page)
    assert page.url == case_url
    _check(page, "case-with-casework", seen)
    assert "Norfolk" in page.locator("#rescues").inner_text()
    assert page.locator("#contacts li").count() == 2
    _follow(page, "Close the case")
    _check(page, "close", seen)
    page.fill("#id_closed_on", (r.referral_date - timedelta(days=1)).isoformat())  # before the referral
    page.select_option("#id_reason", "completed")
    page.check("#id_engaged")
    page.check("#id_involvement_0")  # ceased
    page.select_option("#id_in_eet", "yes")
    page.select_option("#id_fewer_missing", "yes")
    page.select_option("#id_nrm_outcome", "none")
    need = r.need_records.get()
    page.check(f"#id_outcome_{need.pk}_0")  # achieved
    _submit(page)
    assert "before the referral" in page.locator("#id_closed_on-error").inner_text()
    assert not Closure.objects.filter(referral=r).exists()
    _check(page, "close-errors", seen)
    page.fill("#id_closed_on", today.isoformat())
    _submit(page)
    assert page.url == case_url
    _check(page, "case-closed", seen)
    assert "Ceased" in page.locator("#closure").inner_text()
    _clean(page, bad_requests=1)
    page.context.close()
    r.refresh_from_db()
    assert r.status == "closed" and r.closure.engaged and r.closure.involvement == "ceased"
    assert Contact.objects.filter(referral=r).count() == 2 and Rescue.objects.filter(referral=r).count() == 1
    assert r.closure.outcomes.get().achievement == "achieved"
    # every case-page read was audited, with the case's UUID and never the name
    reads = AuditLog.objects.filter(action="view case", object_id=str(r.pk))
    assert reads.count() >= 6 and not reads.filter(purpose__contains="Quentin").exists()

    # 4. the analyst's published figures count it. Only completed, final financial years are published, and
    # the demo's 2020-21 is the one year with enough referrals to publish: the case is dated into it (its
    # last day) and the release day is moved to 1 October 2021, when 2020-21 is complete and final (every
    # referral decided, every case closed) and the latest year, so the page computes it with this case in.
    Referral.objects.filter(pk=r.pk).update(referral_date="2021-03-31")
    monkeypatch.setattr(reports, "_today", lambda: date(2021, 10, 1))
    page = _signed_in(browser, live_server, people["analyst"])
    page.goto(base + "/referrals/reports/", wait_until="load")
    _check(page, "reports", seen)
    after = reports.service_report()
    assert after["total"] == 594
    accepted, engaged = after["rates"]["acceptance"], after["rates"]["engagement"]
    assert accepted["n"] == 594 and accepted["rate"] == round(100 * 244 / 594, 1)  # 243 + this one
    assert engaged["rate"] == round(100 * (engaged_before + 1) / 244, 1)
    assert engaged["rate"] != before["rates"]["engagement"]["rate"]
    # the page the analyst sees counts it: 594 referrals, 244 accepted, and its closure among the engaged
    text = page.locator("main").inner_text()
    published = reports.release(2020)
    assert "2020-21" in text and "Submitted referrals: 594" in text and published["total"] == 594
    assert re.search(rf"Accepted\s+{round(100 * 244 / 594, 1)}% of 594", text), text[:1500]
    assert re.search(rf"Engaged \(of the accepted cases closed[^)]*\)\s+{engaged['rate']}% of 244", text)
    assert NAME not in page.content()
    _clean(page)
    page.context.close()
    assert seen == [
        "mine",
        "new",
        "new-errors",
        "submitted",
        "triage",
        "decide",
        "allocate",
        "case-manager",
        "cases",
        "case",
        "contact",
        "need",
        "rescue",
        "case-with-casework",
        "close",
        "close-errors",
        "case-closed",
        "reports",
    ]


def test_the_other_pages_of_the_app_on_a_phone(browser, live_server):
    """The pages the journey does not pass through: a draft, the intelligence list and its redacted view,
    the break-glass page of a restricted case, the break-glass report, who may open a case, changing the
    referral's details, a risk note, its review, a missing episode, the correction of a contact."""
    from vru.web.referrals import services
    from vru.web.referrals.models import Council, RiskNote, YoungPerson

    org = Organisation.objects.create(name="Safer Streets (browser test)", kind="provider")
    provider = Provider.objects.create(organisation=org, capacity=5)
    brent = Organisation.objects.create(name="Brent Council (browser test)", kind="local_authority")
    Council.objects.create(organisation=brent, borough="E09000005")
    school = Organisation.objects.create(name="A school (browser test)", kind="other")
    people = {
        "referrer": _person("referrer.browser@example.org", "referrer", school),
        "manager": _person("manager.browser@example.org", "provider manager", org),
        "caseworker": _person("caseworker.browser@example.org", "caseworker", org),
        "council": _person("council.browser@example.org", "council user", brent),
    }
    referrer = User.objects.get(email=people["referrer"])
    manager = User.objects.get(email=people["manager"])
    day = timezone.localdate() - timedelta(days=20)

    def referral(**kw) -> Referral:
        r = Referral.objects.create(
            referrer=referrer,
            sector="education",
            referral_date=day,
            borough="E09000005",
            gender="female",
            age_at_referral=15,
            ind_cse=True,
            **kw,
        )
        YoungPerson.objects.create(referral=r, name=NAME, date_of_birth=day.replace(year=day.year - 15))
        return r

    draft = referral(status="draft")
    intel = referral(status="submitted", kind="intelligence", submitted_at=timezone.now())
    intel.shared_with = Council.objects.get()
    intel.save()
    case = referral(status="accepted", submitted_at=timezone.now(), decided_at=timezone.now())
    services.allocate(case, provider, manager)
    note = RiskNote.objects.create(
        referral=case, level="high", text="Owes a debt", review_on=timezone.localdate(), created_by=manager
    )
    contact = Contact.objects.create(
        referral=case, when=timezone.now(), kind="session", attendance="attended", recorded_by=manager
    )
    seen: list[str] = []
    base = live_server.url

    page = _signed_in(browser, live_server, people["referrer"])
    page.goto(f"{base}/referrals/mine/{draft.pk}/", wait_until="load")
    _check(page, "draft", seen)
    _clean(page)
    page.context.close()

    page = _signed_in(browser, live_server, people["council"])
    page.goto(f"{base}/referrals/intelligence/", wait_until="load")
    _check(page, "intelligence", seen)
    _follow(page, intel.reference)
    _check(page, "intelligence-detail", seen)
    assert NAME in page.locator("main").inner_text()  # the council needs to know who; the title does not say
    _clean(page)
    page.context.close()

    page = _signed_in(browser, live_server, people["manager"])
    for name, path in [
        ("access", "access/"),
        ("update", "update/"),
        ("risk", "risk/"),
        ("missing", "missing/"),
        ("risk-review", f"risk/{note.pk}/review/"),
        ("change-contact", f"contact/{contact.pk}/change/"),
    ]:
        page.goto(f"{base}/referrals/cases/{case.pk}/{path}", wait_until="load")
        _check(page, name, seen)
    # no provider is the triage hub here: the manager's landing page says so, and that referrals wait
    page.goto(f"{base}/referrals/", wait_until="load")
    assert "No provider is marked as the central triage hub" in page.locator("#no-hub").inner_text()
    _check(page, "cases-no-hub", seen)
    # the case has no need yet: closing it is refused with the message next to the outcomes' place
    page.goto(f"{base}/referrals/cases/{case.pk}/close/", wait_until="load")
    _submit(page)
    assert "Record at least one need" in page.locator("#id_outcomes-error").inner_text()
    page.locator(".govuk-error-summary a[href='#id_outcomes']").click()
    _check(page, "close-no-need", seen)
    # restrict the case to the manager: the caseworker then meets the break-glass page
    page.goto(f"{base}/referrals/cases/{case.pk}/access/", wait_until="load")
    page.check("#id_restricted")
    page.locator("label[for^=id_allowed_staff_]", has_text="Manager.Browser").click()
    _submit(page)
    assert "/access/" not in page.url, page.content()[:2000]
    _clean(page, bad_requests=1)  # the closure refused on purpose
    page.context.close()

    page = _signed_in(browser, live_server, people["caseworker"])
    page.goto(f"{base}/referrals/cases/{case.pk}/", wait_until="load")
    _check(page, "break-glass", seen)
    assert NAME not in page.content()
    page.fill("#id_reason", "Police called out of hours about her")
    _submit(page)
    assert NAME in page.locator("main").inner_text()
    _clean(page)
    page.context.close()

    page = _signed_in(browser, live_server, people["manager"])
    page.goto(f"{base}/referrals/break-glass/", wait_until="load")
    _check(page, "break-glass-report", seen)
    assert "Police called out of hours" in page.locator("main").inner_text()
    _clean(page)
    page.context.close()
    assert len(seen) == 13
