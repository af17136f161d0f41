"""The tagging reviewer role (the unit's monitoring hub) qualifies and dismisses matches of every force;
police analysts keep view_match only (scope: their force's qualified matches). A frozen copy of
vru.web.tagging.roles."""

from django.db import migrations

REVIEWER = "tagging reviewer"


def _perm(Permission, codename):
    return Permission.objects.get(content_type__app_label="tagging", codename=codename)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reviewer, _ = Group.objects.get_or_create(name=REVIEWER)
    reviewer.permissions.add(_perm(Permission, "view_match"), _perm(Permission, "change_match"))
    for group in Group.objects.filter(name="police analyst"):
        group.permissions.remove(_perm(Permission, "change_match"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="police analyst"):
        group.permissions.add(_perm(Permission, "change_match"))
    Group.objects.filter(name=REVIEWER, user__isnull=True).delete()
    for group in Group.objects.filter(name=REVIEWER):
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [("tagging", "0003_administrator_figures")]

    operations = [migrations.RunPython(grant, revoke)]
