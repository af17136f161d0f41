"""What the survey leaves in log lines: no code, answer or respondent page path reaches one."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from factories import user_and_client

from vru.web.survey import codes, invitations

pytestmark = pytest.mark.django_db


def test_no_code_or_answer_reaches_a_log_line(version, capsys):
    police, _ = user_and_client("police-guard4@example.org", "police analyst")
    _, issued = invitations.issue(police, 20)
    code, resume_like = issued[0], codes.new_code()
    answer = "Unmistakable-answer-4471"
    capsys.readouterr()
    c = Client()
    assert c.get(f"/survey/{code}/").status_code == 404  # a code pasted into the address
    assert c.get(f"/survey/{codes.display(resume_like)}/q/1/").status_code == 404
    assert c.get(f"/survey/en/{code.lower()}/").status_code == 404
    assert Client(enforce_csrf_checks=True).post(f"/survey/{code}/", {"code": code}).status_code == 403
    assert c.post(f"/survey/en/?c={code}", {"code": resume_like}).status_code == 400  # invented code
    assert c.post("/survey/en/", {"code": code}).status_code == 302
    q = version.questionnaire
    group = next(g for g in q.groups if any(x.text for x in q.group_questions(g)))
    data = {"version": version.pk, **{x.key: answer * 100 if x.text else "not-an-option"  # too long
                                      for x in q.group_questions(group)}}
    assert c.post(f"/survey/en/q/{q.groups.index(group) + 1}/", data).status_code == 400
    assert c.post("/survey/en/q/1/", {"version": version.pk, "borough": answer}).status_code == 400
    assert c.post("/survey/en/check/", {"version": "999", "comment": answer}).status_code == 409
    assert Client(HTTP_HOST="evil.example").get("/survey/ar/q/1/").status_code == 400  # DisallowedHost
    # the same refusals elsewhere on the platform are logged: the capture sees the lines it checks
    assert c.get(f"/nowhere/{code}/").status_code == 404
    assert Client(HTTP_HOST="evil.example").get("/accounts/login/").status_code == 400
    out = capsys.readouterr()
    logs = out.out + out.err
    lines = [json.loads(x) for x in logs.splitlines() if x.startswith("{")]
    assert any(x.get("status") == 404 and x.get("path", "").startswith("/nowhere/") for x in lines), logs
    assert any(x["logger"] == "django.security.DisallowedHost" and x.get("path") == "/accounts/login/"
               for x in lines), logs
    # nothing at all of the refused requests on the survey's respondent pages: not the path, not the time
    assert not any("/survey/" in json.dumps(x) for x in lines), logs
    for secret in (code, codes.display(code), code.lower(), resume_like, codes.display(resume_like), answer):
        assert secret not in logs.replace(f"/nowhere/{code}/", ""), secret


def test_a_server_error_on_a_survey_page_is_logged_without_its_path(version, capsys, monkeypatch):
    """A 5xx must be seen and fixed: its line is kept, with the path withheld (the language and page
    would say who answered what, when)."""
    from vru.web.survey import flow

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    c = Client(raise_request_exception=False)
    assert c.post("/survey/ar/", {"code": ""}).status_code == 302
    monkeypatch.setattr(flow, "save_page", broken)
    q = version.questionnaire
    data = {"version": version.pk, **{x.key: x.options[0] for x in q.group_questions(q.groups[0])}}
    capsys.readouterr()
    assert c.post("/survey/ar/q/1/", data).status_code == 500
    out = capsys.readouterr()
    lines = [json.loads(x) for x in (out.out + out.err).splitlines() if x.startswith("{")]
    errors = [x for x in lines if x.get("status") == 500]
    assert errors and all(x["path"] == "/survey/[path withheld]" for x in errors), lines
    assert "disk full" in errors[0]["exc"]
    assert not any("/survey/ar" in json.dumps(x) for x in lines), lines


def test_the_demo_servers_request_lines_for_respondent_pages_are_dropped():
    """``vru serve`` (Django's development server) logs every request line with its time: none for a
    respondent page, whatever the status; the staff pages and other apps are logged as before."""
    import logging

    from vru.web.survey.logfilter import SurveyPathFilter

    logger = logging.getLogger("django.server")
    assert any(isinstance(f, SurveyPathFilter) for f in logger.filters)

    def kept(line: str, status: str = "200") -> bool:
        record = logger.makeRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s',
                                   (line, status, "512"), None)
        return all(f.filter(record) for f in logger.filters)

    assert not kept("POST /survey/ar/q/1/ HTTP/1.1", "302")
    assert not kept("GET /survey/?c=ACDEFGHJKMNP HTTP/1.1")
    assert not kept("GET /survey/ACDE-FGHJ-KMNP/ HTTP/1.1", "404")
    assert kept("GET /survey/results/ HTTP/1.1") and kept("GET /accounts/login/ HTTP/1.1", "404")
