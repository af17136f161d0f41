"""The ``opportunities:provider_edit`` view, ``/opportunities/provider/<int:pk>/edit/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, young_person
from opportunities_helpers import _error, _form_data, _provider, _search

from vru.web.opportunities import bookings
from vru.web.opportunities.forms import OpportunityForm
from vru.web.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def test_editing_a_published_item_sends_it_back_to_moderation_and_keeps_places(provider):
    opp = opportunity(provider=provider.organisation, capacity=10)
    bookings.register(young_person(), opp, shared_name="Sam")
    data = _form_data(title="Football, new time", capacity="10")
    r = signed_in(provider).post(reverse("opportunities:provider_edit", args=[opp.pk]), data)
    assert r.status_code == 302
    opp.refresh_from_db()
    assert opp.title == "Football, new time" and opp.status == "pending" and opp.places_taken == 1
    assert opp.events.last().from_status == "published" and opp.events.last().to_status == "pending"
    assert _search() == []


def test_lowering_capacity_below_places_booked_meanwhile_is_a_message_not_a_500(monkeypatch):
    """The provider's page was read with 2 places booked; two more are booked before the edit is saved.
    The edit to 3 places is refused next to the field, and nothing is written."""
    from factories import opportunity
    from opportunities_helpers import _form_data


    provider = _provider()
    opp = opportunity(provider=provider.organisation, capacity=5, places_taken=2, title="Boxing")
    clean = OpportunityForm.clean

    def clean_then_two_more_book(self):
        data = clean(self)  # checked against the 2 places the page saw ...
        Opportunity.objects.filter(pk=opp.pk).update(places_taken=4)  # ... then two people book
        return data

    monkeypatch.setattr(OpportunityForm, "clean", clean_then_two_more_book)
    c = signed_in(provider)
    r = c.post(reverse("opportunities:provider_edit", args=[opp.pk]), _form_data(capacity="3", title="New"))
    assert r.status_code == 200
    assert _error(r.content.decode(), "capacity").endswith(
        "The number of places cannot be less than the 4 places already booked")
    opp.refresh_from_db()
    assert (opp.capacity, opp.places_taken, opp.title, opp.status) == (5, 4, "Boxing", "published")
    monkeypatch.undo()
    r = c.post(reverse("opportunities:provider_edit", args=[opp.pk]), _form_data(capacity="4", title="New"))
    assert r.status_code == 302
    opp.refresh_from_db()
    assert (opp.capacity, opp.places_taken, opp.title) == (4, 4, "New")
