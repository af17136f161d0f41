"""The check-and-send page, /survey/<lang>/check/ (``survey:check``): a send stores one response, goes back
to the first unanswered page, survives a failed send."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from factories import answer_survey, complete_survey, start_survey, user
from survey_helpers import client

from vru.web.survey import drafts, pool
from vru.web.survey.models import Response

pytestmark = pytest.mark.django_db


def test_an_open_link_response_is_unverified(version):
    complete_survey(client(), version, lang="pl")
    assert Response.objects.get().verified is False


def test_sending_before_every_page_is_answered_goes_back_to_the_first_gap(version, started):
    r = started.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/q/1/")
    assert Response.objects.count() == 0


def _police():
    return user("police-xmin@example.org", "police analyst")


def _complete(c: Client, version, code: str = "") -> None:
    complete_survey(c, version, code=code, text="Kind but slow.")


def test_a_retry_after_a_failed_send_still_completes_verified(version):
    """The code was burnt at the start and the draft says only that one was used: if writing the response
    fails, sending again completes, verified."""
    from unittest import mock

    from vru.web.survey import drafts, invitations, pool
    from vru.web.survey.models import Invitation, Response

    _, issued = invitations.issue(_police(), 20)
    c = client()
    with mock.patch.object(pool.Pool, "put", side_effect=OSError(28, "No space left on device")):
        with pytest.raises(AssertionError):  # the send is answered 503, not the redirect to done/
            _complete(c, version, issued[0])
    assert Invitation.objects.filter(used=True).count() == 1 and Response.objects.count() == 0
    draft = drafts.store().load(c.cookies["vru_survey"].value)
    assert draft.verified and [p.name for p in drafts.store().files()] == [draft.key]  # put back, whole
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/done/")
    assert Response.objects.get().verified and drafts.store().files() == []


FREE_TEXT = "Zebra-crossing 7741 officer Quixley never rang back"


def _answer_all(c: Client, version, lang: str = "en") -> None:
    answer_survey(c, version, lang=lang, text=FREE_TEXT)


def test_a_failing_send_transaction_leaves_the_draft_to_send_again(version):
    c = start_survey()
    _answer_all(c, version)
    before = {str(p): p.read_bytes() for p in drafts.store().files()}
    with mock.patch.object(pool.Pool, "put", side_effect=OSError(28, "No space left on device")):
        r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 503 and b'data-message="err.unavailable"' in r.content  # not a 500
    assert Response.objects.count() == 0 and pool.pool().waiting() == 0
    assert {str(p): p.read_bytes() for p in drafts.store().files()} == before  # put back as it was
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/done/")
    assert Response.objects.count() == 1 and drafts.store().files() == []
