"""The matching worker and manual runs.

- ``--pending``: execute the QUEUED runs (an uploaded batch queues one), oldest first; each is claimed by
  one conditional UPDATE first, so two workers never run the same one; a failure is recorded on the run
  (FAILURE and its error) and the next run taken. With ``--loop SECONDS`` it keeps going, looking for
  queued runs every SECONDS (the ``vru-tagging-match`` systemd unit, docs/deploy/); ``--max-runs N``
  stops after N runs taken (tests, a one-off drain).
- ``--batch`` / ``--crime-version``: run matching by hand now (trigger MANUAL).
- ``--fail-stale``: mark the runs a crashed worker left RUNNING as FAILURE (every run also does this
  first).
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from vru.tagging import matching

from ...models import CrimeBatch, CrimeVersion
from ...services import STALE_RUN, fail_stale_runs, run_matching, run_pending


class Command(BaseCommand):
    help = ("Run queued matching runs (--pending, the worker), or match crime versions by hand (a MANUAL "
            "run).")

    def add_arguments(self, parser):
        parser.add_argument("--pending", action="store_true",
                            help="execute the queued runs of uploaded batches (the worker)")
        parser.add_argument("--loop", type=float, metavar="SECONDS",
                            help="with --pending: keep running, looking for queued runs every SECONDS "
                                 "(at least 1) until stopped (SIGTERM or SIGINT ends it between runs)")
        parser.add_argument("--max-runs", type=int, metavar="N",
                            help="with --pending: stop after taking N runs")
        parser.add_argument("--batch", type=int, help="the id of a crime batch: its versions")
        parser.add_argument("--crime-version", dest="crime_versions", action="append", default=[],
                            help="a crime version id (repeatable)")
        parser.add_argument("--fail-stale", action="store_true",
                            help="only mark RUNNING runs with no heartbeat for over "
                                 f"{int(STALE_RUN.total_seconds() // 60)} minutes (a crashed worker) as "
                                 "FAILURE")

    def handle(self, batch=None, crime_versions=(), fail_stale=False, pending=False, loop=None,
               max_runs=None, **options):
        if (loop is not None or max_runs is not None) and not pending:
            raise CommandError("--loop and --max-runs go with --pending")
        if fail_stale:
            self.stdout.write(f"{fail_stale_runs()} run(s) left RUNNING marked FAILURE")
            return
        if pending:
            if batch is not None or crime_versions:
                raise CommandError("--pending runs the queued runs: give it without --batch or "
                                   "--crime-version")
            self._worker(loop, max_runs)
            return
        versions = []
        if batch is not None:
            b = CrimeBatch.objects.filter(pk=batch).first()
            if b is None:
                raise CommandError(f"no crime batch {batch}")
            versions += list(b.versions.all())
        for vid in crime_versions:
            v = CrimeVersion.objects.filter(version_id=vid).first()
            if v is None:
                raise CommandError(f"no crime version {vid!r}")
            versions.append(v)
        if not versions:
            raise CommandError("give --pending, --batch or --crime-version")
        try:
            run = run_matching(versions, trigger="MANUAL")
        except matching.MatchRunError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"run {run.pk}: {run.status}, {run.matches.count()} match(es) for "
                          f"{len(versions)} crime version(s)")

    def _worker(self, loop: float | None, max_runs: int | None) -> None:
        if loop is not None and not loop >= 1:
            raise CommandError(f"--loop must be at least 1 second, not {loop}")
        if max_runs is not None and max_runs < 1:
            raise CommandError(f"--max-runs must be at least 1, not {max_runs}")
        stop = []
        if loop is not None:
            def _stop(signum, frame):
                stop.append(signum)
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, _stop)
        taken = 0
        totals = {"done": 0, "failed": 0, "skipped": 0}
        while True:
            if loop is not None and not connection.in_atomic_block:
                close_old_connections()  # a long-lived worker: never hold a connection the server dropped
            left = None if max_runs is None else max_runs - taken
            counts = run_pending(limit=left, log_to=self.stdout.write)
            for k, v in counts.items():
                totals[k] += v
            taken += counts["done"] + counts["failed"]
            if loop is None or stop or (max_runs is not None and taken >= max_runs):
                break
            if not (counts["done"] or counts["failed"]):
                deadline = time.monotonic() + loop
                while not stop and time.monotonic() < deadline:
                    time.sleep(min(0.5, loop))
            if stop:
                break
        self.stdout.write(f"{totals['done']} run(s) done, {totals['failed']} failed, "
                          f"{totals['skipped']} taken by another worker")
