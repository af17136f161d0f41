"""The ``home`` view, ``/``: a public landing page for visitors; for a signed-in user, links to what
their permissions let them use."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from factories import signed_in, user

from vru.web.accounts.models import User

pytestmark = pytest.mark.django_db


def test_home_is_a_public_landing_page_for_visitors():
    r = Client().get(reverse("home"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Violence reduction platform" in body
    assert f'href="{reverse("login")}"' in body
    assert "Welcome," not in body and "What you can use" not in body


def _home_links(who) -> set[str]:
    body = signed_in(who).get(reverse("home")).content.decode()
    section = body.split("What you can use", 1)[1]
    return set(re.findall(r'<h3 class="govuk-heading-s"><a class="govuk-link" href="([^"]+)"', section))


def test_home_links_follow_each_users_permissions():
    analyst = user("a@example.org", "analyst")
    admin = user("ad@example.org", "administrator", is_staff=True)
    nobody = user("n@example.org")
    public = {reverse("opportunities:search")}
    assert _home_links(nobody) == public
    got = _home_links(analyst)
    assert {reverse("dashboard:overview"), reverse("api-docs")} <= got
    assert reverse("admin:index") not in got and reverse("opportunities:moderation") not in got
    got = _home_links(admin)
    assert {reverse("admin:index"), reverse("opportunities:moderation"), reverse("dashboard:overview")} <= got
    # no link offered is refused to that user (the dashboard may answer 503 here: no warehouse)
    for who in (analyst, admin, nobody):
        c = signed_in(who)
        for href in _home_links(who):
            assert c.get(href).status_code not in (302, 403, 404), (who.email, href)


def test_administration_link_follows_the_admin_sites_own_rule_in_nav_and_home():
    """Django's admin lets in active staff only: both the navigation and the home page offer it to
    exactly those users, whatever permissions a user holds."""
    from django.contrib.auth.models import Permission
    from django.test import RequestFactory

    from vru.web.core.nav import nav

    not_staff = user("perm@example.org")
    not_staff.user_permissions.add(Permission.objects.get(codename="change_user"))
    not_staff = User.objects.get(pk=not_staff.pk)  # fresh permission cache
    staff = user("staff@example.org", is_staff=True)
    admin = reverse("admin:index")
    for who, shown in ((not_staff, False), (staff, True)):
        request = RequestFactory().get("/")
        request.user = who
        assert any(i["href"] == admin for i in nav(request)["vru_nav"]) is shown, who.email
        assert (admin in _home_links(who)) is shown, who.email


def test_landing_page_links_to_opportunities_and_sign_in():
    body = Client().get(reverse("home")).content.decode()
    assert f'href="{reverse("opportunities:search")}"' in body
    assert f'href="{reverse("login")}"' in body
