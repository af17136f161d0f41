"""Give the roles this app's permissions and create the "young person" role (a frozen copy of
vru.web.opportunities.roles.ROLE_PERMISSIONS). Permissions are added to the existing groups, never
replacing what other apps gave them."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "administrator": [
        "opportunities.moderate_opportunity", "opportunities.signpost", "opportunities.verify_provider",
        "opportunities.view_opportunity",
    ],
    "programme manager": [
        "opportunities.moderate_opportunity", "opportunities.signpost", "opportunities.view_opportunity",
    ],
    "provider": [
        "opportunities.add_opportunity", "opportunities.change_opportunity",
        "opportunities.view_opportunity", "opportunities.view_registration",
    ],
    "caseworker": ["opportunities.signpost"],
    "offender manager": ["opportunities.signpost"],
    "young person": [
        "opportunities.add_favourite", "opportunities.delete_favourite", "opportunities.view_favourite",
        "opportunities.add_registration", "opportunities.change_registration",
    ],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label,
                                                                codename=codename))
    Group.objects.filter(name="young person").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0002_young_person_verify_perm"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
