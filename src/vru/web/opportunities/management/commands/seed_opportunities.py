"""``python -m django seed_opportunities [--n 2500] [--year 2027]``: the fictional demo catalogue
(``vru.web.opportunities.demo``). Idempotent: only the records not yet there are added, so
``--n 25000`` after the demo's 2,500 adds 22,500 (the search benchmark's catalogue)."""

from django.core.management.base import BaseCommand, CommandError

from vru.web.opportunities import demo


class Command(BaseCommand):
    help = "Add the fictional demo opportunities (and providers) that are not there yet."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=2500,
                            help="How many opportunities in all (default 2500).")
        parser.add_argument("--year", type=int, default=None,
                            help="The summer they run in (default: the next summer not yet over).")

    def handle(self, *args, n, year, **options):
        if n < 0:
            raise CommandError("--n must be 0 or more")
        demo.seed(self.stdout, n=n, year=year)
