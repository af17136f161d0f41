"""Matching reads the positions store through ``store.positions_table`` (partition-pruned), one group of
crimes close in time at a time, and runs a crashed worker left RUNNING are marked FAILURE (review of issue
13, finding 9)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone
from test_tagging_util import ingest, make_world, planted

from vru.tagging import matching, store
from vru.tagging import schema as S
from vru.web.tagging import demo, services
from vru.web.tagging.models import Match, MatchRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


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
