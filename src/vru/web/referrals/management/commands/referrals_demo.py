"""The referrals demo (docs/web-referrals.md, "Demo data"): the synthetic 2020-21 referrals, once, and the
journey's demo users; what ``vru serve`` seeds for this app."""

from django.core.management.base import BaseCommand
from django.db import transaction

from vru.web import demo as platform_demo

from ... import demo


class Command(BaseCommand):
    help = (
        "Seed the referrals demo (idempotent): synthetic Rescue and Response referrals with the shape of the "
        "2020-21 figures, made once, and demo users for the journey (passwords in demo-users-referrals.txt)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2021, help="the random seed of the synthetic data")

    def handle(self, seed=2021, **options):
        with transaction.atomic():
            platform_demo.seed(self.stdout, apps=False)  # the platform's organisations and users first
            made = demo.seed(self.stdout, seed=seed)
        if not made["referrals"]:
            self.stdout.write("The synthetic referrals were already there: nothing generated.")
        self.stdout.write(f"Demo users' passwords: {platform_demo.app_users_file('referrals')}")
