"""Give the role groups the tagging app's permissions and create the police analyst role (a frozen
copy of vru.web.tagging.roles.ROLE_PERMISSIONS; the other roles come from accounts 0002_roles)."""

from django.db import migrations

ROLE_PERMS = {
    'administrator': [
    ],
    'analyst': [
        'tagging.view_figures',
    ],
    'programme manager': [
        'tagging.view_figures',
    ],
    'provider': [
    ],
    'caseworker': [
    ],
    'offender manager': [
        'tagging.add_zone',
        'tagging.change_zone',
        'tagging.manage_breach',
        'tagging.view_breach',
        'tagging.view_deviceactivation',
        'tagging.view_identity',
        'tagging.view_trail',
        'tagging.view_wearer',
        'tagging.view_zone',
    ],
    'police analyst': [
        'tagging.add_crimebatch',
        'tagging.change_match',
        'tagging.view_crimebatch',
        'tagging.view_match',
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create them now.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    mine = Permission.objects.filter(content_type__app_label="tagging")
    for group in Group.objects.filter(name__in=ROLE_PERMS):
        group.permissions.remove(*mine)
    Group.objects.filter(name="police analyst", user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tagging", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
