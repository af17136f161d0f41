"""Who may open the dashboard: anonymous visitors are sent to sign in (pages) or refused (API), a user
with no role gets 403, and every role holds ``accounts.view_dashboard`` and sees the overview."""

from __future__ import annotations

import pytest
from dashboard_helpers import API, PAGES, page_text
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from factories import signed_in, user

from vru.web.accounts.roles import ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


@pytest.mark.parametrize("name,args", PAGES)
def test_pages_send_anonymous_visitors_to_sign_in(name, args):
    r = Client().get(reverse(name, args=args))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,args", PAGES + API)
def test_signed_in_user_without_a_role_gets_403(norole, name, args):
    assert norole.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name,args", API)
def test_api_refuses_anonymous_requests(name, args):
    r = Client().get(reverse(name, args=args))
    assert r.status_code in (401, 403)


def test_every_role_holds_the_dashboard_permission():
    assert all("accounts.view_dashboard" in perms for perms in ROLES.values())
    for role in ROLES:
        assert Group.objects.get(name=role).permissions.filter(codename="view_dashboard").exists()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_sees_the_overview(role):
    r = signed_in(user(f"{role.replace(' ', '-')}@example.org", role)).get(reverse("dashboard:overview"))
    assert r.status_code == 200
    assert "Borough league table" in page_text(r)
