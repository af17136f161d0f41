"""Drafts keep only whether an invitation code was used (``verified``), never its hash: the code is now
burnt when the respondent starts (``flow.start``). Drafts written before this: a code already burnt for
the draft makes it verified; an unused code is burnt now for it; a draft whose code was used meanwhile by
another draft could never have been completed (it would be refused as a used code), so it is deleted."""

from django.db import migrations, models


def burn_for_existing_drafts(apps, schema_editor):
    Draft = apps.get_model("survey", "Draft")
    Invitation = apps.get_model("survey", "Invitation")
    for draft in Draft.objects.exclude(invitation_hash="").order_by("id"):
        if draft.code_burnt or Invitation.objects.filter(code_hash=draft.invitation_hash,
                                                         used=False).update(used=True):
            Draft.objects.filter(pk=draft.pk).update(verified=True, invitation_hash="")
        else:
            Draft.objects.filter(pk=draft.pk).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("survey", "0003_draft_code_burnt"),
    ]

    operations = [
        migrations.AddField(
            model_name="draft",
            name="verified",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(burn_for_existing_drafts, migrations.RunPython.noop),
    ]
