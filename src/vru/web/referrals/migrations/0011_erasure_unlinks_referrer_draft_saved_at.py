"""Review 4 (docs/web-referrals.md): an erased case no longer names its referrer (``Referral.referrer`` may be
empty, and is emptied on the cases erased before this migration), and a draft records when its referrer last
saved it (``saved_at``), from which it is purged after ``VRU_REFERRALS_DRAFT_DAYS``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def unlink_erased(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Referral.objects.filter(anonymised_at__isnull=False).update(referrer=None)


def refuse_back_once_erased(apps, schema_editor):
    """Back to 0010 the referrer may not be empty again, and an erased case's referrer is gone for good: say
    so in words, naming how many, rather than fail on the column's NOT NULL (review 5, 4). With no erased
    case, going back works."""
    Referral = apps.get_model("referrals", "Referral")
    gone = Referral.objects.filter(referrer__isnull=True).count()
    if gone:
        raise RuntimeError(
            f"referrals: cannot migrate back before 0011: {gone} erased case(s) name no referrer any more, "
            "which 0010 requires; restore the database backup taken before the upgrade instead "
            "(docs/web-referrals.md, Retention)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0010_allocation_rule_protect"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="saved_at",
            field=models.DateTimeField(
                blank=True,
                help_text="A draft is purged VRU_REFERRALS_DRAFT_DAYS after this (empty: after its creation)",
                null=True,
                verbose_name="last saved by its referrer",
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="referrer",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="rr_referrals",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(unlink_erased, refuse_back_once_erased),
    ]
