"""The question pages, /survey/<lang>/q/<step>/ (``survey:step``): answers refused with a clear message and
nothing half-written, pages without a draft, a failed write."""

from __future__ import annotations

import copy
import html
from unittest import mock

import pytest
from django.test import Client
from factories import start_survey, survey_page
from survey_helpers import client

from vru.web.survey import drafts
from vru.web.survey.models import QuestionnaireVersion, Response

pytestmark = pytest.mark.django_db


def _draft_state():
    """Every draft file's name and bytes (a write, even of the same answers, changes the bytes)."""
    return {str(p): p.read_bytes() for p in drafts.store().files()}


def test_an_answer_outside_the_scale_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data.update(version=version.pk, stage_overall="ecstatic")
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 400
    assert "Choose one of the answers shown" in r.content.decode()
    assert _draft_state() == before


def test_an_unknown_question_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data.update(version=version.pk, favourite_colour="blue")
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 400 and "not in this survey" in r.content.decode()
    assert _draft_state() == before


def test_a_stale_questionnaire_version_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data["version"] = version.pk + 1000
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 409 and "The survey has changed" in r.content.decode()
    assert _draft_state() == before
    # a new version published while the draft is open: its answers are refused too, nothing written
    d = copy.deepcopy(version.definition)
    d["number"] = version.number + 1
    QuestionnaireVersion.objects.create(slug="victim-voice", number=d["number"], definition=d).publish()
    data["version"] = version.pk
    assert started.post("/survey/en/q/2/", data).status_code == 409
    assert started.post("/survey/en/check/", {"version": version.pk}).status_code == 409
    assert _draft_state() == before and Response.objects.count() == 0


def test_a_missing_required_answer_and_too_long_text_are_refused(version, started):
    before = _draft_state()
    r = started.post("/survey/en/q/1/", {"version": version.pk, "crime_type": "robbery"})
    assert r.status_code == 400 and "Choose an answer" in r.content.decode()
    r = started.post("/survey/en/q/6/", {"version": version.pk, "comment": "x" * 2001})
    assert r.status_code == 400 and "too long" in r.content.decode()
    assert _draft_state() == before and len(before) == 1
    assert drafts.store().load(started.cookies["vru_survey"].value).answers == {}


def test_pages_without_a_draft_say_so(version):
    r = client().get("/survey/en/q/1/")
    assert r.status_code == 404 and "could not find your answers" in r.content.decode()
    assert client().get("/survey/xx/").status_code == 404


def test_every_answer_post_must_carry_the_version(version):
    """Finding 12: a form without ``version`` is refused (400, nothing saved), not let past the check."""
    from vru.web.survey import drafts

    c = client()
    assert c.post("/survey/en/", {"code": ""}).status_code == 302
    q = version.questionnaire
    questions = q.group_questions(q.groups[0])
    data = {question.key: ("x" if question.text else question.options[0]) for question in questions}
    r = c.post("/survey/en/q/1/", data)
    assert r.status_code == 400, r.status_code
    assert "The survey has changed" in r.content.decode()
    assert drafts.store().load(c.cookies["vru_survey"].value).answers == {}
    assert c.post("/survey/en/check/", {}).status_code == 400


def test_a_nul_character_in_a_text_answer_gets_the_pages_own_language(version):
    q = version.questionnaire
    group = next(g for g in q.groups if any(x.text for x in q.group_questions(g)))
    step = q.groups.index(group) + 1
    resume_codes = []
    for lang in q.languages:
        c = Client()
        assert c.post(f"/survey/{lang}/", {"code": ""}).status_code == 302
        resume_codes.append(c.cookies["vru_survey"].value)
        data = {"version": version.pk}
        for x in q.group_questions(group):
            data[x.key] = "kind\x00but slow" if x.text else x.options[0]
        r = c.post(f"/survey/{lang}/q/{step}/", data)
        page = html.unescape(r.content.decode())
        assert r.status_code == 400, lang
        assert q.text(lang, "err.invalid_character") in page, lang
        assert "Null characters are not allowed" not in page, lang
    assert all(drafts.store().load(code).answers == {} for code in resume_codes)


def _page_one(version) -> dict:
    return survey_page(version, version.questionnaire.groups[0], "words")


def test_a_page_whose_write_fails_keeps_the_draft_and_answers_503(version):
    c = start_survey()
    before = {p.name: p.read_bytes() for p in drafts.store().files()}
    with mock.patch.object(drafts.DraftStore, "_write", side_effect=OSError(28, "No space left on device")):
        r = c.post("/survey/en/q/1/", _page_one(version))
    assert r.status_code == 503 and b'data-message="err.unavailable"' in r.content
    assert r["Retry-After"]
    assert {p.name: p.read_bytes() for p in drafts.store().files()} == before  # not claimed, not lost
    assert c.post("/survey/en/q/1/", _page_one(version)).status_code == 302  # and it saves next time
