"""The survey's start page, /survey/<lang>/ (``survey:start``): its promises, invitation codes (burnt at the
start, refused when invented or used, rate-limited), its cookies and language links."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.conf import settings
from django.test import Client
from factories import complete_survey, start_survey, user
from survey_helpers import client, n_drafts

from vru.web.survey import codes, drafts, flow, invitations
from vru.web.survey.models import Answer, Invitation, Response
from vru.web.survey.questionnaire import Questionnaire, load_folder

pytestmark = pytest.mark.django_db


def test_the_first_page_promises_only_what_is_true_in_every_language(version):
    """Version 3 says, in every language, that the partial answers are kept under the resume code until the
    end, and that for some days whoever runs the database server, its transaction log or its backups could
    tell which code went with which answers (version 2 said only "someone with full access to the database,
    on a quiet day, until the nightly reordering": the heap's row versions and the transaction log keep the
    order and times of the writes longer than that). Versions 1 and 2, which earlier responses were given
    under, are unchanged; every translation of the new strings is marked not reviewed."""
    v1, v2 = (Questionnaire(load_folder(f"victim-voice-{n}")) for n in (1, 2))
    new = version.questionnaire
    assert version.number == 3 and new.languages == v2.languages == v1.languages
    for lang in new.languages:
        page = Client().get(f"/survey/{lang}/").content.decode()
        for key in ("ui.store_3", "ui.notstore_3"):
            assert html.escape(new.text(lang, key)) in page, (lang, key)  # Django escapes quotes too
        assert html.escape(v2.text(lang, "ui.notstore_3"), quote=False) not in page, lang
        assert new.text(lang, "ui.notstore_3") != v2.text(lang, "ui.notstore_3"), lang
        assert lang == "en" or new.review(lang) == "not_reviewed", lang
        for key in ("ui.your_code_text", "err.code_used"):
            assert new.text(lang, key) == v2.text(lang, key) != v1.text(lang, key), (lang, key)
    en = new.text("en", "ui.notstore_3")
    assert "whoever runs the database server, its transaction log or its backups" in en
    assert "which code went with which answers, and roughly when" in en and "restrict" in en
    assert "deleted when you send them, or at the end of next week" in new.text("en", "ui.store_3")
    assert "until the answers are reordered each night" in v2.text("en", "ui.notstore_3")
    assert "when you finish, the code is only marked as used" in v1.text("en", "ui.notstore_3")


def test_a_verified_response_burns_its_code_and_the_code_refuses_a_second(version, police):
    _, issued = invitations.issue(police, 20)
    c = client()
    last = complete_survey(c, version, lang="ar", code=issued[0])
    r = Response.objects.get()
    assert r.verified and r.language == "ar" and r.version == version
    assert (r.iso_year, r.iso_week) == codes.iso_week()
    assert Answer.objects.filter(response=r).count() == len(version.questionnaire.questions)
    assert all(a.version_id == version.pk for a in Answer.objects.all())
    assert Invitation.objects.filter(used=True).count() == 1 and n_drafts() == 0
    # the flow's cookies are gone
    for cookie in ("vru_survey", settings.CSRF_COOKIE_NAME):
        assert last.cookies[cookie].value == "" and last.cookies[cookie]["max-age"] == 0, cookie
    assert "تم إرسال إجاباتك" in c.get("/survey/ar/done/").content.decode()
    # the same code again: refused, nothing written
    c2 = client()
    r = c2.post("/survey/ar/", {"code": issued[0]})
    assert r.status_code == 409
    assert "سبق استخدام هذا الرمز" in r.content.decode()
    assert n_drafts() == 0 and Response.objects.count() == 1


def test_a_code_starts_one_survey_and_is_burnt_at_the_start(version, police):
    _, issued = invitations.issue(police, 20)
    a, b = client(), client()
    complete_survey(a, version, lang="en", code=issued[0])
    assert b.post("/survey/en/", {"code": issued[0]}).status_code == 409
    assert Response.objects.count() == 1
    # the second code: burnt when its survey starts, so a second start is refused while the first is open
    assert a.post("/survey/en/", {"code": issued[1]}).status_code == 302
    assert Invitation.objects.filter(used=True).count() == 2
    assert drafts.store().load(a.cookies["vru_survey"].value).verified
    r = b.post("/survey/en/", {"code": issued[1]})
    assert r.status_code == 409 and "carry on with your resume code" in r.content.decode()
    assert n_drafts() == 1


def test_an_invented_code_is_refused_with_a_clear_message(version):
    c = client()
    for code in ("ACDE-FGHJ-KMNP", "hello", "0000-0000-0000"):
        r = c.post("/survey/en/", {"code": code})
        assert r.status_code == 400
        assert "This code is not valid" in r.content.decode()
    assert n_drafts() == 0


def test_wrong_codes_are_rate_limited_per_network_without_storing_it(version):
    c = client()
    statuses = [c.post("/survey/en/", {"code": codes.new_code()}).status_code for _ in range(22)]
    assert statuses[:20] == [400] * 20 and statuses[-1] == 429, statuses
    # another network is not limited
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/survey/en/", {"code": "ACDE-FGHJ-KMNP"}).status_code == 400


def test_one_code_is_rate_limited_from_any_network(version):
    code = codes.new_code()
    statuses = [Client(REMOTE_ADDR=f"198.51.{i}.1").post("/survey/en/", {"code": code}).status_code
                for i in range(12)]
    assert statuses[:10] == [400] * 10 and statuses[-1] == 429, statuses


def test_the_csrf_cookie_is_a_browser_session_cookie(version):
    """Finding 6: the survey's CSRF cookie must not outlive the browser session (it used to last a year)."""
    r = client().get("/survey/en/")
    assert r.status_code == 200
    cookie = r.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == "", (cookie["max-age"], cookie["expires"])


def _week(days: int) -> int:
    return codes.current_week_number(dt.date.today() + dt.timedelta(days=days))


def test_a_start_purges_past_weeks_too(version):
    store = drafts.store()
    store._write(store._ensure(_week(-7)), "a" * 64, b"x", _week(-7))
    start_survey()
    assert [p.parent.name for p in store.files()] == [f"{codes.draft_expiry():06d}"]


def test_the_start_pages_language_links_keep_the_invitation_code(version):
    q = version.questionnaire
    code = codes.new_code()
    for url in (f"/survey/en/?c={code}", f"/survey/ar/?c={codes.display(code).lower()}"):
        page = Client().get(url).content.decode()
        for lang in q.languages:
            assert f'href="/survey/{lang}/?c={code}"' in page, (url, lang)
    page = Client().get("/survey/en/?c=not-a-code").content.decode()
    assert 'href="/survey/pl/"' in page and "?c=" not in page
    # a refused code is shown again with the error, and the language links keep it too
    r = Client().post("/survey/tr/", {"code": code})
    assert r.status_code == 400 and f'href="/survey/en/?c={code}"' in r.content.decode()


def test_wrong_codes_on_a_shared_network_do_not_lock_out_valid_codes(version):
    """Many people share one address behind a mobile carrier's NAT: someone there typing 20 wrong codes
    used to lock everyone on the network out, valid invitation and resume codes included, for the hour.
    The network's wrong-code limit now counts and refuses failed lookups only."""
    from django.test import Client

    from vru.web.survey import codes, invitations

    _, issued = invitations.issue(user("police-nat@example.org", "police analyst"), 20)
    resume_code, _ = flow.start(version)
    guesser = Client(REMOTE_ADDR="100.64.7.10")
    statuses = [guesser.post("/survey/en/", {"code": codes.new_code()}).status_code for _ in range(21)]
    statuses += [guesser.post("/survey/en/resume/", {"resume_code": codes.new_code()}).status_code]
    assert statuses[:20] == [400] * 20 and statuses[20:] == [429, 429], statuses
    neighbour = Client(REMOTE_ADDR="100.64.7.99")  # the same /24
    assert neighbour.post("/survey/en/", {"code": codes.new_code()}).status_code == 429
    assert neighbour.post("/survey/en/", {"code": issued[0]}).status_code == 302
    assert neighbour.post("/survey/en/resume/", {"resume_code": resume_code}).status_code == 302
