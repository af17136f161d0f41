"""Races: two workers claiming a queued run, two reviewers deciding one match."""

from __future__ import annotations

import pytest
from django.db.models import Count
from factories import user
from tagging_util import _counting, _upload

from vru.web.tagging import services
from vru.web.tagging.models import Match, MatchRun

pytestmark = pytest.mark.django_db


@pytest.mark.world("worker")
def test_a_run_is_claimed_once_so_two_workers_never_run_it_twice(world, monkeypatch):
    _upload(world)
    run = MatchRun.objects.get()
    assert services.claim_run(run.pk) is True
    assert services.claim_run(run.pk) is False  # the second worker's claim finds it RUNNING
    MatchRun.objects.filter(pk=run.pk).update(status="QUEUED", started=None)

    # worker A lists the queued runs; before it claims, worker B lists, claims and runs them whole
    calls = _counting(monkeypatch)
    real_ids = services.queued_run_ids
    b_counts, inside_b = [], []

    def a_then_b(limit=None):
        ids = real_ids(limit)
        if not inside_b:
            inside_b.append(1)
            b_counts.append(services.run_pending())  # worker B, between A's read and A's claim
        return ids

    monkeypatch.setattr(services, "queued_run_ids", a_then_b)
    a_counts = services.run_pending()
    assert b_counts == [{"done": 1, "failed": 0, "skipped": 0}]
    assert a_counts == {"done": 0, "failed": 0, "skipped": 1}
    assert calls == [1]
    run.refresh_from_db()
    n = run.matches.count()
    assert run.status == "SUCCESS" and n > 0
    assert Match.objects.count() == n  # one set of matches: nothing recorded twice


@pytest.mark.world("worker")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_run_each_queued_run_once(world, monkeypatch):
    """Real concurrency (PostgreSQL: the second claim waits on the first's row lock, then finds the run
    RUNNING). On SQLite, which serialises writers, the two workers simply take turns."""
    import threading

    from django.db import connections

    for i in range(3):
        _upload(world, name=f"b{i}.csv", bad_row=False)
    calls = _counting(monkeypatch)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = services.run_pending()
        except Exception as exc:  # reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    if connections["default"].vendor == "sqlite":
        for i in range(2):
            results[i] = services.run_pending()
    else:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["done"] for r in results) == 3 and sum(r["failed"] for r in results) == 0
    assert len(calls) == 3  # each run's matching executed once
    assert set(MatchRun.objects.values_list("status", flat=True)) == {"SUCCESS"}
    for run in MatchRun.objects.all():
        assert run.matches.exists()
    assert not Match.objects.values("crime_version", "wearer").annotate(
        n=Count("pk")).filter(n__gt=1).exists()  # no crime version and wearer matched twice


@pytest.mark.world("pending")
def test_a_stale_review_does_not_overwrite_the_decision_that_stands(world):
    m = world.matches[0]
    stale = Match.objects.get(pk=m.pk)  # read while pending
    services.review_match(Match.objects.get(pk=m.pk), world.reviewer, "qualified", "corroborated by CCTV")
    with pytest.raises(services.AlreadyReviewed, match="already qualified by reviewer@test.test"):
        services.review_match(stale, user("rv2@test.test", "tagging reviewer"), "dismissed", "a bus")
    m.refresh_from_db()
    assert (m.status, m.reason, m.reviewed_by) == ("qualified", "corroborated by CCTV", world.reviewer)
    assert stale.status == "qualified"  # refreshed to the decision that stands
