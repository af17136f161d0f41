"""The ``opportunities:provider_list`` view, ``/opportunities/provider/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in

pytestmark = pytest.mark.django_db


def test_provider_list_costs_the_same_queries_for_one_or_many_opportunities(provider):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = signed_in(provider)
    opportunity(provider=provider.organisation, title="First")
    with CaptureQueriesContext(connection) as one:
        assert c.get(reverse("opportunities:provider_list")).status_code == 200
    for i in range(6):
        opportunity(provider=provider.organisation, title=f"More {i}")
    with CaptureQueriesContext(connection) as many:
        assert c.get(reverse("opportunities:provider_list")).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)
