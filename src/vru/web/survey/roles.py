"""The permissions this app gives to the platform's roles (docs/web-survey.md, "Roles"); the accounts
app's ``post_migrate`` receiver (``vru.web.accounts.roles.sync_roles``) grants them.

- *analyst*, *programme manager*, *administrator*: the published results (``survey.view_results``);
  analysts also hold ``accounts.view_unsuppressed`` (accounts' table), which shows the unsuppressed
  figures inside the unit, and may publish a period's results (``survey.publish_results``, the
  ``survey_publish`` command);
- *police analyst* (the tagging app's police role): issuing invitation codes for victims' letters and
  text messages (``survey.issue_invitations``).
"""

from __future__ import annotations

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # publish_results only so that an administrator may give the analyst role (a role is given only by
    # someone holding all its permissions: accounts/admin.py); publishing is the survey_publish command
    "administrator": frozenset({"survey.view_results", "survey.publish_results"}),
    "analyst": frozenset({"survey.view_results", "survey.publish_results"}),
    "programme manager": frozenset({"survey.view_results"}),
    "police analyst": frozenset({"survey.issue_invitations"}),
}
