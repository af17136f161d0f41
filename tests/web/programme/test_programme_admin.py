"""The programme web app: the Django admin."""

from __future__ import annotations

import json

import pytest
from factories import SOUTHWARK, SQUARE, signed_in

from vru.web.programme.models import (
    Consortium,
)

pytestmark = pytest.mark.django_db


def _inline(rows, initial=0):
    data = {"memberships-TOTAL_FORMS": str(len(rows)), "memberships-INITIAL_FORMS": str(initial),
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"memberships-{i}-{k}": v for k, v in row.items()})
    return data


def test_admin_keeps_the_lead_a_member(world):
    alpha, beta, gamma = world["orgs"]
    pm = world["users"]["pm"]
    pm.is_staff = True
    pm.save()
    c = signed_in(pm)
    # adding a consortium whose inline also lists the lead: one membership each, no error
    data = {"name": "Admin consortium", "area": str(world["areas"][0].pk), "lead": str(beta.pk),
            **_inline([{"organisation": str(beta.pk), "joined": "2022-01-01"},
                       {"organisation": str(gamma.pk), "joined": "2022-01-01"}])}
    r = c.post("/admin/programme/consortium/add/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    new = Consortium.objects.get(name="Admin consortium")
    assert sorted(new.members.values_list("name", flat=True)) == \
        ["Beta Mentors (test)", "Gamma Families (test)"]
    # removing the lead's membership is refused with a message, and nothing changes
    ms = {m.organisation_id: m for m in new.memberships.all()}
    data = {"name": new.name, "area": str(new.area_id), "lead": str(beta.pk),
            **_inline([{"id": str(ms[beta.pk].pk), "consortium": str(new.pk), "organisation": str(beta.pk),
                        "joined": "2022-01-01", "DELETE": "on"},
                       {"id": str(ms[gamma.pk].pk), "consortium": str(new.pk), "organisation": str(gamma.pk),
                        "joined": "2022-01-01"}], initial=2)}
    r = c.post(f"/admin/programme/consortium/{new.pk}/change/", data)
    assert r.status_code == 200 and "cannot leave the consortium" in r.content.decode()
    assert new.memberships.count() == 2


def test_the_admin_reads_json_strictly(bounds_world):
    pm = bounds_world["users"]["pm"]
    pm.is_staff = True
    pm.save()
    area = bounds_world["area"]
    data = {"name": area.name, "kind": "estate", "borough": SOUTHWARK, "selected_year": "2021",
            "funding_round": "1", "lsoa_codes": '["E01003911"]', "geometry": "[" * 100_000}
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 200 and "nested more than 20 levels deep" in r.content.decode()
    data["geometry"] = json.dumps({**SQUARE, "x": "\ud800"})
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 200 and "lone surrogate" in r.content.decode()
    area.refresh_from_db()
    assert area.geometry == SQUARE
    data["geometry"] = json.dumps({**SQUARE, "bbox": [0, 0, 0, 0]})
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry == SQUARE
