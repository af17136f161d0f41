"""Positions received: receipts recorded from the store, the figure before and after a purge, the
migration that counted the fixes already stored."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.apps import apps
from django.core.management import call_command

from vru.tagging import positions, simulate, store
from vru.web.tagging import services
from vru.web.tagging.models import PositionImport, PositionReceipt, Wearer

pytestmark = pytest.mark.django_db


def _fail_bulk_create(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PositionReceipt.objects, "bulk_create", boom)


def _figure() -> int:
    return int(services.figures_counts()["positions"].to_numpy().sum())


@pytest.mark.world("no_store")
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


@pytest.mark.world("no_store")
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


@pytest.mark.world("no_store")
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


LATER = datetime(2025, 1, 1, tzinfo=UTC)  # every fix of the world is months older than the retention


def _stored_by_type_month() -> pd.Series:
    df = services.positions_frame(None, None)
    acts = services.activations_frame()
    types = dict(Wearer.objects.values_list("ref", "order_type"))
    df = df.merge(acts, on="device_id")
    t, a, b = df["fix_time"], df["active_from"], df["active_to"]
    df = df[(t >= a) & (b.isna() | (t < b))]
    df["order_type"] = df["wearer_ref"].map(types)
    df["month"] = df["fix_time"].dt.strftime("%Y-%m")
    return df.groupby(["order_type", "month"]).size()


def test_the_figure_is_the_same_before_and_after_a_purge(world):
    stored = _stored_by_type_month()
    before = services.figures_counts()["positions"]
    assert before.to_numpy().sum() == stored.sum() > 0
    for (t, m), n in stored.items():
        assert before.loc[t, m] == n
    result = services.purge(now=LATER)
    assert result.deleted == stored.sum() and services.positions_frame(None, None).empty
    after = services.figures_counts()["positions"]
    pd.testing.assert_frame_equal(after, before)
    published = {f["key"]: f for f in services.figures()}["positions"]
    assert published["table"] is not None


def test_an_import_is_recorded_with_its_receipts_and_a_repeat_adds_nothing(world, tmp_path):
    first = PositionImport.objects.get()
    assert first.added == sum(PositionReceipt.objects.values_list("n", flat=True)) > 0
    paths = simulate.write(world.sim, tmp_path / "feed", "csv")
    call_command("tagging_import_positions", paths["positions"])
    again = PositionImport.objects.order_by("pk").last()
    assert again.pk != first.pk and again.added == 0 and again.duplicates == again.rows > 0
    assert not again.receipts.exists()
    assert services.figures_counts()["positions"].to_numpy().sum() == first.added


def test_a_refused_feed_records_nothing(world, tmp_path):
    paths = simulate.write(world.sim, tmp_path / "feed", "csv")
    feed = pd.read_csv(paths["positions"], dtype=str, keep_default_na=False)
    feed.loc[0, "device_id"] = "UNKNOWN-DEVICE"
    feed.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(positions.FeedError, match="UNKNOWN-DEVICE|device"):
        services.import_positions(tmp_path / "bad.csv")
    assert PositionImport.objects.count() == 1 and PositionReceipt.objects.count() > 0


def test_the_migration_counts_the_fixes_already_stored(world):
    stored = _stored_by_type_month()
    PositionReceipt.objects.all().delete()
    PositionImport.objects.all().delete()
    migration = importlib.import_module("vru.web.tagging.migrations.0005_position_receipts")
    migration.backfill(apps, None)
    rec = PositionImport.objects.get()
    assert rec.file_name == migration.BACKFILL and rec.added == stored.sum()
    got = {(r.order_type, r.month): r.n for r in rec.receipts.all()}
    assert got == stored.to_dict()
