"""An allocation rule used by an allocation can no longer be deleted (the allocation is append-only, so the
old ``SET_NULL`` turned the deletion into a refused UPDATE, a 500 in the admin): ``Allocation.rule`` is
``PROTECT``, and the administrator role no longer holds ``delete_allocationrule`` (a rule is switched off
with its ``active`` box). A frozen copy of that one row of vru.web.referrals.roles.ROLE_PERMISSIONS."""

import django.db.models.deletion
from django.db import migrations, models


def revoke_delete(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="referrals", codename="delete_allocationrule")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(*perm)


def grant_delete(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="referrals", codename="delete_allocationrule")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.add(*perm)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0009_append_only_triggers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="allocation",
            name="rule",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="referrals.allocationrule",
            ),
        ),
        migrations.RunPython(revoke_delete, grant_delete),
    ]
