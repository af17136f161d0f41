"""What several survey test modules share: the respondent's browser (an address, a user agent and a
referrer that must never be stored), the count of drafts waiting, a respondent sent through every page
(``send``) and a draft with every required answer (``filled_draft``)."""

from __future__ import annotations

from django.test import Client

from vru.web.survey import drafts, flow

IP = "203.0.113.77"
UA = "Mozilla/5.0 (AnonTest) UA-9f3c"
REFERER = "https://referrer.example/secret-page"
FREE_TEXT = "Pool-canary 7f3e: the officer at Brixton was kind"


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA, HTTP_REFERER=REFERER)


def n_drafts() -> int:
    return drafts.store().count()


def send(version, code: str = "", n: int = 0) -> None:
    """One respondent through the pages; the free text names the respondent (for the attacker's check)."""
    q = version.questionnaire
    c = Client()
    assert c.post("/survey/en/", {"code": code}).status_code == 302
    for i, group in enumerate(q.groups, start=1):
        data = {"version": version.pk}
        for x in q.group_questions(group):
            data[x.key] = f"{FREE_TEXT} respondent {n}" if x.text else x.options[n % len(x.options)]
        assert c.post(f"/survey/en/q/{i}/", data).status_code == 302
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/done/")


def filled_draft(version, code: str = ""):
    """A started draft with the first option of every required or staged closed question."""
    q = version.questionnaire
    _, draft = flow.start(version, code)
    answers = {k: question.options[0] for k, question in q.questions.items()
               if not question.text and (question.required or question.stage)}
    flow.save_page(draft, answers)
    return draft
