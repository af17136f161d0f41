"""Programme register: the create and edit pages for areas, consortia and grants (programme managers
and administrators only), their validation next to each field, the links to them, and CSRF."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from factories import (
    BRENT,
    SOUTHWARK,
    SOUTHWARK_LSOAS,
    SQUARE,
    awarded_grant,
    consortium,
    estate,
    partners,
    signed_in,
    user,
    ward,
)

from vru.web.accounts.models import User
from vru.web.programme.models import Consortium, Grant, GrantStatusChange, Membership, ProgrammeArea

pytestmark = pytest.mark.django_db

# A real Brent LSOA (2011): not in Southwark.
BRENT_LSOA = "E01000471"


@pytest.fixture
def world(db):
    alpha, beta, gamma = partners()
    area, other = estate(), ward()
    cons = consortium("Alpha consortium", area, alpha, gamma)
    bid = Grant.objects.create(reference="T-BID", consortium=cons, amount_requested=Decimal("500000"))
    funded = awarded_grant(cons, "T-A", "700000", "650000", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    users = {
        "pm": user("pm@example.org", "programme manager"),
        "admin": user("admin@example.org", "administrator"),
        "analyst": user("analyst@example.org", "analyst"),
        "provider": user("staff@alpha.example.org", "provider", alpha),
        "caseworker": user("cw@example.org", "caseworker"),
    }
    return {"orgs": (alpha, beta, gamma), "areas": (area, other), "consortium": cons,
            "grants": (bid, funded), "users": users}


def _pages(w):
    area, cons, (bid, _) = w["areas"][0], w["consortium"], w["grants"]
    return [
        ("programme:area_create", {}),
        ("programme:area_edit", {"pk": area.pk}),
        ("programme:consortium_create", {}),
        ("programme:consortium_edit", {"pk": cons.pk}),
        ("programme:grant_create", {}),
        ("programme:grant_edit", {"pk": bid.pk}),
    ]


def _area_post(**over):
    data = {"name": "Rockingham estate (test)", "kind": "estate", "borough": SOUTHWARK,
            "selected_year": "2024", "funding_round": "2",
            "lsoa_codes": "e01003911\nE01003912, E01003913", "geometry": json.dumps(SQUARE)}
    data.update(over)
    return data


def _consortium_post(w, **over):
    alpha, beta, gamma = w["orgs"]
    data = {"name": "New consortium (test)", "area": str(w["areas"][0].pk), "lead": str(beta.pk),
            "members": [str(beta.pk), str(gamma.pk)]}
    data.update(over)
    return data


def _grant_post(w, **over):
    data = {"reference": "T-NEW", "consortium": str(w["consortium"].pk), "amount_requested": "745000",
            "cap": "750000", "start_date": "2024-09-01", "end_date": "2025-08-31"}
    data.update(over)
    return data


def _counts():
    return (ProgrammeArea.objects.count(), Consortium.objects.count(), Membership.objects.count(),
            Grant.objects.count(), GrantStatusChange.objects.count())


def _error_next_to(html: str, field: str, text: str) -> bool:
    """The GOV.UK error message for ``field`` (``core/field.html``) holds ``text``."""
    marker = f'id="id_{field}-error" class="govuk-error-message">'
    if marker not in html:
        return False
    return text in html.split(marker, 1)[1].split("</p>", 1)[0]


# --- access: every page x role --------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(world):
    for name, kw in _pages(world):
        for method in ("get", "post"):
            r = getattr(Client(), method)(reverse(name, kwargs=kw))
            assert r.status_code == 302 and r["Location"].startswith(reverse("login")), (name, method)


@pytest.mark.parametrize("role", ["caseworker", "provider", "analyst"])
def test_caseworkers_providers_and_analysts_are_forbidden_and_change_nothing(world, role):
    c = signed_in(world["users"][role])
    before = _counts()
    posts = {"programme:area_create": _area_post(), "programme:area_edit": _area_post(),
             "programme:consortium_create": _consortium_post(world),
             "programme:consortium_edit": _consortium_post(world),
             "programme:grant_create": _grant_post(world), "programme:grant_edit": _grant_post(world)}
    for name, kw in _pages(world):
        assert c.get(reverse(name, kwargs=kw)).status_code == 403, (role, name)
        assert c.post(reverse(name, kwargs=kw), posts[name]).status_code == 403, (role, name)
    assert _counts() == before
    world["areas"][0].refresh_from_db()
    assert world["areas"][0].name == "Test estate"


def test_provider_staff_never_edit_even_if_given_the_manage_permission(world):
    provider = world["users"]["provider"]
    provider.user_permissions.add(Permission.objects.get(codename="manage_programme"))
    provider = User.objects.get(pk=provider.pk)  # fresh permission cache
    assert provider.has_perm("accounts.manage_programme")
    c = signed_in(provider)
    for name, kw in _pages(world):
        assert c.get(reverse(name, kwargs=kw)).status_code == 403, name


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_programme_managers_and_administrators_open_every_page(world, role):
    c = signed_in(world["users"][role])
    for name, kw in _pages(world):
        r = c.get(reverse(name, kwargs=kw))
        assert r.status_code == 200, name
        html = r.content.decode()
        assert 'name="csrfmiddlewaretoken"' in html, name
        assert "style=" not in html and "<style" not in html and "<script>" not in html, name


def test_edit_pages_of_missing_records_are_404(world):
    c = signed_in(world["users"]["pm"])
    for name in ("programme:area_edit", "programme:consortium_edit", "programme:grant_edit"):
        assert c.get(reverse(name, kwargs={"pk": 99999})).status_code == 404, name


# --- links ----------------------------------------------------------------------------------------------

def test_links_to_the_forms_are_shown_only_to_those_who_may_use_them(world):
    area, cons, (bid, _) = world["areas"][0], world["consortium"], world["grants"]
    pages = [reverse("programme:index"), reverse("programme:area", kwargs={"pk": area.pk}),
             reverse("programme:consortium", kwargs={"pk": cons.pk}),
             reverse("programme:grant", kwargs={"pk": bid.pk})]
    links = {
        pages[0]: [reverse("programme:area_create"), reverse("programme:consortium_create"),
                   reverse("programme:grant_create"), reverse("programme:area_edit", kwargs={"pk": area.pk})],
        pages[1]: [reverse("programme:area_edit", kwargs={"pk": area.pk}),
                   f'{reverse("programme:consortium_create")}?area={area.pk}'],
        pages[2]: [reverse("programme:consortium_edit", kwargs={"pk": cons.pk}),
                   f'{reverse("programme:grant_create")}?consortium={cons.pk}'],
        pages[3]: [reverse("programme:grant_edit", kwargs={"pk": bid.pk})],
    }
    pm = signed_in(world["users"]["pm"])
    for page, hrefs in links.items():
        html = pm.get(page).content.decode()
        for href in hrefs:
            assert f'href="{href}"' in html, (page, href)
    for role in ("analyst", "provider"):
        c = signed_in(world["users"][role])
        for page in pages:
            html = c.get(page).content.decode()
            for hrefs in links.values():
                for href in hrefs:
                    assert f'href="{href}"' not in html, (role, page, href)


def test_create_pages_preselect_the_area_or_consortium_they_were_opened_from(world):
    c = signed_in(world["users"]["pm"])
    area, cons = world["areas"][1], world["consortium"]
    html = c.get(reverse("programme:consortium_create") + f"?area={area.pk}").content.decode()
    assert f'<option value="{area.pk}" selected>' in html
    html = c.get(reverse("programme:grant_create") + f"?consortium={cons.pk}").content.decode()
    assert f'<option value="{cons.pk}" selected>' in html


# --- areas ----------------------------------------------------------------------------------------------

def test_manager_creates_an_area_with_lsoas_and_a_pasted_boundary(world):
    r = signed_in(world["users"]["pm"]).post(reverse("programme:area_create"), _area_post())
    area = ProgrammeArea.objects.get(name="Rockingham estate (test)")
    assert r.status_code == 302 and r["Location"] == reverse("programme:area", kwargs={"pk": area.pk})
    assert area.lsoa_codes == ["E01003911", "E01003912", "E01003913"]  # upper-cased, in order
    assert area.geometry == SQUARE and area.borough == SOUTHWARK and area.funding_round == 2


def test_manager_uploads_a_boundary_file_which_replaces_the_pasted_one(world):
    area = world["areas"][1]
    brent_square = {"type": "Polygon", "coordinates": [[[-0.25, 51.55], [-0.24, 51.55], [-0.24, 51.56],
                                                        [-0.25, 51.56], [-0.25, 51.55]]]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"}, "geometry": brent_square}]}
    f = io.BytesIO(json.dumps(collection).encode())
    f.name = "boundary.geojson"
    r = signed_in(world["users"]["pm"]).post(
        reverse("programme:area_edit", kwargs={"pk": area.pk}),
        _area_post(name="Test ward", kind="ward", borough=BRENT, lsoa_codes="", geometry="not json",
                   geometry_file=f))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry == brent_square and area.lsoa_codes == [] and area.kind == "ward"


def test_edit_form_shows_the_current_values_and_saving_them_unchanged_changes_nothing(world):
    area = world["areas"][0]
    c = signed_in(world["users"]["pm"])
    html = c.get(reverse("programme:area_edit", kwargs={"pk": area.pk})).content.decode()
    assert "E01003911\nE01003912</textarea>" in html
    assert json.dumps(SQUARE).replace('"', "&quot;") in html
    r = c.post(reverse("programme:area_edit", kwargs={"pk": area.pk}),
               _area_post(name="Test estate", selected_year="2021", funding_round="1",
                          lsoa_codes="E01003911\nE01003912"))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.lsoa_codes == SOUTHWARK_LSOAS and area.geometry == SQUARE and area.selected_year == 2021


def test_clearing_the_boundary_removes_it(world):
    area = world["areas"][0]
    r = signed_in(world["users"]["pm"]).post(
        reverse("programme:area_edit", kwargs={"pk": area.pk}),
        _area_post(name="Test estate", geometry="", lsoa_codes="E01003911"))
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry is None and area.lsoa_codes == ["E01003911"]


@pytest.mark.parametrize("field, value, message", [
    ("lsoa_codes", f"E01003911\n{BRENT_LSOA}", f"not in Southwark: {BRENT_LSOA}"),
    ("lsoa_codes", "E0100391", "not LSOA codes (E01 and 6 digits): E0100391"),
    ("lsoa_codes", "E01003911, E01003911", "listed more than once: E01003911"),
    ("geometry", "{not json", "Not valid GeoJSON"),
    ("geometry", json.dumps({"type": "Point", "coordinates": [-0.08, 51.47]}),
     "must be a GeoJSON Polygon or MultiPolygon, not &#x27;Point&#x27;"),
    ("geometry", json.dumps({"type": "Polygon", "coordinates": [[[51.471, -0.088], [51.471, -0.082],
                                                                 [51.475, -0.082], [51.471, -0.088]]]}),
     "lies outside London"),
    ("geometry", json.dumps({"type": "Polygon", "coordinates": [[[-0.088, 51.471], [-0.082, 51.475],
                                                                 [-0.082, 51.471], [-0.088, 51.475],
                                                                 [-0.088, 51.471]]]}),
     "is not a valid polygon: Self-intersection"),
    ("geometry", json.dumps({"type": "FeatureCollection", "features": []}), "holds 0 features"),
    ("name", "", "This field is required"),
    ("selected_year", "1850", "greater than or equal to 2000"),
])
def test_bad_area_values_are_shown_next_to_the_field_and_nothing_is_saved(world, field, value, message):
    before = _counts()
    r = signed_in(world["users"]["pm"]).post(reverse("programme:area_create"), _area_post(**{field: value}))
    assert r.status_code == 200
    html = r.content.decode()
    assert _error_next_to(html, field, message), html.split('govuk-error-summary', 1)[-1][:2000]
    assert "govuk-error-summary" in html and "<title>Error:" in html
    assert _counts() == before


def test_bad_boundary_file_is_reported_next_to_the_upload(world):
    line = {"type": "LineString", "coordinates": [[-0.08, 51.47], [-0.07, 51.47]]}
    f = io.BytesIO(json.dumps(line).encode())
    f.name = "line.geojson"
    before = _counts()
    r = signed_in(world["users"]["pm"]).post(reverse("programme:area_create"),
                                           _area_post(geometry="", geometry_file=f))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "geometry_file", "not &#x27;LineString&#x27;")
    assert _counts() == before


def test_an_area_of_the_same_name_in_the_borough_is_refused(world):
    before = _counts()
    r = signed_in(world["users"]["pm"]).post(reverse("programme:area_create"), _area_post(name="Test estate"))
    assert r.status_code == 200
    assert "already exists" in r.content.decode()
    assert _counts() == before


# --- consortia --------------------------------------------------------------------------------------------

def test_manager_creates_a_consortium_with_its_members(world):
    alpha, beta, gamma = world["orgs"]
    r = signed_in(world["users"]["pm"]).post(reverse("programme:consortium_create"), _consortium_post(world))
    c = Consortium.objects.get(name="New consortium (test)")
    assert r.status_code == 302 and r["Location"] == reverse("programme:consortium", kwargs={"pk": c.pk})
    assert c.lead == beta and sorted(c.organisation_ids()) == sorted([beta.pk, gamma.pk])


def test_new_consortium_whose_lead_is_not_a_member_is_refused(world):
    alpha, beta, gamma = world["orgs"]
    before = _counts()
    r = signed_in(world["users"]["pm"]).post(reverse("programme:consortium_create"),
                                           _consortium_post(world, members=[str(gamma.pk)]))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "lead", "the lead organisation must be a member")
    assert _counts() == before


def test_editing_members_keeps_the_lead_a_member(world):
    alpha, beta, gamma = world["orgs"]
    cons = world["consortium"]
    c = signed_in(world["users"]["pm"])
    url = reverse("programme:consortium_edit", kwargs={"pk": cons.pk})
    html = c.get(url).content.decode()
    assert html.count("checked") == 2  # alpha (lead) and gamma are ticked
    # unticking the lead: the model's rule refuses it, next to the lead field
    r = c.post(url, _consortium_post(world, name=cons.name, lead=str(alpha.pk), members=[str(gamma.pk)]))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "lead", "the lead organisation must be a member")
    assert sorted(cons.organisation_ids()) == sorted([alpha.pk, gamma.pk])
    # beta joins, gamma leaves
    r = c.post(url, _consortium_post(world, name=cons.name, lead=str(alpha.pk),
                                     members=[str(alpha.pk), str(beta.pk)]))
    assert r.status_code == 302
    assert sorted(cons.organisation_ids()) == sorted([alpha.pk, beta.pk])
    # beta becomes the lead; alpha may then leave
    r = c.post(url, _consortium_post(world, name=cons.name, lead=str(beta.pk), members=[str(beta.pk)]))
    assert r.status_code == 302
    cons.refresh_from_db()
    assert cons.lead == beta and cons.organisation_ids() == [beta.pk]


def test_consortium_name_must_be_unique_and_members_chosen(world):
    before = _counts()
    c = signed_in(world["users"]["pm"])
    r = c.post(reverse("programme:consortium_create"), _consortium_post(world, name="Alpha consortium"))
    assert _error_next_to(r.content.decode(), "name", "already exists")
    r = c.post(reverse("programme:consortium_create"), _consortium_post(world, members=[]))
    assert _error_next_to(r.content.decode(), "members", "This field is required")
    assert _counts() == before


# --- grants -------------------------------------------------------------------------------------------------

def test_manager_records_a_bid_and_its_history_starts(world):
    pm = world["users"]["pm"]
    r = signed_in(pm).post(reverse("programme:grant_create"), _grant_post(world))
    g = Grant.objects.get(reference="T-NEW")
    assert r.status_code == 302 and r["Location"] == reverse("programme:grant", kwargs={"pk": g.pk})
    assert g.status == "bid" and g.amount_requested == Decimal("745000") and g.amount_awarded is None
    assert g.start_date == dt.date(2024, 9, 1)
    (h,) = g.history.all()
    assert (h.from_status, h.to_status, h.changed_by) == ("", "bid", pm)
    page = signed_in(pm).get(r["Location"]).content.decode()
    assert "Recorded as bid" in page


def test_a_status_posted_to_the_create_form_is_ignored(world):
    r = signed_in(world["users"]["pm"]).post(reverse("programme:grant_create"),
                                           _grant_post(world, status="awarded", amount_awarded="1"))
    assert r.status_code == 302
    g = Grant.objects.get(reference="T-NEW")
    assert g.status == "bid" and g.amount_awarded is None


@pytest.mark.parametrize("over, field, message", [
    ({"amount_requested": "750000.01"}, "amount_requested", "is more than the cap of £750,000.00"),
    ({"amount_requested": "800000", "cap": "790000"}, "amount_requested", "cap of £790,000.00"),
    ({"amount_requested": "0"}, "amount_requested", "greater than or equal to 0.01"),
    ({"end_date": "2024-08-31"}, "end_date", "the end date is before the start date"),
    ({"reference": "T-A"}, "reference", "already exists"),
    ({"start_date": "1 Sept"}, "start_date", "Enter a valid date"),
    ({"consortium": ""}, "consortium", "This field is required"),
])
def test_bad_grant_values_are_shown_next_to_the_field_and_nothing_is_saved(world, over, field, message):
    before = _counts()
    r = signed_in(world["users"]["pm"]).post(reverse("programme:grant_create"), _grant_post(world, **over))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), field, message)
    assert _counts() == before


def test_a_higher_cap_of_its_own_lets_a_grant_request_more(world):
    r = signed_in(world["users"]["pm"]).post(reverse("programme:grant_create"),
                                           _grant_post(world, amount_requested="900000", cap="1000000"))
    assert r.status_code == 302
    assert Grant.objects.get(reference="T-NEW").cap == Decimal("1000000")


def test_editing_a_bid_changes_its_terms_but_not_its_status(world):
    bid = world["grants"][0]
    r = signed_in(world["users"]["pm"]).post(reverse("programme:grant_edit", kwargs={"pk": bid.pk}),
                                           _grant_post(world, reference="T-BID-2", amount_requested="600000"))
    assert r.status_code == 302
    bid.refresh_from_db()
    assert (bid.reference, bid.amount_requested, bid.status) == ("T-BID-2", Decimal("600000"), "bid")
    assert bid.history.count() == 0  # not a change of status


def test_a_funded_grants_consortium_and_dates_change_only_through_its_status(world):
    funded = world["grants"][1]
    c = signed_in(world["users"]["pm"])
    url = reverse("programme:grant_edit", kwargs={"pk": funded.pk})
    html = c.get(url).content.decode()
    assert 'name="consortium"' not in html and 'name="end_date"' not in html
    assert "change only through a change of status" in html
    r = c.post(url, _grant_post(world, reference="T-A", amount_requested="700000", cap="740000",
                                end_date="2030-01-01"))
    assert r.status_code == 302
    funded.refresh_from_db()
    assert funded.cap == Decimal("740000") and funded.end_date == dt.date(2022, 8, 31)
    # a cap below the amount awarded: the model's message goes next to the cap
    r = c.post(url, _grant_post(world, reference="T-A", amount_requested="600000", cap="640000"))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "cap", "£650,000.00 is more than the cap of £640,000.00")
    funded.refresh_from_db()
    assert funded.cap == Decimal("740000") and funded.amount_requested == Decimal("700000")


# --- CSRF ---------------------------------------------------------------------------------------------------

def test_csrf_is_enforced_on_every_form(world):
    pm = world["users"]["pm"]
    c = signed_in(pm, enforce_csrf_checks=True)
    before = _counts()
    posts = {"programme:area_create": _area_post(), "programme:area_edit": _area_post(),
             "programme:consortium_create": _consortium_post(world),
             "programme:consortium_edit": _consortium_post(world),
             "programme:grant_create": _grant_post(world), "programme:grant_edit": _grant_post(world)}
    for name, kw in _pages(world):
        assert c.post(reverse(name, kwargs=kw), posts[name]).status_code == 403, name
    assert _counts() == before
    # with the token from the form it works
    url = reverse("programme:grant_create")
    page = c.get(url).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert c.post(url, _grant_post(world, csrfmiddlewaretoken=token)).status_code == 302
    assert Grant.objects.filter(reference="T-NEW").exists()


def test_a_field_with_two_errors_has_one_message_element_holding_both(world):
    """GOV.UK: one error message per field, so ``aria-describedby`` names a single, unique id."""
    _, funded = world["grants"]
    url = reverse("programme:intervention_create", args=[funded.pk])
    data = {"kind": "mentoring", "name": "Mentoring", "year": "1990", "sessions_delivered": "3"}
    html = signed_in(world["users"]["pm"]).post(url, data).content.decode()
    assert html.count('id="id_year-error"') == 1
    assert _error_next_to(html, "year", "greater than or equal to 2000")
    assert _error_next_to(html, "year", "T-A runs from")
