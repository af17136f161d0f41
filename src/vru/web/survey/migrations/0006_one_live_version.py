"""One live version per questionnaire. A database where a second version was made live outside
``publish()`` (possible before this migration) keeps the highest-numbered live one live and retires the
others, so that the constraint can be added."""

from django.db import migrations, models


def retire_extra_live_versions(apps, schema_editor):
    Version = apps.get_model("survey", "QuestionnaireVersion")
    seen = set()
    for version in Version.objects.filter(status="live").order_by("slug", "-number"):
        if version.slug in seen:
            Version.objects.filter(pk=version.pk).update(status="retired")
        seen.add(version.slug)


class Migration(migrations.Migration):
    dependencies = [
        ("survey", "0005_draft_without_invitation"),
    ]

    operations = [
        migrations.RunPython(retire_extra_live_versions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="questionnaireversion",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "live")), fields=("slug",),
                                               name="survey_one_live_version"),
        ),
    ]
