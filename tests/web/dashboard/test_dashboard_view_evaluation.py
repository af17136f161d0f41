"""The ``dashboard:evaluation`` view, ``/dashboard/evaluation/``, and its API (``dashboard-api-evaluation``).

Its results are compared with the evaluation pipeline's in test_dashboard_view_targeting.py (one test
for both sections); its bad filters are in test_dashboard_filters.py, with every page's."""

from __future__ import annotations

import pytest
from dashboard_helpers import assert_refused_by_the_analysis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dashboard_warehouse")]


def test_an_unbalanced_panel_is_a_message_and_400(analyst):
    assert_refused_by_the_analysis(analyst, "evaluation", {"category": "homicide"}, "not balanced")
