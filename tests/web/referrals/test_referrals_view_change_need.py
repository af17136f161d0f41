"""Rescue and Response: the view ``referrals:change_need``
(/referrals/cases/<uuid:pk>/need/<int:item>/change/): what it shows and writes, who may use it, its form's
errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import make_case

pytestmark = pytest.mark.django_db


def test_a_need_and_a_risk_note_not_yet_reviewed_are_corrected_a_reviewed_one_is_not(w):
    from vru.web.referrals.models import ChangeRecord, Need, RiskNote

    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    today = timezone.localdate()
    note = RiskNote.objects.create(referral=r, level="high", text="Debt", review_on=today, created_by=w.cw_a)
    c = signed_in(w.cw_a)
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert reverse("referrals:change_need", args=[r.pk, need.pk]) in page
    assert reverse("referrals:change_risk", args=[r.pk, note.pk]) in page
    url = reverse("referrals:change_need", args=[r.pk, need.pk])
    resp = c.post(
        url, {"category": "exit", "desired_outcome": "Leaves the line and the debt", "reason": "Typo"}
    )
    assert resp.status_code == 400 and "at least 5 characters" in resp.content.decode()
    post = {"category": "exit", "desired_outcome": "Leaves the line and the debt", "reason": "Outcome agreed"}
    assert c.post(url, post).status_code == 302
    row = ChangeRecord.objects.get(record=f"need {need.pk}")
    assert (row.old_value, row.new_value) == ("Leaves the line", "Leaves the line and the debt")
    rurl = reverse("referrals:change_risk", args=[r.pk, note.pk])
    later = (today + timedelta(days=30)).isoformat()
    post = {"level": "medium", "text": "Debt", "review_on": later, "reason": "Level agreed with the manager"}
    assert c.post(rurl, post).status_code == 302
    fields = set(ChangeRecord.objects.filter(record=f"risk note {note.pk}").values_list("field", flat=True))
    assert fields == {"level", "review_on"}
    RiskNote.objects.filter(pk=note.pk).update(reviewed_at=timezone.now(), reviewed_by=w.cw_a)
    assert c.get(rurl).status_code == 404  # a reviewed note is history
