"""The roles: each is a group holding exactly its permissions (vru.web.accounts.roles), put back after a
flush without taking away what an administrator added, granting and withholding as documented."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from factories import user

from vru.web.accounts.models import Organisation
from vru.web.accounts.roles import ROLES

pytestmark = pytest.mark.django_db


def test_role_groups_and_permissions_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    assert len(ROLES) == 6
    for name, perms in ROLES.items():
        group = Group.objects.get(name=name)
        got = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        # the platform-wide permissions are exactly ROLES; each app's data migration adds its own
        assert {p for p in got if p.split(".")[0] in ("accounts", "auth")} == perms, name


def _held(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_every_role_group_comes_back_after_a_flush_and_keeps_extra_permissions():
    """``manage.py flush`` (and test isolation, which uses it) empties auth_group; the post_migrate
    receiver puts every role back with every app's permissions, and never takes away a permission an
    administrator added to a group."""
    from django.contrib.auth.models import Permission
    from django.core.management import call_command

    from vru.web.accounts.roles import role_permissions

    table = role_permissions()
    assert set(table) >= set(ROLES) | {"young person"}
    assert table["provider"] >= {"opportunities.add_opportunity", "programme.record_delivery"}
    before = {name: _held(name) for name in table}
    assert all(before[name] == perms for name, perms in table.items())

    call_command("flush", interactive=False, verbosity=0)
    assert {name: _held(name) for name in table} == before

    extra = Permission.objects.get(content_type__app_label="auth", codename="add_group")
    Group.objects.get(name="analyst").permissions.add(extra)
    Group.objects.get(name="caseworker").delete()
    call_command("migrate", verbosity=0)
    assert _held("caseworker") == before["caseworker"]
    assert _held("analyst") == before["analyst"] | {"auth.add_group"}


def test_roles_grant_and_withhold_permissions():
    org = Organisation.objects.create(name="Youth Project", kind="provider")
    # each read back from the database: no permission cache
    users = {name: user(f"{name.replace(' ', '.')}@example.org", name, org) for name in ROLES}
    assert users["caseworker"].has_perm("accounts.view_personal_data")
    assert users["offender manager"].has_perm("accounts.view_personal_data")
    assert not users["analyst"].has_perm("accounts.view_personal_data")
    assert not users["provider"].has_perm("accounts.view_personal_data")
    assert users["programme manager"].has_perm("accounts.manage_programme")
    assert not users["provider"].has_perm("accounts.manage_programme")
    assert users["administrator"].has_perm("accounts.view_auditlog")
    assert not users["analyst"].has_perm("accounts.view_auditlog")
    assert all(u.has_perm("accounts.view_dashboard") for u in users.values())
    # nobody, not even an administrator, may change or delete the audit log
    for u in users.values():
        assert not u.has_perm("accounts.change_auditlog")
        assert not u.has_perm("accounts.delete_auditlog")
    assert users["provider"].organisation == org
    assert users["provider"].roles == ["provider"]
