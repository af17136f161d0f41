"""List the risk notes whose review date has come (docs/web-referrals.md). Run it daily; it names cases by
their reference only."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ...models import RiskNote


class Command(BaseCommand):
    help = "List the risk notes of open cases due for review (by reference, provider and date)."

    def add_arguments(self, parser):
        parser.add_argument("--on", help="the day to count from (YYYY-MM-DD; default today): for tests")

    def handle(self, on=None, **options):
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError:
            raise CommandError(f"--on: {on!r} is not a date like 2024-03-31") from None
        from django.utils import timezone

        day = day or timezone.localdate()
        due = (
            RiskNote.objects.filter(review_on__lte=day, reviewed_at__isnull=True, referral__status="accepted")
            .select_related("referral__current_provider__organisation")
            .order_by("review_on", "pk")
        )
        for n in due:
            self.stdout.write(
                f"{n.referral.reference}\t{n.referral.current_provider}\t{n.get_level_display()}\t"
                f"review by {n.review_on.isoformat()}"
            )
        self.stdout.write(f"{due.count()} risk note(s) due for review on {day.isoformat()}")
