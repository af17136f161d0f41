"""Batches, crime versions and matching runs (``services``): versions, row errors, crime groups, stale
runs and heartbeats, fixes at the bounds."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest
from django.core.management import call_command
from django.utils import timezone
from pyproj import Transformer
from tagging_util import ingest, make_world, planted, sim

from vru.tagging import matching, store
from vru.tagging import schema as S
from vru.tagging.positions import MAX_PRECISION_M
from vru.web.tagging import demo, services
from vru.web.tagging.models import MAX_DISTANCE_M, CrimeBatch, CrimeVersion, Match, MatchPoint, MatchRun

pytestmark = pytest.mark.django_db


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


def test_crimes_months_apart_are_matched_without_reading_the_months_between(world, monkeypatch):
    seen = []
    real = store.positions_table

    def spy(con, root, start=None, end=None):
        seen.append((pd.Timestamp(start), pd.Timestamp(end)))
        return real(con, root, start, end)

    monkeypatch.setattr(store, "positions_table", spy)
    crimes = planted(2, decoys=0)
    may = crimes.iloc[[0]].copy()
    may["crime_ref"] = "MAY00001"
    for c in (S.TIME_FROM, S.TIME_TO):
        may[c] = may[c] + pd.Timedelta(days=60)
    batch = ingest(pd.concat([crimes, may], ignore_index=True), world.pa)
    assert len(seen) >= 2 and seen[-1][0].month == 5  # each group of March, then May
    assert all(e - s < pd.Timedelta(days=1) for s, e in seen)
    april = pd.Timestamp("2024-04-15T00:00Z")
    assert not any(s <= april < e for s, e in seen)
    run = batch.runs.get()
    assert run.status == "SUCCESS"
    # the same matches as one read of the whole store
    pos = services.positions_frame(pd.Timestamp("2024-03-01T00:00Z"), pd.Timestamp("2024-06-01T00:00Z"))
    whole = matching.match(pos, services.activations_frame(), services._versions_frame(batch.versions.all()))
    got = {(m.crime_version.version_id, m.wearer.ref, round(m.probability, 9)) for m in run.matches.all()}
    want = {(r[S.CRIME_VERSION_ID], r[S.WEARER_REF], round(float(r["p_within"]), 9))
            for r in whole.summary.to_dict("records")}
    assert got == want and len(got) >= 2


def test_crime_groups_split_where_the_widened_windows_do_not_touch():
    p = matching.Params()
    t = pd.Timestamp("2024-03-04T10:00Z")
    gap = pd.Timedelta(seconds=p.tolerance_s + p.max_gap_s)
    df = pd.DataFrame({S.TIME_FROM: [t + 10 * gap, t, t + 2 * gap]})  # the third touches the first
    df[S.TIME_TO] = df[S.TIME_FROM] + pd.Timedelta(minutes=5)
    groups = services.crime_groups(df, p)
    assert [len(g) for g in groups] == [2, 1]


def test_a_run_left_running_by_a_crash_is_marked_failed_by_the_next_run_and_the_command(world):
    now = timezone.now()
    old = MatchRun.objects.create(algorithm_version="x", trigger="AUTO", started=now - timedelta(hours=2))
    recent = MatchRun.objects.create(algorithm_version="x", trigger="AUTO",
                                     started=now - timedelta(minutes=5))
    ingest(planted(1, decoys=0), world.pa)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == "FAILURE" and "interrupted: no heartbeat" in old.error and old.ended is not None
    assert recent.status == "RUNNING"
    MatchRun.objects.filter(pk=recent.pk).update(started=now - timedelta(hours=3))
    call_command("tagging_match", "--fail-stale")
    recent.refresh_from_db()
    assert recent.status == "FAILURE"
    assert Match.objects.exists()  # the batch itself matched


def test_a_run_started_hours_ago_with_a_fresh_heartbeat_is_left_running(world):
    now = timezone.now()
    alive = MatchRun.objects.create(algorithm_version="x", trigger="AUTO", started=now - timedelta(hours=2),
                                    heartbeat=now - timedelta(minutes=1))
    silent = MatchRun.objects.create(algorithm_version="x", trigger="AUTO", started=now - timedelta(hours=2),
                                     heartbeat=now - services.STALE_RUN - timedelta(minutes=1))
    assert services.fail_stale_runs() == 1
    call_command("tagging_match", "--fail-stale")
    alive.refresh_from_db()
    silent.refresh_from_db()
    assert alive.status == "RUNNING" and alive.ended is None and not alive.error
    assert silent.status == "FAILURE" and "no heartbeat for over 15 minutes" in silent.error
    # the heartbeat stops: the same run is failed once it has been silent for too long
    assert services.fail_stale_runs(now=now + services.STALE_RUN) == 1
    alive.refresh_from_db()
    assert alive.status == "FAILURE"


def test_claiming_or_starting_a_run_writes_its_first_heartbeat(world):
    run = services.queue_run([], trigger="AUTO")
    assert run.heartbeat is None
    assert services.claim_run(run.pk)
    run.refresh_from_db()
    assert run.heartbeat == run.started is not None
    manual = services.run_matching([], trigger="MANUAL")
    assert manual.heartbeat == manual.started and manual.status == "SUCCESS"


def test_a_missed_beat_is_logged_not_raised(world, monkeypatch, caplog):
    from django.db import DatabaseError

    def refuse(*a, **kw):
        raise DatabaseError("database is locked")

    run = MatchRun.objects.create(algorithm_version="x", trigger="AUTO", started=timezone.now())
    monkeypatch.setattr(MatchRun.objects, "filter", refuse)
    assert services.beat(run.pk) is False
    assert "heartbeat of run" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_while_a_long_run_goes_on_so_it_is_not_failed(world, monkeypatch):
    """A run that has gone on for two hours (its start moved back while it runs) and still beats is left
    RUNNING by another worker's stale check, and ends SUCCESS."""
    import time

    monkeypatch.setattr(services, "HEARTBEAT_EVERY", timedelta(milliseconds=50))
    crimes = planted(1, decoys=0)
    batch = services.ingest_batch(demo.batch_csv(crimes, force="Metropolitan"), "b.csv", user=world.pa,
                                  force="Metropolitan", inline=False)
    run = batch.runs.get()
    real = services._match_grouped
    seen = {}

    def long_match(*a, **kw):
        MatchRun.objects.filter(pk=run.pk).update(started=timezone.now() - timedelta(hours=2),
                                                  heartbeat=timezone.now() - timedelta(hours=2))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
            beat = MatchRun.objects.values_list("heartbeat", flat=True).get(pk=run.pk)
            if beat > timezone.now() - timedelta(minutes=1):
                break
        seen["heartbeat"] = beat
        seen["failed"] = services.fail_stale_runs()  # another worker's check, two hours after the start
        return real(*a, **kw)

    monkeypatch.setattr(services, "_match_grouped", long_match)
    assert services.run_queued(run.pk) is not None
    run.refresh_from_db()
    assert seen["heartbeat"] > timezone.now() - timedelta(minutes=1)
    assert seen["failed"] == 0
    assert run.status == "SUCCESS" and run.started < timezone.now() - timedelta(hours=1)
    assert run.heartbeat >= seen["heartbeat"]


@pytest.mark.parametrize("col, val", [("speed_kmh", 1500.0), ("precision_m", 150_000.0)])
def test_a_stored_fix_past_the_bounds_does_not_fail_a_matching_run(settings, tmp_path, col, val):
    """A store written before the importer's check: the run succeeds; the speed is stored as unknown, a fix
    with such a precision is left out of the stored copy."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tagging_util import ingest, planted

    from vru.tagging import store
    from vru.web.tagging.models import Match, MatchPoint, MatchRun

    w = make_world(settings, tmp_path)
    files = store.partition_files(settings.VRU_TAGGING_STORE)
    assert files
    for f in files:  # rewritten round the importer, as a store written before its check
        t = pq.read_table(f)
        i = t.schema.get_field_index(col)
        pq.write_table(t.set_column(i, col, pa.array([val] * t.num_rows, t.schema.field(i).type)), f)
    ingest(planted(2, decoys=0), w.pa)
    assert list(MatchRun.objects.values_list("status", flat=True)) == ["SUCCESS"]
    assert Match.objects.exists()
    if col == "speed_kmh":
        assert MatchPoint.objects.exists()
        assert not MatchPoint.objects.filter(speed_kmh__isnull=False).exists()
    else:
        assert not MatchPoint.objects.exists()


@pytest.mark.parametrize("prec,off", [(MAX_PRECISION_M, MAX_PRECISION_M + 50.0), (9_000.0, 8_000.0)])
def test_an_lbs_fix_far_within_its_precision_is_stored_not_a_failed_run(settings, tmp_path, prec, off):
    w = make_world(settings, tmp_path, store=False)
    s = sim()
    c = planted(2, decoys=0).iloc[0]
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(c.easting + off, c.northing)
    t = c.true_time + pd.Timedelta(seconds=7)
    row = {"device_id": c.device_id, "fix_time": t, "lat": lat, "lon": lon, "precision_m": prec,
           "speed_kmh": None, "heading_deg": None, "mechanism": "LBS",
           "received_time": t + pd.Timedelta(seconds=5)}
    extra = pa.Table.from_pylist([row], schema=s.positions.schema)
    demo.load_store(dataclasses.replace(s, positions=pa.concat_tables([s.positions, extra])))
    ingest(planted(2, decoys=0), w.pa)
    assert list(MatchRun.objects.values_list("status", flat=True)) == ["SUCCESS"]
    far = list(MatchPoint.objects.filter(mechanism="LBS", precision_m=prec)
               .values_list("distance_m", flat=True))
    assert len(far) == 1 and abs(far[0] - off) < 1


def test_storable_leaves_out_a_fix_past_the_distance_bound(caplog):
    pts = pd.DataFrame({S.DEVICE_ID: ["D1", "D2", "D3"], S.PRECISION_M: [10.0, 10.0, 10.0],
                        S.DISTANCE_M: [5.0, MAX_DISTANCE_M, MAX_DISTANCE_M + 1], S.SPEED_KMH: [None] * 3,
                        S.HEADING_DEG: [None] * 3})
    kept = services._storable(MatchRun(pk=7), pts)
    assert list(kept[S.DEVICE_ID]) == ["D1", "D2"]
    assert "match run 7: 1 matched fixes" in caplog.text and "D3" in caplog.text
