"""Positions received are never under-counted after a database failure: the counts are committed with
the fixes, as the store transaction's receipt, and recorded in the database once, keyed by that
transaction, by the import itself, by the next import, or by ``tagging_record_receipts``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from test_tagging_util import make_world

from vru.tagging import simulate, store
from vru.web.tagging import services
from vru.web.tagging.models import PositionImport, PositionReceipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


def _fail_bulk_create(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PositionReceipt.objects, "bulk_create", boom)


def _figure() -> int:
    return int(services.figures_counts()["positions"].to_numpy().sum())


def test_a_database_failure_after_the_store_commit_is_recorded_by_the_next_import(world, tmp_path,
                                                                                 monkeypatch):
    paths = simulate.write(world.sim, tmp_path / "feed", "csv")
    with monkeypatch.context() as m:
        _fail_bulk_create(m)
        with pytest.raises(RuntimeError):
            services.import_positions(paths["positions"])
    stored = len(services.positions_frame(None, None))
    assert stored > 0  # the store committed the fixes ...
    assert PositionImport.objects.count() == 0 and _figure() == 0  # ... the database has no record yet
    assert len(store.pending_receipts(services.store_root())) == 1  # ... but their receipt is kept
    rec, r = services.import_positions(paths["positions"])  # the same feed again: adds nothing ...
    assert r.imported == 0
    assert _figure() == stored  # ... and the receipt of the failed one is now counted, once
    first = PositionImport.objects.exclude(pk=rec.pk).get()
    assert first.added == stored and first.store_tx and first.file_name == paths["positions"].name
    assert store.pending_receipts(services.store_root()) == []
    services.record_receipts()
    services.import_positions(paths["positions"])
    assert _figure() == stored


def test_the_command_records_a_pending_receipt_once(world, tmp_path, monkeypatch):
    paths = simulate.write(world.sim, tmp_path / "feed", "csv")
    with monkeypatch.context() as m:
        m.setattr(PositionImport.objects, "create", lambda *a, **k: (_ for _ in ()).throw(OSError("down")))
        with pytest.raises(OSError):
            services.import_positions(paths["positions"])
    stored = len(services.positions_frame(None, None))
    pending = store.pending_receipts(services.store_root())
    call_command("tagging_record_receipts")
    assert _figure() == stored > 0
    # a receipt recorded but not cleared (a crash between the two) is not counted twice
    (services.store_root() / store.RECEIPTS).mkdir(exist_ok=True)
    (services.store_root() / store.RECEIPTS / f"{pending[0]['txid']}.json").write_text(
        __import__("json").dumps(pending[0]))
    call_command("tagging_record_receipts")
    assert _figure() == stored and PositionImport.objects.count() == 1


def test_a_receipt_that_cannot_be_computed_writes_nothing(world, tmp_path, monkeypatch):
    paths = simulate.write(world.sim, tmp_path / "feed", "csv")
    with monkeypatch.context() as m:
        m.setattr(services, "received_by_type_month",
                  lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no database")))
        with pytest.raises(RuntimeError):
            services.import_positions(paths["positions"])
    assert services.positions_frame(None, None).empty
    assert store.pending_receipts(services.store_root()) == []
    rec, r = services.import_positions(paths["positions"])
    assert r.imported == _figure() > 0 and rec.store_tx == r.txid
