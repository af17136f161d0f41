"""The managers' openings list finds each opening's holder (the case's latest allocation at that time) through
an index on allocations (referral, allocated_at), not a scan of every allocation per opening."""

from __future__ import annotations

import pytest
from django.db import connection

from vru.web.referrals.models import Allocation

pytestmark = pytest.mark.django_db


def test_allocations_are_indexed_by_referral_and_time():
    table = Allocation._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    columns = [c["columns"] for c in constraints.values() if c["index"]]
    assert ["referral_id", "allocated_at"] in columns
