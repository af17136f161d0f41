"""The ``opportunities:verify`` view, ``/opportunities/organisations/<int:pk>/verify/``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from factories import opportunity, org, signed_in, user, young_person

from vru.web.accounts.models import AuditLog, Organisation
from vru.web.opportunities import bookings, lifecycle
from vru.web.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def test_administrator_verifies_a_provider_and_it_is_audited():
    admin = user("admin@example.org", "administrator")
    new = org("New Project", verified=False)
    c = signed_in(admin)
    assert "New Project" in c.get(reverse("opportunities:organisations")).content.decode()
    c.post(reverse("opportunities:verify", args=[new.pk]), {"verified": "1"})
    new.refresh_from_db()
    assert new.verified and new.verified_by == admin and new.verified_at is not None
    entry = AuditLog.objects.get(action="verify provider")
    assert entry.user == admin and entry.object_id == str(new.pk)
    c.post(reverse("opportunities:verify", args=[new.pk]), {"verified": "0"})
    assert not Organisation.objects.get(pk=new.pk).verified
    assert AuditLog.objects.filter(action="withdraw verification").exists()


def test_withdrawing_verification_takes_the_providers_opportunities_down_everywhere(moderator):
    from vru.web.opportunities.oruk import entity_id

    admin = user("admin@example.org", "administrator")
    club = org("Club", verified=True)
    live = opportunity(provider=club, title="Boxing club", topic="boxing", capacity=5)
    waiting = opportunity(provider=club, title="Pending boxing", status="pending")
    approved = opportunity(provider=club, title="Approved boxing", status="approved")
    opportunity(provider=org("Other"), title="Boxing elsewhere", topic="boxing")
    sam = signed_in(young_person())
    service = f"/api/v1/opportunities/services/{entity_id('service', live.pk)}"

    def public() -> dict:
        found = Client().get(reverse("opportunities:search"), {"q": "boxing"}).content.decode()
        api = Client().get("/api/v1/opportunities/services", {"search": "boxing"}).json()
        shortlist = Client().get(reverse("opportunities:shortlist"), {"ids": str(live.pk)}).content.decode()
        return {"search": "Boxing club" in found,
                "detail": Client().get(reverse("opportunities:detail", args=[live.pk])).status_code,
                "api": "Boxing club" in {x["name"] for x in api["contents"]},
                "service": Client().get(service).status_code,
                "shortlist": "Boxing club" in shortlist,
                "other": "Boxing elsewhere" in found}

    shown = {"search": True, "detail": 200, "api": True, "service": 200, "shortlist": True, "other": True}
    assert public() == shown
    signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "0"})
    assert public() == {"search": False, "detail": 404, "api": False, "service": 404, "shortlist": False,
                        "other": True}
    assert sam.post(reverse("opportunities:favourite", args=[live.pk])).status_code == 404
    with pytest.raises(bookings.BookingError):
        bookings.register(young_person("kim@example.org", "Kim"), Opportunity.objects.get(pk=live.pk),
                          shared_name="Kim")
    with pytest.raises(lifecycle.TransitionError, match="not a verified provider"):
        lifecycle.transition(Opportunity.objects.get(pk=waiting.pk), "approve", moderator)
    # the time rules do not publish an approved item of an unverified provider either
    assert lifecycle.apply_time_rules()["published"] == 0
    assert Opportunity.objects.get(pk=approved.pk).status == "approved"
    signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "1"})
    assert public() == shown
    assert sam.post(reverse("opportunities:favourite", args=[live.pk])).status_code == 302


def test_verify_refuses_an_unknown_value():
    admin = user("admin@example.org", "administrator")
    club = org("Club", verified=True)
    r = signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "yes"})
    assert r.status_code == 400
    club.refresh_from_db()
    assert club.verified is True
