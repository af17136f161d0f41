"""Give the role groups this app's permissions and create the provider manager, referrer and council user
roles (a frozen copy of vru.web.referrals.roles.ROLE_PERMISSIONS; the other roles come from accounts
0002_roles)."""

from django.db import migrations

ROLE_PERMS = {
    "administrator": [
        "referrals.add_allocationrule", "referrals.add_council", "referrals.add_provider",
        "referrals.change_allocationrule", "referrals.change_council", "referrals.change_provider",
        "referrals.delete_allocationrule", "referrals.view_allocationrule", "referrals.view_council",
        "referrals.view_provider",
    ],
    "analyst": ["referrals.view_reports"],
    "caseworker": ["referrals.view_case"],
    "provider manager": ["referrals.export_subject", "referrals.triage_referral", "referrals.view_case"],
    "referrer": ["referrals.add_referral"],
    "council user": ["referrals.view_intelligence"],
}
NEW_ROLES = ("provider manager", "referrer", "council user")


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
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    mine = Permission.objects.filter(content_type__app_label="referrals")
    for group in Group.objects.filter(name__in=ROLE_PERMS):
        group.permissions.remove(*mine)
    Group.objects.filter(name__in=NEW_ROLES, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
