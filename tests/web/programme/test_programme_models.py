"""The programme web app: the models, their database constraints and the role groups."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse
from factories import SQUARE, signed_in
from programme_helpers import ATTACK, COUNTS, SQLITE, _bounds_counts, _bounds_error_next_to, _csv

from vru.web.programme import csvio, geojson
from vru.web.programme.models import (
    MAX_COUNT,
    MAX_MONEY,
    Grant,
    GrantStatusChange,
    Intervention,
    Membership,
    validate_geometry,
)
from vru.web.programme.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("field", COUNTS)
def test_the_model_and_the_database_refuse_counts_out_of_bounds(bounds_world, field):
    make = dict(grant=bounds_world["grant"], kind="sport", name="Raw", year=2022)
    for value in (ATTACK, MAX_COUNT + 1, -1):
        with pytest.raises(ValidationError) as e:
            Intervention(**make, **{field: value}).full_clean()
        assert field in e.value.message_dict
    # a direct ORM create and a bulk insert, bypassing every form and full_clean
    refused = IntegrityError if SQLITE else (IntegrityError, DataError)  # PostgreSQL int4: out of range
    for value in (ATTACK, MAX_COUNT + 1):
        with pytest.raises(refused), transaction.atomic():
            Intervention.objects.create(**make, **{field: value})
        with pytest.raises(refused), transaction.atomic():
            Intervention.objects.bulk_create([Intervention(**make, **{field: value})])
    with pytest.raises(IntegrityError), transaction.atomic():  # the exact new bound, on both databases
        Intervention.objects.bulk_create([Intervention(**make, **{field: MAX_COUNT + 1})])
    Intervention.objects.create(**make, **{field: MAX_COUNT})
    assert not Intervention.objects.filter(**{f"{field}__gt": MAX_COUNT}).exists()


def test_money_and_dates_are_bounded_in_the_model_the_database_and_the_forms(bounds_world):
    cons, pm = bounds_world["consortium"], bounds_world["users"]["pm"]
    too_much = MAX_MONEY + Decimal("0.01")
    g = Grant(reference="T-BIG", consortium=cons, amount_requested=Decimal("1"), cap=too_much)
    with pytest.raises(ValidationError) as e:
        g.full_clean()
    assert "cap" in e.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        g.save()
    Grant(reference="T-MAX", consortium=cons, amount_requested=MAX_MONEY, cap=MAX_MONEY).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantStatusChange.objects.create(grant=bounds_world["grant"], to_status="awarded",
                                         amount_awarded=too_much)
    early = Grant(reference="T-OLD", consortium=cons, amount_requested=Decimal("1"),
                  start_date=dt.date(1, 1, 1), end_date=dt.date(9999, 12, 31))
    with pytest.raises(ValidationError) as e:
        early.full_clean()
    assert set(e.value.message_dict) == {"start_date", "end_date"}
    with pytest.raises(IntegrityError), transaction.atomic():
        early.save()
    before = _bounds_counts()
    r = signed_in(pm).post(reverse("programme:grant_create"), {
        "reference": "T-NEW", "consortium": str(cons.pk), "amount_requested": "1",
        "cap": str(too_much), "start_date": "0001-01-01", "end_date": ""})
    html = r.content.decode()
    assert r.status_code == 200 and _bounds_error_next_to(html, "cap", "Enter at most £100,000,000")
    assert _bounds_error_next_to(html, "start_date", "enter a date from 2000 to 2100")
    row = ["T-IMP", "Alpha consortium", "bid", "1", "", str(too_much), "", ""]
    res = csvio.import_csv("grants", _csv([csvio.COLUMNS["grants"], row]))
    assert res.errors == ["Row 2, column cap: Enter at most £100,000,000"]
    r = signed_in(pm).post(reverse("programme:grant", kwargs={"pk": bounds_world["grant"].pk}), {
        "to_status": "extended", "end_date": "2023-03-31", "additional_amount": "1e15"})
    assert r.status_code == 200 and "govuk-error-summary" in r.content.decode()
    assert _bounds_counts() == before


@pytest.mark.parametrize("text", ['"' + '\\"' * 1_000_000, '"\\"' * 700_000 + "\\", "[" * 5_000_000,
                                  '"[' * 2_000_000])
def test_reading_a_boundary_takes_time_linear_in_its_size(text):
    """Unterminated strings full of escaped quotes made the nesting check quadratic (hours for 2 MB)."""
    started = time.monotonic()
    with pytest.raises(ValidationError):
        geojson.loads(text)
    assert time.monotonic() - started < 10
