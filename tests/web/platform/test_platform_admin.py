"""The admin's rules: no one grants more than they hold (staff and superuser status, roles, a role's
permissions) nor takes over an account that holds more than they do; users are created by email."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from factories import PASSWORD, signed_in, user
from platform_helpers import change_user, staff, superuser

from vru.web.accounts.models import AuditLog, User

pytestmark = pytest.mark.django_db


def test_an_administrator_cannot_make_anyone_superuser_or_staff_by_a_crafted_post():
    admin = staff("admin@example.org")
    other = user("someone@example.org", password=PASSWORD)
    c = signed_in(admin)
    r = c.get(reverse("admin:accounts_user_change", args=[admin.pk]))
    assert r.status_code == 200 and 'name="is_superuser"' not in r.content.decode()  # read-only
    r = change_user(c, admin, is_superuser="on", full_name="Ad Min")
    assert r.status_code == 302
    admin.refresh_from_db()
    assert admin.full_name == "Ad Min" and not admin.is_superuser  # the rest of the form was saved
    r = change_user(c, other, is_superuser="on", is_staff="on")
    other.refresh_from_db()
    assert not other.is_superuser and not other.is_staff
    r = change_user(c, admin, is_staff=None)  # nor take staff status away
    admin.refresh_from_db()
    assert admin.is_staff


def test_a_superuser_grants_superuser_status_and_it_is_audited():
    root = superuser()
    other = staff("other@example.org")
    r = change_user(signed_in(root), other, is_superuser="on")
    assert r.status_code == 302
    other.refresh_from_db()
    assert other.is_superuser
    entry = AuditLog.objects.filter(action="change_roles").get()
    assert (entry.user, entry.object_type, entry.object_id) == (root, "accounts.user", str(other.pk))
    assert entry.purpose == "administration: roles and status of a user changed: superuser: no -> yes"


def test_roles_are_given_only_by_those_who_hold_their_permissions_and_each_change_is_audited():
    admin = staff("admin@example.org")
    other = user("someone@example.org", password=PASSWORD)
    c = signed_in(admin)
    analyst, caseworker = Group.objects.get(name="analyst"), Group.objects.get(name="caseworker")
    r = change_user(c, other, groups=[analyst.pk])  # the administrator holds every permission of analysts
    assert r.status_code == 302
    assert other.roles == ["analyst"]
    entry = AuditLog.objects.get(action="change_roles")
    assert entry.purpose == "administration: roles and status of a user changed: roles: [] -> [analyst]"
    # caseworkers see personal data, which the administrator role does not: refused, nothing written
    r = change_user(c, other, groups=[analyst.pk, caseworker.pk])
    assert r.status_code == 200 and "You cannot give or take away the role caseworker" in r.content.decode()
    assert User.objects.get(pk=other.pk).roles == ["analyst"]
    assert AuditLog.objects.filter(action="change_roles").count() == 1
    # deactivating is a change of status, audited with before and after
    r = change_user(c, other, is_active=None)
    assert r.status_code == 302
    assert AuditLog.objects.filter(action="change_roles").latest("id").purpose.endswith("active: yes -> no")


def test_an_administrator_cannot_take_over_an_account_that_holds_more_than_they_do():
    admin = staff("admin@example.org")
    root = superuser()
    caseworker = staff("case@example.org", role="caseworker", is_active=False)  # inactive, still guarded
    c = signed_in(admin)
    for target in (root, caseworker):
        r = change_user(c, target, email="mine@example.org")
        assert r.status_code == 403
        pw = "a brand new passphrase"
        r = c.post(reverse("admin:auth_user_password_change", args=[target.pk]),
                   {"password1": pw, "password2": pw})
        assert r.status_code == 403
        r = c.post(reverse("admin:accounts_user_delete", args=[target.pk]), {"post": "yes"})
        assert r.status_code == 403
        target.refresh_from_db()
        assert target.email != "mine@example.org" and not target.check_password(pw)


def test_a_role_cannot_be_given_permissions_its_editor_does_not_hold():
    from django.contrib.auth.models import Permission

    admin = staff("admin@example.org")
    admin.user_permissions.add(Permission.objects.get(codename="change_group"))
    administrator = Group.objects.get(name="administrator")
    c = signed_in(admin)
    url = reverse("admin:auth_group_change", args=[administrator.pk])
    everything = list(Permission.objects.values_list("pk", flat=True))
    r = c.post(url, {"name": "administrator", "permissions": everything})
    assert r.status_code == 200 and "You cannot give or take away permissions you do not hold" in \
        r.content.decode()
    assert administrator.permissions.count() < len(everything)
    # a role carrying permissions the editor lacks cannot be edited at all
    caseworker = Group.objects.get(name="caseworker")
    r = c.post(reverse("admin:auth_group_change", args=[caseworker.pk]),
               {"name": "caseworker", "permissions": []})
    assert r.status_code == 403 and caseworker.permissions.exists()
    # a superuser may, and it is audited
    root = superuser()
    keep = list(administrator.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(codename="view_personal_data")
    r = signed_in(root).post(url, {"name": "administrator", "permissions": [*keep, extra.pk]})
    assert r.status_code == 302
    entry = AuditLog.objects.get(action="change_group_permissions")
    assert "accounts.view_personal_data" in entry.purpose.split("->")[1]


ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "offender manager",
         "young person"]


@pytest.mark.parametrize("role", ROLES)
def test_an_administrator_manages_every_account_that_is_not_staff(role):
    """Name, organisation, active status: every non-staff account; the address and the password only of
    an account that holds no permission the administrator does not."""
    from vru.web.accounts.admin import permissions_of
    from vru.web.accounts.models import Organisation

    admin = staff("admin@example.org")
    person = user("person@example.org", role, password=PASSWORD)
    org = Organisation.objects.create(name="Riverside Youth Collective", kind="provider")
    c = signed_in(admin)
    page = c.get(reverse("admin:accounts_user_change", args=[person.pk])).content.decode()
    assert 'name="full_name"' in page and 'name="is_active"' in page
    r = change_user(c, person, full_name="Pat Person", organisation=org.pk, is_active=None,
                email="taken.over@example.org")
    assert r.status_code == 302
    person.refresh_from_db()
    assert (person.full_name, person.organisation, person.is_active) == ("Pat Person", org, False)
    assert person.roles == [role]  # the roles the form showed are kept
    holds_more = not permissions_of(person) <= permissions_of(admin)
    if role == "administrator":  # both cases are tried: an account holding nothing more...
        assert not holds_more
    if role in {"provider", "caseworker", "offender manager", "young person"}:  # ... and these, more
        assert holds_more
    password_page = reverse("admin:auth_user_password_change", args=[person.pk])
    pw = "a brand new passphrase"
    r = c.post(password_page, {"password1": pw, "password2": pw, "usable_password": "true"})
    person.refresh_from_db()
    if holds_more:  # a takeover would give the administrator what this account sees
        assert person.email == "person@example.org" and 'name="email"' not in page
        assert r.status_code == 403 and person.check_password(PASSWORD)
        assert password_page not in page and "../password/" not in page
        assert change_user(c, person, is_active="on").status_code == 302  # reactivated
        assert User.objects.get(pk=person.pk).is_active
    else:
        assert person.email == "taken.over@example.org"
        assert r.status_code == 302 and person.check_password(pw)


def test_an_administrator_cannot_take_over_a_fellow_administrators_account():
    a, b = staff("a@example.org"), staff("b@example.org")
    c = signed_in(a)
    page = c.get(reverse("admin:accounts_user_change", args=[b.pk])).content.decode()
    assert 'name="email"' not in page
    r = change_user(c, b, email="attacker@example.org", full_name="B")
    assert r.status_code == 302
    b.refresh_from_db()
    assert b.email == "b@example.org" and b.full_name == "B"
    pw = "a brand new passphrase"
    assert c.post(reverse("admin:auth_user_password_change", args=[b.pk]),
                  {"password1": pw, "password2": pw, "usable_password": "true"}).status_code == 403
    assert c.post(reverse("admin:accounts_user_delete", args=[b.pk]), {"post": "yes"}).status_code == 403
    b.refresh_from_db()
    assert not b.check_password(pw)
    # their own account, they may; a superuser may change anyone's
    assert change_user(c, a, email="a.new@example.org").status_code == 302
    assert User.objects.get(pk=a.pk).email == "a.new@example.org"
    root = superuser()
    assert change_user(signed_in(root), b, email="b.new@example.org").status_code == 302
    assert User.objects.get(pk=b.pk).email == "b.new@example.org"


def test_admin_creates_a_user_by_email_and_gives_a_role(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    c = signed_in(alice)
    assert c.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert c.get(reverse("admin:accounts_user_add")).status_code == 200
    pw = "a long enough new passphrase"
    r = c.post(
        reverse("admin:accounts_user_add"),
        {"email": "Bob@Example.org", "usable_password": "true", "password1": pw, "password2": pw},
    )
    assert r.status_code == 302, r.content[:2000]
    bob = User.objects.get(email="bob@example.org")
    assert bob.check_password(pw)
    assert c.get(reverse("admin:accounts_user_change", args=[bob.pk])).status_code == 200
    bob.groups.add(Group.objects.get(name="caseworker"))
    assert User.objects.get(pk=bob.pk).has_perm("accounts.view_personal_data")
    r = Client().post(reverse("login"), {"username": "BOB@example.org", "password": pw},
                      REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 302
