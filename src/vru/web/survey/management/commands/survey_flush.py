"""``manage.py survey_flush``: write the batch pool's responses to the database (docs/web-survey.md, "The
batch pool"): all the verified ones when at least ``VRU_SURVEY_BATCH`` (K) are waiting, and all the
unverified ones when at least K of those are waiting, each batch in one transaction, in random order.
``survey_shuffle`` does the same first, every night.

``--all`` writes every waiting response whatever their number: for closing a period before publishing it.
It breaks the K guarantee for the remainder: a batch of fewer than K verified responses can be put in
order with the invitations burnt before it."""

from django.core.management.base import BaseCommand, CommandError

from vru.web.survey import pool


class Command(BaseCommand):
    help = ("Write the survey's pooled responses to the database in batches of at least VRU_SURVEY_BATCH "
            "(--all: everything, to close a period).")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="everything",
                            help="write every waiting response, even fewer than VRU_SURVEY_BATCH (breaks "
                                 "the batch guarantee for those: use only to close a period)")

    def handle(self, *args, everything=False, **options):
        k = pool.batch_size()
        if everything:
            self.stderr.write(f"warning: --all writes batches of fewer than {k} responses: a burnt "
                              "invitation code can then be narrowed to fewer than K responses until "
                              "survey_shuffle runs\n")
        result = pool.flush(everything=everything, k=k)
        self.stdout.write(f"{result.written} responses written in {result.batches} batches; "
                          f"{result.waiting} waiting in the pool (K = {k})\n")
        if result.errors:
            raise CommandError("some pool files do not open and were left in place:\n"
                               + "\n".join(result.errors))
