"""Give the role groups the programme register's permissions (a frozen copy of
vru.web.programme.roles.ROLE_PERMS; the roles themselves come from accounts 0002_roles)."""

from django.db import migrations

ROLE_PERMS = {
    'administrator': [
        'programme.add_consortium',
        'programme.add_grant',
        'programme.add_intervention',
        'programme.add_membership',
        'programme.add_programmearea',
        'programme.change_consortium',
        'programme.change_grant',
        'programme.change_intervention',
        'programme.change_membership',
        'programme.change_programmearea',
        'programme.delete_consortium',
        'programme.delete_grant',
        'programme.delete_intervention',
        'programme.delete_membership',
        'programme.delete_programmearea',
        'programme.record_delivery',
        'programme.view_all_programme',
        'programme.view_consortium',
        'programme.view_grant',
        'programme.view_grantstatuschange',
        'programme.view_intervention',
        'programme.view_membership',
        'programme.view_programmearea',
        'programme.view_register',
    ],
    'programme manager': [
        'programme.add_consortium',
        'programme.add_grant',
        'programme.add_intervention',
        'programme.add_membership',
        'programme.add_programmearea',
        'programme.change_consortium',
        'programme.change_grant',
        'programme.change_intervention',
        'programme.change_membership',
        'programme.change_programmearea',
        'programme.delete_consortium',
        'programme.delete_grant',
        'programme.delete_intervention',
        'programme.delete_membership',
        'programme.delete_programmearea',
        'programme.record_delivery',
        'programme.view_all_programme',
        'programme.view_consortium',
        'programme.view_grant',
        'programme.view_grantstatuschange',
        'programme.view_intervention',
        'programme.view_membership',
        'programme.view_programmearea',
        'programme.view_register',
    ],
    'analyst': [
        'programme.view_all_programme',
        'programme.view_consortium',
        'programme.view_grant',
        'programme.view_grantstatuschange',
        'programme.view_intervention',
        'programme.view_membership',
        'programme.view_programmearea',
        'programme.view_register',
    ],
    'provider': [
        'programme.record_delivery',
        'programme.view_register',
    ],
    'caseworker': [
    ],
    'offender manager': [
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
    mine = Permission.objects.filter(content_type__app_label="programme")
    for group in Group.objects.filter(name__in=ROLE_PERMS):
        group.permissions.remove(*mine)


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
