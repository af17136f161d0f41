"""Rescue and Response: the view ``referrals:decide`` (/referrals/triage/<uuid:pk>/): what it shows and
writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in
from referrals_base import make_case

from vru.web.referrals import services
from vru.web.referrals.models import (
    Allocation,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------- triage, allocation
def test_a_manager_accepts_and_allocates_by_the_rules(w):
    r = make_case(w, status="submitted")
    r.gender = "female"
    r.save()
    c = signed_in(w.mgr_a)  # the triage hub's manager
    assert c.get(reverse("referrals:triage")).content.decode().count(r.reference) == 1
    resp = c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "accept"})
    assert resp.status_code == 302
    page = c.get(reverse("referrals:allocate", args=[r.pk])).content.decode()
    assert "Abianda (test)" in page.split('id="suggested"')[1][:200]  # young women -> Abianda-like
    assert "0 of 2 places taken" in page and "0 of 5 places taken" in page
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk})
    r.refresh_from_db()
    assert resp.status_code == 302 and r.current_provider == w.pb and r.status == "accepted"
    assert Allocation.objects.filter(referral=r).count() == 1


def test_a_decline_needs_a_reason_from_the_list(w):
    r = make_case(w, status="submitted")
    c = signed_in(w.mgr_a)
    resp = c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "decline"})
    assert resp.status_code == 400 and 'id="id_decline_reason-error"' in resp.content.decode()
    resp = c.post(
        reverse("referrals:decide", args=[r.pk]), {"decision": "decline", "decline_reason": "other"}
    )
    assert 'id="id_note-error"' in resp.content.decode()
    r.refresh_from_db()
    assert r.status == "submitted"
    c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "decline", "decline_reason": "statutory"})
    r.refresh_from_db()
    assert r.status == "declined" and r.decline_reason == "statutory"


# ----------------------------------------------------------------------------- D8: an inactive hub
def test_a_hub_switched_off_triages_no_more_and_everyone_is_told(w):
    waiting = make_case(w, status="submitted")
    assert services.triages(w.mgr_a)
    w.pa.active = False
    w.pa.save()
    assert not services.triages(w.mgr_a)
    c = signed_in(w.mgr_a)
    assert c.get(reverse("referrals:decide", args=[waiting.pk])).status_code == 404
    page = c.get(reverse("referrals:cases")).content.decode()
    assert 'id="no-hub"' in page and "is not active" in page and "1 referral waiting" in page
