"""Breach detection (``services.detect_breaches``): episodes across runs, their lifecycle, stored zones
with a bad rule."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from django.core.management import call_command
from tagging_util import START, _zone_on_trail

from vru.web.tagging import demo, services
from vru.web.tagging.models import Breach, Zone

pytestmark = pytest.mark.django_db


def test_breaches_are_found_once_and_follow_their_lifecycle(world):
    w = world.wearers[0]
    _zone_on_trail(world, w)
    found = services.detect_breaches(START, START + pd.Timedelta(days=1))
    assert found and all(b.wearer == w for b in found)
    assert services.detect_breaches(START, START + pd.Timedelta(days=1)) == []  # idempotent
    b = found[0]
    assert b.alert_at == b.opened_at and b.proof_fixes
    with pytest.raises(ValueError):
        services.record_step(b, "response_at")  # out of order
    for step in ("identified_at", "police_notified_at", "response_at"):
        services.record_step(b, step)
    with pytest.raises(ValueError):
        services.record_step(b, "outcome_at", outcome="maybe")
    services.record_step(b, "outcome_at", outcome="recall")
    b.refresh_from_db()
    assert b.outcome == "recall" and b.identified_at <= b.police_notified_at <= b.response_at <= b.outcome_at
    assert b.next_step() is None


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


@pytest.mark.world("zone")
@pytest.mark.parametrize("which", [0, 1])
def test_two_adjacent_windows_give_the_breaches_of_one_window(world, which):
    services.detect_breaches(START, START + pd.Timedelta(days=1))
    whole = _episodes()
    split = _split_points()[which]
    services.detect_breaches(START, split)
    services.detect_breaches(split, START + pd.Timedelta(days=1))
    assert _episodes() == whole
    assert not Breach.objects.filter(closed_at__isnull=True, started_at__lt=split).exists()


@pytest.mark.world("zone")
def test_hourly_runs_give_the_breaches_of_one_day_and_rerunning_adds_nothing(world):
    services.detect_breaches(START, START + pd.Timedelta(days=1))
    whole = _episodes()
    Breach.objects.all().delete()
    for h in range(24):
        services.detect_breaches(START + pd.Timedelta(hours=h), START + pd.Timedelta(hours=h + 1))
    assert _episodes() == whole
    assert services.detect_breaches(START, START + pd.Timedelta(days=1)) == []
    assert _episodes() == whole


def test_a_stored_zone_with_a_bad_rule_is_skipped_and_logged_the_others_are_checked(world, caplog):
    w = world.wearers[0]
    geometry = demo.zone_on_trail(world.sim, w.ref)
    # written round the form (as a zone stored before the rule was checked)
    bad = Zone.objects.create(wearer=w, kind="exclusion", name="Old rule", geometry=geometry,
                              rrule="RRULE:FREQ=DAILY\nEXDATE:20240305T190000Z",
                              local_start=START.to_pydatetime(), duration_minutes=600)
    good = Zone.objects.create(wearer=w, kind="exclusion", name="Good", geometry=geometry)
    with caplog.at_level(logging.ERROR):
        call_command("tagging_breaches", "--start", START.isoformat(),
                     "--end", (START + pd.Timedelta(days=1)).isoformat())
    assert Breach.objects.filter(zone=good).exists()
    assert not Breach.objects.filter(zone=bad).exists()
    assert any(f"zone {bad.pk} " in r.getMessage() for r in caplog.records)
