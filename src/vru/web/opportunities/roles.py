"""The permissions this app gives to the platform's roles (docs/web-opportunities.md, "Access").

The data migration ``0003_roles`` keeps its own frozen copy of this table (as migrations must); the
tests check that the database agrees. ``YOUNG_PERSON`` is a role this app adds: young people who sign
up on the site (``/opportunities/sign-up/``) join it.

Signposting (``opportunities.signpost``) is for the people who meet young people: youth workers (the
*provider* role: staff of youth organisations; since migration ``0006_provider_signposts``), police
officers and probation staff (*offender manager*), caseworkers, programme managers and administrators.
"""

from __future__ import annotations

YOUNG_PERSON = "young person"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset({
        "opportunities.moderate_opportunity", "opportunities.signpost", "opportunities.verify_provider",
        "opportunities.view_opportunity",
    }),
    "programme manager": frozenset({
        "opportunities.moderate_opportunity", "opportunities.signpost", "opportunities.view_opportunity",
    }),
    "provider": frozenset({
        "opportunities.add_opportunity", "opportunities.change_opportunity",
        "opportunities.view_opportunity", "opportunities.view_registration", "opportunities.signpost",
    }),
    "caseworker": frozenset({"opportunities.signpost"}),
    "offender manager": frozenset({"opportunities.signpost"}),
    YOUNG_PERSON: frozenset({
        "opportunities.add_favourite", "opportunities.delete_favourite", "opportunities.view_favourite",
        "opportunities.add_registration", "opportunities.change_registration",
    }),
}
