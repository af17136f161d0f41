"""Rescue and Response: the view ``referrals:change_missing``
(/referrals/cases/<uuid:pk>/missing/<int:item>/change/): what it shows and writes, who may use it, its form's
errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from factories import signed_in
from referrals_base import make_case

pytestmark = pytest.mark.django_db


def test_a_missing_episode_is_corrected_once_they_are_found(w):
    from vru.web.referrals.models import ChangeRecord, MissingEpisode

    r = make_case(w, provider=w.pa)
    went = r.referral_date + timedelta(days=5)
    m = MissingEpisode.objects.create(referral=r, started_on=went)
    url = reverse("referrals:change_missing", args=[r.pk, m.pk])
    c = signed_in(w.cw_a)
    start = went.isoformat()
    early = (went - timedelta(days=2)).isoformat()
    resp = c.post(url, {"started_on": start, "ended_on": early, "reason": "Found by police"})
    assert resp.status_code == 400 and "The end must not be before the start" in resp.content.decode()
    post = {"started_on": start, "ended_on": start, "reported_to_police": "on", "reason": "Found by police"}
    resp = c.post(url, post)
    assert resp.status_code == 302
    m.refresh_from_db()
    assert m.ended_on == went
    row = ChangeRecord.objects.get(record=f"missing episode {m.pk}")
    assert (row.field, row.old_value, row.new_value) == ("ended_on", "", start)
