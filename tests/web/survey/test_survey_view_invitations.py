"""The staff page that issues invitation codes, /survey/staff/invitations/ (``survey:invitations``)."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from factories import signed_in, user_and_client

from vru.web.accounts.models import AuditLog
from vru.web.survey import codes, invitations
from vru.web.survey.models import Invitation, InvitationBatch

pytestmark = pytest.mark.django_db


def test_police_issue_a_batch_shown_once_and_stored_only_as_keyed_hashes(version, police):
    c = signed_in(police)
    assert c.get("/survey/staff/invitations/").status_code == 200
    assert Invitation.objects.count() == 0  # a GET issues nothing
    r = c.post("/survey/staff/invitations/", {"count": 20, "note": "week 12 letters"})
    html = r.content.decode()
    shown = re.findall(r'survey-code[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})<', html)
    assert len(shown) == 20 and html.count("data:image/svg+xml") == 20
    assert "no-store" in r["Cache-Control"]
    hashes = set(Invitation.objects.values_list("code_hash", flat=True))
    assert hashes == {codes.code_hash(s, "invitation") for s in shown}
    assert not any(codes.normalise(s) in h for s in shown for h in hashes)
    assert AuditLog.objects.filter(action="issue survey invitations", user=police).count() == 1
    # an analyst may not issue codes
    _, c2 = user_and_client("analyst@example.org", "analyst")
    assert c2.post("/survey/staff/invitations/", {"count": 20}).status_code == 403


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
