"""MyEnds programme register: model rules, roll-ups, page access per role, CSRF, CSV import/export,
the API's per-object filtering, and the demo content."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from factories import (
    BRENT,
    SOUTHWARK,
    SQUARE,
    awarded_grant,
    consortium,
    estate,
    partners,
    signed_in,
    user,
    ward,
)

from vru.web.accounts.models import Organisation
from vru.web.programme import csvio, scope
from vru.web.programme.models import (
    Consortium,
    Grant,
    GrantStatusChange,
    Intervention,
    Membership,
    ProgrammeArea,
    validate_geometry,
)
from vru.web.programme.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db



# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture
def world(db):
    """Two providers, each leading a consortium with one awarded grant and one intervention."""
    alpha, beta, gamma = partners()
    a_sw, a_br = estate(), ward()
    ca = consortium("Alpha consortium", a_sw, alpha, gamma)
    cb = consortium("Beta consortium", a_br, beta)
    ga = awarded_grant(ca, "T-A", "700000", "650000.50", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    gb = awarded_grant(cb, "T-B", "500000", "400000", dt.date(2022, 4, 1), dt.date(2023, 3, 31))
    ia = Intervention.objects.create(grant=ga, kind="mentoring", name="Mentoring", year=2022,
                                     sessions_delivered=100, reached_10_13=5, reached_14_17=7)
    ib = Intervention.objects.create(grant=gb, kind="after_school", name="Club", year=2022,
                                     sessions_delivered=40, reached_under_10=3, reached_10_13=4)
    users = {
        "pm": user("pm@example.org", "programme manager"),
        "admin": user("admin@example.org", "administrator"),
        "analyst": user("analyst@example.org", "analyst"),
        "alpha": user("staff@alpha.example.org", "provider", alpha),
        "gamma": user("staff@gamma.example.org", "provider", gamma),
        "beta": user("staff@beta.example.org", "provider", beta),
        "caseworker": user("cw@example.org", "caseworker"),
        "offender": user("om@example.org", "offender manager"),
    }
    return {"orgs": (alpha, beta, gamma), "areas": (a_sw, a_br), "consortia": (ca, cb), "grants": (ga, gb),
            "interventions": (ia, ib), "users": users}


# --- roles -------------------------------------------------------------------------------------------

def test_role_groups_hold_exactly_the_documented_programme_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        mine = group.permissions.filter(content_type__app_label="programme")
        have = {f"programme.{p}" for p in mine.values_list("codename", flat=True)}
        assert have == set(perms), role


def test_nav_permission_exists_for_readers_not_for_caseworkers(world):
    u = world["users"]
    for who in ("pm", "admin", "analyst", "alpha"):
        assert u[who].has_perm("programme.view_register"), who
    for who in ("caseworker", "offender"):
        assert not u[who].has_perm("programme.view_register"), who


# --- model rules -------------------------------------------------------------------------------------

def test_grant_over_the_cap_is_refused_by_clean_and_by_the_database(world):
    ca = world["consortia"][0]
    g = Grant(reference="T-X", consortium=ca, amount_requested=Decimal("750000.01"))
    with pytest.raises(ValidationError) as e:
        g.full_clean()
    assert "cap" in e.value.message_dict["amount_requested"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        g.save()
    # a grant with a higher cap of its own may request more
    Grant(reference="T-Y", consortium=ca, amount_requested=Decimal("900000"),
          cap=Decimal("1000000")).full_clean()


def test_award_over_the_cap_and_extension_beyond_it_are_refused(world):
    ga = world["grants"][0]
    with pytest.raises(ValidationError) as e:
        ga.transition("extended", end_date=dt.date(2023, 3, 31), additional_amount=Decimal("100000"))
    assert "cap" in e.value.message_dict["additional_amount"][0]
    ga.refresh_from_db()
    assert ga.status == "awarded" and ga.amount_awarded == Decimal("650000.50")
    ca = world["consortia"][0]
    bid = Grant.objects.create(reference="T-C", consortium=ca, amount_requested=Decimal("100"))
    with pytest.raises(ValidationError):
        bid.transition("awarded", amount_awarded=Decimal("750001"), start_date=dt.date(2022, 1, 1),
                       end_date=dt.date(2022, 12, 31))


def test_transitions_follow_the_lifecycle_and_are_recorded(world):
    ca = world["consortia"][0]
    g = Grant.objects.create(reference="T-L", consortium=ca, amount_requested=Decimal("300000"))
    with pytest.raises(ValidationError):
        g.transition("extended", end_date=dt.date(2024, 1, 1))  # a bid cannot be extended
    with pytest.raises(ValidationError) as e:
        g.transition("awarded")  # needs amount and dates
    assert set(e.value.message_dict) == {"amount_awarded", "start_date", "end_date"}
    g.transition("awarded", amount_awarded=Decimal("250000"), start_date=dt.date(2022, 1, 1),
                 end_date=dt.date(2022, 12, 31))
    with pytest.raises(ValidationError) as e:
        g.transition("extended", end_date=dt.date(2022, 6, 30))  # not later than the current end
    assert "after the current one" in e.value.message_dict["end_date"][0]
    g.transition("extended", end_date=dt.date(2023, 12, 31), additional_amount=Decimal("50000"))
    g.transition("extended", end_date=dt.date(2024, 12, 31))
    g.transition("closed", note="done")
    with pytest.raises(ValidationError):
        g.transition("awarded", amount_awarded=Decimal("1"), start_date=dt.date(2022, 1, 1),
                     end_date=dt.date(2022, 1, 2))
    g.refresh_from_db()
    assert g.status == "closed" and g.amount_awarded == Decimal("300000")
    assert g.end_date == dt.date(2024, 12, 31)
    steps = [(h.from_status, h.to_status) for h in g.history.all()]
    assert steps == [("bid", "awarded"), ("awarded", "extended"), ("extended", "extended"),
                     ("extended", "closed")]


def test_funded_grant_without_award_is_refused_by_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.create(reference="T-Z", consortium=world["consortia"][0], status="awarded",
                             amount_requested=Decimal("10"))


def test_lead_is_always_a_member_and_cannot_leave(world):
    alpha, beta, gamma = world["orgs"]
    ca = world["consortia"][0]
    assert alpha in ca.members.all()
    with pytest.raises(ValidationError):
        Membership.objects.get(consortium=ca, organisation=alpha).delete()
    ca.lead = beta  # not a member
    with pytest.raises(ValidationError) as e:
        ca.full_clean()
    assert "member" in e.value.message_dict["lead"][0]
    ca.lead = gamma  # a member: fine
    ca.full_clean()


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Point", "coordinates": [-0.1, 51.5]}, "Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[530000, 180000], [531000, 180000], [531000, 181000],
                                          [530000, 180000]]]}, "outside London"),
    ({"type": "Polygon", "coordinates": [[[51.47, -0.088], [51.47, -0.082], [51.475, -0.082],
                                          [51.47, -0.088]]]}, "outside London"),  # lat/lon swapped
    ({"type": "Polygon", "coordinates": [[[-0.09, 51.47], [-0.08, 51.48], [-0.08, 51.47],
                                          [-0.09, 51.48], [-0.09, 51.47]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[-0.09, 51.47], [-0.08]]]}, "not a valid Polygon"),
    ({**SQUARE, "crs": {"type": "name", "properties": {"name": "EPSG:27700"}}}, "WGS84"),
    ("{not json", "not valid JSON"),
])
def test_bad_geometry_is_refused_with_the_reason(geometry, message):
    with pytest.raises(ValidationError) as e:
        validate_geometry(geometry)
    assert message in " ".join(e.value.messages)


def test_area_lsoa_codes_must_be_real_and_in_the_borough(world):
    area = world["areas"][0]
    area.full_clean()
    area.lsoa_codes = ["E01003911", "E0100391"]
    with pytest.raises(ValidationError, match="not LSOA codes"):
        area.full_clean()
    area.lsoa_codes = ["E01000471"]  # a Brent LSOA
    with pytest.raises(ValidationError, match="not in Southwark"):
        area.full_clean()
    area.lsoa_codes = ["E01999999"]
    with pytest.raises(ValidationError, match="not London LSOAs"):
        area.full_clean()


def test_interventions_only_for_funded_grants_within_their_years(world):
    ca = world["consortia"][0]
    bid = Grant.objects.create(reference="T-BID", consortium=ca, amount_requested=Decimal("10"))
    with pytest.raises(ValidationError, match="is a bid"):
        Intervention(grant=bid, kind="sport", name="x", year=2022).full_clean()
    with pytest.raises(ValidationError, match="outside"):
        Intervention(grant=world["grants"][0], kind="sport", name="x", year=2024).full_clean()
    i = world["interventions"][0]
    assert i.people_reached == 12


# --- roll-ups ----------------------------------------------------------------------------------------

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


def _section(html: str) -> str:
    """The dashboard's programme section of a page ('' when absent)."""
    import re

    m = re.search(r'<section[^>]*aria-labelledby="programme-h">(.*?)</section>', html, re.S)
    return " ".join(m.group(1).split()) if m else ""


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


# --- page access: every view x role -----------------------------------------------------------------

def _views(w):
    """(url name, kwargs for an object of Alpha's consortium, kwargs for one of Beta's, object view?)."""
    (a_sw, a_br), (ca, cb), (ga, gb), (ia, ib) = w["areas"], w["consortia"], w["grants"], w["interventions"]
    return [
        ("programme:index", {}, None),
        ("programme:area", {"pk": a_sw.pk}, {"pk": a_br.pk}),
        ("programme:consortium", {"pk": ca.pk}, {"pk": cb.pk}),
        ("programme:grant", {"pk": ga.pk}, {"pk": gb.pk}),
        ("programme:intervention_create", {"grant_pk": ga.pk}, {"grant_pk": gb.pk}),
        ("programme:intervention_edit", {"pk": ia.pk}, {"pk": ib.pk}),
        ("programme:export", {"table": "grants"}, None),
        ("programme:export", {"table": "rollup-area"}, None),
        ("programme:import", {}, None),
    ]


def test_every_view_sends_anonymous_visitors_to_sign_in(world):
    for name, mine, _ in _views(world):
        r = Client().get(reverse(name, kwargs=mine))
        assert r.status_code == 302 and r["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("role", ["caseworker", "offender"])
def test_every_view_is_forbidden_to_caseworkers_and_offender_managers(world, role):
    c = signed_in(world["users"][role])
    for name, mine, _ in _views(world):
        assert c.get(reverse(name, kwargs=mine)).status_code == 403, name
    r = c.get("/api/v1/programme/grants/")
    assert r.status_code == 403


def test_provider_gets_404_for_another_organisations_records(world):
    c = signed_in(world["users"]["alpha"])
    for name, _, theirs in _views(world):
        if theirs is not None:
            assert c.get(reverse(name, kwargs=theirs)).status_code == 404, name


def test_provider_sees_own_records_and_member_not_only_lead(world):
    for who in ("alpha", "gamma"):
        c = signed_in(world["users"][who])
        for name, mine, _ in _views(world):
            expected = 403 if name == "programme:import" else 200
            assert c.get(reverse(name, kwargs=mine)).status_code == expected, (who, name)
    page = signed_in(world["users"]["alpha"]).get(reverse("programme:index")).content.decode()
    assert "Alpha consortium" in page and "Beta consortium" not in page


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_managers_open_every_view_of_every_organisation(world, role):
    c = signed_in(world["users"][role])
    for name, mine, theirs in _views(world):
        for kw in filter(None, (mine, theirs)):
            assert c.get(reverse(name, kwargs=kw)).status_code == 200, (name, kw)


def test_analyst_reads_everything_but_changes_nothing(world):
    c = signed_in(world["users"]["analyst"])
    for name, mine, theirs in _views(world):
        for kw in filter(None, (mine, theirs)):
            expected = 403 if name in ("programme:import", "programme:intervention_create",
                                       "programme:intervention_edit") else 200
            assert c.get(reverse(name, kwargs=kw)).status_code == expected, (name, kw)
    gb = world["grants"][1]
    r = c.post(reverse("programme:grant", kwargs={"pk": gb.pk}), {"to_status": "closed"})
    assert r.status_code == 403
    gb.refresh_from_db()
    assert gb.status == "awarded"


def test_provider_cannot_change_a_grants_status(world):
    ga = world["grants"][0]
    r = signed_in(world["users"]["alpha"]).post(reverse("programme:grant", kwargs={"pk": ga.pk}),
                                               {"to_status": "closed"})
    assert r.status_code == 403
    ga.refresh_from_db()
    assert ga.status == "awarded"


def test_pages_have_no_inline_styles_and_the_map_is_an_image_with_alt_text(world):
    c = signed_in(world["users"]["pm"])
    for name, mine, _ in _views(world):
        r = c.get(reverse(name, kwargs=mine))
        if r["Content-Type"].startswith("text/html"):
            html = r.content.decode()
            assert "style=" not in html and "<style" not in html, name
            assert "<script>" not in html, name
    html = c.get(reverse("programme:area", kwargs={"pk": world["areas"][0].pk})).content.decode()
    assert '<img class="programme-map" src="data:image/svg+xml;base64,' in html
    assert 'alt="Map of Test estate (shaded) within the borough of Southwark"' in html


# --- forms: record delivery, change status ----------------------------------------------------------

def _intervention_post(**over):
    data = {"kind": "youth_work", "name": "Friday club", "year": "2022", "sessions_delivered": "30",
            "reached_under_10": "0", "reached_10_13": "4", "reached_14_17": "9", "reached_18_24": "2",
            "reached_25_plus": "0"}
    data.update(over)
    return data


def test_provider_records_delivery_for_own_grant(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["gamma"])  # a member, not the lead
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}), _intervention_post())
    assert r.status_code == 302
    i = Intervention.objects.get(grant=ga, name="Friday club")
    assert i.people_reached == 15
    r = c.post(reverse("programme:intervention_edit", kwargs={"pk": i.pk}),
               _intervention_post(sessions_delivered="31"))
    assert r.status_code == 302
    i.refresh_from_db()
    assert i.sessions_delivered == 31


def test_intervention_form_errors_are_shown_next_to_the_field(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["alpha"])
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
               _intervention_post(year="2025", reached_10_13="-1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="id_year-error"' in html and "outside it" in html
    assert 'id="id_reached_10_13-error"' in html
    r = c.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
               _intervention_post(name="Mentoring"))  # same name and year as an existing one
    assert 'id="id_name-error"' in r.content.decode()
    assert Intervention.objects.filter(grant=ga).count() == 1


def test_provider_cannot_record_for_another_consortium(world):
    gb = world["grants"][1]
    r = signed_in(world["users"]["alpha"]).post(
        reverse("programme:intervention_create", kwargs={"grant_pk": gb.pk}), _intervention_post())
    assert r.status_code == 404
    assert not Intervention.objects.filter(name="Friday club").exists()


def test_manager_extends_a_grant_and_history_shows_it(world):
    ga = world["grants"][0]
    c = signed_in(world["users"]["pm"])
    url = reverse("programme:grant", kwargs={"pk": ga.pk})
    r = c.post(url, {"to_status": "extended", "end_date": "2022-01-01"})
    assert r.status_code == 200 and "after the current one" in r.content.decode()
    r = c.post(url, {"to_status": "extended", "end_date": "2023-03-31", "additional_amount": "99999.50",
                     "note": "second year"})
    assert r.status_code == 302
    ga.refresh_from_db()
    assert ga.status == "extended" and ga.amount_awarded == Decimal("750000.00")
    html = c.get(url).content.decode()
    assert "second year" in html and "Awarded to Extended" in html


# --- CSRF ----------------------------------------------------------------------------------------------

def test_csrf_is_enforced_on_every_form(world):
    ga = world["grants"][0]
    pm = signed_in(world["users"]["pm"], enforce_csrf_checks=True)
    r = pm.post(reverse("programme:grant", kwargs={"pk": ga.pk}), {"to_status": "closed"})
    assert r.status_code == 403
    f = io.BytesIO(b"x")
    f.name = "x.csv"
    assert pm.post(reverse("programme:import"), {"table": "areas", "file": f}).status_code == 403
    alpha = signed_in(world["users"]["alpha"], enforce_csrf_checks=True)
    r = alpha.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}), _intervention_post())
    assert r.status_code == 403
    ga.refresh_from_db()
    assert ga.status == "awarded" and not Intervention.objects.filter(name="Friday club").exists()
    # with the token from the form it works
    page = alpha.get(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk})).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = alpha.post(reverse("programme:intervention_create", kwargs={"grant_pk": ga.pk}),
                   _intervention_post(csrfmiddlewaretoken=token))
    assert r.status_code == 302


# --- CSV import and export ----------------------------------------------------------------------------

def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _upload(client, table, data: bytes):
    f = io.BytesIO(data)
    f.name = f"{table}.csv"
    return client.post(reverse("programme:import"), {"table": table, "file": f})


def test_import_good_files_then_reimport_changes_nothing(world):
    c = signed_in(world["users"]["pm"])
    areas = _csv([csvio.COLUMNS["areas"],
                  [SOUTHWARK, "New estate", "estate", "2024", "2", "E01003913", json.dumps(SQUARE)]])
    cons = _csv([csvio.COLUMNS["consortia"],
                 ["New consortium", SOUTHWARK, "New estate", "Beta Mentors (test)",
                  "Beta Mentors (test); Gamma Families (test)"]])
    grants = _csv([csvio.COLUMNS["grants"],
                   ["T-N", "New consortium", "awarded", "600000", "550000", "750000", "2024-04-01",
                    "2025-03-31"]])
    acts = _csv([csvio.COLUMNS["interventions"],
                 ["T-N", "Boxing", "2024", "sport", "48", "0", "10", "12", "3", "0", "25"]])
    for table, data in [("areas", areas), ("consortia", cons), ("grants", grants), ("interventions", acts)]:
        r = _upload(c, table, data)
        assert r.status_code == 302, r.content.decode()[:3000]
    g = Grant.objects.get(reference="T-N")
    assert g.status == "awarded" and g.consortium.area.name == "New estate"
    assert {o.name for o in g.consortium.members.all()} == {"Beta Mentors (test)", "Gamma Families (test)"}
    assert [(h.from_status, h.to_status) for h in g.history.all()] == [("", "awarded")]
    assert Intervention.objects.get(name="Boxing").people_reached == 25
    counts = [ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
              Grant.objects.count(), GrantStatusChange.objects.count(), Intervention.objects.count()]
    for table, data in [("areas", areas), ("consortia", cons), ("grants", grants), ("interventions", acts)]:
        res = csvio.import_csv(table, data)
        assert res.ok and (res.created, res.updated, res.unchanged) == (0, 0, 1), table
    assert counts == [ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
                      Grant.objects.count(), GrantStatusChange.objects.count(), Intervention.objects.count()]


def test_import_bad_file_names_row_and_column_and_imports_nothing(world):
    c = signed_in(world["users"]["pm"])
    data = _csv([csvio.COLUMNS["grants"],
                 ["T-OK", "Alpha consortium", "bid", "100000", "", "750000", "", ""],
                 ["T-CAP", "Alpha consortium", "bid", "800000", "", "750000", "", ""],
                 ["T-NOC", "No such consortium", "bid", "1000", "", "750000", "", ""],
                 ["T-DATE", "Alpha consortium", "awarded", "1000", "1000", "750000", "2022-13-01",
                  "2023-01-01"],
                 ["T-A", "Alpha consortium", "bid", "700000", "", "750000", "", ""]])  # awarded -> bid
    r = _upload(c, "grants", data)
    assert r.status_code == 200
    html = r.content.decode()
    assert "Nothing was imported" in html
    assert "Row 3, column amount_requested: £800,000.00 is more than the cap" in html
    assert "Row 4, column consortium: no consortium of that name" in html
    assert "Row 5, column start_date:" in html
    assert "Row 6, column status: the grant is awarded: it cannot become bid" in html
    assert not Grant.objects.filter(reference="T-OK").exists()
    assert Grant.objects.get(reference="T-A").status == "awarded"


def test_import_checks_header_geometry_totals_and_duplicates(world):
    res = csvio.import_csv("areas", _csv([["borough", "name", "colour"], [SOUTHWARK, "x", "red"]]))
    assert any("missing columns kind" in e for e in res.errors) and any("unknown column colour" in e
                                                                         for e in res.errors)
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Bad", "estate", "2021", "1", "", '{"type":"Point"}']]))
    assert res.errors == ["Row 2, column geometry: must be a GeoJSON Polygon or MultiPolygon, not 'Point'"]
    talks = ["T-A", "Talks", "2022", "other", "1", "1", "1", "1", "1", "1"]
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], talks + ["6"],
                                                  talks + ["5"]]))
    assert res.errors == ["Row 2, column people_reached: 6 is not the sum of the age bands (5)",
                          "Row 3, column grant: the same record as row 2."]
    assert not Intervention.objects.filter(name="Talks").exists()
    cons = ["C", SOUTHWARK, "Test estate", "Alpha Youth (test)"]
    res = csvio.import_csv("consortia", _csv([csvio.COLUMNS["consortia"], cons + ["Nobody Ltd"]]))
    assert "Row 2, column members: no organisation named Nobody Ltd (add it first)" in res.errors
    res = csvio.import_csv("consortia", _csv([csvio.COLUMNS["consortia"], cons + ["Beta Mentors (test)"]]))
    assert res.errors == ["Row 2, column members: the lead organisation 'Alpha Youth (test)' must be listed "
                          "as a member"]


def test_export_then_import_round_trip(world):
    c = signed_in(world["users"]["pm"])
    files = {t: c.get(reverse("programme:export", kwargs={"table": t})).content for t in csvio.TABLES}
    rows = list(csv.reader(io.StringIO(files["interventions"].decode())))
    assert rows[0] == csvio.COLUMNS["interventions"] and len(rows) == 3
    # unchanged on re-import
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and res.created == 0 and res.updated == 0, (t, res.errors)
    # into an empty register (organisations kept): everything comes back the same
    Intervention.objects.all().delete()
    Grant.objects.all().delete()
    Consortium.objects.all().delete()
    ProgrammeArea.objects.all().delete()
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and res.created > 0, (t, res.errors)
    again = {t: c.get(reverse("programme:export", kwargs={"table": t})).content for t in csvio.TABLES}
    assert again == files


def test_provider_export_holds_only_their_records(world):
    body = signed_in(world["users"]["beta"]).get(reverse("programme:export", kwargs={"table": "grants"}))
    text = body.content.decode()
    assert "T-B" in text and "T-A" not in text
    assert body["Content-Type"].startswith("text/csv")


def test_rollup_csv_is_the_same_rollup(world):
    pm = world["users"]["pm"]
    text = signed_in(pm).get(reverse("programme:export", kwargs={"table": "rollup-borough"})).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    r = scope.rollup(pm, "borough")
    assert [row["label"] for row in rows] == [x["label"] for x in r.rows] + ["Total"]
    assert rows[-1]["amount_awarded"] == "1050000.50" and rows[-1]["people_reached"] == "19"


# --- API ---------------------------------------------------------------------------------------------

def test_api_filters_per_organisation(world):
    ga, gb = world["grants"]
    alpha = signed_in(world["users"]["alpha"])
    refs = [g["reference"] for g in alpha.get("/api/v1/programme/grants/").json()["results"]]
    assert refs == ["T-A"]
    assert alpha.get(f"/api/v1/programme/grants/{gb.pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/consortia/{world['consortia'][1].pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/areas/{world['areas'][1].pk}/").status_code == 404
    assert alpha.get(f"/api/v1/programme/interventions/{world['interventions'][1].pk}/").status_code == 404
    names = [i["name"] for i in alpha.get("/api/v1/programme/interventions/").json()["results"]]
    assert names == ["Mentoring"]
    roll = alpha.get("/api/v1/programme/rollups/area/").json()
    assert roll["total"]["amount_awarded"] == "650000.50" and len(roll["rows"]) == 1
    g = alpha.get(f"/api/v1/programme/grants/{ga.pk}/").json()
    assert g["status"] == "awarded" and [h["to_status"] for h in g["history"]] == ["awarded"]


def test_api_managers_and_analysts_see_all_and_others_are_refused(world):
    for who in ("pm", "analyst"):
        data = signed_in(world["users"][who]).get("/api/v1/programme/grants/").json()
        assert data["count"] == 2
    assert Client().get("/api/v1/programme/areas/").status_code == 403
    assert signed_in(world["users"]["caseworker"]).get("/api/v1/programme/rollups/year/").status_code == 403
    assert signed_in(world["users"]["pm"]).get("/api/v1/programme/rollups/colour/").status_code == 404
    area = signed_in(world["users"]["pm"]).get(f"/api/v1/programme/areas/{world['areas'][0].pk}/").json()
    assert area["geometry"] == SQUARE and area["borough_name"] == "Southwark"


def test_openapi_schema_describes_the_programme_endpoints(world):
    r = signed_in(world["users"]["pm"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    for p in ("/api/v1/programme/grants/{id}/", "/api/v1/programme/rollups/{by}/", "ProgrammeRollupRow"):
        assert p in text, p


# --- demo --------------------------------------------------------------------------------------------

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


# --- admin -------------------------------------------------------------------------------------------

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
