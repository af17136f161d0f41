"""The survey's management commands that have no module of their own: survey_invite."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from vru.web.survey.models import Invitation

pytestmark = pytest.mark.django_db


def test_the_invitation_command_writes_letters_sms_and_qr_codes(version, police, tmp_path):
    out = tmp_path / "codes.csv"
    call_command("survey_invite", count=20, issued_by=police.email, base_url="https://vru.example/survey/",
                 out=str(out), qr_dir=str(tmp_path / "qr"), stdout=io.StringIO())
    rows = out.read_text().splitlines()
    assert len(rows) == 21 and rows[0] == '"code","link","letter","sms"'
    assert "used up when you start" in rows[1] and "cannot be linked" not in rows[1]
    assert len(list((tmp_path / "qr").glob("*.svg"))) == 20
    assert Invitation.objects.count() == 20
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="exists"):
        call_command("survey_invite", count=20, issued_by=police.email, base_url="https://x/", out=str(out))
