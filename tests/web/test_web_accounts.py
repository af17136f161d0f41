"""Accounts: sign in/out, lockout, password reset, CSRF, roles, and the append-only audit log."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from factories import signed_in, user

from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog, AuditLogImmutable, Organisation, User
from vru.web.accounts.roles import ROLES

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(db) -> User:
    return user("Alice@Example.org", password=PASSWORD, full_name="Alice Analyst")


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _login(client: Client, email: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


# --- sign in and out -------------------------------------------------------------------------------


def test_email_is_the_login_and_is_lowercased(alice):
    assert User.USERNAME_FIELD == "email"
    assert alice.email == "alice@example.org"


def test_home_is_a_public_landing_page_for_visitors():
    r = Client().get(reverse("home"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Violence reduction platform" in body
    assert f'href="{reverse("login")}"' in body
    assert "Welcome," not in body and "What you can use" not in body


def test_login_then_logout(alice):
    c = Client()
    r = _login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 302 and r["Location"] == reverse("home")
    assert _signed_in(c)
    r = c.get(reverse("home"))
    assert r.status_code == 200
    assert b"Welcome, Alice Analyst" in r.content
    r = c.post(reverse("logout"))
    assert r.status_code == 302
    assert not _signed_in(c)


def test_sign_in_ignores_the_case_of_the_address(alice):
    assert _login(Client(), "ALICE@EXAMPLE.ORG", PASSWORD).status_code == 302


def test_wrong_password_is_refused(alice):
    c = Client()
    r = _login(c, "alice@example.org", "not the password")
    assert r.status_code == 200
    assert b"did not match" in r.content
    assert not _signed_in(c)


def test_inactive_user_cannot_sign_in(alice):
    alice.is_active = False
    alice.save()
    c = Client()
    assert _login(c, "alice@example.org", PASSWORD).status_code == 200
    assert not _signed_in(c)


# --- lockout (django-axes) -------------------------------------------------------------------------


def test_lockout_after_five_failures_even_with_the_right_password(alice, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    c = Client()
    for _ in range(4):
        assert _login(c, "alice@example.org", "wrong").status_code == 200
    r = _login(c, "alice@example.org", "wrong")  # the fifth failure locks out
    assert r.status_code == 429
    r = _login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 429
    assert b"Account locked" in r.content
    assert not _signed_in(c)


def test_lockout_ignores_the_case_of_the_address(alice):
    c = Client()
    for i in range(5):
        _login(c, "ALICE@example.org" if i % 2 else "alice@Example.ORG", "wrong")
    assert _login(c, "alice@example.org", PASSWORD).status_code == 429


def test_lockout_is_per_address_and_user(alice):
    c = Client()
    for _ in range(5):
        _login(c, "alice@example.org", "wrong", ip="10.0.0.1")
    assert _login(c, "alice@example.org", PASSWORD, ip="10.0.0.1").status_code == 429
    assert _login(Client(), "alice@example.org", PASSWORD, ip="10.0.0.2").status_code == 302


def test_four_failures_do_not_lock_out(alice):
    c = Client()
    for _ in range(4):
        _login(c, "alice@example.org", "wrong")
    assert _login(c, "alice@example.org", PASSWORD).status_code == 302


# --- password reset ---------------------------------------------------------------------------------


def test_password_reset_sends_a_working_link(alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    c = Client()
    r = c.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert r.status_code == 302 and r["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["alice@example.org"]
    assert msg.subject == "Reset your vru password"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", msg.body).group(1)
    r = c.get(link, follow=True)
    assert r.status_code == 200 and b"Choose a new password" in r.content
    new = "a brand new long passphrase"
    r = c.post(r.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_password_reset_for_unknown_address_sends_nothing(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    r = Client().post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert r.status_code == 302  # no hint whether the address exists
    assert mail.outbox == []


# --- CSRF -------------------------------------------------------------------------------------------


def test_login_post_without_csrf_token_is_refused(alice):
    c = Client(enforce_csrf_checks=True)
    r = _login(c, "alice@example.org", PASSWORD)
    assert r.status_code == 403
    assert not _signed_in(c)


def test_login_post_with_csrf_token_is_accepted(alice):
    c = Client(enforce_csrf_checks=True)
    page = c.get(reverse("login"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    r = c.post(
        reverse("login"),
        {"username": "alice@example.org", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert r.status_code == 302 and r["Location"] == reverse("home")


def test_security_headers(alice):
    r = Client().get(reverse("login"))
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"


# --- roles ------------------------------------------------------------------------------------------


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


# --- audit log --------------------------------------------------------------------------------------


def test_audit_records_who_what_and_why(alice, rf):
    org = Organisation.objects.create(name="Youth Project")
    request = rf.get("/", REMOTE_ADDR="192.0.2.7")
    request.user = alice
    entry = audit(request, "view", org, "checking a referral")
    got = AuditLog.objects.get(pk=entry.pk)
    assert (got.user, got.user_email, got.action) == (alice, "alice@example.org", "view")
    assert (got.object_type, got.object_id) == ("accounts.organisation", str(org.pk))
    assert got.purpose == "checking a referral"
    assert got.ip_address == "192.0.2.7"
    assert got.timestamp is not None
    e2 = audit(alice, "export", ("casework.person", 42), "court report")
    assert (e2.object_type, e2.object_id, e2.ip_address) == ("casework.person", "42", None)


def test_audit_refuses_missing_purpose_or_anonymous(alice):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValueError, match="purpose"):
        audit(alice, "view", None, "  ")
    with pytest.raises(ValueError, match="authenticated"):
        audit(AnonymousUser(), "view", None, "curiosity")
    assert AuditLog.objects.count() == 0


def test_audit_log_refuses_update_and_delete(alice):
    entry = audit(alice, "view", ("x", 1), "test")
    entry.purpose = "rewritten"
    with pytest.raises(AuditLogImmutable):
        entry.save()
    with pytest.raises(AuditLogImmutable):
        entry.delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=entry.pk).update(purpose="rewritten")
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.all().delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.bulk_update([entry], ["purpose"])
    assert AuditLog.objects.get(pk=entry.pk).purpose == "test"


def test_a_user_with_audit_entries_cannot_be_deleted(alice):
    from django.db.models import ProtectedError

    audit(alice, "view", None, "test")
    with pytest.raises(ProtectedError):
        alice.delete()


def test_audit_log_is_read_only_in_the_admin(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    entry = audit(alice, "view", None, "test")
    c = Client()
    c.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    assert c.get(reverse("admin:accounts_auditlog_changelist")).status_code == 200
    assert c.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    r = c.post(reverse("admin:accounts_auditlog_delete", args=[entry.pk]), {"post": "yes"})
    assert r.status_code == 403
    r = c.post(reverse("admin:accounts_auditlog_change", args=[entry.pk]), {"purpose": "x"})
    assert r.status_code == 403
    assert AuditLog.objects.get(pk=entry.pk).purpose == "test"


def test_admin_creates_a_user_by_email_and_gives_a_role(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    c = Client()
    c.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
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
    assert _login(Client(), "BOB@example.org", pw).status_code == 302


# --- GOV.UK pages ------------------------------------------------------------------------------------


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


def test_sign_in_errors_are_summarised_and_shown_next_to_the_field(alice):
    r = Client().post(reverse("login"), {"username": "", "password": ""})
    body = r.content.decode()
    assert r.status_code == 200
    assert "<title>Error: Sign in" in body
    assert 'class="govuk-error-summary"' in body
    assert 'href="#id_username"' in body and 'href="#id_password"' in body
    assert 'id="id_username-error" class="govuk-error-message"' in body
    assert 'aria-describedby="id_username-error"' in body and 'aria-invalid="true"' in body
    assert "govuk-input--error" in body
    # GOV.UK messages say what to do
    assert "Enter your email address" in body and "Enter your password" in body
    assert "This field is required" not in body


def test_password_reset_form_shows_a_bad_address_next_to_the_field():
    r = Client().post(reverse("password_reset"), {"email": "not an address"})
    body = r.content.decode()
    assert r.status_code == 200
    assert 'href="#id_email"' in body and 'id="id_email-error"' in body
    assert "Enter a valid email address" in body


def test_a_signed_in_user_changes_their_password(alice):
    c = Client()
    _login(c, "alice@example.org", PASSWORD)
    new = "another long passphrase here"
    r = c.post(reverse("password_change"),
               {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert b"Your password has been changed" in c.get(reverse("password_change_done")).content
