"""The ``opportunities:register`` view, ``/opportunities/<int:pk>/register/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, young_person
from opportunities_helpers import _error

from vru.web.accounts.models import AuditLog
from vru.web.opportunities.models import Registration

pytestmark = pytest.mark.django_db


def test_register_page_shares_only_what_was_chosen_and_provider_sees_only_that(provider):
    opp = opportunity(provider=provider.organisation, capacity=3)
    yp = young_person("sam.private@example.org", "Sam")
    c = signed_in(yp)
    r = c.post(reverse("opportunities:register", args=[opp.pk]), {"note": "I use a wheelchair"})
    assert r.status_code == 302
    assert r.headers["Location"] == reverse("opportunities:mine")
    opp.refresh_from_db()
    assert opp.places_taken == 1
    regs_url = reverse("opportunities:provider_registrations", args=[opp.pk])
    page = signed_in(provider).get(regs_url).content.decode()
    assert "Sam" in page and "I use a wheelchair" in page
    assert "sam.private@example.org" not in page  # not shared
    assert AuditLog.objects.filter(user=provider, object_type="opportunities.opportunity",
                                   object_id=str(opp.pk)).exists()
    # another young person shares their email
    yp2 = young_person("alex@example.org", "Alex")
    signed_in(yp2).post(reverse("opportunities:register", args=[opp.pk]), {"share_email": "on"})
    regs_url = reverse("opportunities:provider_registrations", args=[opp.pk])
    page = signed_in(provider).get(regs_url).content.decode()
    assert "alex@example.org" in page


def test_register_page_refuses_the_wrong_age_and_contact_details_in_the_note():
    opp = opportunity(min_age=18, max_age=24, capacity=3)
    yp = young_person(age=15)
    r = signed_in(yp).post(reverse("opportunities:register", args=[opp.pk]), {})
    assert "you cannot book it" in r.content.decode()
    assert not Registration.objects.exists()
    ok = opportunity(title="For 15", capacity=3)
    r = signed_in(yp).post(reverse("opportunities:register", args=[ok.pk]),
                           {"note": "call me on 07700 900123"})
    assert "phone number" in _error(r.content.decode(), "note")
    assert not Registration.objects.exists()


def test_a_note_split_from_the_nickname_never_reaches_the_provider():
    from factories import opportunity

    from vru.web.opportunities.models import Registration

    opp = opportunity(capacity=5)
    c = signed_in(young_person(nickname="Sam 0770"))
    r = c.post(reverse("opportunities:register", args=[opp.pk]), {"note": "0900123"})
    assert r.status_code == 200 and "phone number" in _error(r.content.decode(), "note")
    assert not Registration.objects.exists()


def test_a_disguised_number_never_reaches_the_provider():
    from factories import opportunity

    from vru.web.opportunities.models import Registration

    opp = opportunity(capacity=5)
    c = signed_in(young_person())
    r = c.post(reverse("opportunities:register", args=[opp.pk]), {"note": "call me 0770.090.0123"})
    assert r.status_code == 200 and "phone number" in _error(r.content.decode(), "note")
    assert not Registration.objects.exists()
