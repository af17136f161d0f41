"""``python -m django import_oruk FEED.json --provider-org NAME [--source S] [--dry-run]``: import an
Open Referral UK feed of services as opportunities for a verified provider
(``vru.web.opportunities.oruk_import``). Every bad record is listed (index, id, JSON path, message)
and then nothing is imported (exit status 1)."""

from django.core.management.base import BaseCommand, CommandError

from vru.web.accounts.models import Organisation
from vru.web.opportunities import oruk_import


class Command(BaseCommand):
    help = "Import an Open Referral UK feed (all or nothing); imported opportunities await moderation."

    def add_arguments(self, parser):
        parser.add_argument("feed", help="A JSON file: a paginated service list, an array of services, "
                                         "or one service.")
        parser.add_argument("--provider-org", required=True,
                            help="The verified organisation the opportunities belong to (name or id).")
        parser.add_argument("--source", default="",
                            help="Where the feed comes from (e.g. its URL); re-imports with the same source "
                                 "update rather than duplicate. Default: oruk:<organisation id>.")
        parser.add_argument("--dry-run", action="store_true", help="Check everything, write nothing.")

    def handle(self, *args, feed, provider_org, source, dry_run, **options):
        org = Organisation.objects.filter(name=provider_org).first()
        if org is None and provider_org.isdigit():
            org = Organisation.objects.filter(pk=int(provider_org)).first()
        if org is None:
            raise CommandError(f"no organisation {provider_org!r}")
        try:
            report = oruk_import.import_feed(oruk_import.load(feed), provider=org,
                                             source=source or f"oruk:{org.pk}", dry_run=dry_run)
        except oruk_import.FeedError as e:
            raise CommandError(f"{feed}: {e}; nothing imported") from e
        for line in report.skipped:
            self.stdout.write(f"skipped: {line}")
        if report.problems:
            for p in report.problems:
                self.stderr.write(f"{feed}: {p}")
            records = len({p.index for p in report.problems})
            raise CommandError(f"{feed}: {records} bad record(s), {len(report.problems)} problem(s); "
                               "nothing imported")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{feed}: {report.created} created, {report.updated} updated (these {verb} sent to "
                          f"moderation), {report.unchanged} unchanged, {len(report.skipped)} skipped.")
