"""Detect zone breaches for a period (``vru.tagging.zones.detect_breaches``) and store the new ones."""

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from ...services import detect_breaches


def _utc(text: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date or time") from exc
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


class Command(BaseCommand):
    help = "Detect breaches of every wearer's zones between --start and --end (UTC)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True)
        parser.add_argument("--end", required=True)

    def handle(self, start, end, **options):
        t0, t1 = _utc(start), _utc(end)
        if t1 <= t0:
            raise CommandError("--end must be after --start")
        found = detect_breaches(t0, t1)
        self.stdout.write(f"{len(found)} new breach(es) from {t0} to {t1}")
