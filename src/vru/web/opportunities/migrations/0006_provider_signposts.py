"""Youth workers signpost too: the provider role (staff of youth organisations) gets
``opportunities.signpost``, beside caseworkers, offender managers, programme managers and
administrators (a frozen copy of that one row of vru.web.opportunities.roles.ROLE_PERMISSIONS)."""

from django.db import migrations


def _permission(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label="opportunities", codename="signpost")


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="provider")
    group.permissions.add(_permission(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="provider"):
        group.permissions.remove(_permission(apps))


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0005_search_text_trigram_index")]

    operations = [migrations.RunPython(grant, revoke)]
