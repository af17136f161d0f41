"""The programme web app: the roll-ups of delivery and money, on their own and on the dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import math
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse
from factories import BRENT, SOUTHWARK, signed_in
from programme_helpers import ATTACK, COUNTS, SQLITE

from vru.web.programme import scope
from vru.web.programme.models import (
    AGE_BAND_FIELDS,
    MAX_COUNT,
    MAX_MONEY,
    Grant,
    Intervention,
)

pytestmark = pytest.mark.django_db


def _section(html: str) -> str:
    """The dashboard's programme section of a page ('' when absent)."""
    import re

    m = re.search(r'<section[^>]*aria-labelledby="programme-h">(.*?)</section>', html, re.S)
    return " ".join(m.group(1).split()) if m else ""


def _max_world(w, n_grants=8, n_per_grant=40):
    """``n_grants`` grants at the largest cap and award, each with ``n_per_grant`` interventions holding
    the largest count in every field (bulk-inserted: the database's constraints still apply)."""
    cons = w["consortium"]
    grants = []
    for i in range(n_grants):
        g = Grant.objects.create(reference=f"T-MAX-{i}", consortium=cons, amount_requested=MAX_MONEY,
                                 cap=MAX_MONEY)
        g.transition("awarded", amount_awarded=MAX_MONEY, start_date=dt.date(2021, 1, 1),
                     end_date=dt.date(2025, 12, 31))
        grants.append(g)
    Intervention.objects.bulk_create([
        Intervention(grant=g, kind="sport", name=f"Max {j}", year=2021 + j % 5,
                     **{f: MAX_COUNT for f in COUNTS})
        for g in grants for j in range(n_per_grant)])
    return n_grants * n_per_grant


def test_rollups_match_a_hand_computed_case(world):
    ga, gb = world["grants"]
    Intervention.objects.create(grant=ga, kind="after_school", name="Homework club", year=2021,
                                sessions_delivered=10, reached_under_10=2, reached_25_plus=1)
    pm = world["users"]["pm"]
    by_borough = {r["key"]: r for r in scope.rollup(pm, "borough").rows}
    sw, br = by_borough[SOUTHWARK], by_borough[BRENT]
    assert (sw["label"], sw["interventions"], sw["sessions_delivered"], sw["people_reached"]) == \
        ("Southwark", 2, 110, 15)
    assert [sw[f] for f in ("reached_under_10", "reached_10_13", "reached_14_17", "reached_18_24",
                            "reached_25_plus")] == [2, 5, 7, 0, 1]
    assert sw["amount_awarded"] == Decimal("650000.50") and sw["grants_awarded"] == 1
    assert (br["sessions_delivered"], br["people_reached"], br["amount_awarded"]) == \
        (40, 7, Decimal("400000"))
    by_year = {r["key"]: r for r in scope.rollup(pm, "year").rows}
    # money under the year the grant started: 2021 (T-A) and 2022 (T-B)
    y21, y22 = by_year[2021], by_year[2022]
    assert (y21["amount_awarded"], y21["sessions_delivered"]) == (Decimal("650000.50"), 10)
    assert (y22["amount_awarded"], y22["sessions_delivered"]) == (Decimal("400000"), 140)
    total = scope.rollup(pm, "area").total
    assert (total["sessions_delivered"], total["people_reached"], total["amount_awarded"]) == \
        (150, 22, Decimal("1050000.50"))
    kinds = {r["key"]: r["sessions_delivered"] for r in scope.rollup(pm, "kind").rows}
    assert kinds == {"mentoring": 100, "after_school": 50}


def test_rollups_of_a_provider_cover_only_their_consortia(world):
    rows = scope.rollup(world["users"]["beta"], "borough").rows
    assert [r["key"] for r in rows] == [BRENT]
    assert scope.rollup(world["users"]["beta"], "area").total["amount_awarded"] == Decimal("400000")


def test_rollups_of_one_borough_by_area_and_year(world):
    pm = world["users"]["pm"]
    ga, _ = world["grants"]
    Intervention.objects.create(grant=ga, kind="after_school", name="Homework club", year=2021,
                                sessions_delivered=10, reached_under_10=2)
    years = {r["key"]: r for r in scope.rollup(pm, "year", borough=SOUTHWARK).rows}
    assert set(years) == {2021, 2022}  # T-B (Brent, 2022 start) is left out
    assert (years[2021]["amount_awarded"], years[2021]["sessions_delivered"]) == (Decimal("650000.50"), 10)
    assert (years[2022]["amount_awarded"], years[2022]["sessions_delivered"]) == (Decimal("0"), 100)
    assert scope.rollup(pm, "area", borough=BRENT).total["people_reached"] == 7
    assert scope.rollup(pm, "year", borough="E09000001").rows == []


def test_dashboard_pages_show_the_programme_rollups_each_user_may_see(world, settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    u = world["users"]
    borough = reverse("dashboard:borough", args=[SOUTHWARK])
    pm = _section(signed_in(u["pm"]).get(borough).content.decode())
    assert "MyEnds programme in Southwark" in pm and "£650,000.50" in pm and "£400,000" not in pm
    assert 'id="rollup-area"' in pm and 'id="rollup-year"' in pm and "Test estate, Southwark" in pm
    overview = _section(signed_in(u["pm"]).get(reverse("dashboard:overview")).content.decode())
    assert "£650,000.50" in overview and "£400,000" in overview and "Brent" in overview
    assert "Download this table (CSV)" in overview and "Download this table (CSV)" not in pm
    # a provider sees only their own consortia's records; a caseworker, who may not open the
    # register, sees no programme section at all
    beta = _section(signed_in(u["beta"]).get(borough).content.decode())
    assert "your organisation's consortia only" in beta and "Nothing recorded yet." in beta
    assert "£650,000" not in beta
    cw = signed_in(u["caseworker"]).get(borough)
    assert cw.status_code == 200 and _section(cw.content.decode()) == ""


def test_a_bid_closed_unfunded_brings_no_money(world):
    g = Grant.objects.create(reference="T-U", consortium=world["consortia"][1], amount_requested=Decimal("9"))
    g.transition("closed", note="unsuccessful")
    assert scope.rollup(world["users"]["pm"], "area").total["grants_awarded"] == 2


def test_largest_allowed_values_in_many_rows_keep_every_roll_up_answering(bounds_world, settings,
                                                                          london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    n = _max_world(bounds_world)
    pm = signed_in(bounds_world["users"]["pm"])
    for url in [reverse("programme:index"), reverse("dashboard:overview"),
                reverse("dashboard:borough", args=[SOUTHWARK]),
                *(reverse("programme:export", kwargs={"table": f"rollup-{by}"}) for by in scope.ROLLUP_BY),
                *(reverse("programme-api-rollup", kwargs={"by": by}) for by in scope.ROLLUP_BY),
                reverse("programme-api-interventions")]:
        r = pm.get(url)
        assert r.status_code == 200, url
    total = pm.get(reverse("programme-api-rollup", kwargs={"by": "borough"})).json()["total"]
    assert total["reached_under_10"] == n * MAX_COUNT
    assert total["people_reached"] == n * MAX_COUNT * len(AGE_BAND_FIELDS) + 12
    assert Decimal(total["amount_awarded"]) == 8 * MAX_MONEY + Decimal("650000")
    text = pm.get(reverse("programme:export", kwargs={"table": "rollup-borough"})).content.decode()
    assert list(csv.DictReader(io.StringIO(text)))[-1]["sessions_delivered"] == str(n * MAX_COUNT + 100)
    assert "£800,650,000" in pm.get(reverse("programme:index")).content.decode()


def test_the_worst_case_sum_cannot_overflow():
    """With the bounds, a roll-up sum passes a signed 64-bit integer only if one group holds more than
    9.2 trillion interventions, about 1,000 for every person alive; at a few tens of bytes each (the
    smallest a row can take) they would not fit in the largest database SQLite (2^48 bytes) or a
    PostgreSQL table (32 TB) can hold. Money: more than 900 million grants at the largest cap, even
    counted in pence (the programme has had tens)."""
    int64 = 2**63 - 1
    rows_to_overflow = math.ceil(int64 / MAX_COUNT)
    assert rows_to_overflow > 9 * 10**12
    min_row_bytes = 32  # record header, id, grant, year, kind, six counts, name, timestamp: far more
    assert rows_to_overflow * min_row_bytes > 2**48 and rows_to_overflow * min_row_bytes > 32 * 2**40
    # money is Decimal pounds with pence: the database sums pence-exact values up to MAX_MONEY each
    assert math.ceil(int64 / (MAX_MONEY * 100)) > 9 * 10**8
    # PostgreSQL stores the counts as int4 and sums int4 into int8; int4 itself holds 2,147 x MAX_COUNT
    assert MAX_COUNT * len(AGE_BAND_FIELDS) < 2**31 - 1


@pytest.mark.sqlite
@pytest.mark.skipif(not SQLITE, reason="PostgreSQL's int4 columns could never hold the value")
def test_a_row_stored_before_the_bounds_does_not_take_the_register_down(bounds_world, settings,
                                                                        london_warehouse):
    """A database that kept the attack row (written before these bounds; the migration's check names it
    and the constraint refuses it now): the roll-ups add up in Python instead of answering 500."""
    settings.VRU_WAREHOUSE = str(london_warehouse)
    with connection.cursor() as cur:
        cur.execute("PRAGMA ignore_check_constraints = ON")
        try:
            Intervention.objects.create(grant=bounds_world["grant"], kind="sport", name="Attack", year=2022,
                                        reached_under_10=ATTACK)
            Intervention.objects.create(grant=bounds_world["grant"], kind="sport", name="Attack 2", year=2022,
                                        reached_under_10=ATTACK)
        finally:
            cur.execute("PRAGMA ignore_check_constraints = OFF")
    pm = signed_in(bounds_world["users"]["pm"])
    for url in [reverse("programme:index"), reverse("dashboard:overview"),
                reverse("programme:export", kwargs={"table": "rollup-area"}),
                reverse("programme-api-rollup", kwargs={"by": "year"})]:
        assert pm.get(url).status_code == 200, url
    assert scope.rollup(bounds_world["users"]["pm"], "area").total["reached_under_10"] == 2 * ATTACK
    # and the migration adding the constraints names the row to correct instead of failing blindly
    migration = importlib.import_module("vru.web.programme.migrations.0003_bounds")
    with pytest.raises(RuntimeError) as e:
        migration.refuse_out_of_bounds(django_apps, None)
    attack = Intervention.objects.get(name="Attack")
    assert f"intervention {attack.pk}: reached_under_10 = {ATTACK}" in str(e.value)
    Intervention.objects.filter(name__startswith="Attack").delete()
    migration.refuse_out_of_bounds(django_apps, None)  # nothing out of bounds: passes
