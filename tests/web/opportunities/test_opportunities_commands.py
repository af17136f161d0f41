"""The opportunities web app: the management commands."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from factories import PASSWORD, opportunity, user, young_person
from opportunities_helpers import _signup

from vru.web.accounts.models import User
from vru.web.opportunities.models import YoungPerson

pytestmark = pytest.mark.django_db


def test_expire_command(capsys):
    opportunity(visible_to=timezone.now() - dt.timedelta(hours=1))
    call_command("expire_opportunities")
    assert "expired 1, published 0" in capsys.readouterr().out


def test_sign_ups_whose_link_expired_unused_are_deleted_by_the_scheduled_command():
    """Retention: a sign-up never confirmed can no longer be, once its link has expired, so the
    scheduled ``expire_opportunities`` deletes it (nickname and year of birth with it). A confirmed
    account, a fresh sign-up and a deactivated staff account are kept."""
    from io import StringIO

    from django.core.management import call_command

    _signup(Client(), "stale@example.org", nickname="Old")
    _signup(Client(), "fresh@example.org", nickname="New")
    kept = young_person("kept@example.org", "Kept")
    staff = user("gone.staff@example.org", password=PASSWORD, is_active=False)
    old = dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT, minutes=1)
    User.objects.filter(email__in=["stale@example.org", "kept@example.org", "gone.staff@example.org"]) \
        .update(date_joined=timezone.now() - old)
    out = StringIO()
    call_command("expire_opportunities", stdout=out)
    assert "deleted 1 unconfirmed sign-ups" in out.getvalue()
    emails = set(User.objects.values_list("email", flat=True))
    assert "stale@example.org" not in emails
    assert {"fresh@example.org", "kept@example.org", staff.email} <= emails
    assert not YoungPerson.objects.filter(nickname="Old").exists()
    assert kept.young_person.nickname == "Kept"
