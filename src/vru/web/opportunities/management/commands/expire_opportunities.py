"""``python -m django expire_opportunities``: the time rules of the opportunity lifecycle.

Run it on a schedule (cron or a systemd timer, e.g. every 15 minutes): approved or published
opportunities past their visible window or end date become expired; approved ones inside their window
become published. Search never shows an expired item even between runs (it applies the same rules)."""

from django.core.management.base import BaseCommand

from vru.web.opportunities.lifecycle import apply_time_rules


class Command(BaseCommand):
    help = "Expire opportunities past their window or end date; publish approved ones inside their window."

    def handle(self, *args, **options):
        counts = apply_time_rules()
        self.stdout.write(f"expired {counts['expired']}, published {counts['published']}")
