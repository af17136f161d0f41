"""Import a supplier position feed (CSV or Parquet) into the positions store, all or nothing
(``vru.tagging.positions.import_positions``); activations come from the database, and the import is
recorded with the fixes it added per order type and month (``services.import_positions``)."""

from django.core.management.base import BaseCommand, CommandError

from vru.tagging import positions

from ... import services


class Command(BaseCommand):
    help = "Validate a position feed file and add its fixes to the tagging positions store."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        try:
            _rec, r = services.import_positions(path)
        except positions.FeedError as exc:
            lines = [str(exc)] + [str(e) for e in exc.errors]
            raise CommandError("\n".join(lines)) from exc
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{path}: {r.rows} rows read, {r.imported} added, {r.duplicates} duplicates, "
                          f"{len(r.days)} day(s)")
