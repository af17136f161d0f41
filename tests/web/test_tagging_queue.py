"""Matching runs off the upload request (issue 13, item 5; docs/web-tagging.md, "Matching worker"): an
uploaded batch is stored with its rows and a QUEUED run; the worker (``tagging_match --pending``) runs
it; two workers never run one twice; a failure is recorded on the run, never a 500."""

from __future__ import annotations

import configparser
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from django.urls import reverse
from test_tagging_util import client, make_world, planted

from vru.web.tagging import demo, services
from vru.web.tagging.models import CrimeBatch, Match, MatchRun

pytestmark = pytest.mark.django_db
DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


@pytest.fixture
def world(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("VRU_TAGGING_MATCH_INLINE", raising=False)
    settings.VRU_TAGGING_MATCH_INLINE = False  # as deployed: the worker matches
    return make_world(settings, tmp_path)


def _upload(world, n: int = 2, name: str = "b.csv", bad_row: bool = True, c=None):
    data = demo.batch_csv(planted(n, decoys=1), batch_id="MPS20240305")
    if bad_row:
        data += b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n"
    return (c or client(world.pa)).post(reverse("tagging:batches"), {"file": SimpleUploadedFile(name, data)})


def _counting(monkeypatch) -> list:
    """Count the executions of the matching itself (``services._match_grouped``)."""
    calls = []
    real = services._match_grouped

    def spy(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(services, "_match_grouped", spy)
    return calls


def test_an_upload_stores_the_batch_and_its_rows_and_queues_a_run_without_matching(world, monkeypatch):
    calls = _counting(monkeypatch)
    c = client(world.pa)
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
    body = client(world.pa).get(reverse("tagging:batch", args=[batch.pk])).content.decode()
    assert 'data-status="SUCCESS"' in body and "0 qualified matches" in body  # none shared yet
    # a second pass finds nothing queued and runs nothing again
    call_command("tagging_match", "--pending", stdout=StringIO())
    assert calls == [1] and MatchRun.objects.count() == 1


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
    police = client(world.pa).get(reverse("tagging:batch", args=[first.batch_id]))
    body = police.content.decode()
    assert police.status_code == 200 and 'data-status="FAILURE"' in body
    assert "the error is recorded for the unit" in body and "/srv/vru" not in body


def test_a_run_whose_recording_fails_is_failure_not_left_running(world, monkeypatch):
    _upload(world)
    run = MatchRun.objects.get()

    def broken(*a, **kw):
        raise RuntimeError("database refused the points")

    monkeypatch.setattr(services, "_record_matches", broken)
    assert services.run_pending() == {"done": 0, "failed": 1, "skipped": 0}
    run.refresh_from_db()
    assert run.status == "FAILURE" and "recording the matches failed" in run.error


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


def test_inline_matching_failure_on_upload_is_a_message_not_a_500(world, monkeypatch, settings):
    settings.VRU_TAGGING_MATCH_INLINE = True

    def broken(*a, **kw):
        raise OSError("disk gone")

    monkeypatch.setattr(services, "_match_grouped", broken)
    c = client(world.pa)
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


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_the_worker_ships_as_a_systemd_service_running_the_command():
    from django.core.management import get_commands

    unit = _unit(DEPLOY / "vru-tagging-match.service")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[1:5] == ["-m", "django", "tagging_match", "--pending"], argv
    assert "--loop" in argv and get_commands().get(argv[3]) == "vru.web.tagging"
    assert service["Restart"] in ("always", "on-failure") and service["User"] == "vru"
    assert service["EnvironmentFile"] == "/etc/vru/web.env"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


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


def test_the_reviewer_reads_queued_and_failed_runs_with_their_errors_the_police_do_not(world, monkeypatch):
    _upload(world, name="queued.csv")
    _upload(world, name="failing.csv", bad_row=False)
    queued, failing = MatchRun.objects.order_by("pk")

    def broken(*a, **kw):
        raise OSError("positions store unreadable: /srv/vru/tagging/day=2024-03-04")

    monkeypatch.setattr(services, "_match_grouped", broken)
    with pytest.raises(Exception, match="unreadable"):
        services.run_queued(failing.pk)
    hub = client(world.reviewer).get(reverse("tagging:matches")).content.decode()
    assert f"Run {queued.pk} (AUTO, batch {queued.batch_id} queued.csv of Metropolitan)" in hub
    assert 'data-status="QUEUED"' in hub and 'data-status="FAILURE"' in hub
    assert "positions store unreadable" in hub
    police = client(world.pa).get(reverse("tagging:matches")).content.decode()
    assert "open-runs" not in police and "unreadable" not in police
