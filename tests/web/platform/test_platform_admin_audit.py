"""The admin and the audit log: every look at a person and every change of roles is audited, history
names staff by id and organisation, and the audit log itself is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from factories import PASSWORD, signed_in, user
from platform_helpers import change_user, superuser

from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


def test_every_admin_look_at_a_person_is_audited():
    root = superuser()
    young = user("young.person@example.org", password=PASSWORD)
    c = signed_in(root)
    assert c.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert c.get(reverse("admin:accounts_user_change", args=[young.pk])).status_code == 200
    assert c.get(reverse("admin:accounts_user_history", args=[young.pk])).status_code == 200
    r = change_user(c, young, full_name="Young Person")
    assert r.status_code == 302
    assert c.post(reverse("admin:accounts_user_delete", args=[young.pk]), {"post": "yes"}).status_code == 302
    assert c.get(reverse("admin:opportunities_moderationevent_changelist")).status_code == 200
    rows = [(e.action, e.object_type, e.object_id, e.purpose)
            for e in AuditLog.objects.filter(user=root).order_by("id")]
    uid = str(young.pk)
    assert rows == [
        ("list", "", "", "administration: list users"),
        ("view", "accounts.user", uid, "administration: view user"),
        ("view history", "accounts.user", uid, "administration: history of a user"),
        ("change", "accounts.user", uid, "administration: change user (Full name)"),
        ("delete", "accounts.user", uid, "administration: delete user"),
        ("list", "", "", "administration: list moderation events"),
    ]


def test_deleting_a_role_audits_the_change_for_each_member():
    root = superuser()
    u1 = user("u1@example.org", "analyst", password=PASSWORD)
    u2 = user("u2@example.org", "analyst", password=PASSWORD)
    u2.groups.add(Group.objects.get(name="provider"))
    analyst = Group.objects.get(name="analyst")
    c = signed_in(root)
    r = c.post(reverse("admin:auth_group_delete", args=[analyst.pk]), {"post": "yes"})
    assert r.status_code == 302 and not Group.objects.filter(name="analyst").exists()
    rows = {e.object_id: e.purpose for e in AuditLog.objects.filter(action="change_roles", user=root)}
    assert rows == {
        str(u1.pk): "administration: roles and status of a user changed (role deleted): "
                    "roles: [analyst] -> []",
        str(u2.pk): "administration: roles and status of a user changed (role deleted): "
                    "roles: [analyst, provider] -> [provider]",
    }
    # the changelist's bulk delete too
    pm = Group.objects.get(name="programme manager")
    u3 = user("u3@example.org", "programme manager", password=PASSWORD)
    r = c.post(reverse("admin:auth_group_changelist"),
               {"action": "delete_selected", "_selected_action": [pm.pk], "post": "yes"})
    assert r.status_code == 302 and not Group.objects.filter(pk=pm.pk).exists()
    assert AuditLog.objects.get(action="change_roles", object_id=str(u3.pk)).purpose.endswith(
        "roles: [programme manager] -> []")


def test_admin_pages_that_show_a_person_are_audited_and_a_search_without_its_words():
    root = superuser()
    young = user("young.person@example.org", "young person", password=PASSWORD)
    for i in range(3):
        user(f"y{i}@example.org", password=PASSWORD)
    c = signed_in(root)
    assert c.get(reverse("admin:auth_user_password_change", args=[young.pk])).status_code == 200
    assert c.get(reverse("admin:accounts_user_delete", args=[young.pk])).status_code == 200
    r = c.get(reverse("admin:accounts_user_changelist"), {"q": "y1@example"})
    assert r.status_code == 200
    rows = [(e.action, e.object_id, e.purpose) for e in AuditLog.objects.filter(user=root).order_by("id")]
    uid = str(young.pk)
    assert rows == [
        ("view", uid, "administration: password page of a user"),
        ("view", uid, "administration: deletion page of a user"),
        ("search", "", "administration: search users, 1 found"),
    ]
    assert not AuditLog.objects.filter(purpose__contains="y1").exists()


def test_history_inlines_name_staff_by_id_and_organisation_not_by_email():
    from decimal import Decimal

    from factories import opportunity

    from vru.web.accounts.models import Organisation
    from vru.web.opportunities.models import ModerationEvent
    from vru.web.programme.models import Consortium, Grant, GrantStatusChange, ProgrammeArea

    root = superuser()
    vru = Organisation.objects.create(name="Demo VRU", kind="vru")
    moderator = user("moderator.person@example.org", organisation=vru, password=PASSWORD)
    opp = opportunity()
    ModerationEvent.objects.create(opportunity=opp, from_status="pending", to_status="published",
                                   by=moderator)
    area = ProgrammeArea.objects.create(name="Estate", kind="estate", borough="E09000022", selected_year=2024)
    consortium = Consortium.objects.create(name="C", area=area, lead=opp.provider)
    grant = Grant.objects.create(reference="G-1", consortium=consortium, amount_requested=Decimal("1000"))
    GrantStatusChange.objects.create(grant=grant, from_status="", to_status=grant.status,
                                     changed_by=moderator)
    c = signed_in(root)
    for url in (reverse("admin:opportunities_opportunity_change", args=[opp.pk]),
                reverse("admin:programme_grant_change", args=[grant.pk])):
        page = c.get(url).content.decode()
        assert f"user {moderator.pk} (Demo VRU)" in page and "moderator.person" not in page


def test_audit_log_is_read_only_in_the_admin(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    entry = audit(alice, "view", None, "test")
    c = signed_in(alice)
    assert c.get(reverse("admin:accounts_auditlog_changelist")).status_code == 200
    assert c.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    r = c.post(reverse("admin:accounts_auditlog_delete", args=[entry.pk]), {"post": "yes"})
    assert r.status_code == 403
    r = c.post(reverse("admin:accounts_auditlog_change", args=[entry.pk]), {"purpose": "x"})
    assert r.status_code == 403
    assert AuditLog.objects.get(pk=entry.pk).purpose == "test"
