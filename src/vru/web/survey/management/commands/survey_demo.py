"""``manage.py survey_demo --n N --year Y [--seed S]``: synthetic responses with the demo's known rates."""

from django.core.management.base import BaseCommand

from vru.web.survey.demo import DEMO_RATES, generate, load_and_publish


class Command(BaseCommand):
    help = "Write synthetic survey responses with known satisfaction rates (never a real answer)."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=400)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, n, year, seed, **options):
        version = load_and_publish()
        generate(version, n, year, DEMO_RATES, seed=seed)
        self.stdout.write(f"{n} synthetic responses for {year}: satisfied rates {DEMO_RATES}\n")
