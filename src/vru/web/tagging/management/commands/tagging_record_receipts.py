"""Record in the database the positions received by imports whose database write failed after the
store had committed their fixes (each store transaction's receipt, ``services.record_receipts``). Each
import also does this first; the command is for when no import follows soon."""

from django.core.management.base import BaseCommand

from ... import services


class Command(BaseCommand):
    help = "Record the pending receipts of the tagging positions store (positions received)."

    def handle(self, **options):
        n = services.record_receipts()
        self.stdout.write(f"{n} pending receipt(s) recorded")
