"""The permissions this app gives to the platform's roles (docs/web-referrals.md, "Roles").

The data migration ``0002_roles`` keeps a frozen copy of this table; the tests check the database agrees.
``PROVIDER_MANAGER``, ``REFERRER`` and ``COUNCIL_USER`` are roles this app adds (as the tagging app adds
*police analyst*), so the platform's own table (``accounts.roles.ROLES``) is unchanged.

- *referrer*: makes referrals and sees the status of their own, nothing more;
- *caseworker*: the cases allocated to their organisation (per object: another's is 404), the casework;
- *provider manager*: as a caseworker, plus triage (accept, decline, allocate), the break-glass openings of
  their organisation's cases, and subject access exports of their cases;
- *council user*: the intelligence referrals shared with their council, redacted; each view is a disclosure;
- *analyst*: the figures only, small numbers suppressed;
- *administrator*: the provider, council and allocation-rule tables (configuration, no case).
"""

from __future__ import annotations

PROVIDER_MANAGER = "provider manager"
REFERRER = "referrer"
COUNCIL_USER = "council user"

CASEWORKER_PERMS = frozenset({"referrals.view_case"})
MANAGER_PERMS = CASEWORKER_PERMS | {"referrals.triage_referral", "referrals.export_subject"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset(
        {
            "referrals.view_provider",
            "referrals.add_provider",
            "referrals.change_provider",
            "referrals.view_council",
            "referrals.add_council",
            "referrals.change_council",
            "referrals.view_allocationrule",
            "referrals.add_allocationrule",
            "referrals.change_allocationrule",
            # no delete_allocationrule: an allocation keeps the rule it followed (PROTECT); a rule is
            # switched off with its "active" box
            # the analysts' suppressed figures, held only so that an administrator may give the analyst
            # role (a role is given only by someone holding all its permissions: accounts/admin.py)
            "referrals.view_reports",
        }
    ),
    "analyst": frozenset({"referrals.view_reports"}),
    "caseworker": CASEWORKER_PERMS,
    PROVIDER_MANAGER: frozenset(MANAGER_PERMS),
    REFERRER: frozenset({"referrals.add_referral"}),
    COUNCIL_USER: frozenset({"referrals.view_intelligence"}),
}
