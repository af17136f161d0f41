"""``manage.py survey_load <folder> [--publish]``: a questionnaire version from its data folder."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vru.web.survey.models import QuestionnaireVersion
from vru.web.survey.questionnaire import QuestionnaireError, load_folder


class Command(BaseCommand):
    help = "Load a questionnaire version (a folder of survey/data) as a draft; --publish makes it live."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a folder under vru/web/survey/data, or a path")
        parser.add_argument("--publish", action="store_true")

    def handle(self, folder, publish, **options):
        try:
            definition = load_folder(folder)
        except QuestionnaireError as exc:
            raise CommandError(str(exc)) from exc
        version = QuestionnaireVersion.objects.filter(slug=definition["slug"],
                                                      number=definition["number"]).first()
        if version is None:
            version = QuestionnaireVersion.objects.create(
                slug=definition["slug"], number=definition["number"], definition=definition)
        elif version.definition != definition:
            if version.status != QuestionnaireVersion.DRAFT:
                raise CommandError(f"{version} is {version.status} and differs from {folder}: a live version "
                                   "is never edited; give the folder a new number")
            version.definition = definition
            version.save()
        if publish and version.status == QuestionnaireVersion.DRAFT:
            try:
                version.publish()
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{version}\n")
