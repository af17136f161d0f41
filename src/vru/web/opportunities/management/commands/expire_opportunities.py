"""``python -m django expire_opportunities``: the time rules of the opportunity lifecycle.

Run it on a schedule (cron or a systemd timer, e.g. every 15 minutes): approved or published
opportunities past their visible window or end date become expired; approved ones inside their window
become published. Search never shows an expired item even between runs (it applies the same rules).
It also deletes young people's sign-ups whose emailed link expired unused (``signup.purge_unconfirmed``)."""

from django.core.management.base import BaseCommand

from vru.web.opportunities.lifecycle import apply_time_rules
from vru.web.opportunities.signup import purge_unconfirmed


class Command(BaseCommand):
    help = ("Expire opportunities past their window or end date; publish approved ones inside their window; "
            "delete sign-ups whose link expired unused.")

    def handle(self, *args, **options):
        counts = apply_time_rules()
        purged = purge_unconfirmed()
        self.stdout.write(f"expired {counts['expired']}, published {counts['published']}, "
                          f"deleted {purged} unconfirmed sign-ups")
