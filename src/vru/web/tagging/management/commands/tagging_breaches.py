"""Detect zone breaches for a period (``vru.tagging.zones.detect_breaches``) and store the new ones:
``--start`` and ``--end`` (UTC), or ``--last MINUTES`` (the minutes up to now: the
``vru-tagging-breaches`` timer, docs/deploy/, every 5 minutes over the last 15; a period read again adds
nothing, since a breach found again is the stored one)."""

import pandas as pd
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...services import detect_breaches

MAX_LAST_MINUTES = 7 * 24 * 60


def _utc(text: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date or time") from exc
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


class Command(BaseCommand):
    help = ("Detect breaches of every wearer's zones between --start and --end (UTC), or in the --last "
            "MINUTES up to now.")

    def add_arguments(self, parser):
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--last", type=int, metavar="MINUTES",
                            help=f"the MINUTES up to now (1 to {MAX_LAST_MINUTES}), instead of --start/--end")

    def handle(self, start=None, end=None, last=None, **options):
        if last is not None:
            if start or end:
                raise CommandError("give --last, or --start and --end, not both")
            if not 1 <= last <= MAX_LAST_MINUTES:
                raise CommandError(f"--last must be 1 to {MAX_LAST_MINUTES} minutes, not {last}")
            t1 = pd.Timestamp(timezone.now()).tz_convert("UTC")
            t0 = t1 - pd.Timedelta(minutes=last)
        elif start and end:
            t0, t1 = _utc(start), _utc(end)
        else:
            raise CommandError("give --start and --end (UTC), or --last MINUTES")
        if t1 <= t0:
            raise CommandError("--end must be after --start")
        found = detect_breaches(t0, t1)
        self.stdout.write(f"{len(found)} new breach(es) from {t0} to {t1}")
