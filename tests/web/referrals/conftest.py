"""Fixtures shared by the tests of Rescue and Response."""

from __future__ import annotations

import pytest
from factories import user
from referrals_base import BRENT, LAMBETH, W

from vru.web.accounts.models import Organisation
from vru.web.referrals.models import (
    AllocationRule,
    Council,
    Provider,
)


@pytest.fixture
def w() -> W:
    oa = Organisation.objects.create(name="St Giles (test)", kind="provider")
    ob = Organisation.objects.create(name="Abianda (test)", kind="provider")
    pa, pb = (
        Provider.objects.create(organisation=oa, capacity=2, triage_hub=True),  # its managers triage
        Provider.objects.create(organisation=ob, capacity=5),
    )
    AllocationRule.objects.create(priority=10, need="rescue", provider=pa)
    AllocationRule.objects.create(priority=20, need="young_women", gender="female", provider=pb)
    AllocationRule.objects.create(priority=90, need="any", provider=pa)
    cb = Organisation.objects.create(name="Brent Council (test)", kind="local_authority")
    cl = Organisation.objects.create(name="Lambeth Council (test)", kind="local_authority")
    Council.objects.create(organisation=cb, borough=BRENT)
    Council.objects.create(organisation=cl, borough=LAMBETH)
    school = Organisation.objects.create(name="A school (test)", kind="other")
    people = [
        ("ref@example.org", "referrer", school),
        ("cwa@example.org", "caseworker", oa),
        ("cwa2@example.org", "caseworker", oa),
        ("cwb@example.org", "caseworker", ob),
        ("mgra@example.org", "provider manager", oa),
        ("mgrb@example.org", "provider manager", ob),
        ("brent@example.org", "council user", cb),
        ("lambeth@example.org", "council user", cl),
        ("analyst@example.org", "analyst", None),
    ]
    # each named after their address (the case pages show staff by name)
    return W(pa, pb, *(user(email, role, o, full_name=email.split("@")[0]) for email, role, o in people))
