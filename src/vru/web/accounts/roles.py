"""The platform's roles and the permissions each holds (issue 6).

Roles are Django Groups created by the data migration ``0002_roles`` (which keeps its own frozen copy of
this table, as migrations must); ``tests/web`` checks the database agrees with ``ROLES``. Permissions are
``app_label.codename``. Per-object checks (a provider sees its own organisation's records) come with the
apps that hold such records, using ``User.organisation``.
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
