"""Drafts leave the database (``vru.web.survey.drafts``): each ``Draft`` row becomes a file of the draft
store under the same keyed-hash name, in the folder of its expiry week, then the table is dropped.

A row cannot be encrypted here: the key comes from the resume code, which was never stored. So each is
written as a flagged legacy plaintext file (``drafts.LEGACY``, with a keyed hash of its name and content
under ``SECRET_KEY``), mode 0600, mtime the start of its week;
the store encrypts it the first time its resume code opens it, and ``survey_purge`` deletes it with its
week otherwise (at most two weeks). A row already expired is not moved (``survey_purge`` would have
deleted it); an expiry week that is not a real ISO week is read as the latest a new draft gets. Dropping
the table removes its file, old row versions included; the WAL and backups from before keep what they
kept (docs/web-survey.md).

Going back recreates an empty table: the drafts stay in the store's files (the old code cannot read them).
"""

from django.db import migrations


def move_drafts_out(apps, schema_editor):
    from vru.web.survey import codes, drafts

    Draft = apps.get_model("survey", "Draft")
    store = drafts.DraftStore()
    latest = codes.draft_expiry()
    for row in Draft.objects.filter(expires__gte=codes.current_week_number()).order_by("id").iterator():
        week = row.expires if drafts.is_week(row.expires) and row.expires <= latest else latest
        content = {"version": row.version_id, "answers": row.answers or {}, "verified": bool(row.verified)}
        store._write(store._ensure(week), row.key_hash, drafts.legacy_bytes(content, row.key_hash), week)


class Migration(migrations.Migration):
    dependencies = [("survey", "0006_one_live_version")]

    operations = [
        migrations.RunPython(move_drafts_out, migrations.RunPython.noop),
        migrations.DeleteModel(name="Draft"),
    ]
