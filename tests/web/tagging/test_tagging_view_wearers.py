"""The ``tagging:wearers`` page, /tagging/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in

from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.mark.world("pages")
def test_an_offender_manager_sees_only_their_organisations_wearers(world):
    c = signed_in(world.om)
    r = c.get(reverse("tagging:wearers"))
    refs = {w.ref for w in world.wearers}
    mine = {w.ref for w in world.wearers[:2]}
    body = r.content.decode()
    assert all(ref in body for ref in mine) and not any(ref in body for ref in refs - mine)
    other = world.wearers[2]
    for name in ("tagging:wearer", "tagging:trail", "tagging:zone_create"):
        assert c.get(reverse(name, args=[other.pk])).status_code == 404, name
    r = c.post(reverse("tagging:trail", args=[other.pk]), {
        "purpose": "crime investigation", "justification": "changing the id in the address",
        "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 404
    assert not AuditLog.objects.filter(action="view trail").exists()
