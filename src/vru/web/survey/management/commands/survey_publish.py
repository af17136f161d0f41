"""``manage.py survey_publish PERIOD --by EMAIL --purpose TEXT [--dry-run]``: publish the survey's results
for a year to date (``2026-Q3``: 2026 Q1 to Q3), protected together with every period published before
(docs/web-survey.md, "Results"). The protection solves linear programmes for every hidden cell, which takes
minutes for a full year, so it runs here rather than in a web request. ``--dry-run`` prints the tables as
they would be published (CSV) and records nothing."""

from django.core.management.base import BaseCommand, CommandError

from vru.web.accounts.audit import audit
from vru.web.accounts.models import User
from vru.web.survey import results


class Command(BaseCommand):
    help = "Publish one period of the survey's results (the ledger of published cells is in the database)."

    def add_arguments(self, parser):
        parser.add_argument("period", help="year to date: the year and the last quarter, e.g. 2026-Q3")
        parser.add_argument("--by", required=True, help="the e-mail of the analyst publishing it")
        parser.add_argument("--purpose", required=True, help="why (recorded in the audit log)")
        parser.add_argument("--dry-run", action="store_true", help="print the tables (CSV); record nothing")

    def handle(self, period, by, purpose, dry_run, **options):
        user = User.objects.filter(email=by.strip().lower(), is_active=True).first()
        if user is None or not user.has_perm("survey.publish_results"):
            raise CommandError(f"--by {by}: no active user with survey.publish_results")
        if len(purpose.strip()) < 10:
            raise CommandError("--purpose: say why, in at least 10 characters (it is audited)")
        try:
            if dry_run:
                rel = results.preview(results.Period.parse(period))
                if not rel["available"]:
                    raise CommandError(f"period {period}: no responses, nothing to publish")
                results.write_csv(rel, self.stdout)
                return
            entry = results.publish_period(period, user)
        except results.PublishError as exc:
            raise CommandError(str(exc)) from exc
        audit(user, "publish survey results", entry, purpose)
        self.stdout.write(f"published the survey's results for {entry.period} (release {entry.sequence})\n")
