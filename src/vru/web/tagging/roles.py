"""The permissions this app gives to the platform's roles (docs/web-tagging.md, "Roles").

The data migration ``0002_roles`` keeps a frozen copy of this table (migrations must not import code
that changes); the tests check that the database agrees. ``POLICE_ANALYST`` is a role this app adds.

- *offender manager*: their own organisation's wearers (per object: another organisation's wearer,
  trail, zone or breach is 404), their identifying details, trail searches (with a justification,
  audited), zones, and the breach lifecycle;
- *police analyst*: crime batches of their force (``ForceOrganisation``), the matches of their force's
  crimes, qualifying or dismissing them, and the evidential report of a qualified match;
- *analyst* and *programme manager* (the unit): the programme figures, small numbers suppressed;
- *administrator*: the figures only (published aggregates, which it needs to hold to give the analyst
  and programme manager roles). Administrators manage users, not trails.
"""

from __future__ import annotations

POLICE_ANALYST = "police analyst"

OFFENDER_MANAGER_PERMS = frozenset({
    "tagging.view_wearer", "tagging.view_identity", "tagging.view_trail", "tagging.view_deviceactivation",
    "tagging.view_zone", "tagging.add_zone", "tagging.change_zone",
    "tagging.view_breach", "tagging.manage_breach",
})
POLICE_ANALYST_PERMS = frozenset({
    "tagging.view_crimebatch", "tagging.add_crimebatch", "tagging.view_match", "tagging.change_match",
})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # the published (suppressed) figures only: administrators give the unit's roles, and may give only
    # roles whose every permission they hold themselves (docs/web.md, "Accounts")
    "administrator": frozenset({"tagging.view_figures"}),
    "analyst": frozenset({"tagging.view_figures"}),
    "programme manager": frozenset({"tagging.view_figures"}),
    "provider": frozenset(),
    "caseworker": frozenset(),
    "offender manager": OFFENDER_MANAGER_PERMS,
    POLICE_ANALYST: POLICE_ANALYST_PERMS,
}
