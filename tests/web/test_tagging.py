"""Tagging app: roles, services (batch -> versions -> AUTO run -> matches; resubmission; breaches and
their lifecycle), retention purge, management commands, demo."""

from __future__ import annotations

import io
import os
import stat

import pandas as pd
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, transaction
from test_tagging_util import START, ingest, make_world, planted

from vru.tagging import store
from vru.web.accounts.roles import role_permissions
from vru.web.tagging import demo, services
from vru.web.tagging.models import (
    Breach,
    CrimeBatch,
    CrimeVersion,
    Match,
    MatchPoint,
    MatchRun,
    Wearer,
    Zone,
)
from vru.web.tagging.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


# --- roles ----------------------------------------------------------------------------------------
def test_the_database_roles_hold_the_tagging_permissions_and_administrators_none():
    for role, perms in ROLE_PERMISSIONS.items():
        held = {f"{p.content_type.app_label}.{p.codename}"
                for p in Group.objects.get(name=role).permissions.all()}
        tagging = {p for p in held if p.startswith("tagging.")}
        assert tagging == set(perms), role
    assert ROLE_PERMISSIONS["administrator"] == {"tagging.view_figures"}  # no trail, wearer or match
    assert role_permissions()["police analyst"] >= {"tagging.view_match", "tagging.add_crimebatch"}


def test_numbers_are_bounded_in_the_database(world):
    w = world.wearers[0]
    z = Zone(wearer=w, kind="curfew", name="x", curfew_easting=530000, curfew_northing=180000,
             curfew_radius_m=10**9)
    with pytest.raises(IntegrityError), transaction.atomic():
        z.save()


# --- batches, versions, matching -------------------------------------------------------------------
def test_a_batch_is_versioned_and_matched_automatically(world):
    crimes = planted(3, decoys=1)
    batch = ingest(crimes, world.pa)
    assert batch.outcome == "SUCCESSFUL"
    assert CrimeVersion.objects.filter(batch=batch).count() == len(crimes)
    run = batch.runs.get()
    assert run.trigger == "AUTO" and run.status == "SUCCESS" and run.algorithm_version
    assert run.parameters["radius_m"] == 100.0
    true = crimes[crimes["kind"] == "true"]
    for r in true.itertuples():
        m = Match.objects.get(run=run, crime_version__crime__crime_ref=r.crime_ref, wearer__ref=r.wearer_ref)
        assert m.status == "pending" and 0 <= m.probability <= 1 and m.explanation
        assert m.points.count() >= 1
        assert m.points.first().label[0] == "A"
    for r in crimes[crimes["kind"] != "true"].itertuples():
        assert not Match.objects.filter(crime_version__crime__crime_ref=r.crime_ref).exists()


def test_a_partial_batch_keeps_and_matches_the_valid_rows_and_lists_the_bad(world):
    crimes = planted(2, decoys=0)
    batch = ingest(crimes, world.pa, extra=b"Metropolitan,RB,,MPS20240304,BAD-1,20240304100000,"
                                           b"20240305100000,530000,180000,,,OSGB36,too long\n")
    assert batch.outcome == "PARTIAL"
    err = batch.errors.get()
    assert err.crime_ref == "BAD-1" and err.code and err.action and err.row == 3
    assert CrimeVersion.objects.filter(batch=batch).count() == 2
    assert batch.runs.get().trigger == "AUTO"
    assert Match.objects.filter(run__batch=batch).count() >= 2


def test_a_failed_batch_ingests_nothing_and_says_why(world):
    batch = services.ingest_batch(b"x,y\n", "bad.csv", force="Metropolitan")
    assert batch.outcome == "FAILED" and batch.file_errors
    assert not CrimeVersion.objects.exists() and not MatchRun.objects.exists()


def test_another_forces_batch_is_refused_and_nothing_written(world):
    with pytest.raises(services.BatchRefused):
        services.ingest_batch(demo.batch_csv(planted(1, decoys=0)), "x.csv", force="Kent")
    assert not CrimeBatch.objects.exists()


def test_a_resubmission_is_a_new_version_with_the_changes_and_is_matched_again(world):
    crimes = planted(1, decoys=0)
    ingest(crimes, world.pa)
    moved = crimes.copy()
    moved["easting"] = moved["easting"] + 5
    batch2 = ingest(moved, world.pa, name="again.csv")
    v2 = CrimeVersion.objects.get(batch=batch2)
    assert v2.version == 2 and v2.kind == "amended" and "EASTING" in v2.changed_fields
    assert Match.objects.filter(crime_version=v2, run__trigger="AUTO").exists()


def test_a_manual_run_is_recorded(world):
    batch = ingest(planted(1, decoys=0), world.pa)
    v = CrimeVersion.objects.get(batch=batch)
    call_command("tagging_match", "--crime-version", v.version_id, stdout=io.StringIO())
    run = MatchRun.objects.filter(trigger="MANUAL").get()
    assert run.status == "SUCCESS" and list(run.crime_versions.all()) == [v]
    assert run.matches.count() == 1


# --- breaches -------------------------------------------------------------------------------------
def _zone_on_trail(world, w):
    return Zone.objects.create(wearer=w, kind="exclusion", name="Zone",
                               geometry=demo.zone_on_trail(world.sim, w.ref))


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


def test_a_curfew_zone_is_built_with_its_schedule(world):
    w = world.wearers[0]
    import datetime as dt
    z = Zone.objects.create(wearer=w, kind="curfew", name="Curfew", curfew_easting=530000,
                            curfew_northing=180000, curfew_radius_m=50, rrule="FREQ=DAILY",
                            local_start=dt.datetime(2024, 3, 1, 19, 0), duration_minutes=720)
    zone = services.build_zone(z)
    assert zone.kind == "inclusion" and abs(zone.geometry.area - 3.1416 * 2500) < 10
    assert zone.active_interval(pd.Series([pd.Timestamp("2024-03-04T20:00Z")]))[0] >= 0
    assert zone.active_interval(pd.Series([pd.Timestamp("2024-03-04T12:00Z")]))[0] == -1


# --- retention ------------------------------------------------------------------------------------
def test_purge_deletes_old_positions_but_keeps_a_qualified_match_and_a_breach(world):
    crimes = planted(2, decoys=0)
    batch = ingest(crimes, world.pa)
    matches = list(Match.objects.filter(run__batch=batch))
    qualified, pending = matches[0], matches[1]
    services.review_match(qualified, world.pa, "qualified", "seen on CCTV too")
    w = world.wearers[3]
    _zone_on_trail(world, w)
    breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    root = services.store_root()
    before = store.read_positions(root).to_pandas()
    assert len(before)
    out = io.StringIO()
    call_command("tagging_purge", "--now", "2025-01-01T00:00:00Z", stdout=out)
    after = store.read_positions(root).to_pandas()
    assert 0 < len(after) < len(before)
    q_dev = after[after["device_id"] == qualified.device_id]
    cv = qualified.crime_version
    assert ((q_dev["fix_time"] >= cv.time_from) & (q_dev["fix_time"] <= cv.time_to)).any()
    for p in qualified.points.filter(interpolated=False):
        assert (q_dev["fix_time"] == pd.Timestamp(p.fix_time)).any()
    b_dev = after[after["device_id"].isin([a.device_id for a in w.activations.all()])]
    for t in breach.proof_fixes:
        assert (b_dev["fix_time"] == pd.Timestamp(t)).any()
    # the pending match's fixes were not kept (unless they also fall in a kept interval)
    p_dev = after[(after["device_id"] == pending.device_id)
                  & (after["fix_time"] >= pending.crime_version.time_from)
                  & (after["fix_time"] <= pending.crime_version.time_to)]
    if pending.device_id not in (qualified.device_id,) + tuple(a.device_id for a in w.activations.all()):
        assert p_dev.empty
    assert "deleted" in out.getvalue()


def test_purge_keeps_everything_inside_the_retention_period(world):
    root = services.store_root()
    n = len(store.read_positions(root))
    services.purge(now=START + pd.Timedelta(days=3), days=90)
    assert len(store.read_positions(root)) == n


def test_the_store_folder_is_private(world):
    root = services.store_root()
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700


# --- commands -------------------------------------------------------------------------------------
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
