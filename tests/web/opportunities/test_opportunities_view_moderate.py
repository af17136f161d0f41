"""The ``opportunities:moderate`` view, ``/opportunities/moderation/<int:pk>/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, user
from opportunities_helpers import _error

pytestmark = pytest.mark.django_db


def test_moderator_rejects_with_reason_and_provider_sees_it(provider, moderator):
    opp = opportunity(provider=provider.organisation, status="pending")
    mc = signed_in(moderator)
    r = mc.post(reverse("opportunities:moderate", args=[opp.pk]), {"action": "reject", "reject-reason": ""})
    assert "Enter the reason" in _error(r.content.decode(), "reject-reason")
    mc.post(reverse("opportunities:moderate", args=[opp.pk]),
            {"action": "reject", "reject-reason": "Add the venue's address"})
    opp.refresh_from_db()
    assert opp.status == "rejected"
    page = signed_in(provider).get(reverse("opportunities:provider_list")).content.decode()
    assert "Add the venue&#x27;s address" in page or "Add the venue's address" in page


def test_moderator_sets_the_visible_window_and_bad_windows_are_refused(moderator):
    opp = opportunity(status="pending")
    mc = signed_in(moderator)
    r = mc.post(reverse("opportunities:moderate", args=[opp.pk]), {
        "action": "approve", "approve-visible_from": "2030-06-10T10:00",
        "approve-visible_to": "2030-06-01T10:00"})
    assert "must be after" in _error(r.content.decode(), "approve-visible_to")
    opp.refresh_from_db()
    assert opp.status == "pending"


def test_a_moderator_cannot_set_a_window_at_the_edges_of_time():
    from factories import opportunity

    from vru.web.opportunities.forms import ApproveForm

    opp = opportunity(status="pending")
    form = ApproveForm({"approve-visible_to": "9999-12-31T23:59"}, opportunity=opp, prefix="approve")
    assert not form.is_valid() and "must be between" in form.errors["visible_to"][0]
    moderator = user("mod@example.org", "programme manager")
    c = signed_in(moderator)
    r = c.post(reverse("opportunities:moderate", args=[opp.pk]),
               {"action": "approve", "approve-visible_from": "0001-01-01T00:00"})
    assert r.status_code == 200 and "must be between" in r.content.decode()
    opp.refresh_from_db()
    assert opp.status == "pending"
