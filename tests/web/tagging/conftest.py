"""Fixtures of the tagging web tests. ``world`` gives the people and wearers of ``tagging_util.make_world``;
a test marked ``@pytest.mark.world("<variant>")`` gets the world of that variant instead (``world_<variant>``
below: with matches, breaches, a queued run, no store, ...), so tests that once lived in different modules
keep their own set-up side by side in one module per view."""

from __future__ import annotations

import pandas as pd
import pytest
from tagging_util import JUNE, NOON, START, ingest, make_world, planted

from vru.tagging import simulate
from vru.web.tagging import demo, services
from vru.web.tagging.models import DeviceActivation, Match, Zone


def pytest_configure(config):
    config.addinivalue_line("markers", "world(variant): the tagging world a test's ``world`` fixture is "
                                       "(tests/web/tagging/conftest.py: world_<variant>)")


@pytest.fixture
def world(request):
    marker = request.node.get_closest_marker("world")
    return request.getfixturevalue(f"world_{marker.args[0]}" if marker else "world_plain")


# the world of the former test_tagging.py, _batch_errors.py, _figures_counts.py, _match_runs.py,
# _received.py, _retention.py, _zone_rules.py
@pytest.fixture
def world_plain(settings, tmp_path):
    return make_world(settings, tmp_path)


# the world of the former test_tagging_api.py
@pytest.fixture
def world_api(settings, tmp_path):
    w = make_world(settings, tmp_path)
    w.batch = ingest(planted(2, decoys=0), w.pa)
    matches = list(Match.objects.filter(run__batch=w.batch).order_by("pk"))
    assert len(matches) >= 2
    w.match, w.qualified = matches[0], matches[1]
    services.review_match(w.qualified, w.reviewer, "qualified", "Corroborated by CCTV")
    Zone.objects.create(wearer=w.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(w.sim, w.wearers[0].ref))
    w.breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    assert w.breach.wearer == w.wearers[0] and w.wearers[0].organisation == w.probation
    w.wearer_a = w.wearers[0]
    return w


# the world of the former test_tagging_review4.py
@pytest.fixture
def world_ingested(settings, tmp_path):
    w = make_world(settings, tmp_path)
    ingest(planted(2, decoys=0), w.pa)
    return w


# the world of the former test_tagging_draw.py, _identity.py, _receipts.py, _review3.py
@pytest.fixture
def world_no_store(settings, tmp_path):
    return make_world(settings, tmp_path, store=False)


# the world of the former test_tagging_pages.py
@pytest.fixture
def world_pages(settings, tmp_path):
    w = make_world(settings, tmp_path)
    batch = ingest(planted(2, decoys=0), w.pa)
    w.match = Match.objects.filter(run__batch=batch).first()
    w.batch = batch
    Zone.objects.create(wearer=w.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(w.sim, w.wearers[0].ref))
    w.breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    return w


# the world of the former test_tagging_review2.py
@pytest.fixture
def world_pending(settings, tmp_path):
    w = make_world(settings, tmp_path)
    w.batch = ingest(planted(3, decoys=1), w.pa)
    w.matches = list(Match.objects.filter(run__batch=w.batch).order_by("pk"))
    assert len(w.matches) >= 2 and all(m.status == "pending" for m in w.matches)
    return w


# the world of the former test_tagging_queue.py
@pytest.fixture
def world_worker(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("VRU_TAGGING_MATCH_INLINE", raising=False)
    settings.VRU_TAGGING_MATCH_INLINE = False  # as deployed: the worker matches
    return make_world(settings, tmp_path)


# the world of the former test_tagging_breach_runs.py
@pytest.fixture
def world_zone(settings, tmp_path):
    w = make_world(settings, tmp_path)
    wearer = w.wearers[0]
    Zone.objects.create(wearer=wearer, kind="exclusion", name="Z",
                        geometry=demo.zone_on_trail(w.sim, wearer.ref, half_side_m=2000))
    return w


@pytest.fixture
def handed_over(settings, tmp_path):
    """W000000 wore D0000000 until noon, and a new device from 11:00; at noon D0000000 went to W000002 (of
    another organisation)."""
    w = make_world(settings, tmp_path)
    a, b = w.wearers[0], w.wearers[2]
    old = a.activations.get()
    w.device = old.device_id
    old.active_to = NOON
    old.save()
    DeviceActivation.objects.create(wearer=a, device_id="D-NEW", active_from=NOON - pd.Timedelta(hours=1))
    DeviceActivation.objects.create(wearer=b, device_id=w.device, active_from=NOON)
    return w


@pytest.fixture
def june(settings, tmp_path):
    w = make_world(settings, tmp_path)  # March positions; activations open-ended
    s = simulate.simulate(4, 1, start=JUNE, seed=7)
    demo.load_store(s)
    batch = ingest(simulate.plant_crimes(s.truth, 2, seed=7, decoys=0), w.pa, name="june.csv")
    w.match = Match.objects.filter(run__batch=batch).first()
    assert w.match is not None
    w.june = s
    return w
