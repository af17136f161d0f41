"""The opportunities web app: the opportunity form on its own."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, young_person
from opportunities_helpers import _error, _form_data, _provider

from vru.web.opportunities import bookings
from vru.web.opportunities.forms import OpportunityForm
from vru.web.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def test_capacity_cannot_go_below_places_taken(provider):
    opp = opportunity(provider=provider.organisation, capacity=3)
    for i in range(2):
        bookings.register(young_person(f"y{i}@example.org", f"Y{i}"), opp, shared_name=f"Y{i}")
    opp.refresh_from_db()
    form = OpportunityForm(_form_data(capacity="1"), instance=opp)
    assert not form.is_valid()
    assert form.errors["capacity"][0] == ("The number of places cannot be less than the 2 places already "
                                          "booked")


@pytest.mark.parametrize(("capacity", "ok"), [("1", True), ("100000", True), ("100001", False),
                                              ("9223372036854775807", False)])
def test_capacity_is_bounded_in_the_form(capacity, ok):
    from opportunities_helpers import _form_data


    c = signed_in(_provider())
    r = c.post(reverse("opportunities:provider_new"), _form_data(capacity=capacity))
    if ok:
        assert r.status_code == 302 and Opportunity.objects.get().capacity == int(capacity)
    else:
        assert r.status_code == 200
        assert "Enter at most 100,000 places" in _error(r.content.decode(), "capacity")
        assert not Opportunity.objects.exists()
