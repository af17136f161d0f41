"""The ``programme:grant_create`` view, ``/programme/grants/new/``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from factories import signed_in
from programme_helpers import _error_next_to, _form_counts, _grant_post

from vru.web.programme.models import Grant

pytestmark = pytest.mark.django_db


def test_manager_records_a_bid_and_its_history_starts(forms_world):
    pm = forms_world["users"]["pm"]
    r = signed_in(pm).post(reverse("programme:grant_create"), _grant_post(forms_world))
    g = Grant.objects.get(reference="T-NEW")
    assert r.status_code == 302 and r["Location"] == reverse("programme:grant", kwargs={"pk": g.pk})
    assert g.status == "bid" and g.amount_requested == Decimal("745000") and g.amount_awarded is None
    assert g.start_date == dt.date(2024, 9, 1)
    (h,) = g.history.all()
    assert (h.from_status, h.to_status, h.changed_by) == ("", "bid", pm)
    page = signed_in(pm).get(r["Location"]).content.decode()
    assert "Recorded as bid" in page


def test_a_status_posted_to_the_create_form_is_ignored(forms_world):
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:grant_create"),
                                           _grant_post(forms_world, status="awarded", amount_awarded="1"))
    assert r.status_code == 302
    g = Grant.objects.get(reference="T-NEW")
    assert g.status == "bid" and g.amount_awarded is None


@pytest.mark.parametrize("over, field, message", [
    ({"amount_requested": "750000.01"}, "amount_requested", "is more than the cap of £750,000.00"),
    ({"amount_requested": "800000", "cap": "790000"}, "amount_requested", "cap of £790,000.00"),
    ({"amount_requested": "0"}, "amount_requested", "greater than or equal to 0.01"),
    ({"end_date": "2024-08-31"}, "end_date", "the end date is before the start date"),
    ({"reference": "T-A"}, "reference", "already exists"),
    ({"start_date": "1 Sept"}, "start_date", "Enter a valid date"),
    ({"consortium": ""}, "consortium", "This field is required"),
])
def test_bad_grant_values_are_shown_next_to_the_field_and_nothing_is_saved(forms_world, over, field, message):
    before = _form_counts()
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:grant_create"),
                                                   _grant_post(forms_world, **over))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), field, message)
    assert _form_counts() == before


def test_a_higher_cap_of_its_own_lets_a_grant_request_more(forms_world):
    r = signed_in(forms_world["users"]["pm"]).post(reverse("programme:grant_create"),
                                           _grant_post(forms_world, amount_requested="900000", cap="1000000"))
    assert r.status_code == 302
    assert Grant.objects.get(reference="T-NEW").cap == Decimal("1000000")
