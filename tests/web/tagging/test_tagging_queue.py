"""Matching off the upload request: a batch queues its run, the worker (``tagging_match --pending``)
runs it, records failures, and the inline setting."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from factories import signed_in
from tagging_util import _counting, _upload, planted

from vru.web.tagging import services
from vru.web.tagging.models import CrimeBatch, Match, MatchRun

pytestmark = pytest.mark.django_db


@pytest.mark.world("worker")
def test_an_upload_stores_the_batch_and_its_rows_and_queues_a_run_without_matching(world, monkeypatch):
    calls = _counting(monkeypatch)
    c = signed_in(world.pa)
    r = _upload(world, c=c)
    assert r.status_code == 302
    batch = CrimeBatch.objects.latest("pk")
    assert batch.outcome == "PARTIAL" and batch.errors.get().crime_ref == "BAD-9"
    run = batch.runs.get()
    assert (run.status, run.trigger, run.started, run.ended) == ("QUEUED", "AUTO", None, None)
    n = len(planted(2, decoys=1))
    assert run.queued_at is not None and run.crime_versions.count() == batch.versions.count() == n
    assert calls == [] and not Match.objects.exists()
    page = c.get(r["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and 'data-status="QUEUED"' in body
    assert "waiting for the matching worker" in body and "matching run is queued" in body


@pytest.mark.world("worker")
def test_the_worker_runs_the_queued_run_and_the_batch_page_shows_it(world, monkeypatch):
    _upload(world)
    batch = CrimeBatch.objects.latest("pk")
    calls = _counting(monkeypatch)
    out = StringIO()
    call_command("tagging_match", "--pending", stdout=out)
    run = batch.runs.get()
    assert run.status == "SUCCESS" and run.started is not None and run.ended >= run.started
    assert calls == [1]
    crimes = planted(2, decoys=1)
    true = set(crimes[crimes["kind"] == "true"]["crime_ref"])
    assert true and true <= {m.crime_version.crime.crime_ref for m in run.matches.all()}
    assert "1 run(s) done, 0 failed" in out.getvalue()
    body = signed_in(world.pa).get(reverse("tagging:batch", args=[batch.pk])).content.decode()
    assert 'data-status="SUCCESS"' in body and "0 qualified matches" in body  # none shared yet
    # a second pass finds nothing queued and runs nothing again
    call_command("tagging_match", "--pending", stdout=StringIO())
    assert calls == [1] and MatchRun.objects.count() == 1


@pytest.mark.world("worker")
def test_a_failing_run_is_recorded_with_its_message_and_the_worker_goes_on(world, monkeypatch):
    _upload(world, name="first.csv")
    _upload(world, name="second.csv", bad_row=False)
    first, second = MatchRun.objects.order_by("pk")
    real = services._match_grouped
    seen = []

    def flaky(*a, **kw):
        seen.append(1)
        if len(seen) == 1:
            raise OSError("positions store unreadable: /srv/vru/tagging/day=2024-03-04")
        return real(*a, **kw)

    monkeypatch.setattr(services, "_match_grouped", flaky)
    out = StringIO()
    call_command("tagging_match", "--pending", stdout=out)  # no exception: recorded
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "FAILURE" and first.ended is not None
    assert "positions store unreadable" in first.error and "OSError" in first.error
    assert second.status == "SUCCESS"
    assert "1 run(s) done, 1 failed" in out.getvalue()
    # the batch page: 200, the status FAILURE; the police read that the error is recorded, not the error
    police = signed_in(world.pa).get(reverse("tagging:batch", args=[first.batch_id]))
    body = police.content.decode()
    assert police.status_code == 200 and 'data-status="FAILURE"' in body
    assert "the error is recorded for the unit" in body and "/srv/vru" not in body


@pytest.mark.world("worker")
def test_a_run_whose_recording_fails_is_failure_not_left_running(world, monkeypatch):
    _upload(world)
    run = MatchRun.objects.get()

    def broken(*a, **kw):
        raise RuntimeError("database refused the points")

    monkeypatch.setattr(services, "_record_matches", broken)
    assert services.run_pending() == {"done": 0, "failed": 1, "skipped": 0}
    run.refresh_from_db()
    assert run.status == "FAILURE" and "recording the matches failed" in run.error


@pytest.mark.world("worker")
def test_inline_matching_runs_the_queued_run_by_the_workers_path(world, monkeypatch, settings):
    settings.VRU_TAGGING_MATCH_INLINE = True
    calls = _counting(monkeypatch)
    claims = []
    real_claim = services.claim_run
    monkeypatch.setattr(services, "claim_run", lambda pk: claims.append(pk) or real_claim(pk))
    r = _upload(world)
    assert r.status_code == 302
    run = MatchRun.objects.get()
    assert run.status == "SUCCESS" and run.queued_at is not None and run.matches.exists()
    assert calls == [1] and claims == [run.pk]


@pytest.mark.world("worker")
def test_inline_matching_failure_on_upload_is_a_message_not_a_500(world, monkeypatch, settings):
    settings.VRU_TAGGING_MATCH_INLINE = True

    def broken(*a, **kw):
        raise OSError("disk gone")

    monkeypatch.setattr(services, "_match_grouped", broken)
    c = signed_in(world.pa)
    r = _upload(world, c=c)
    assert r.status_code == 302 and r["Location"] == reverse("tagging:batches")
    assert MatchRun.objects.get().status == "FAILURE"
    assert "matching failed" in c.get(r["Location"]).content.decode()


def test_the_inline_setting_is_read_from_settings_then_the_environment(monkeypatch, settings):
    monkeypatch.delenv("VRU_TAGGING_MATCH_INLINE", raising=False)
    with override_settings():
        del settings.VRU_TAGGING_MATCH_INLINE
    assert services.match_inline() is False
    monkeypatch.setenv("VRU_TAGGING_MATCH_INLINE", "1")
    assert services.match_inline() is True
    monkeypatch.setenv("VRU_TAGGING_MATCH_INLINE", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="VRU_TAGGING_MATCH_INLINE"):
        services.match_inline()
    settings.VRU_TAGGING_MATCH_INLINE = False
    assert services.match_inline() is False


@pytest.mark.world("worker")
def test_the_worker_options_are_checked_and_loop_stops_after_max_runs(world):
    with pytest.raises(CommandError, match="go with --pending"):
        call_command("tagging_match", "--loop", "5")
    with pytest.raises(CommandError, match="at least 1 second"):
        call_command("tagging_match", "--pending", "--loop", "0")
    with pytest.raises(CommandError, match="without --batch"):
        call_command("tagging_match", "--pending", "--batch", "1")
    _upload(world, name="a.csv")
    _upload(world, name="b.csv", bad_row=False)
    out = StringIO()
    call_command("tagging_match", "--pending", "--loop", "1", "--max-runs", "1", stdout=out)
    assert list(MatchRun.objects.order_by("pk").values_list("status", flat=True)) == ["SUCCESS", "QUEUED"]
    call_command("tagging_match", "--pending", "--loop", "1", "--max-runs", "1", stdout=out)
    assert set(MatchRun.objects.values_list("status", flat=True)) == {"SUCCESS"}
