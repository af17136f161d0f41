"""Retention keeps the recorded fixes behind every point of a qualified match: the two fixes an
interpolated point stands on, and the fixes of every device the wearer wore during the match."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pyproj import Transformer
from test_tagging_util import make_world

from vru.tagging import schema as S
from vru.tagging import store
from vru.web.tagging import services
from vru.web.tagging.models import DeviceActivation, Match

pytestmark = pytest.mark.django_db
_TO_WGS = Transformer.from_crs(27700, 4326, always_xy=True)
LATER = pd.Timestamp("2025-01-01T00:00Z")  # the February fixes are long past a 90-day retention


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


def _write(fixes: list[tuple[str, str, float, float]]) -> None:
    dev = [f[0] for f in fixes]
    t = pd.to_datetime([f[1] for f in fixes], utc=True).astype("datetime64[us, UTC]")
    xs, ys = np.array([f[2] for f in fixes]), np.array([f[3] for f in fixes])
    lon, lat = _TO_WGS.transform(xs, ys)
    n = len(fixes)
    tbl = pa.table({"device_id": dev, "fix_time": pa.array(t), "received_time": pa.array(t), "lat": lat,
                    "lon": lon, "easting": xs, "northing": ys, "precision_m": [5.0] * n,
                    "speed_kmh": [6.0] * n, "heading_deg": [90.0] * n, "mechanism": ["GPS"] * n})
    store.write_positions(services.store_root(), tbl.select(S.POSITIONS.names).cast(S.POSITIONS))


def _qualify_the_match(world, csv: bytes) -> Match:
    b = services.ingest_batch(csv, "b.csv", user=world.pa, force="Metropolitan", inline=True)
    m = Match.objects.get(run__batch=b, wearer=world.wearers[1])
    services.review_match(m, world.pa, "qualified", "checked against the crime report")
    return m


def _left(device: str) -> list[str]:
    df = store.read_positions(services.store_root(), devices=[device]).to_pandas()
    return [t.strftime("%H:%M") for t in df["fix_time"]]


def test_the_two_fixes_behind_an_interpolated_point_survive_the_purge(world):
    DeviceActivation.objects.create(wearer=world.wearers[1], device_id="D-SPARSE",
                                    active_from=datetime(2024, 2, 1, tzinfo=UTC))
    # two GPS fixes 20 minutes apart, 1 km either side of the crime: only interpolation finds the pass
    _write([("D-SPARSE", "2024-02-10T08:00Z", 529000.0, 180000.0),
            ("D-SPARSE", "2024-02-10T09:58Z", 529000.0, 180000.0),
            ("D-SPARSE", "2024-02-10T10:18Z", 531000.0, 180000.0)])
    m = _qualify_the_match(world, b"Metropolitan,RB,,MPS20240210,X1,20240210100700,20240210100900,"
                                  b"530000,180000,,,OSGB36,x\n")
    assert m.points.filter(interpolated=True).exists() and not m.points.filter(interpolated=False).exists()
    services.purge(now=LATER, days=90)
    assert _left("D-SPARSE") == ["09:58", "10:18"]  # 08:00 is behind no point: purged


def test_every_device_the_wearer_wore_during_the_match_is_kept(world):
    w = world.wearers[1]
    swap = datetime(2024, 2, 10, 10, 8, tzinfo=UTC)
    DeviceActivation.objects.create(wearer=w, device_id="D-OLD", active_from=datetime(2024, 2, 1, tzinfo=UTC),
                                    active_to=swap)
    DeviceActivation.objects.create(wearer=w, device_id="D-NEW", active_from=swap)
    _write([("D-OLD", "2024-02-10T08:00Z", 529000.0, 180000.0),
            ("D-OLD", "2024-02-10T10:06Z", 530030.0, 180000.0),
            ("D-NEW", "2024-02-10T10:09Z", 530040.0, 180010.0),
            ("D-NEW", "2024-02-10T10:30Z", 530500.0, 180500.0),
            ("D-NEW", "2024-02-10T12:00Z", 531000.0, 181000.0)])
    _qualify_the_match(world, b"Metropolitan,RB,,MPS20240210,X2,20240210100500,20240210101000,"
                              b"530000,180000,,,OSGB36,x\n")
    services.purge(now=LATER, days=90)
    assert _left("D-OLD") == ["10:06"]
    assert _left("D-NEW") == ["10:09", "10:30"]  # 12:00 is past the window, its tolerance and gap
