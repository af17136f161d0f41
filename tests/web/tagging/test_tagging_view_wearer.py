"""The ``tagging:wearer`` page, /tagging/wearers/<pk>/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user

from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


REASON = {"purpose": "victim safeguarding", "justification": "Victim moved house, check the exclusion zone"}


ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "young person",
         "police analyst", "tagging reviewer"]


@pytest.mark.world("no_store")
def test_the_offender_manager_sees_the_identity_only_after_giving_a_reason(world):
    c, w = signed_in(world.om), world.wearers[0]
    url = reverse("tagging:wearer", args=[w.pk])
    page = c.get(url).content.decode()
    assert "Secret Name 0" not in page and "24/999990Q" not in page
    assert "Show identifying details" in page
    assert not AuditLog.objects.filter(action="view identity").exists()

    r = c.post(url, REASON)
    body = r.content.decode()
    assert r.status_code == 200 and "Secret Name 0" in body and "24/999990Q" in body
    row = AuditLog.objects.get(action="view identity")
    assert (row.user, row.object_type) == (world.om, "tagging.weareridentity")
    assert row.object_id == str(w.identity.pk)
    assert row.purpose == "victim safeguarding: Victim moved house, check the exclusion zone"
    # shown in that answer only: opening the page again asks again
    assert "Secret Name 0" not in c.get(url).content.decode()
    assert AuditLog.objects.filter(action="view identity").count() == 1


@pytest.mark.world("no_store")
@pytest.mark.parametrize("data, field, message", [
    ({"purpose": "victim safeguarding"}, "justification", "Enter a justification"),
    ({"purpose": "victim safeguarding", "justification": "because"}, "justification", "at least 10"),
    ({"justification": "Victim moved house, check it"}, "purpose", "Choose a purpose"),
    ({"purpose": "curiosity", "justification": "Victim moved house, check it"}, "purpose", "valid choice"),
])
def test_a_request_without_a_good_reason_shows_a_message_and_nothing_else(world, data, field, message):
    r = signed_in(world.om).post(reverse("tagging:wearer", args=[world.wearers[0].pk]), data)
    body = r.content.decode()
    assert r.status_code == 400
    error = body.split(f'id="id_{field}-error"', 1)[1].split("</p>", 1)[0]  # the message next to the field
    assert message in error
    assert "Secret Name 0" not in body and "<title>Error:" in body
    assert not AuditLog.objects.filter(action="view identity").exists()


@pytest.mark.world("no_store")
@pytest.mark.parametrize("role", ROLES)
def test_no_other_role_gets_the_identity_with_or_without_a_reason(world, role):
    u = user(f"{role.replace(' ', '.')}@identity.test", role, world.police)
    url = reverse("tagging:wearer", args=[world.wearers[0].pk])
    for r in (signed_in(u).get(url), signed_in(u).post(url, REASON)):
        assert r.status_code == 403 and "Secret Name" not in r.content.decode()
    assert not AuditLog.objects.filter(action="view identity").exists()


@pytest.mark.world("no_store")
def test_another_organisations_offender_manager_gets_404_with_a_reason(world):
    r = signed_in(world.other_om).post(reverse("tagging:wearer", args=[world.wearers[0].pk]), REASON)
    assert r.status_code == 404 and "Secret Name" not in r.content.decode()
    assert not AuditLog.objects.filter(action="view identity").exists()


@pytest.mark.world("pages")
def test_identity_is_shown_only_with_the_permission_and_a_reason_and_audited(world):
    from django.contrib.auth.models import Permission
    c = signed_in(world.om)
    url = reverse("tagging:wearer", args=[world.wearers[0].pk])
    page = c.get(url).content.decode()
    assert "Secret Name 0" not in page and 'id="identity-form"' in page
    r = c.post(url, {"purpose": "victim safeguarding", "justification": "Victim moved, check address"})
    assert "Secret Name 0" in r.content.decode()
    row = AuditLog.objects.get(action="view identity", user=world.om)
    assert row.purpose == "victim safeguarding: Victim moved, check address"
    # a user with the wearer permissions but not view_identity: no form, and a POST is refused
    u = user("no.identity@x.test", None, world.probation)
    u.user_permissions.add(*Permission.objects.filter(content_type__app_label="tagging",
                                                      codename__in=["view_wearer", "view_trail"]))
    r = signed_in(u).get(url)
    assert r.status_code == 200 and "Secret Name 0" not in r.content.decode()
    assert 'id="identity-form"' not in r.content.decode()
    r = signed_in(u).post(url, {"purpose": "victim safeguarding", "justification": "Victim moved, check it"})
    assert r.status_code == 403 and AuditLog.objects.filter(action="view identity").count() == 1
