"""The ``opportunities:cancel`` view, ``/opportunities/registrations/<int:pk>/cancel/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, young_person

from vru.web.opportunities import bookings

pytestmark = pytest.mark.django_db


def test_someone_elses_registration_cannot_be_cancelled():
    opp = opportunity(capacity=2)
    reg = bookings.register(young_person(), opp, shared_name="Sam")
    other = signed_in(young_person("alex@example.org", "Alex"))
    assert other.post(reverse("opportunities:cancel", args=[reg.pk])).status_code == 404
    reg.refresh_from_db()
    assert reg.cancelled is None
