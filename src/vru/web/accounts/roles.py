"""The platform's roles and the permissions each holds.

Roles are Django Groups created by the data migration ``0002_roles`` (which keeps its own frozen copy of
this table, as migrations must); ``tests/web`` checks the database agrees with ``ROLES``. A
``post_migrate`` receiver (:func:`sync_roles`) puts them back whenever the schema is rebuilt, e.g. after
``flush``. Permissions are ``app_label.codename``. Per-object checks (a provider sees its own
organisation's records) come with the apps that hold such records, using ``User.organisation``.
"""

from __future__ import annotations

ADMINISTRATOR = "administrator"
ANALYST = "analyst"
PROGRAMME_MANAGER = "programme manager"
PROVIDER = "provider"
CASEWORKER = "caseworker"
OFFENDER_MANAGER = "offender manager"

ROLES: dict[str, frozenset[str]] = {
    ADMINISTRATOR: frozenset({
        "accounts.add_user", "accounts.change_user", "accounts.view_user", "accounts.delete_user",
        "accounts.add_organisation", "accounts.change_organisation", "accounts.view_organisation",
        "accounts.delete_organisation",
        "accounts.view_auditlog",
        "auth.view_group",
        "accounts.view_dashboard", "accounts.view_unsuppressed",
        "accounts.manage_programme",
    }),
    ANALYST: frozenset({
        "accounts.view_dashboard", "accounts.view_unsuppressed", "accounts.view_organisation",
    }),
    PROGRAMME_MANAGER: frozenset({
        "accounts.view_dashboard", "accounts.manage_programme",
        "accounts.view_organisation", "accounts.add_organisation", "accounts.change_organisation",
    }),
    PROVIDER: frozenset({
        "accounts.view_dashboard", "accounts.view_organisation",
    }),
    CASEWORKER: frozenset({
        "accounts.view_dashboard", "accounts.view_personal_data",
    }),
    OFFENDER_MANAGER: frozenset({
        "accounts.view_dashboard", "accounts.view_personal_data",
    }),
}

#: The same table under the name every app's ``roles`` module uses (see :func:`sync_roles`).
ROLE_PERMISSIONS = ROLES


def role_permissions() -> dict[str, set[str]]:
    """Every installed app's role table merged: role -> permissions.

    Each web app that grants permissions to roles keeps its table as ``ROLE_PERMISSIONS`` in its own
    ``roles`` module; this is the one place that puts them together.
    """
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps as global_apps

    merged: dict[str, set[str]] = {}
    for config in global_apps.get_app_configs():
        if find_spec(f"{config.name}.roles") is None:
            continue
        table = getattr(import_module(f"{config.name}.roles"), "ROLE_PERMISSIONS", None)
        for role, perms in (table or {}).items():
            merged.setdefault(role, set()).update(perms)
    return merged


def sync_roles(sender, app_config, using="default", apps=None, verbosity=1, **kwargs) -> None:
    """``post_migrate`` receiver: make sure every role group exists and holds its permissions.

    The data migrations create the roles once; this keeps them there whenever the schema is
    (re)built, as Django does for permissions themselves: after ``manage.py flush`` (which test
    isolation uses), after an app is added, or if an administrator deleted a role group by mistake.
    It only adds: permissions an administrator gave a group on top are kept. Each call handles the
    permissions of the app the signal is for, once that app's own permissions exist.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth not migrated yet
        return
    table = role_permissions()
    Group.objects.using(using).bulk_create([Group(name=r) for r in table], ignore_conflicts=True)
    mine = {role: {p.split(".", 1)[1] for p in perms if p.split(".", 1)[0] == app_config.label}
            for role, perms in table.items()}
    if not any(mine.values()):
        return
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    by_codename = {p.codename: p for p in Permission.objects.using(using)
                   .filter(content_type__app_label=app_config.label)}
    for group in Group.objects.using(using).filter(name__in=[r for r, c in mine.items() if c]):
        wanted = [by_codename[c] for c in mine[group.name] if c in by_codename]
        group.permissions.add(*wanted)
