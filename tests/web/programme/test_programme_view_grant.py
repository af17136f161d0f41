"""The ``programme:grant`` view, ``/programme/grants/<int:pk>/``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from factories import signed_in

pytestmark = pytest.mark.django_db


def test_provider_cannot_change_a_grants_status(world):
    ga = world["grants"][0]
    r = signed_in(world["users"]["alpha"]).post(reverse("programme:grant", kwargs={"pk": ga.pk}),
                                               {"to_status": "closed"})
    assert r.status_code == 403
    ga.refresh_from_db()
    assert ga.status == "awarded"


def test_manager_extends_a_grant_and_history_shows_it(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["pm"])
    url = reverse("programme:grant", kwargs={"pk": ga.pk})
    r = c.post(url, {"to_status": "extended", "end_date": "2022-01-01"})
    assert r.status_code == 200 and "after the current one" in r.content.decode()
    r = c.post(url, {"to_status": "extended", "end_date": "2023-03-31", "additional_amount": "99999.50",
                     "note": "second year"})
    assert r.status_code == 302
    ga.refresh_from_db()
    assert ga.status == "extended" and ga.amount_awarded == Decimal("750000.00")
    html = c.get(url).content.decode()
    assert "second year" in html and "Awarded to Extended" in html
