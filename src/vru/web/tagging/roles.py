"""The permissions this app gives to the platform's roles (docs/web-tagging.md, "Roles").

The data migration ``0002_roles`` keeps a frozen copy of this table (migrations must not import code
that changes); the tests check that the database agrees. ``POLICE_ANALYST`` and ``TAGGING_REVIEWER`` are
roles this app adds.

- *offender manager*: their own organisation's wearers (per object: another organisation's wearer,
  trail, zone or breach is 404), their identifying details, trail searches (with a justification,
  audited), zones, and the breach lifecycle;
- *police analyst*: crime batches of their force (``ForceOrganisation``), and the QUALIFIED matches of
  their force's crimes with their evidential report: only qualified matches are shared with the police;
  pending and dismissed matches are not theirs to see;
- *tagging reviewer* (the unit's monitoring hub, as the MoJ's hub reviews matches before any force sees
  them): every force's matches, pending first, qualifying or dismissing each with a reason;
- *analyst* and *programme manager* (the unit): the programme figures, small numbers suppressed;
- *administrator*: the figures only (published aggregates, which it needs to hold to give the analyst
  and programme manager roles). Administrators manage users, not trails.
"""

from __future__ import annotations

POLICE_ANALYST = "police analyst"
TAGGING_REVIEWER = "tagging reviewer"

OFFENDER_MANAGER_PERMS = frozenset({
    "tagging.view_wearer", "tagging.view_identity", "tagging.view_trail", "tagging.view_deviceactivation",
    "tagging.view_zone", "tagging.add_zone", "tagging.change_zone",
    "tagging.view_breach", "tagging.manage_breach",
})
POLICE_ANALYST_PERMS = frozenset({
    "tagging.view_crimebatch", "tagging.add_crimebatch", "tagging.view_match",
})
#: change_match (qualify or dismiss) is the reviewer's alone; scope.force_matches gives the holder every
#: force's matches of every status
REVIEWER_PERMS = frozenset({"tagging.view_match", "tagging.change_match"})

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
    TAGGING_REVIEWER: REVIEWER_PERMS,
}
