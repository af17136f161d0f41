"""Create the synthetic 2020-21 referrals (docs/web-referrals.md, "Demo data")."""

from django.core.management.base import BaseCommand

from ... import demo


class Command(BaseCommand):
    help = "Create synthetic Rescue and Response referrals with the shape of the 2020-21 figures."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, seed=2021, **options):
        c = demo.generate(seed=seed)
        self.stdout.write(
            f"{c.referrals} referrals, {c.accepted} accepted, {c.engaged} engaged, "
            f"{c.reduced} reduced or ceased"
        )
