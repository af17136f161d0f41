"""Import a supplier position feed (CSV or Parquet) into the positions store, all or nothing
(``vru.tagging.positions.import_positions``); activations come from the database."""

from django.core.management.base import BaseCommand, CommandError

from vru.tagging import positions

from ...services import activations_frame, store_root


class Command(BaseCommand):
    help = "Validate a position feed file and add its fixes to the tagging positions store."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        try:
            r = positions.import_positions(path, activations_frame(), store_root())
        except positions.FeedError as exc:
            lines = [str(exc)] + [str(e) for e in exc.errors]
            raise CommandError("\n".join(lines)) from exc
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{path}: {r.rows} rows read, {r.imported} added, {r.duplicates} duplicates, "
                          f"{len(r.days)} day(s)")
