"""The programme web app: the demo content."""

from __future__ import annotations

from decimal import Decimal

import pytest
from factories import user

from vru.web.accounts.models import Organisation
from vru.web.programme import scope
from vru.web.programme.models import (
    Grant,
    ProgrammeArea,
)

pytestmark = pytest.mark.django_db


def test_demo_seed_is_real_where_stated_and_idempotent():
    from vru.web.programme import demo

    first = demo.seed()
    assert first == {"areas": 8, "organisations": 24, "consortia": 8, "grants": 8, "interventions": 128}
    assert demo.seed() == {k: 0 for k in first}
    boroughs = sorted(a.borough_name for a in ProgrammeArea.objects.all())
    assert boroughs == sorted(demo.BOROUGHS_2021)
    for a in ProgrammeArea.objects.all():
        a.full_clean()  # geometry and LSOAs valid
        assert a.lsoa_codes and a.geometry
    assert ProgrammeArea.objects.filter(name=demo.SOUTHWARK_AREA).exists()
    assert all(o.name.endswith("(demo)") for o in Organisation.objects.filter(consortia__isnull=False))
    pm = user("pm@example.org", "programme manager")
    total = scope.rollup(pm, "year").total
    kinds = {r["key"]: r for r in scope.rollup(pm, "kind").rows}
    assert total["amount_awarded"] == Decimal("6000000.00") and total["people_reached"] == 3100
    assert total["interventions"] == 128
    assert kinds["after_school"]["sessions_delivered"] == 1331
    assert kinds["mentoring"]["sessions_delivered"] == 1900
    assert all(g.amount_awarded <= g.cap for g in Grant.objects.all())
