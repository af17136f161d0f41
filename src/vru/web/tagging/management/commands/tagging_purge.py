"""Retention: delete raw positions older than VRU_TAGGING_RETENTION_DAYS, except those of a qualified
match or a breach, and the stored copies of fixes (MatchPoint rows) of dismissed matches and of pending
matches past the period (docs/web-tagging.md, "Retention"). Run it daily."""

from django.core.management.base import BaseCommand, CommandError

from ...services import purge
from .tagging_breaches import _utc


class Command(BaseCommand):
    help = "Delete positions past the retention period, keeping those of qualified matches and breaches."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="the time to count back from (UTC; default now): for tests")
        parser.add_argument("--days", type=int, help="the retention period (default the setting)")

    def handle(self, now=None, days=None, **options):
        if days is not None and days < 1:
            raise CommandError(f"--days must be at least 1 (a whole day of positions), not {days}")
        r = purge(now=_utc(now) if now else None, days=days)
        self.stdout.write(f"purge: {r.deleted} fix(es) deleted, {r.kept} kept for qualified matches and "
                          f"breaches; {r.match_points_deleted} stored copies of fixes of dismissed or "
                          "expired pending matches deleted")
