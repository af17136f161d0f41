"""The programme figure "positions received" counts what was received, not what the store still holds
: each import records the fixes it added per order type and month in the
web database, in the transaction of the import's record, so a retention purge leaves the figure as it
was; importing the same feed again adds nothing; a refused feed records nothing; the migration counts
the fixes stored before receipts were recorded."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.apps import apps
from django.core.management import call_command
from test_tagging_util import make_world

from vru.tagging import positions, simulate
from vru.web.tagging import services
from vru.web.tagging.models import PositionImport, PositionReceipt, Wearer

pytestmark = pytest.mark.django_db
LATER = datetime(2025, 1, 1, tzinfo=UTC)  # every fix of the world is months older than the retention


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


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
