"""Run matching by hand (trigger MANUAL) for a batch's crime versions or for named crime versions."""

from django.core.management.base import BaseCommand, CommandError

from vru.tagging import matching

from ...models import CrimeBatch, CrimeVersion
from ...services import run_matching


class Command(BaseCommand):
    help = "Match crime versions against the positions store (a MANUAL run)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, help="the id of a crime batch: its versions")
        parser.add_argument("--crime-version", dest="crime_versions", action="append", default=[],
                            help="a crime version id (repeatable)")

    def handle(self, batch=None, crime_versions=(), **options):
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
