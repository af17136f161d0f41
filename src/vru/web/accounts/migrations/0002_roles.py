"""Create the role groups and give each its permissions (a frozen copy of vru.web.accounts.roles.ROLES)."""

from django.db import migrations

ROLES = {
    "administrator": [
        "accounts.add_user", "accounts.change_user", "accounts.view_user", "accounts.delete_user",
        "accounts.add_organisation", "accounts.change_organisation", "accounts.view_organisation",
        "accounts.delete_organisation",
        "accounts.view_auditlog",
        "auth.view_group",
        "accounts.view_dashboard", "accounts.view_unsuppressed",
        "accounts.manage_programme",
    ],
    "analyst": ["accounts.view_dashboard", "accounts.view_unsuppressed", "accounts.view_organisation"],
    "programme manager": [
        "accounts.view_dashboard", "accounts.manage_programme",
        "accounts.view_organisation", "accounts.add_organisation", "accounts.change_organisation",
    ],
    "provider": ["accounts.view_dashboard", "accounts.view_organisation"],
    "caseworker": ["accounts.view_dashboard", "accounts.view_personal_data"],
    "offender manager": ["accounts.view_dashboard", "accounts.view_personal_data"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create them now so that
    # the groups can be given them inside this migration.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
