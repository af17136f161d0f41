"""Review 5, 4 (docs/web-referrals.md, "Retention"): a draft saved before 0011 has no ``saved_at``, so the
first nightly purge would judge it by its creation and delete every draft made more than
``VRU_REFERRALS_DRAFT_DAYS`` ago, even one saved yesterday. Each such draft is given the time of this
migration as its last save: it is kept for the full period from the upgrade. A new migration rather than an
edit of 0011, which may already have been applied.

The reverse does nothing: the time of a save before 0011 was never recorded, so there is nothing to restore,
and a ``saved_at`` of the upgrade's time is harmless to the schema of 0011 (the column stays)."""

from django.db import migrations
from django.utils import timezone


def backfill_saved_at(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Referral.objects.filter(status="draft", saved_at__isnull=True).update(saved_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("referrals", "0011_erasure_unlinks_referrer_draft_saved_at")]

    operations = [migrations.RunPython(backfill_saved_at, migrations.RunPython.noop, elidable=True)]
