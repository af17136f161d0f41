"""Rescue and Response: the view ``referrals:draft`` (/referrals/mine/<uuid:pk>/): what it shows and writes,
who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from referrals_base import NAME, make_case, referral_post

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import (
    Referral,
)

pytestmark = pytest.mark.django_db


def test_a_draft_is_saved_incomplete_then_submitted(w):
    c = signed_in(w.referrer)
    r = c.post(
        reverse("referrals:new"),
        referral_post(submit=None, draft="1", name="", gender="", ind_county_lines=None),
    )
    assert r.status_code == 302
    ref = Referral.objects.get()
    assert ref.status == "draft"
    r = c.post(reverse("referrals:draft", args=[ref.pk]), referral_post())
    ref.refresh_from_db()
    assert r.status_code == 302 and ref.status == "submitted" and ref.person.name == NAME


# --------------------------------------------------------------------------------- D6: the draft read
def test_each_read_of_a_draft_leaves_one_audit_row(w):
    d = make_case(w, status="draft")
    c = signed_in(w.referrer)
    page = c.get(reverse("referrals:draft", args=[d.pk]))
    assert page.status_code == 200 and NAME in page.content.decode()
    rows = AuditLog.objects.filter(object_id=str(d.pk), action="view draft")
    assert rows.count() == 1 and rows.get().user == w.referrer and rows.get().purpose.startswith(d.reference)
    c.get(reverse("referrals:draft", args=[d.pk]))
    assert rows.count() == 2
