"""Guards from review 14 (docs/web-survey.md): a published release is checked however it is written and
never changed through the ORM; invitation batches have a minimum size; the unsuppressed results are a POST
with a purpose (a GET writes nothing); the start page's language links keep the invitation code; a NUL
character in a text answer gets the page's own language; no code or answer reaches a log line."""

from __future__ import annotations

import html
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from factories import user_and_client

from vru.analysis import disclosure
from vru.web.accounts.models import AuditLog
from vru.web.survey import codes, drafts, invitations, results
from vru.web.survey.demo import generate
from vru.web.survey.models import Invitation, InvitationBatch, PublishedRelease, VersionLocked

pytestmark = pytest.mark.django_db
Y = codes.iso_week()[0] - 1



def _release(user, **over):
    fields = {"slug": "victim-voice", "period": f"{Y}-Q4", "sequence": 1, "published_by": user,
              "ledger": {"format": disclosure.LEDGER_FORMAT, "tables": [
                  {"name": "t", "population": "p", "period": [f"{Y} Q1"],
                   "cells": [{"labels": {"a": "x"}, "n": 12}, {"labels": {"a": "y"}, "n": None}]}]},
              "tables": [{"key": "stages", "title": "t",
                          "columns": ["Stage", "Respondents (base)", "% satisfied"],
                          "rows": [["Contact", 12, 7.5], ["Treatment", "suppressed", "suppressed"]]}]}
    fields.update(over)
    return PublishedRelease(**fields)


def test_a_release_written_through_the_orm_is_checked_and_never_changed(version):
    analyst, _ = user_and_client("an-guard@example.org", "analyst")
    pm, _ = user_and_client("pm-guard@example.org", "programme manager")
    small = {"format": disclosure.LEDGER_FORMAT, "tables": [
        {"name": "t", "population": "p", "period": [f"{Y} Q1"], "cells": [{"labels": {"a": "x"}, "n": 3}]}]}
    for over, message in [
            ({"ledger": small}, "a published count of 3"),
            ({"ledger": {"tables": []}}, "not in the format"),
            ({"tables": [{"key": "k", "columns": ["Stage", "Respondents (base)"], "rows": [["A", 4]]}]},
             "a count of 4"),
            ({"tables": [{"key": "k", "columns": ["Stage", "% satisfied"], "rows": [["A", "TODO"]]}]},
             "'TODO' is not a figure"),
            ({"tables": [{"key": "k", "columns": ["Stage", "% satisfied"], "rows": [["A", None]]}]},
             "None is not a figure"),
            ({"tables": []}, "has its tables"),
            ({"period": f"{Y + 2}-Q1"}, "not a period that has ended"),
            ({"period": "soon"}, "period 'soon'"),
            ({"published_by": pm}, "survey.publish_results")]:
        with pytest.raises(ValidationError, match=message):
            _release(analyst, **over).save()
    assert PublishedRelease.objects.count() == 0
    with pytest.raises(VersionLocked):
        PublishedRelease.objects.bulk_create([_release(analyst)])
    entry = _release(analyst)
    entry.save()  # a well-formed release: percentages under 10 are figures, not counts
    for attempt in (lambda: PublishedRelease.objects.filter(pk=entry.pk).update(period=f"{Y}-Q3"),
                    lambda: PublishedRelease.objects.all().delete(),
                    lambda: PublishedRelease.objects.filter(pk=entry.pk).delete(), entry.delete, entry.save):
        with pytest.raises(VersionLocked):
            attempt()
    assert PublishedRelease.objects.get().period == f"{Y}-Q4"


def test_a_release_published_by_the_platform_passes_its_own_check(version):
    analyst, _ = user_and_client("an-guard2@example.org", "analyst")
    generate(version, 120, Y, {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6,
                               "stage_treatment": 0.85, "stage_overall": 0.7}, seed=3)
    entry = results.publish_period(f"{Y}-Q4", analyst, dimensions=("sex",))
    entry.check_release()
    counts = [v for t in entry.tables for row in t["rows"] for col, v in zip(t["columns"][1:], row[1:],
                                                                              strict=True)
              if col.startswith(("Respondents", "Comments")) and isinstance(v, int | float)]
    assert counts and min(counts) >= 10


def test_an_invitation_batch_under_the_minimum_is_refused(version):
    police, c = user_and_client("police-guard@example.org", "police analyst")
    assert invitations.MIN_BATCH == 20
    with pytest.raises(ValueError, match="20 to 500 codes"):
        invitations.issue(police, 19)
    for count in (1, 19):
        r = c.post("/survey/staff/invitations/", {"count": count})
        page = html.unescape(r.content.decode())
        assert r.status_code == 200 and "Issue at least 20 codes" in page
    with pytest.raises(CommandError, match="20 to 500"):
        call_command("survey_invite", count=1, issued_by=police.email, base_url="https://vru.example/survey/",
                     out="/nonexistent/never-written.csv", stdout=io.StringIO())
    assert InvitationBatch.objects.count() == 0 and Invitation.objects.count() == 0
    assert len(invitations.issue(police, 20)[1]) == 20


def test_the_unsuppressed_results_are_a_post_with_a_purpose_and_a_get_writes_nothing(version):
    analyst, ac = user_and_client("an-guard3@example.org", "analyst")
    _, pm = user_and_client("pm-guard3@example.org", "programme manager")
    generate(version, 60, Y, {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6,
                              "stage_treatment": 0.85, "stage_overall": 0.7}, seed=4)
    audited = AuditLog.objects.filter(action="view unsuppressed survey results")
    r = ac.get("/survey/results/", {"purpose": "quality check of the figures"})
    assert r.status_code == 200 and "for use inside the unit only" not in r.content.decode()
    r2 = ac.get("/survey/results/", {"purpose": "quality check of the figures", "period": f"{Y}-Q4"})
    assert r2.status_code == 404  # not published; a GET never shows the unsuppressed figures
    assert audited.count() == 0
    assert 'method="post"' in r.content.decode()
    r = ac.post("/survey/results/", {"period": f"{Y}-Q4"})  # no purpose: a form error, nothing recorded
    assert r.status_code == 200 and "for use inside the unit only" not in r.content.decode()
    assert audited.count() == 0
    r = ac.post("/survey/results/", {"purpose": "quality check of the figures", "period": f"{Y}-Q4"})
    assert "for use inside the unit only" in r.content.decode()
    assert audited.get().purpose.startswith("quality check of the figures")
    assert pm.post("/survey/results/", {"purpose": "quality check of the figures"}).status_code == 403
    assert audited.count() == 1


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
