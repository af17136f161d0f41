"""A wearer's identifying details are shown only after the user states why: the wearer page
opens without them for every role; an offender manager of the wearer's organisation
asks with a purpose and a justification, which become the audit row; a bad request is a message next to
the field, nothing shown, nothing audited; the trail search needs no identity request."""

from __future__ import annotations

import pytest
from django.urls import reverse
from test_tagging_util import client, make_world, user

from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db

REASON = {"purpose": "victim safeguarding", "justification": "Victim moved house, check the exclusion zone"}
ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "young person",
         "police analyst", "tagging reviewer"]


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def test_the_offender_manager_sees_the_identity_only_after_giving_a_reason(world):
    c, w = client(world.om), world.wearers[0]
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


@pytest.mark.parametrize("data, field, message", [
    ({"purpose": "victim safeguarding"}, "justification", "Enter a justification"),
    ({"purpose": "victim safeguarding", "justification": "because"}, "justification", "at least 10"),
    ({"justification": "Victim moved house, check it"}, "purpose", "Choose a purpose"),
    ({"purpose": "curiosity", "justification": "Victim moved house, check it"}, "purpose", "valid choice"),
])
def test_a_request_without_a_good_reason_shows_a_message_and_nothing_else(world, data, field, message):
    r = client(world.om).post(reverse("tagging:wearer", args=[world.wearers[0].pk]), data)
    body = r.content.decode()
    assert r.status_code == 400
    error = body.split(f'id="id_{field}-error"', 1)[1].split("</p>", 1)[0]  # the message next to the field
    assert message in error
    assert "Secret Name 0" not in body and "<title>Error:" in body
    assert not AuditLog.objects.filter(action="view identity").exists()


@pytest.mark.parametrize("role", ROLES)
def test_no_other_role_gets_the_identity_with_or_without_a_reason(world, role):
    u = user(f"{role.replace(' ', '.')}@identity.test", role, world.police)
    url = reverse("tagging:wearer", args=[world.wearers[0].pk])
    for r in (client(u).get(url), client(u).post(url, REASON)):
        assert r.status_code == 403 and "Secret Name" not in r.content.decode()
    assert not AuditLog.objects.filter(action="view identity").exists()


def test_another_organisations_offender_manager_gets_404_with_a_reason(world):
    r = client(world.other_om).post(reverse("tagging:wearer", args=[world.wearers[0].pk]), REASON)
    assert r.status_code == 404 and "Secret Name" not in r.content.decode()
    assert not AuditLog.objects.filter(action="view identity").exists()


def test_the_trail_search_needs_no_identity_request(world):
    c, w = client(world.om), world.wearers[0]
    page = c.get(reverse("tagging:wearer", args=[w.pk])).content.decode()
    assert reverse("tagging:trail", args=[w.pk]) in page
    r = c.post(reverse("tagging:trail", args=[w.pk]), {
        "purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
        "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 200 and "Secret Name" not in r.content.decode()
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["view trail"]
