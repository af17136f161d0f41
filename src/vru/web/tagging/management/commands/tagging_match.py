"""Run matching by hand (trigger MANUAL) for a batch's crime versions or for named crime versions; or
(--fail-stale) mark the runs a crashed worker left RUNNING as FAILURE (every run also does this first)."""

from django.core.management.base import BaseCommand, CommandError

from vru.tagging import matching

from ...models import CrimeBatch, CrimeVersion
from ...services import STALE_RUN, fail_stale_runs, run_matching


class Command(BaseCommand):
    help = "Match crime versions against the positions store (a MANUAL run)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, help="the id of a crime batch: its versions")
        parser.add_argument("--crime-version", dest="crime_versions", action="append", default=[],
                            help="a crime version id (repeatable)")
        parser.add_argument("--fail-stale", action="store_true",
                            help=f"only mark runs left RUNNING for over {STALE_RUN} (a crashed worker) as "
                                 "FAILURE")

    def handle(self, batch=None, crime_versions=(), fail_stale=False, **options):
        if fail_stale:
            self.stdout.write(f"{fail_stale_runs()} run(s) left RUNNING marked FAILURE")
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
            raise CommandError("give --batch or --crime-version")
        try:
            run = run_matching(versions, trigger="MANUAL")
        except matching.MatchRunError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"run {run.pk}: {run.status}, {run.matches.count()} match(es) for "
                          f"{len(versions)} crime version(s)")
