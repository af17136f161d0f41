"""The survey's first page, /survey/ (``survey:choose_language``): the language links, and an invitation
link opened by a preview."""

from __future__ import annotations

import pytest
from survey_helpers import client, n_drafts

from vru.web.survey import invitations
from vru.web.survey.models import Invitation, Response

pytestmark = pytest.mark.django_db


def test_an_invitation_link_opened_by_a_preview_records_nothing(version, police):
    _, issued = invitations.issue(police, 20)
    before = (n_drafts(), Invitation.objects.filter(used=True).count(), Response.objects.count())
    c = client()
    for url in (f"/survey/?c={issued[0]}", f"/survey/ar/?c={issued[0]}"):
        r = c.get(url)
        assert r.status_code == 200
    assert issued[0][:4] in r.content.decode()  # the code is carried into the form
    after = (n_drafts(), Invitation.objects.filter(used=True).count(), Response.objects.count())
    assert after == before
