"""A matching run's heartbeat and end: a beat reconnects after its connection dropped, a run another worker
failed as stale is never turned back to SUCCESS (its matches rolled back), a run past MAX_RUN is failed
whatever its heartbeat, and the beat and the stale cut-off read the database's clock."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import InterfaceError, connection, connections
from django.utils import timezone
from tagging_util import planted

from vru.tagging import matching
from vru.web.tagging import demo, services
from vru.web.tagging.models import Match, MatchRun

pytestmark = pytest.mark.django_db


def _running(**fields) -> MatchRun:
    now = timezone.now()
    return MatchRun.objects.create(algorithm_version="x", trigger="AUTO", status="RUNNING",
                                   **{"started": now, "heartbeat": now, **fields})


def _queued_run(world) -> MatchRun:
    batch = services.ingest_batch(demo.batch_csv(planted(1, decoys=0), force="Metropolitan"), "b.csv",
                                  user=world.pa, force="Metropolitan", inline=False)
    return batch.runs.get()


@pytest.mark.django_db(transaction=True)
def test_a_failed_beat_closes_its_connection_so_the_next_one_reconnects(world, monkeypatch):
    from django.db import OperationalError

    run = _running()
    wrapper = type(connections["default"])
    closed, real_close, real_filter = [], wrapper.close, MatchRun.objects.filter

    def close(self):
        closed.append(self.alias)
        return real_close(self)

    def once(*a, **kw):
        monkeypatch.setattr(MatchRun.objects, "filter", real_filter)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(wrapper, "close", close)
    monkeypatch.setattr(MatchRun.objects, "filter", once)
    assert services.beat(run.pk) is False and closed == ["default"]
    assert services.beat(run.pk) is True


@pytest.mark.django_db(transaction=True)
def test_a_beat_after_its_connection_dropped_opens_a_new_one(world):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is never closed (it would be lost): PostgreSQL only")
    run = _running()
    seen = []

    def beats():
        try:
            seen.append(services.beat(run.pk))
            connection.connection.close()  # the server or a proxy dropped it
            seen.append(services.beat(run.pk))  # fails, logged; the connection is closed
            seen.append(services.beat(run.pk))  # a new connection
        except Exception as exc:  # an escaping error would have killed the heartbeat thread
            seen.append(exc)
        finally:
            connections.close_all()

    t = threading.Thread(target=beats)
    t.start()
    t.join(30)
    assert seen == [True, False, True]


def test_an_interface_error_is_logged_not_raised(world, monkeypatch, caplog):
    run = _running()

    def closed(*a, **kw):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(MatchRun.objects, "filter", closed)
    assert services.beat(run.pk) is False
    assert "heartbeat of run" in caplog.text


def test_a_run_failed_as_stale_while_recording_keeps_its_failure_and_no_match(world, monkeypatch):
    run = _queued_run(world)
    real = services._storable
    seen = {}

    def stale_meanwhile(r, points):
        # another worker finds the run silent for two hours (a GIL held by a C call) and fails it
        MatchRun.objects.filter(pk=r.pk).update(heartbeat=timezone.now() - timedelta(hours=2))
        seen["failed"] = services.fail_stale_runs()
        seen["points"] = len(points)
        return real(r, points)

    monkeypatch.setattr(services, "_storable", stale_meanwhile)
    with pytest.raises(matching.MatchRunError, match="marked FAILURE by another process"):
        services.run_queued(run.pk)
    run.refresh_from_db()
    assert seen == {"failed": 1, "points": seen["points"]} and seen["points"] > 0  # there were matches
    assert run.status == "FAILURE" and "interrupted: no heartbeat" in run.error
    assert not Match.objects.filter(run=run).exists()  # rolled back


@pytest.mark.django_db(transaction=True)
def test_a_run_failed_while_matching_is_not_recorded(world, monkeypatch):
    monkeypatch.setattr(services, "HEARTBEAT_EVERY", timedelta(milliseconds=20))
    run = _queued_run(world)
    real_match, real_record = services._match_grouped, services._record_matches
    seen = {"recorded": False}

    def stale_meanwhile(*a, **kw):
        MatchRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=2))
        seen["failed"] = services.fail_stale_runs()
        time.sleep(0.3)  # the heartbeat finds it FAILURE and stops
        return real_match(*a, **kw)

    def record(*a, **kw):
        seen["recorded"] = True
        return real_record(*a, **kw)

    monkeypatch.setattr(services, "_match_grouped", stale_meanwhile)
    monkeypatch.setattr(services, "_record_matches", record)
    with pytest.raises(matching.MatchRunError, match="its matches were not recorded"):
        services.run_queued(run.pk)
    run.refresh_from_db()
    assert seen == {"failed": 1, "recorded": False}
    assert run.status == "FAILURE" and "interrupted: no heartbeat" in run.error
    assert not Match.objects.filter(run=run).exists()


def test_a_run_with_no_versions_left_succeeds_only_if_still_running(world):
    run = services.queue_run([], trigger="AUTO")
    assert services.claim_run(run.pk)
    MatchRun.objects.filter(pk=run.pk).update(status="FAILURE", error="interrupted")
    run.refresh_from_db()
    with pytest.raises(matching.MatchRunError):
        services._execute(run, [], matching.Params())
    run.refresh_from_db()
    assert run.status == "FAILURE" and run.error == "interrupted"


def test_a_run_longer_than_max_run_is_failed_whatever_its_heartbeat(world):
    now = timezone.now()
    hung = _running(started=now - services.MAX_RUN - timedelta(minutes=1))
    long = _running(started=now - services.MAX_RUN + timedelta(minutes=5))
    assert services.fail_stale_runs() == 1
    hung.refresh_from_db()
    long.refresh_from_db()
    assert hung.status == "FAILURE" and "RUNNING for over 12 hours" in hung.error and hung.ended
    assert long.status == "RUNNING"


@pytest.mark.parametrize("skew", [timedelta(minutes=20), -timedelta(minutes=20)])
def test_the_beat_and_the_stale_cutoff_read_the_database_clock(world, monkeypatch, skew):
    real_now = timezone.now
    alive = _running()
    silent = _running(heartbeat=real_now() - services.STALE_RUN - timedelta(minutes=1))
    monkeypatch.setattr(timezone, "now", lambda: real_now() + skew)  # this host's clock is wrong
    assert services.beat(alive.pk)
    alive.refresh_from_db()
    assert abs(alive.heartbeat - real_now()) < timedelta(minutes=1)
    assert services.fail_stale_runs() == 1
    alive.refresh_from_db()
    silent.refresh_from_db()
    assert alive.status == "RUNNING" and silent.status == "FAILURE"
