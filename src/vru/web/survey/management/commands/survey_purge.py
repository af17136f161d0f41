"""``manage.py survey_purge``: delete the drafts whose week has passed (run daily, e.g. from cron): the
past weeks' folders of the draft store (``vru.web.survey.drafts``), with any file a send claimed and never
finished, without opening a file."""

from django.core.management.base import BaseCommand

from vru.web.survey.flow import purge_expired


class Command(BaseCommand):
    help = "Delete expired survey drafts (partial answers kept under a resume code)."

    def handle(self, **options):
        self.stdout.write(f"{purge_expired()} expired drafts deleted\n")
