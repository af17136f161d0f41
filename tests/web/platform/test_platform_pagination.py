"""Paging of the API's list endpoints, within bounds a database can take."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_every_list_endpoint_pages_within_bounds_a_database_can_take(rf, settings):
    """An offset past a 64-bit integer was a 500 from SQLite: the platform's default pagination (and the
    dashboard's and the programme's list endpoints) cap it, and the limit."""
    from rest_framework.request import Request

    from vru.web.core.pagination import BoundedPagination
    from vru.web.dashboard import api as dashboard_api
    from vru.web.programme import api as programme_api

    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "vru.web.core.pagination.BoundedPagination"
    assert dashboard_api.HotspotsView.pagination_class is BoundedPagination
    assert programme_api.InterventionList.pagination_class is BoundedPagination
    p = BoundedPagination()
    req = Request(rf.get("/api/v1/x/", {"offset": "9" * 30, "limit": "9" * 30}))
    assert p.get_offset(req) == 2**31 - 1 and p.get_limit(req) == 2**31 - 1
