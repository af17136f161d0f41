"""Administrators hold ``tagging.view_figures`` (the published, suppressed programme figures), so that
they may still give the analyst and programme manager roles, which hold it: an administrator gives only
roles whose every permission they hold (a frozen copy of vru.web.tagging.roles)."""

from django.db import migrations


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="administrator")
    group.permissions.add(Permission.objects.get(content_type__app_label="tagging", codename="view_figures"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="tagging", codename="view_figures")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(*perm)


class Migration(migrations.Migration):
    dependencies = [("tagging", "0002_roles")]

    operations = [migrations.RunPython(grant, revoke)]
