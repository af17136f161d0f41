"""The ``dashboard:drivers`` view, ``/dashboard/drivers/``, and its API (``dashboard-api-drivers``).

Its bad filters are in test_dashboard_filters.py, with every page's."""

from __future__ import annotations

import pytest
from dashboard_helpers import assert_refused_by_the_analysis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_a_period_the_data_does_not_cover_is_a_message_and_400(analyst):
    assert_refused_by_the_analysis(analyst, "drivers", {"start": "1900-01", "end": "1900-12"},
                                   "does not cover")
