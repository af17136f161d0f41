"""The ``programme:grant_edit`` view, ``/programme/grants/<int:pk>/edit/``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from factories import signed_in
from programme_helpers import _error_next_to, _grant_post

pytestmark = pytest.mark.django_db


def test_editing_a_bid_changes_its_terms_but_not_its_status(forms_world):
    bid = forms_world["grants"][0]
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:grant_edit", kwargs={"pk": bid.pk}),
                                                   _grant_post(forms_world, reference="T-BID-2",
                                                               amount_requested="600000"))
    assert r.status_code == 302
    bid.refresh_from_db()
    assert (bid.reference, bid.amount_requested, bid.status) == ("T-BID-2", Decimal("600000"), "bid")
    assert bid.history.count() == 0  # not a change of status


def test_a_funded_grants_consortium_and_dates_change_only_through_its_status(forms_world):
    funded = forms_world["grants"][1]
    c = signed_in(forms_world["users"]["pm"])
    url = reverse("programme:grant_edit", kwargs={"pk": funded.pk})
    html = c.get(url).content.decode()
    assert 'name="consortium"' not in html and 'name="end_date"' not in html
    assert "change only through a change of status" in html
    r = c.post(url, _grant_post(forms_world, reference="T-A", amount_requested="700000", cap="740000",
                                end_date="2030-01-01"))
    assert r.status_code == 302
    funded.refresh_from_db()
    assert funded.cap == Decimal("740000") and funded.end_date == dt.date(2022, 8, 31)
    # a cap below the amount awarded: the model's message goes next to the cap
    r = c.post(url, _grant_post(forms_world, reference="T-A", amount_requested="600000", cap="640000"))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "cap", "£650,000.00 is more than the cap of £640,000.00")
    funded.refresh_from_db()
    assert funded.cap == Decimal("740000") and funded.amount_requested == Decimal("700000")
