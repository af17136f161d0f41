"""Breach detection over consecutive windows gives the breaches of one run over their union: an episode
cut by a window's end is one breach, closed when it closes."""

from __future__ import annotations

import pandas as pd
import pytest
from test_tagging_util import START, make_world

from vru.web.tagging import demo, services
from vru.web.tagging.models import Breach, Zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    w = make_world(settings, tmp_path)
    wearer = w.wearers[0]
    Zone.objects.create(wearer=wearer, kind="exclusion", name="Z",
                        geometry=demo.zone_on_trail(w.sim, wearer.ref, half_side_m=2000))
    return w


def _episodes():
    return [(b.started_at, b.opened_at, b.closed_at) for b in Breach.objects.order_by("started_at")]


def _split_points():
    """Window ends inside the first breach: just after it opened, and before it opened."""
    services.detect_breaches(START, START + pd.Timedelta(days=1))
    first = Breach.objects.order_by("started_at").first()
    assert first is not None and first.closed_at is not None
    Breach.objects.all().delete()
    return [pd.Timestamp(first.opened_at) + pd.Timedelta(minutes=5),
            pd.Timestamp(first.started_at) + pd.Timedelta(seconds=30)]


@pytest.mark.parametrize("which", [0, 1])
def test_two_adjacent_windows_give_the_breaches_of_one_window(world, which):
    services.detect_breaches(START, START + pd.Timedelta(days=1))
    whole = _episodes()
    split = _split_points()[which]
    services.detect_breaches(START, split)
    services.detect_breaches(split, START + pd.Timedelta(days=1))
    assert _episodes() == whole
    assert not Breach.objects.filter(closed_at__isnull=True, started_at__lt=split).exists()


def test_hourly_runs_give_the_breaches_of_one_day_and_rerunning_adds_nothing(world):
    services.detect_breaches(START, START + pd.Timedelta(days=1))
    whole = _episodes()
    Breach.objects.all().delete()
    for h in range(24):
        services.detect_breaches(START + pd.Timedelta(hours=h), START + pd.Timedelta(hours=h + 1))
    assert _episodes() == whole
    assert services.detect_breaches(START, START + pd.Timedelta(days=1)) == []
    assert _episodes() == whole
