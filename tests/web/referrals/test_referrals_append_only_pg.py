"""Rescue and Response: the append-only tables refuse UPDATE and DELETE in PostgreSQL itself (migration
0009), whatever sends them: raw SQL through the service's own connection here. Only the erasure's own
blanking passes, inside the transaction that set ``vru.erasure`` (docs/web-referrals.md, "Append-only
records"). SQLite has no such triggers (the application's guards are tested in test_referrals_append_only.py).

Run: ``bash scripts/test-web-postgres.sh tests/web/referrals/test_referrals_append_only_pg.py``
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from referrals_base import make_case

from vru.web.referrals import services
from vru.web.referrals.models import (
    Allocation,
    BreakGlass,
    ChangeRecord,
    Council,
    Disclosure,
    Need,
    PublishedFigures,
    Referral,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="database triggers exist on PostgreSQL only: set VRU_TEST_DATABASE_URL=postgres://... "
        "(CI runs this file on PostgreSQL)",
    ),
]

MODELS = [Allocation, ChangeRecord, BreakGlass, Disclosure, PublishedFigures]


def _rows(w) -> Referral:
    """A case with a row in every append-only table."""
    r = make_case(w, provider=w.pa, kind="intervention", days_ago=3000)  # an allocation
    ChangeRecord.objects.create(
        referral=r,
        record="person",
        field="name",
        old_value="Old Name",
        new_value="New",
        reason="typo",
        changed_by=w.cw_a,
    )
    BreakGlass.objects.create(referral=r, user=w.cw_a, reason="Out of hours police call")
    Disclosure.objects.create(referral=r, council=Council.objects.get(borough=base.BRENT), recipient=w.mgr_a)
    PublishedFigures.objects.create(period="2020-21", figures={"total": 1})
    return r


def _sql(statement: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cur:  # a savepoint: the test goes on after a refusal
        cur.execute(statement, params)


def _set_erasure(value: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('vru.erasure', %s, true)", [value])


def test_raw_sql_cannot_update_or_delete_an_append_only_row(w):
    _rows(w)
    for model in MODELS:
        table, pk = model._meta.db_table, model._base_manager.values_list("pk", flat=True).first()
        with pytest.raises(DatabaseError, match="append-only"):  # any UPDATE, even one that changes nothing
            _sql(f'UPDATE "{table}" SET id = id WHERE id = %s', pk)
        with pytest.raises(DatabaseError, match="append-only"):
            _sql(f'DELETE FROM "{table}" WHERE id = %s', pk)
        assert model._base_manager.filter(pk=pk).exists(), model


def test_the_erasure_flag_lets_an_update_through_never_a_delete_or_a_published_figure(w):
    _rows(w)
    a = Allocation.objects.get()
    f = PublishedFigures.objects.get()
    _set_erasure("on")
    try:
        _sql('UPDATE "referrals_allocation" SET reason = %s WHERE id = %s', "[erased]", a.pk)
        with pytest.raises(DatabaseError, match="append-only"):
            _sql('DELETE FROM "referrals_allocation" WHERE id = %s', a.pk)
        with pytest.raises(DatabaseError, match="append-only"):
            _sql('UPDATE "referrals_publishedfigures" SET figures = %s WHERE id = %s', "{}", f.pk)
    finally:
        _set_erasure("off")
    assert Allocation.objects.get().reason == "[erased]"
    with pytest.raises(DatabaseError, match="append-only"):  # off again: refused
        _sql('UPDATE "referrals_allocation" SET reason = %s WHERE id = %s', "again", a.pk)


def test_erasure_works_on_postgresql_and_leaves_the_guard_on(w):
    r = _rows(w)
    Need.objects.create(referral=r, category="exit", desired_outcome="x")
    base.close_case(w, r, timezone.localdate() - timedelta(days=2500))
    assert r in services.retention_due()
    services.anonymise(r, w.mgr_a)
    assert r.anonymised_at is not None
    assert set(ChangeRecord.objects.values_list("old_value", "reason")) == {("", "[erased]")}
    assert BreakGlass.objects.get().reason == "[erased]" and Allocation.objects.get().reason == "[erased]"
    assert Disclosure.objects.get().at.day == 1  # coarsened to the month
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('vru.erasure', true)")
        assert cur.fetchone()[0] == "off"  # the erasure turned its flag off again
    with pytest.raises(DatabaseError, match="append-only"):
        _sql('UPDATE "referrals_breakglass" SET reason = %s', "rewritten")
