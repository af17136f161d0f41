"""Each role's access to each tagging page (GET 200 or 403), administrators included."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, user

pytestmark = pytest.mark.django_db


ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "offender manager",
         "police analyst", "tagging reviewer", "young person"]


# page -> the roles that may open it (GET 200); everyone else signed in gets 403
ACCESS = {
    "wearers": {"offender manager"},
    "wearer": {"offender manager"},
    "trail": {"offender manager"},
    "zone_create": {"offender manager"},
    "breaches": {"offender manager"},
    "breach": {"offender manager"},
    "batches": {"police analyst"},
    "batch": {"police analyst"},
    "matches": {"police analyst", "tagging reviewer"},
    "match": {"tagging reviewer"},  # world.match is pending: the police analyst's 404 (only qualified shared)
    "figures": {"analyst", "programme manager", "administrator"},
}


def _url(name, w):
    args = {"wearer": [w.wearers[0].pk], "trail": [w.wearers[0].pk], "zone_create": [w.wearers[0].pk],
            "breach": [w.breach.pk], "batch": [w.batch.pk], "match": [w.match.pk],
            "match_review": [w.match.pk], "report": [w.match.pk], "report_pdf": [w.match.pk]}.get(name, [])
    return reverse(f"tagging:{name}", args=args)


@pytest.mark.world("pages")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(world, role):
    org = {"offender manager": world.probation, "police analyst": world.police}.get(role)
    u = user(f"{role.replace(' ', '.')}@x.test", role, org)
    c = signed_in(u)
    for name, allowed in ACCESS.items():
        r = c.get(_url(name, world))
        expected = 200 if role in allowed else 404 if (name, role) == ("match", "police analyst") else 403
        assert r.status_code == expected, (role, name, r.status_code)
    # review: the tagging reviewer only (POST review without a token-less client is CSRF-tested by
    # test_authz; here the permission); report: pending, so none yet
    r = c.post(_url("match_review", world), {"decision": "qualified", "reason": "x" * 10})
    assert r.status_code == (302 if role == "tagging reviewer" else 403)
    r = c.get(_url("report", world))
    assert r.status_code == (404 if role in ("police analyst", "tagging reviewer") else 403)


@pytest.mark.world("pages")
def test_administrators_see_no_trail_even_as_superusers_of_users(world):
    admin = user("admin@x.test", "administrator", world.probation)
    c = signed_in(admin)
    assert c.get(_url("trail", world)).status_code == 403
    assert c.get(_url("wearer", world)).status_code == 403
