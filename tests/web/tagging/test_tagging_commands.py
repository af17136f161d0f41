"""The tagging management commands: importing positions, breaches, a manual matching run, the demo seed."""

from __future__ import annotations

import io
import os
import stat

import pytest
from django.core.management import call_command
from tagging_util import _zone_on_trail, ingest, make_world, planted

from vru.tagging import store
from vru.web.tagging import demo, services
from vru.web.tagging.models import Breach, CrimeVersion, MatchPoint, MatchRun, Wearer

pytestmark = pytest.mark.django_db


def test_a_manual_run_is_recorded(world):
    batch = ingest(planted(1, decoys=0), world.pa)
    v = CrimeVersion.objects.get(batch=batch)
    call_command("tagging_match", "--crime-version", v.version_id, stdout=io.StringIO())
    run = MatchRun.objects.filter(trigger="MANUAL").get()
    assert run.status == "SUCCESS" and list(run.crime_versions.all()) == [v]
    assert run.matches.count() == 1


def test_import_positions_command_adds_a_feed_to_the_store(settings, tmp_path):
    w = make_world(settings, tmp_path, store=False)
    from vru.tagging import simulate
    paths = simulate.write(w.sim, tmp_path / "feed", "csv")
    out = io.StringIO()
    call_command("tagging_import_positions", str(paths["positions"]), stdout=out)
    assert len(store.read_positions(services.store_root())) > 0
    assert "added" in out.getvalue()


def test_import_positions_command_refuses_a_bad_file_and_writes_nothing(settings, tmp_path):
    make_world(settings, tmp_path, store=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("device_id,fix_time,lat,lon,precision_m,speed_kmh,heading_deg,mechanism,received_time\n"
                   "D0000000,2024-03-04T10:00:00Z,95,0,5,,,GPS,2024-03-04T10:00:01Z\n")
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="row"):
        call_command("tagging_import_positions", str(bad), stdout=io.StringIO())
    assert len(store.read_positions(services.store_root())) == 0


def test_breaches_command(world):
    _zone_on_trail(world, world.wearers[1])
    out = io.StringIO()
    call_command("tagging_breaches", "--start", "2024-03-04", "--end", "2024-03-05", stdout=out)
    assert Breach.objects.filter(wearer=world.wearers[1]).exists()
    assert "breach" in out.getvalue()


def test_demo_seed_is_idempotent(settings, tmp_path):
    settings.VRU_TAGGING_STORE = str(tmp_path / "store")
    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    from vru.web import demo as platform_demo
    platform_demo.seed(io.StringIO(), apps=False, warm=False)
    first = demo.seed(io.StringIO())
    assert first["wearers"] == 6 and first["matches"] >= 4 and first["breaches"] >= 1
    assert demo.seed(io.StringIO()) == {"wearers": 0, "matches": 0, "breaches": 0}
    assert Wearer.objects.count() == 6 and MatchPoint.objects.exists()
    own = platform_demo.read_passwords(platform_demo.users_file().with_name("demo-users-tagging.txt"))
    assert demo.ANALYST_EMAIL in own and demo.ANALYST_EMAIL not in platform_demo.read_passwords()
    path = platform_demo.users_file().with_name("demo-users-tagging.txt")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
