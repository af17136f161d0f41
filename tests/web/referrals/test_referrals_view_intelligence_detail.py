"""Rescue and Response: the view ``referrals:intelligence_detail`` (/referrals/intelligence/<uuid:pk>/): what
it shows and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from factories import signed_in
from referrals_base import BRENT, LAMBETH, NAME, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import (
    Disclosure,
)

pytestmark = pytest.mark.django_db


def test_a_council_user_sees_only_their_councils_redacted_intelligence(w):
    brent = make_case(w, status="submitted", kind="intelligence", borough=BRENT)
    lambeth = make_case(w, status="submitted", kind="intelligence", borough=LAMBETH, name="Other Person")
    intervention = make_case(w, provider=w.pa, borough=BRENT)
    c = signed_in(w.council_brent)
    listing = c.get(reverse("referrals:intelligence")).content.decode()
    assert (
        brent.reference in listing
        and lambeth.reference not in listing
        and intervention.reference not in listing
    )
    page = c.get(reverse("referrals:intelligence_detail", args=[brent.pk])).content.decode()
    assert NAME in page and "07700" not in page and "Norfolk" not in page and w.referrer.email not in page
    d = Disclosure.objects.get()
    assert (d.referral, d.recipient, d.council.borough) == (brent, w.council_brent, BRENT)
    a = AuditLog.objects.get(action="disclose intelligence")
    assert a.user == w.council_brent and "Brent Council" in a.purpose
    for ref in (lambeth, intervention):
        assert c.get(reverse("referrals:intelligence_detail", args=[ref.pk])).status_code == 404
        assert c.get(f"/api/v1/referrals/intelligence/{ref.pk}/").status_code == 404
    api = c.get(f"/api/v1/referrals/intelligence/{brent.pk}/").json()["fields"]
    assert api["Name"] == NAME and "07700" not in json.dumps(api)
    assert Disclosure.objects.count() == 2
    assert c.get(reverse("referrals:case", args=[intervention.pk])).status_code == 403
    assert (
        signed_in(w.council_lambeth)
        .get(reverse("referrals:intelligence_detail", args=[brent.pk]))
        .status_code
        == 404
    )
