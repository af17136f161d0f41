"""Rescue and Response: the view ``referrals:change_closure`` (/referrals/cases/<uuid:pk>/close/change/): what
it shows and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from factories import signed_in
from referrals_base import make_case

from vru.web.accounts.models import AuditLog

pytestmark = pytest.mark.django_db


def test_a_closure_and_its_outcomes_are_corrected_with_a_reason(w):
    from vru.web.referrals.models import ChangeRecord, Need, NeedOutcome

    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    url = reverse("referrals:change_closure", args=[r.pk])
    c = signed_in(w.cw_a)
    assert c.get(url).status_code == 404  # an open case has no closure to correct
    closed_on = r.referral_date + timedelta(days=10)
    closure = base.close_case(w, r, closed_on)
    NeedOutcome.objects.create(closure=closure, need=need, achievement="achieved")
    assert url in c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    post = base.closing_post(need, closed_on)
    post.update({"involvement": "reduced", f"outcome_{need.pk}": "partly"})
    resp = c.post(url, post)  # no reason
    assert resp.status_code == 400 and "Give the reason for the correction" in resp.content.decode()
    closure.refresh_from_db()
    assert closure.involvement == "ceased"
    resp = c.post(url, {**post, "reason_for_change": "Manager's review of the outcome"})
    assert resp.status_code == 302
    closure.refresh_from_db()
    assert closure.involvement == "reduced" and NeedOutcome.objects.get(need=need).achievement == "partly"
    rows = {x.field: (x.old_value, x.new_value) for x in ChangeRecord.objects.filter(record="closure")}
    assert rows == {
        "involvement": ("ceased", "reduced"),
        f"outcome of need {need.pk}": ("achieved", "partly"),
    }
    assert AuditLog.objects.filter(action="change case", purpose__contains="closure corrected").count() == 1
