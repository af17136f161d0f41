"""``manage.py survey_shuffle``: rewrite every response and answer, and every used invitation, in one
transaction, in random order (run nightly from cron, after ``survey_purge``; docs/web-survey.md,
"Anonymity").

Why: on PostgreSQL every row carries the id of the transaction that wrote it (``xmin``) and sits where it
was written (``ctid``); on SQLite the ``rowid`` grows. Between shuffles those give the order in which
responses were completed, and the used invitations' ``xmin`` the order (and, beside any dated row, the
time) in which their codes were burnt. After this command every response, answer and used invitation row
was written by one transaction, in a random order, with the same UUIDs. It then runs ``VACUUM`` on the
survey's tables (PostgreSQL) so the old row versions are not left in the table files.

First it flushes the batch pool (``vru.web.survey.pool``) by the same rules as ``survey_flush``: at most
once per ISO week (a run in a week whose flush ran writes nothing), the responses of every kind with at
least ``VRU_SURVEY_BATCH`` waiting. Where it cannot read the pool (the deployed unit runs as a user of its
own), it says so and shuffles: ``vru-survey-flush.service`` runs ``survey_flush`` as the web service's
user every Monday.
"""

import datetime as dt
import secrets

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from vru.web.survey import pool
from vru.web.survey.models import Answer, Invitation, Response

FIELDS_RESPONSE = ("id", "version_id", "language", "iso_year", "iso_week", "verified")
FIELDS_ANSWER = ("id", "response_id", "version_id", "question", "value", "text")
FIELDS_INVITATION = ("id", "batch_id", "code_hash", "used")
# Locked in this order, the order in which a send writes them (response, then answers), so that a send
# caught half-way and the shuffle never wait for each other in a cycle. (Drafts are files, not rows:
# vru.web.survey.drafts.)
LOCKED = ("survey_response", "survey_answer", "survey_invitation")


def _shuffled(rows: list) -> list:
    secrets.SystemRandom().shuffle(rows)
    return rows


def shuffle() -> tuple[int, int]:
    """Rewrite the responses, answers and used invitations in random order, in one transaction; returns
    the counts of responses and answers."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A completion or a start (a code burnt) made while this runs waits for the commit:
            # otherwise the raw deletes below would take a row this transaction never read.
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {', '.join(LOCKED)} IN EXCLUSIVE MODE")
        responses = _shuffled(list(Response.objects.select_for_update().values(*FIELDS_RESPONSE)))
        answers = _shuffled(list(Answer.objects.values(*FIELDS_ANSWER)))
        used = _shuffled(list(Invitation.objects.select_for_update().filter(used=True)
                              .values(*FIELDS_INVITATION)))
        Answer.objects.all()._raw_delete(Answer.objects.db)
        Response.objects.all()._raw_delete(Response.objects.db)
        Invitation.objects.filter(used=True)._raw_delete(Invitation.objects.db)
        Response.objects.bulk_create([Response(**row) for row in responses], batch_size=1000)
        Answer.objects.bulk_create([Answer(**row) for row in answers], batch_size=1000)
        Invitation.objects.bulk_create([Invitation(**row) for row in used], batch_size=1000)
    return len(responses), len(answers)


def vacuum() -> bool:
    """VACUUM the survey's tables (PostgreSQL; not possible inside a transaction). True when it ran."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for table in ("survey_answer", "survey_response", "survey_invitation"):
            cursor.execute(f"VACUUM {table}")
    return True


OVERDUE_DAYS = 2


def overdue(now: dt.datetime | None = None) -> str | None:
    """A warning when the shuffle has not run for ``OVERDUE_DAYS`` days while responses are stored (None
    otherwise). Nothing is stored for this: on PostgreSQL the statistics keep the time of the last manual
    VACUUM of ``survey_response``, which only this command runs. Elsewhere: None (not known)."""
    if connection.vendor != "postgresql" or not Response.objects.exists():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'survey_response'")
        row = cursor.fetchone()
    last = row[0] if row else None
    now = now or dt.datetime.now(dt.UTC)
    if last is not None and now - last < dt.timedelta(days=OVERDUE_DAYS):
        return None
    when = f"last on {last:%Y-%m-%d}" if last else "never, or not since the database's statistics were reset"
    return (f"survey_shuffle has not run for {OVERDUE_DAYS} days ({when}): until it runs, whoever can read "
            "the database can order the latest responses by when they were sent. Run it nightly "
            "(docs/deploy/vru-survey-shuffle.timer).")


class Command(BaseCommand):
    help = ("Rewrite survey responses, answers and used invitations in one transaction, in random order "
            "(run nightly).")

    def handle(self, **options):
        try:
            flushed = pool.flush(weekly=True)
        except OSError:  # PermissionError, or a read-only file system (systemd's ProtectSystem=strict)
            # the deployed unit runs as a user of its own, which cannot read the web service's files: the
            # pool is flushed by vru-survey-flush.service (survey_flush), as the web service's user
            self.stderr.write("the batch pool is not readable by this user: not flushed here (survey_flush "
                              "runs in vru-survey-flush.service, weekly)\n")
        else:
            if flushed.already:
                self.stdout.write(f"pool not flushed: this ISO week's flush ran already ({flushed.already}); "
                                  f"{flushed.waiting} waiting\n")
            else:
                self.stdout.write(f"{flushed.written} pooled responses written in {flushed.batches} "
                                  f"batches; {flushed.waiting} waiting (fewer than VRU_SURVEY_BATCH of "
                                  "their kind)\n")
            for error in flushed.errors or ():
                self.stderr.write(f"{error}\n")
        n_responses, n_answers = shuffle()
        self.stdout.write(f"{n_responses} responses and {n_answers} answers rewritten in random order\n")
        if vacuum():
            self.stdout.write("VACUUM done on the survey's tables\n")
