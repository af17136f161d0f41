"""Who holds which programme-register permission (the table in docs/web-programme.md).

The data migration ``0002_roles`` keeps a frozen copy of this table (migrations must not import
code that changes); a test checks the database agrees with ``ROLE_PERMISSIONS``.

- ``programme.view_register``: open the register at all (the navigation link, the index, the API);
- ``programme.view_all_programme``: see every consortium's records, not only one's own organisation's;
- ``programme.record_delivery``: add and edit interventions (providers: of their own consortia only);
- ``accounts.manage_programme`` (platform-wide, from accounts): import, grant status changes, editing
  anything.
"""

from __future__ import annotations

MODELS = ("programmearea", "consortium", "membership", "grant", "grantstatuschange", "intervention")
_VIEW = frozenset(f"programme.view_{m}" for m in MODELS)
_MANAGE = frozenset(
    f"programme.{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")
    if not (m == "grantstatuschange" and a != "view")  # history: written by transitions only
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": _MANAGE | {
        "programme.view_register", "programme.view_all_programme", "programme.record_delivery",
    },
    "programme manager": _MANAGE | {
        "programme.view_register", "programme.view_all_programme", "programme.record_delivery",
    },
    "analyst": _VIEW | {"programme.view_register", "programme.view_all_programme"},
    "provider": frozenset({"programme.view_register", "programme.record_delivery"}),
    "caseworker": frozenset(),
    "offender manager": frozenset(),
}
