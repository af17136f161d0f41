"""Rescue and Response: the role groups hold this app's permissions (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from vru.web.accounts.roles import role_permissions
from vru.web.referrals.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------- roles
def test_the_role_groups_hold_this_apps_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert {p for p in held if p.startswith("referrals.")} == set(perms), role
    assert role_permissions()["analyst"] >= {"referrals.view_reports"}
    assert not any(p.endswith(("view_case", "view_referral")) for p in ROLE_PERMISSIONS["analyst"])
    assert ROLE_PERMISSIONS["referrer"] == {"referrals.add_referral"}
