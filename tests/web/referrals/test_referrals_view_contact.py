"""Rescue and Response: the view ``referrals:contact`` (/referrals/cases/<uuid:pk>/contact/): what it shows
and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import closing_post, make_case

from vru.web.referrals.models import (
    Closure,
    Need,
)

pytestmark = pytest.mark.django_db


# ----------------------------------------------------------------------------------------- casework
def test_casework_is_recorded_and_closure_before_the_referral_is_refused(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    c = signed_in(w.cw_a)
    now = timezone.localtime()
    assert (
        c.post(
            reverse("referrals:contact", args=[r.pk]),
            {
                "when": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "kind": "session",
                "attendance": "dna",
            },
        ).status_code
        == 400
    )  # a missed session needs its reason
    for name, data in [
        (
            "contact",
            {
                "when": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "kind": "session",
                "attendance": "late",
                "note": "Met at the youth club",
            },
        ),
        ("need", {"category": "exit", "desired_outcome": "Stops running lines"}),
        ("risk", {"level": "high", "text": "Debt bondage", "review_on": timezone.localdate().isoformat()}),
        (
            "rescue",
            {
                "county": "Norfolk",
                "police_force": "Norfolk",
                "rescued_on": (now - timedelta(days=2)).date().isoformat(),
                "returned_on": (now - timedelta(days=1)).date().isoformat(),
            },
        ),
        ("missing", {"started_on": (now - timedelta(days=5)).date().isoformat(), "reported_to_police": "on"}),
    ]:
        resp = c.post(reverse(f"referrals:{name}", args=[r.pk]), data)
        assert resp.status_code == 302, (name, resp.content.decode()[:3000])
    need = Need.objects.get(referral=r)
    before = timezone.localdate() - timedelta(days=25)
    closing = closing_post(need, before)
    resp = c.post(reverse("referrals:close", args=[r.pk]), closing)
    html = resp.content.decode()
    assert resp.status_code == 400 and "before the referral" in html.split('id="id_closed_on-error"')[1][:300]
    resp = c.post(
        reverse("referrals:close", args=[r.pk]),
        {**closing, "closed_on": timezone.localdate().isoformat(), f"outcome_{need.pk}": ""},
    )
    assert resp.status_code == 400 and f'id="id_outcome_{need.pk}-error"' in resp.content.decode()
    assert not Closure.objects.exists()
    r.refresh_from_db()
    assert r.status == "accepted"
    resp = c.post(
        reverse("referrals:close", args=[r.pk]), {**closing, "closed_on": timezone.localdate().isoformat()}
    )
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == "closed" and r.closure.outcomes.get().achievement == "achieved"
    assert r.first_contact() is not None
