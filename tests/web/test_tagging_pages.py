"""Tagging pages: each role's access to every page (a table), per-object rules (another organisation's
wearer or trail, another force's match: 404), the trail's 48-hour and activation limits, the audit of
every trail and match view with its justification, review, batch upload, breach lifecycle, figures."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from test_tagging_util import START, client, ingest, make_world, planted, user

from vru.web.accounts.models import AuditLog
from vru.web.tagging import demo, services
from vru.web.tagging.models import Breach, CrimeBatch, Match, Zone

pytestmark = pytest.mark.django_db

ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "offender manager",
         "police analyst", "tagging reviewer", "young person"]


@pytest.fixture
def world(settings, tmp_path):
    w = make_world(settings, tmp_path)
    batch = ingest(planted(2, decoys=0), w.pa)
    w.match = Match.objects.filter(run__batch=batch).first()
    w.batch = batch
    Zone.objects.create(wearer=w.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(w.sim, w.wearers[0].ref))
    w.breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    return w


def _justify(c, match, text="Investigating crime SIM000001 for the review"):
    return c.post(reverse("tagging:match", args=[match.pk]),
                  {"purpose": "crime investigation", "justification": text})


# --- each role's access to every page ---------------------------------------------------------------
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


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(world, role):
    org = {"offender manager": world.probation, "police analyst": world.police}.get(role)
    u = user(f"{role.replace(' ', '.')}@x.test", role, org)
    c = client(u)
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


def test_administrators_see_no_trail_even_as_superusers_of_users(world):
    admin = user("admin@x.test", "administrator", world.probation)
    c = client(admin)
    assert c.get(_url("trail", world)).status_code == 403
    assert c.get(_url("wearer", world)).status_code == 403


# --- per object ------------------------------------------------------------------------------------
def test_an_offender_manager_sees_only_their_organisations_wearers(world):
    c = client(world.om)
    r = c.get(reverse("tagging:wearers"))
    refs = {w.ref for w in world.wearers}
    mine = {w.ref for w in world.wearers[:2]}
    body = r.content.decode()
    assert all(ref in body for ref in mine) and not any(ref in body for ref in refs - mine)
    other = world.wearers[2]
    for name in ("tagging:wearer", "tagging:trail", "tagging:zone_create"):
        assert c.get(reverse(name, args=[other.pk])).status_code == 404, name
    r = c.post(reverse("tagging:trail", args=[other.pk]), {
        "purpose": "crime investigation", "justification": "changing the id in the address",
        "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 404
    assert not AuditLog.objects.filter(action="view trail").exists()


def test_another_organisations_breach_is_404(world):
    c = client(world.other_om)
    assert c.get(reverse("tagging:breach", args=[world.breach.pk])).status_code == 404
    assert c.post(reverse("tagging:breach", args=[world.breach.pk])).status_code == 404
    theirs = Breach.objects.filter(wearer__organisation=world.other_probation)
    assert world.breach.pk not in [b.pk for b in theirs]


def test_a_police_analyst_sees_only_their_forces_matches_and_batches(world):
    services.review_match(world.match, world.reviewer, "qualified", "shared with the force")
    c = client(world.other_pa)
    r = c.get(reverse("tagging:matches"))
    assert world.match.crime_version.version_id not in r.content.decode()
    assert c.get(reverse("tagging:match", args=[world.match.pk])).status_code == 404
    assert _justify(c, world.match).status_code == 404
    assert c.get(reverse("tagging:batch", args=[world.batch.pk])).status_code == 404
    assert c.post(reverse("tagging:match_review", args=[world.match.pk]),
                  {"decision": "qualified", "reason": "not mine"}).status_code == 403  # the reviewer's
    mine = client(world.pa).get(reverse("tagging:matches")).content.decode()
    assert world.match.crime_version.version_id in mine


def test_only_qualified_matches_are_shared_with_the_police_and_the_reviewer_sees_every_force(world):
    pending, *others = Match.objects.filter(run__batch=world.batch).order_by("pk")
    assert others, "the world has at least two matches"
    services.review_match(others[0], world.reviewer, "dismissed", "a bus passing by")
    pa, rv = client(world.pa), client(world.reviewer)
    listed = pa.get(reverse("tagging:matches")).content.decode()
    for m in (pending, others[0]):
        assert pa.get(reverse("tagging:match", args=[m.pk])).status_code == 404
        assert _justify(pa, m).status_code == 404
        assert f'href="{reverse("tagging:match", args=[m.pk])}"' not in listed
    listed = rv.get(reverse("tagging:matches")).content.decode()
    assert all(f'href="{reverse("tagging:match", args=[m.pk])}"' in listed for m in (pending, others[0]))
    # a Kent match: the hub reviewer sees it too, the Met's analyst does not
    kent = services.ingest_batch(demo.batch_csv(planted(1, decoys=0), force="Kent", batch_id="KNT20240304"),
                                 "kent.csv", user=world.other_pa, force="Kent", inline=True)
    kent_match = Match.objects.filter(run__batch=kent).first()
    assert kent_match is not None
    assert rv.get(reverse("tagging:match", args=[kent_match.pk])).status_code == 200
    assert pa.get(reverse("tagging:match", args=[kent_match.pk])).status_code == 404
    services.review_match(pending, world.reviewer, "qualified", "corroborated")
    assert pa.get(reverse("tagging:match", args=[pending.pk])).status_code == 200


def test_identity_is_shown_only_with_the_permission_and_a_reason_and_audited(world):
    from django.contrib.auth.models import Permission
    c = client(world.om)
    url = reverse("tagging:wearer", args=[world.wearers[0].pk])
    page = c.get(url).content.decode()
    assert "Secret Name 0" not in page and 'id="identity-form"' in page
    r = c.post(url, {"purpose": "victim safeguarding", "justification": "Victim moved, check address"})
    assert "Secret Name 0" in r.content.decode()
    row = AuditLog.objects.get(action="view identity", user=world.om)
    assert row.purpose == "victim safeguarding: Victim moved, check address"
    # a user with the wearer permissions but not view_identity: no form, and a POST is refused
    u = user("no.identity@x.test", None, world.probation)
    u.user_permissions.add(*Permission.objects.filter(content_type__app_label="tagging",
                                                      codename__in=["view_wearer", "view_trail"]))
    r = client(u).get(url)
    assert r.status_code == 200 and "Secret Name 0" not in r.content.decode()
    assert 'id="identity-form"' not in r.content.decode()
    r = client(u).post(url, {"purpose": "victim safeguarding", "justification": "Victim moved, check it"})
    assert r.status_code == 403 and AuditLog.objects.filter(action="view identity").count() == 1


# --- trail limits and audit -------------------------------------------------------------------------
def _trail(c, w, start, end, justification="Breach review of the alert on 4 March", purpose="breach review"):
    return c.post(reverse("tagging:trail", args=[w.pk]), {"purpose": purpose, "justification": justification,
                                                         "start": start, "end": end})


def test_a_trail_search_is_audited_with_its_justification_and_shows_the_fixes(world):
    w = world.wearers[0]
    r = _trail(world.om and client(world.om), w, "2024-03-04T08:00", "2024-03-04T12:00")
    assert r.status_code == 200
    assert 'id="fixes"' in r.content.decode()
    row = AuditLog.objects.get(action="view trail")
    assert row.user == world.om and row.object_id == str(w.pk)
    assert "breach review: Breach review of the alert on 4 March" in row.purpose
    assert "2024-03-04" in row.purpose


@pytest.mark.parametrize("start,end,field,message", [
    ("2024-03-04T08:00", "2024-03-06T08:01", "end", "must not exceed 48 hours"),
    ("2024-03-04T08:00", "2024-03-04T07:00", "end", "must be after the start"),
    ("2024-03-01T08:00", "2024-03-01T10:00", "start", "activation periods"),
    ("not a date", "2024-03-04T10:00", "start", "Enter a date and time"),
])
def test_a_trail_search_is_limited_to_48_hours_inside_an_activation(world, start, end, field, message):
    r = _trail(client(world.om), world.wearers[0], start, end)
    assert r.status_code == 200
    assert message in r.content.decode()
    assert 'id="fixes"' not in r.content.decode()
    assert not AuditLog.objects.filter(action="view trail").exists()


def test_a_trail_search_needs_a_justification(world):
    r = _trail(client(world.om), world.wearers[0], "2024-03-04T08:00", "2024-03-04T09:00", justification="",
               purpose="")
    body = r.content.decode()
    assert "Enter a justification" in body and "Choose a purpose" in body
    assert not AuditLog.objects.filter(action="view trail").exists()


def test_exactly_48_hours_is_allowed(world):
    r = _trail(client(world.om), world.wearers[0], "2024-03-04T00:00", "2024-03-06T00:00")
    assert 'id="fixes"' in r.content.decode()


# --- matches: justification, audit, review, report ---------------------------------------------------
def test_a_match_is_shown_only_after_a_justification_and_every_view_is_audited(world):
    c = client(world.reviewer)
    url = reverse("tagging:match", args=[world.match.pk])
    r = c.get(url)
    assert "Why do you need to see match" in r.content.decode() and 'id="points"' not in r.content.decode()
    assert not AuditLog.objects.filter(action="view match").exists()
    r = c.post(url, {"purpose": "crime investigation", "justification": "short"})
    assert "at least 10 characters" in r.content.decode()
    r = _justify(c, world.match)
    assert r.status_code == 302
    r = c.get(url)
    assert 'id="points"' in r.content.decode() and 'id="explanation"' in r.content.decode()
    c.get(url)
    rows = AuditLog.objects.filter(action="view match", object_id=str(world.match.pk))
    assert rows.count() == 2
    assert all(x.purpose == "crime investigation: Investigating crime SIM000001 for the review" for x in rows)


def test_the_reviewer_qualifies_a_match_with_a_reason_and_its_report_renders(world):
    c = client(world.reviewer)
    _justify(c, world.match)
    review = reverse("tagging:match_review", args=[world.match.pk])
    r = c.post(review, {"decision": "qualified", "reason": ""})
    assert r.status_code == 400 and "Enter the reason" in r.content.decode()
    r = c.post(review, {"decision": "qualified", "reason": "Corroborated by a witness statement"})
    assert r.status_code == 302
    m = Match.objects.get(pk=world.match.pk)
    assert m.status == "qualified" and m.reviewed_by == world.reviewer and m.reason.startswith("Corroborated")
    assert AuditLog.objects.filter(action="qualify match", purpose__contains="Corroborated").exists()
    r = c.get(reverse("tagging:report", args=[m.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "does not confirm that the wearer perpetrated or witnessed" in body
    assert 'id="points"' in body and m.crime_version.version_id in body
    assert AuditLog.objects.filter(action="view match report", object_id=str(m.pk)).exists()
    svg = body.split('id="map"')[1].split("</figure>")[0]
    assert "<svg" in svg and " style=" not in svg and "http" not in svg.replace("http://www.w3.org", "")
    pdf = c.get(reverse("tagging:report_pdf", args=[m.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF")
    assert AuditLog.objects.filter(action="download match report", object_id=str(m.pk)).exists()
    # reviewing twice is refused
    c.post(review, {"decision": "dismissed", "reason": "changed my mind"})
    assert Match.objects.get(pk=m.pk).status == "qualified"


def test_a_dismissed_match_has_no_report(world):
    c = client(world.reviewer)
    _justify(c, world.match)
    c.post(reverse("tagging:match_review", args=[world.match.pk]), {"decision": "dismissed",
                                                                    "reason": "a bus passing by"})
    assert c.get(reverse("tagging:report", args=[world.match.pk])).status_code == 404
    assert c.get(reverse("tagging:report_pdf", args=[world.match.pk])).status_code == 404


def test_pending_matches_are_listed_first(world):
    c = client(world.reviewer)
    others = list(Match.objects.exclude(pk=world.match.pk))
    services.review_match(world.match, world.pa, "dismissed", "not relevant")
    body = c.get(reverse("tagging:matches")).content.decode()
    assert body.index(others[0].crime_version.version_id) < body.index(world.match.crime_version.version_id)


# --- batches ----------------------------------------------------------------------------------------
def test_a_partial_batch_upload_shows_every_row_error_and_matches_the_valid_rows(world):
    data = demo.batch_csv(planted(1, decoys=0), batch_id="MPS20240305") + (
        b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n")
    c = client(world.pa)
    r = c.post(reverse("tagging:batches"), {"file": SimpleUploadedFile("b.csv", data)})
    assert r.status_code == 302
    batch = CrimeBatch.objects.latest("pk")
    page = c.get(r["Location"]).content.decode()
    assert "PARTIAL" in page and "BAD-9" in page
    err = batch.errors.get()
    assert err.code in page and err.action in page
    assert batch.runs.get().trigger == "AUTO"


def test_a_batch_of_another_force_is_refused_next_to_the_field(world):
    data = demo.batch_csv(planted(1, decoys=0), force="Kent", batch_id="KNT20240304")
    r = client(world.pa).post(reverse("tagging:batches"), {"file": SimpleUploadedFile("k.csv", data)})
    assert r.status_code == 200 and "you may only send batches for Metropolitan" in r.content.decode()
    assert CrimeBatch.objects.count() == 1  # the fixture's


def test_a_failed_batch_says_nothing_was_ingested(world):
    r = client(world.pa).post(reverse("tagging:batches"), {"file": SimpleUploadedFile("f.csv", b"a,b,c\n")})
    page = client(world.pa).get(r["Location"]).content.decode()
    assert "FAILED" in page and "Nothing from this file was ingested" in page


# --- breaches ---------------------------------------------------------------------------------------
def test_the_breach_lifecycle_is_recorded_step_by_step_and_audited(world):
    c = client(world.om)
    url = reverse("tagging:breach", args=[world.breach.pk])
    for _ in range(3):
        assert c.post(url).status_code == 302
    r = c.post(url, {"outcome": ""})
    assert "Choose an outcome" in r.content.decode()
    assert c.post(url, {"outcome": "recall"}).status_code == 302
    b = Breach.objects.get(pk=world.breach.pk)
    assert b.outcome == "recall" and b.identified_at and b.police_notified_at
    assert b.response_at and b.outcome_at
    assert AuditLog.objects.filter(object_id=str(b.pk), action__startswith="breach").count() == 4
    r = c.post(url, {"outcome": "warning"})
    assert Breach.objects.get(pk=b.pk).outcome == "recall"


# --- zones -------------------------------------------------------------------------------------------
def test_a_zone_is_uploaded_as_wgs84_geojson_and_stored_in_bng(world):
    gj = '{"type":"Polygon","coordinates":[[[-0.13,51.50],[-0.12,51.50],[-0.12,51.51],[-0.13,51.50]]]}'
    r = client(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]), {
        "kind": "exclusion", "name": "Park", "geojson": gj, "crs": "WGS84",
        "rrule": "FREQ=WEEKLY;BYDAY=SA,SU", "local_start": "2024-03-02T09:00", "duration_minutes": "600"})
    assert r.status_code == 302
    z = Zone.objects.get(name="Park")
    x, y = z.geometry["coordinates"][0][0]
    assert 520_000 < x < 540_000 and 170_000 < y < 190_000
    services.build_zone(z)


@pytest.mark.parametrize("data,message", [
    ({"kind": "exclusion", "geojson": "{not json"}, "not JSON"),
    ({"kind": "exclusion", "geojson": '{"type":"Point","coordinates":[0,51]}'}, "Polygon"),
    ({"kind": "exclusion", "geojson": "[" * 5000 + "]" * 5000}, "GeoJSON"),
    ({"kind": "exclusion", "geojson": '{"type":"Polygon","coordinates":[[[0,0],[1,NaN],[1,1],[0,0]]]}'},
     "NaN"),
    ({"kind": "curfew", "curfew_easting": "530000", "curfew_northing": "180000",
      "curfew_radius_m": "99999"},
     "less than or equal to 5000"),
    ({"kind": "exclusion", "geojson": '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}',
      "rrule": "NOT A RULE", "local_start": "2024-03-02T09:00", "duration_minutes": "60"}, "RRULE"),
])
def test_a_bad_zone_is_a_message_next_to_the_field_and_nothing_is_written(world, data, message):
    r = client(world.om).post(reverse("tagging:zone_create", args=[world.wearers[0].pk]),
                              {"name": "Bad", "crs": "WGS84", **data})
    assert r.status_code == 200 and message in r.content.decode()
    assert not Zone.objects.filter(name="Bad").exists()


# --- figures ----------------------------------------------------------------------------------------
def test_programme_figures_suppress_small_numbers_with_secondary_suppression(world):
    tables = services.figures_counts()
    assert tables["wearers"].loc["knife_licence"].sum() >= 1
    assert tables["positions"].to_numpy().sum() == len(services.positions_frame(None, None))
    figs = {f["key"]: f for f in services.figures()}
    pub = figs["wearers"]["table"]
    # four wearers: every month's count is below 10, so every interior cell is suppressed
    assert pub.drop(index="Total", columns="Total").isna().all().all()
    # positions are in the thousands per type and month: shown
    assert figs["positions"]["table"].loc["Total", "Total"] == len(services.positions_frame(None, None))
    r = client(user("unit@x.test", "analyst")).get(reverse("tagging:figures"))
    assert r.status_code == 200 and "[c]" in r.content.decode()


def test_secondary_suppression_hides_a_cell_a_total_would_reveal(world, monkeypatch):
    counts = {k: v.copy() for k, v in services.figures_counts().items()}
    t = pd.DataFrame({"2024-03": [3, 40, 50, 60]}, index=[x for x, _ in services.ORDER_TYPES]
                     if hasattr(services, "ORDER_TYPES") else ["knife_licence", "da_licence", "stalking",
                                                               "acquisitive"])
    t["2024-04"] = [30, 45, 55, 65]
    counts["matches"] = t
    monkeypatch.setattr(services, "figures_counts", lambda: counts)
    pub = {f["key"]: f for f in services.figures()}["matches"]["table"]
    assert pd.isna(pub.loc["knife_licence", "2024-03"])  # primary: 3 < 10
    # secondary: the knife-crime row total minus 2024-04 would give it away, so another cell goes too
    assert pub.loc["knife_licence"].isna().sum() >= 2
    assert pub.loc[:, "2024-03"].isna().sum() >= 2


def test_figures_page_is_linked_from_nowhere_it_should_not_be(world):
    # an offender manager does not see the unit's figures page
    assert client(world.om).get(reverse("tagging:figures")).status_code == 403


def test_dates_of_the_window_are_london_local_time(world):
    w = world.wearers[0]
    _trail(client(world.om), w, "2024-03-04T08:00", "2024-03-04T09:00")
    row = AuditLog.objects.get(action="view trail")
    assert "2024-03-04T08:00:00+00:00" in row.purpose  # GMT in March before the change of clocks
    assert dt.datetime(2024, 3, 4).month == 3


def test_the_admin_of_wearers_is_closed_to_administrators_and_audited_for_superusers(world):
    admin = user("staff.admin@x.test", "administrator", world.probation)
    admin.is_staff = True
    admin.save()
    assert client(admin).get("/admin/tagging/wearer/").status_code == 403
    assert client(admin).get(f"/admin/tagging/wearer/{world.wearers[0].pk}/change/").status_code in (302, 403)
    from vru.web.accounts.models import User
    root = User.objects.create_superuser("root@x.test", "a-long-test-password-1")
    assert client(root).get("/admin/tagging/wearer/").status_code == 200
    assert AuditLog.objects.filter(user=root, action="list").exists()


def test_a_batch_with_nul_and_odd_bytes_is_reported_not_a_crash(world):
    data = (b"Metropolitan,RB,,MPS20240304,REF\x00X,20240304100000,20240304110000,530000,180000,,,OSGB36,a\n"
            b"\xff\xfe,\x00,,,,,,,,,,,\n")
    r = client(world.pa).post(reverse("tagging:batches"), {"file": SimpleUploadedFile("n\x00ul.csv", data)})
    assert r.status_code in (200, 302)
    batch = CrimeBatch.objects.latest("pk")
    assert batch.outcome in ("FAILED", "PARTIAL")
    assert all("\x00" not in (e.value + e.crime_ref) for e in batch.errors.all())
