"""The draft's invitation hash and burnt flag are gone (0004 moved what they meant into ``verified``); a
migration of its own, so the schema change runs after the data migration's transaction."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("survey", "0004_draft_verified"),
    ]

    operations = [
        migrations.RemoveField(model_name="draft", name="code_burnt"),
        migrations.RemoveField(model_name="draft", name="invitation_hash"),
    ]
