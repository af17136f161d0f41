"""The ``opportunities:provider_new`` view, ``/opportunities/provider/new/``."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from factories import org, signed_in, user
from opportunities_helpers import _error, _form_data, _provider, _search

from vru.web.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def test_provider_posts_it_appears_only_after_approval(provider, moderator):
    c = signed_in(provider)
    r = c.post(reverse("opportunities:provider_new"), _form_data())
    assert r.status_code == 302, r.content.decode()[:3000]
    opp = Opportunity.objects.get(title="Basketball drop-in")
    assert opp.status == "pending" and opp.provider == provider.organisation
    assert opp.days_of_week == "TU,TH" and opp.postcode == "SW9 8PQ"
    assert opp not in _search(q="basketball")
    r = signed_in(moderator).post(reverse("opportunities:moderate", args=[opp.pk]), {"action": "approve"})
    assert r.status_code == 302
    assert _search(q="basketball") == [opp]


@pytest.mark.parametrize("change, field, message", [
    ({"end_date": "2000-01-01"}, "end_date", "same as or after the start date"),
    ({"min_age": "18", "max_age": "14"}, "max_age", "same as or more than the minimum age"),
    ({"min_age": "9"}, "min_age", "greater than or equal to 10"),
    ({"price": "5.00"}, "price", "Leave the price empty"),
    ({"is_free": "", "price": ""}, "price", "Enter the price"),
    ({"is_free": "", "price": "-3"}, "price", "greater than or equal to 0.01"),
    ({"latitude": "53.4808", "longitude": "-2.2426"}, "latitude", "not in London"),
    ({"latitude": "51.474", "longitude": "-0.069"}, "borough", "in Southwark, not in Lambeth"),
    ({"recurrence": "weekly", "days_of_week": []}, "days_of_week", "Choose the days"),
    ({"end_time": "16:00"}, "end_time", "after the start time"),
    ({"start_time": ""}, "start_time", "both times"),
    ({"capacity": "0"}, "capacity", "at least 1"),
    ({"postcode": "NOT A CODE"}, "postcode", "real postcode"),
    ({"visible_from": "2030-06-10T10:00", "visible_to": "2030-06-01T10:00"}, "visible_to", "must be after"),
    ({"title": ""}, "title", "required"),
    ({"kind": "party"}, "kind", "valid choice"),
    ({"apply_url": "javascript:alert(1)"}, "apply_url", "valid URL"),
])
def test_opportunity_form_rejects_bad_input_next_to_the_field(provider, change, field, message):
    r = signed_in(provider).post(reverse("opportunities:provider_new"), _form_data(**change))
    assert r.status_code == 200
    html = r.content.decode()
    err = _error(html, field)
    assert err and message in err, re.findall(r'govuk-error-message">(.*?)</p>', html, re.S)
    assert not Opportunity.objects.exists()


def test_an_unverified_provider_is_told_to_wait(db):
    staff = user("new@example.org", "provider", org("New Project", verified=False))
    r = signed_in(staff).get(reverse("opportunities:provider_new"))
    assert r.status_code == 403
    assert "waiting for verification" in r.content.decode()
    r = signed_in(staff).post(reverse("opportunities:provider_new"), _form_data())
    assert r.status_code == 403 and not Opportunity.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("start_date", "0001-01-01"), ("start_date", "1999-12-31"), ("end_date", "9999-12-31"),
    ("visible_from", "0001-01-01T00:00"), ("visible_to", "9999-12-31T23:59"),
])
def test_dates_far_in_the_past_or_future_are_refused_next_to_the_field(field, value):
    from opportunities_helpers import _form_data

    from vru.web.opportunities.models import Opportunity

    provider = _provider()
    c = signed_in(provider)
    r = c.post(reverse("opportunities:provider_new"), _form_data(**{field: value}))
    assert r.status_code == 200
    err = _error(r.content.decode(), field)
    assert err and "must be between 1 January 2000 and" in err, err
    assert not Opportunity.objects.exists()
