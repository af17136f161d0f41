"""Rescue and Response: the view ``referrals:case`` (/referrals/cases/<uuid:pk>/): what it shows and writes,
who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from referrals_base import NAME, make_case

from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------- audit, break-glass
def test_every_read_of_a_case_page_writes_exactly_one_audit_row(w):
    r = make_case(w, provider=w.pa)
    c = signed_in(w.cw_a)
    for _ in range(3):
        before = AuditLog.objects.count()
        assert c.get(reverse("referrals:case", args=[r.pk])).status_code == 200
        assert AuditLog.objects.count() == before + 1
        row = AuditLog.objects.first()
        assert (row.user, row.action, row.object_id) == (w.cw_a, "view case", str(r.pk))
        assert row.purpose.startswith(f"{r.reference}: casework:") and NAME not in row.purpose
    before = AuditLog.objects.count()
    assert c.get(f"/api/v1/referrals/cases/{r.pk}/").json()["person"]["name"] == NAME
    assert AuditLog.objects.count() == before + 1
    assert AuditLog.objects.filter(action="view case", object_id=str(r.pk)).count() == 3
