"""``manage.py survey_flush``: the weekly flush of the batch pool (docs/web-survey.md, "The batch pool"):
all the verified responses when at least ``VRU_SURVEY_BATCH`` (K) are waiting, and all the unverified
ones when at least K of those are waiting, each batch in one transaction, in random order.

At most once per ISO week: the pool folder keeps the ISO week of the last flush; a second run in the same
week writes nothing and says so. So a response in the database can be dated, by its batch's transaction
id between dated rows, only to the week between two weekly flushes. ``vru-survey-flush.timer`` runs it
every Monday.

``--force-week`` flushes again in the same week (whole batches only): the batch is then dated to the day
of that run. ``--all`` writes every waiting response whatever their number, in any week: for closing a
period before publishing it. It breaks the K guarantee for the remainder (a batch of fewer than K
verified responses can be put in order with the invitations burnt before it) and dates those responses
to the day of the run."""

from django.core.management.base import BaseCommand, CommandError

from vru.web.survey import codes, pool


class Command(BaseCommand):
    help = ("The weekly flush: write the survey's pooled responses to the database in batches of at least "
            "VRU_SURVEY_BATCH, at most once per ISO week (--all: everything, to close a period).")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="everything",
                            help="write every waiting response, even fewer than VRU_SURVEY_BATCH, even if "
                                 "this week's flush ran (breaks the batch guarantee for those: use only to "
                                 "close a period)")
        parser.add_argument("--force-week", action="store_true",
                            help="flush whole batches even if this ISO week's flush ran already (dates "
                                 "that batch to today)")

    def handle(self, *args, everything=False, force_week=False, **options):
        k = pool.batch_size()
        if everything:
            self.stderr.write(f"warning: --all writes batches of fewer than {k} responses, whatever the "
                              "week: a burnt invitation code can then be narrowed to fewer than K responses "
                              "until survey_shuffle runs, and those responses dated to today\n")
        elif force_week:
            self.stderr.write("warning: --force-week flushes outside the once-a-week rule: the responses "
                              "written can be dated to today, not only to their week\n")
        result = pool.flush(everything=everything, k=k, weekly=True, force=everything or force_week)
        if result.stale:
            self.stdout.write(f"{result.stale} pool files of responses already stored deleted (left by an "
                              "interrupted flush)\n")
        if result.already:
            self.stdout.write(f"nothing written: this ISO week's flush ran already ({result.already}; the "
                              f"next in week {pool.week_label(*_next(codes.iso_week()))}); "
                              f"{result.waiting} waiting in the pool (K = {k})\n")
        else:
            self.stdout.write(f"{result.written} responses written in {result.batches} batches; "
                              f"{result.waiting} waiting in the pool (K = {k})\n")
        if result.errors:
            raise CommandError("the flush found problems (pool files that do not open are left in place):\n"
                               + "\n".join(result.errors))


def _next(week: tuple[int, int]) -> tuple[int, int]:
    import datetime as dt

    year, number, _ = (dt.date.fromisocalendar(*week, 1) + dt.timedelta(days=7)).isocalendar()
    return year, number
