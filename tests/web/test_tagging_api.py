"""The tagging JSON API (/api/v1/tagging/) and an access matrix over every tagging page and endpoint.

The matrix: each role (anonymous, every platform role, an offender manager of organisation A and of B, a
police analyst of force X and of Y) against every URL of ``tagging/urls.py`` and of the API, on the
objects of organisation A and force X: the expected status of each, and the audit rows each request
leaves (exactly one for every view of a trail, a match or an identity; none for anything refused).
Then the API's own behaviour: a justification required (400 naming the parameter), the 48-hour and
activation limits, the audit row's who/what/why, another organisation's record 404, identifying details
only on request and with the permission, suppressed figures, the OpenAPI description; and the tagging
link in the navigation for exactly the roles that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from django.test import RequestFactory
from django.urls import get_resolver, reverse
from test_tagging_util import START, client, ingest, make_world, planted, user

from vru.web.accounts.models import AuditLog
from vru.web.core.nav import nav
from vru.web.tagging import api, demo, services
from vru.web.tagging.models import Match, Zone

pytestmark = pytest.mark.django_db

PLATFORM_ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "young person"]
OM_A, OM_B, PA_X, PA_Y = "offender manager A", "offender manager B", "police analyst X", "police analyst Y"
RV = "tagging reviewer"  # the unit's hub: every force's matches, qualifies or dismisses them
ROLES = ["anonymous", *PLATFORM_ROLES, OM_A, OM_B, PA_X, PA_Y, RV]
UNIT = {"administrator", "analyst", "programme manager"}

TRAIL_Q = {"purpose": "breach review", "reason": "Alert on 4 March, case 24/1234",
           "start": "2024-03-04T08:00:00Z", "end": "2024-03-04T10:00:00Z"}
IDENTITY_Q = {"purpose": "licence compliance", "reason": "Home visit planned, case 24/1234"}
IDENTITY_POST = {"purpose": "licence compliance", "justification": "Home visit planned, case 24/1234"}
MATCH_Q = {"purpose": "crime investigation", "reason": "Robbery SIM000001, officer in case request"}


@pytest.fixture
def world(settings, tmp_path):
    w = make_world(settings, tmp_path)
    w.batch = ingest(planted(2, decoys=0), w.pa)
    matches = list(Match.objects.filter(run__batch=w.batch).order_by("pk"))
    assert len(matches) >= 2
    w.match, w.qualified = matches[0], matches[1]
    services.review_match(w.qualified, w.reviewer, "qualified", "Corroborated by CCTV")
    Zone.objects.create(wearer=w.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(w.sim, w.wearers[0].ref))
    w.breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    assert w.breach.wearer == w.wearers[0] and w.wearers[0].organisation == w.probation
    w.wearer_a = w.wearers[0]
    return w


def _client_of(world, role: str):
    if role == "anonymous":
        return client()
    known = {OM_A: world.om, OM_B: world.other_om, PA_X: world.pa, PA_Y: world.other_pa, RV: world.reviewer}
    if role in known:
        return client(known[role])
    return client(user(f"{role.replace(' ', '.')}@matrix.test", role, world.police))


# --- the access matrix ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """One request: ``ok`` roles get ``ok_status`` (and leave ``audit`` rows); ``other`` roles (of another
    organisation or force) get 404; every other signed-in role 403; anonymous: the sign-in redirect on a
    page, 403 on the API."""

    label: str
    name: str  # URL name
    obj: str | None  # which of the world's objects the URL names (attribute), or None
    ok: frozenset
    other: frozenset = frozenset()
    method: str = "get"
    data: Any = None
    ok_status: int = 200
    audit: int = 0

    @property
    def is_api(self) -> bool:
        return self.name.startswith("tagging-api-")

    def url(self, world) -> str:
        args = [getattr(world, self.obj).pk] if self.obj else []
        return reverse(self.name if self.is_api else f"tagging:{self.name}", args=args)


def _e(label, name, obj, ok, other=(), **kw) -> Endpoint:
    return Endpoint(label, name, obj, frozenset(ok), frozenset(other), **kw)


TRAIL_POST = {"purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
              "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"}
ENDPOINTS = [
    # pages (tagging/urls.py)
    _e("wearers page", "wearers", None, {OM_A, OM_B}),
    _e("wearer page (no identity without a reason)", "wearer", "wearer_a", {OM_A}, {OM_B}),
    _e("wearer page, identity with a reason (audited)", "wearer", "wearer_a", {OM_A}, {OM_B}, method="post",
       data=IDENTITY_POST, audit=1),
    _e("wearer page, identity without a reason", "wearer", "wearer_a", {OM_A}, {OM_B}, method="post",
       data={"purpose": "licence compliance"}, ok_status=400),
    _e("trail form", "trail", "wearer_a", {OM_A}, {OM_B}),
    _e("trail search", "trail", "wearer_a", {OM_A}, {OM_B}, method="post", data=TRAIL_POST, audit=1),
    _e("zone form", "zone_create", "wearer_a", {OM_A}, {OM_B}),
    _e("breaches page", "breaches", None, {OM_A, OM_B}),
    _e("breach page", "breach", "breach", {OM_A}, {OM_B}),
    _e("batches page", "batches", None, {PA_X, PA_Y}),
    _e("batch page", "batch", "batch", {PA_X}, {PA_Y}),
    _e("matches page", "matches", None, {PA_X, PA_Y, RV}, audit=1),  # the list names wearers: audited
    # a pending match: the hub's reviewer only; the police see qualified matches only (404)
    _e("match page (justification form)", "match", "match", {RV}, {PA_X, PA_Y}),
    _e("qualified match page (justification form)", "match", "qualified", {RV, PA_X}, {PA_Y}),
    _e("match review without a justification", "match_review", "match", {RV}, method="post",
       data={"decision": "dismissed", "reason": "probing the review"}, ok_status=302),
    _e("report without a justification", "report", "qualified", {PA_X, RV}, {PA_Y}, ok_status=302),
    _e("report PDF without a justification", "report_pdf", "qualified", {PA_X, RV}, {PA_Y}, ok_status=302),
    _e("report of a pending match", "report", "match", set(), {PA_X, PA_Y, RV}),
    _e("figures page", "figures", None, UNIT),
    # the JSON API
    _e("API wearers", "tagging-api-wearers", None, {OM_A, OM_B}),
    _e("API wearer", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B}),
    _e("API wearer with identity (audited)", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B},
       data={"identity": "true", **IDENTITY_Q}, audit=1),
    _e("API wearer with identity without a reason", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B},
       data={"identity": "true", "purpose": "licence compliance"}, ok_status=400),
    _e("API trail", "tagging-api-trail", "wearer_a", {OM_A}, {OM_B}, data=TRAIL_Q, audit=1),
    _e("API trail without a reason", "tagging-api-trail", "wearer_a", {OM_A}, {OM_B},
       data={k: v for k, v in TRAIL_Q.items() if k != "reason"}, ok_status=400),
    _e("API breaches", "tagging-api-breaches", None, {OM_A, OM_B}),
    _e("API breach", "tagging-api-breach", "breach", {OM_A}, {OM_B}),
    _e("API batches", "tagging-api-batches", None, {PA_X, PA_Y}),
    _e("API batch", "tagging-api-batch", "batch", {PA_X}, {PA_Y}),
    _e("API matches", "tagging-api-matches", None, {PA_X, PA_Y, RV}, audit=1),
    _e("API match", "tagging-api-match", "match", {RV}, {PA_X, PA_Y}, data=MATCH_Q, audit=1),
    _e("API qualified match", "tagging-api-match", "qualified", {RV, PA_X}, {PA_Y}, data=MATCH_Q, audit=1),
    _e("API match without a justification", "tagging-api-match", "match", {RV}, {PA_X, PA_Y}, ok_status=400),
    _e("API figures", "tagging-api-figures", None, UNIT),
]


def expected(e: Endpoint, role: str) -> tuple[int, int]:
    """(status, audit rows) of ``role`` on ``e``."""
    if role == "anonymous":
        return (403 if e.is_api else 302), 0
    if role in e.ok:
        return e.ok_status, e.audit
    if role in e.other:
        return 404, 0
    return 403, 0


def test_the_matrix_names_every_tagging_url():
    """Every URL of the pages and of the API is in the matrix (a new one must be added to it)."""
    pages = {p.name for p in get_resolver("vru.web.tagging.urls").url_patterns}
    apis = {p.name for p in api.urlpatterns}
    named = {e.name for e in ENDPOINTS}
    assert pages | apis == named, (pages | apis) ^ named


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role):
    c = _client_of(world, role)
    got, want = {}, {}
    for e in ENDPOINTS:
        before = AuditLog.objects.count()
        r = getattr(c, e.method)(e.url(world), e.data or {})
        got[e.label] = (r.status_code, AuditLog.objects.count() - before)
        want[e.label] = expected(e, role)
        if role == "anonymous" and not e.is_api:
            assert r["Location"].startswith(reverse("login")), e.label
    assert got == want, {k: (got[k], want[k]) for k in got if got[k] != want[k]}
    assert Match.objects.get(pk=world.match.pk).status == "pending"  # no review slipped through


def test_every_justified_view_of_a_match_on_the_pages_leaves_one_audit_row(world):
    c = client(world.pa)
    m = world.qualified
    r = c.post(reverse("tagging:match", args=[m.pk]), {"purpose": "crime investigation",
                                                       "justification": MATCH_Q["reason"]})
    assert r.status_code == 302
    for name in ("tagging:match", "tagging:report", "tagging:report_pdf", "tagging:match"):
        before = AuditLog.objects.count()
        assert c.get(reverse(name, args=[m.pk])).status_code == 200, name
        rows = AuditLog.objects.order_by("-pk")[: AuditLog.objects.count() - before]
        assert len(rows) == 1, name
        assert rows[0].object_id == str(m.pk) and rows[0].user == world.pa
        assert MATCH_Q["reason"] in rows[0].purpose


# --- the API's own behaviour --------------------------------------------------------------------------
def _api(c, name, *args, **params):
    return c.get(reverse(f"tagging-api-{name}", args=args), params)


def test_wearers_are_the_organisations_own_without_identifying_details(world):
    r = _api(client(world.om), "wearers")
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 2 and {w["ref"] for w in data["results"]} == {w.ref for w in world.wearers[:2]}
    assert "Secret Name" not in r.content.decode() and "99999" not in r.content.decode()
    one = data["results"][0]
    assert one["organisation"] == "Probation A" and one["activations"][0]["device_id"]
    detail = _api(client(world.om), "wearer", world.wearers[0].pk).json()
    assert detail["identity"] is None and detail["breaches"] == [world.breach.pk]
    assert detail["zones"][0]["name"] == "Zone A" and detail["zones"][0]["geometry"]["type"] == "Polygon"
    assert not AuditLog.objects.exists()


def test_identity_only_on_request_with_the_permission_and_audited(world):
    from django.contrib.auth.models import Permission

    r = _api(client(world.om), "wearer", world.wearers[0].pk, identity="true")
    assert r.status_code == 400 and set(r.json()) == {"purpose", "reason"}
    r = _api(client(world.om), "wearer", world.wearers[0].pk, identity="true", purpose="licence compliance",
             reason="short")
    assert r.status_code == 400 and "at least 10" in r.json()["reason"][0]
    assert not AuditLog.objects.exists()
    r = _api(client(world.om), "wearer", world.wearers[0].pk, identity="true", **IDENTITY_Q)
    assert r.json()["identity"]["name"] == "Secret Name 0"
    row = AuditLog.objects.get(action="view identity")
    assert row.user == world.om and row.object_type == "tagging.weareridentity"
    assert row.purpose == "licence compliance: Home visit planned, case 24/1234 [API]"
    assert _api(client(world.om), "wearer", world.wearers[0].pk, identity="maybe").status_code == 400
    u = user("no.identity@x.test", None, world.probation)
    u.user_permissions.add(*Permission.objects.filter(content_type__app_label="tagging",
                                                      codename__in=["view_wearer", "view_trail"]))
    r = _api(client(u), "wearer", world.wearers[0].pk, identity="true", **IDENTITY_Q)
    assert r.status_code == 403 and "identifying details" in r.json()["detail"]
    assert _api(client(u), "wearer", world.wearers[0].pk).json()["identity"] is None
    assert AuditLog.objects.filter(action="view identity").count() == 1


def test_a_trail_is_the_positions_of_the_window_and_its_audit_row_says_who_what_why(world):
    w = world.wearers[0]
    r = _api(client(world.om), "trail", w.pk, **TRAIL_Q)
    assert r.status_code == 200, r.content
    data = r.json()
    devices = set(w.activations.values_list("device_id", flat=True))
    expect = services.positions_frame(pd.Timestamp(TRAIL_Q["start"]), pd.Timestamp(TRAIL_Q["end"]),
                                      devices=list(devices))
    assert data["count"] == len(expect) > 30 and not data["truncated"]
    times = pd.to_datetime([p["fix_time"] for p in data["positions"]], utc=True)
    assert times.min() >= pd.Timestamp(TRAIL_Q["start"]) and times.max() < pd.Timestamp(TRAIL_Q["end"])
    assert {p["device_id"] for p in data["positions"]} <= devices
    p = data["positions"][0]
    assert set(p) == {"device_id", "fix_time", "received_time", "lat", "lon", "easting", "northing",
                      "precision_m", "speed_kmh", "heading_deg", "mechanism"}
    row = AuditLog.objects.get()
    assert (row.action, row.user, row.user_email, row.object_type, row.object_id) == (
        "view trail", world.om, world.om.email, "tagging.wearer", str(w.pk))
    assert row.purpose.startswith("breach review: Alert on 4 March, case 24/1234 [window 2024-03-04T08:00:00")
    assert row.purpose.endswith("[API]") and row.timestamp is not None


@pytest.mark.parametrize("change,param,message", [
    ({"reason": None}, "reason", "Enter a justification"),
    ({"reason": "short"}, "reason", "at least 10 characters"),
    ({"purpose": None}, "purpose", "Choose a purpose"),
    ({"purpose": "curiosity"}, "purpose", "Select a valid choice"),
    ({"end": "2024-03-06T08:00:01Z"}, "end", "must not exceed 48 hours"),
    ({"end": "2024-03-04T07:00:00Z"}, "end", "must be after the start"),
    ({"start": "2024-03-01T08:00:00Z", "end": "2024-03-01T09:00:00Z"}, "start", "activation periods"),
    ({"start": "yesterday"}, "start", "Enter a date and time"),
    ({"start": None}, "start", "Enter the start of the window"),
])
def test_a_trail_request_without_a_justification_or_out_of_limits_is_400_and_not_audited(world, change,
                                                                                          param, message):
    q = {k: v for k, v in {**TRAIL_Q, **change}.items() if v is not None}
    r = _api(client(world.om), "trail", world.wearers[0].pk, **q)
    assert r.status_code == 400
    assert any(message in m for m in r.json()[param]), r.json()
    assert "positions" not in r.json()
    assert not AuditLog.objects.exists()


def test_exactly_48_hours_in_london_time_is_allowed(world):
    q = {**TRAIL_Q, "start": "2024-03-04T00:00", "end": "2024-03-06T00:00"}
    r = _api(client(world.om), "trail", world.wearers[0].pk, **q)
    assert r.status_code == 200 and r.json()["count"] > 100


def test_another_organisations_wearer_trail_and_breach_are_404_whatever_the_parameters(world):
    c = client(world.om)
    other = world.wearers[2]
    for name, params in (("wearer", {}), ("wearer", {"identity": "true", **IDENTITY_Q}), ("trail", TRAIL_Q),
                         ("trail", {})):
        assert _api(c, name, other.pk, **params).status_code == 404, name
    assert _api(client(world.other_om), "breach", world.breach.pk).status_code == 404
    assert _api(c, "wearer", 987654).status_code == 404  # a missing id answers the same
    assert world.wearers[2].ref not in _api(c, "wearers").content.decode()
    assert not AuditLog.objects.exists()


def test_matches_are_the_forces_pending_first_and_a_match_needs_a_justification(world):
    c = client(world.reviewer)  # the hub: every match, pending first
    data = _api(c, "matches").json()
    ids = [m["id"] for m in data["results"]]
    assert set(ids) == set(Match.objects.values_list("pk", flat=True))
    statuses = [m["status"] for m in data["results"]]
    assert statuses == sorted(statuses, key=lambda s: s != "pending") and "qualified" in statuses
    assert "points" not in data["results"][0]
    assert [m["id"] for m in _api(c, "matches", status="qualified").json()["results"]] == [world.qualified.pk]
    assert _api(c, "matches", status="maybe").status_code == 400
    # the police: their force's qualified matches only
    assert [m["id"] for m in _api(client(world.pa), "matches").json()["results"]] == [world.qualified.pk]
    assert _api(client(world.pa), "match", world.match.pk, **MATCH_Q).status_code == 404
    assert _api(client(world.other_pa), "matches").json()["count"] == 0

    r = _api(c, "match", world.match.pk, purpose="crime investigation")
    assert r.status_code == 400 and "Enter a justification" in r.json()["reason"][0]
    r = _api(c, "match", world.match.pk, **MATCH_Q)
    assert r.status_code == 200
    m = r.json()
    assert m["crime_version"] == world.match.crime_version.version_id
    assert m["wearer"] == world.match.wearer.ref
    assert len(m["points"]) == world.match.points.count() >= 1 and m["points"][0]["label"] == "A1"
    assert m["run"]["algorithm_version"] and m["explanation"]
    assert AuditLog.objects.filter(action="list matches").count() == 4  # one per list answered (not the 400)
    listed = AuditLog.objects.filter(action="list matches", user=world.reviewer).first()
    assert listed.purpose.endswith("[API]")
    row = AuditLog.objects.get(action="view match")
    assert (row.action, row.user, row.object_type, row.object_id) == (
        "view match", world.reviewer, "tagging.match", str(world.match.pk))
    assert row.purpose == f"crime investigation: {MATCH_Q['reason']} [API]"
    assert _api(client(world.other_pa), "match", world.match.pk, **MATCH_Q).status_code == 404
    assert AuditLog.objects.filter(action="view match").count() == 1


def test_batches_show_the_row_errors_and_versions_of_the_force(world):
    data = demo.batch_csv(planted(1, decoys=0), batch_id="MPS20240305") + (
        b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n")
    batch = services.ingest_batch(data, "partial.csv", user=world.pa, force="Metropolitan")
    b = _api(client(world.pa), "batch", batch.pk).json()
    assert b["outcome"] == "PARTIAL" and b["versions"][0]["version_id"].startswith("Metropolitan:")
    err = b["errors"][0]
    assert err["crime_ref"] == "BAD-9" and err["code"] and err["action"] and err["row"] == 2
    assert _api(client(world.other_pa), "batch", batch.pk).status_code == 404


def test_breaches_have_their_lifecycle(world):
    services.record_step(world.breach, "identified_at")
    b = _api(client(world.om), "breach", world.breach.pk).json()
    assert b["wearer"] == world.wearers[0].ref and b["zone"]["name"] == "Zone A"
    assert b["identified_at"] and b["next_step"] == "police_notified_at" and b["n_fixes"] >= 1
    assert [x["id"] for x in _api(client(world.om), "breaches").json()["results"]] == [world.breach.pk]
    assert _api(client(world.other_om), "breaches").json()["count"] == 0


def test_figures_are_the_published_suppressed_ones(world):
    data = _api(client(user("unit@x.test", "analyst")), "figures").json()
    assert data["min_n"] == services.FIGURES_MIN_N == 10
    by_key = {m["key"]: m for m in data["measures"]}
    pub = {f["key"]: f for f in services.figures()}
    for key, m in by_key.items():
        if pub[key]["table"] is None:
            assert m["rows"] == []
            continue
        assert m["columns"] == [str(c) for c in pub[key]["columns"]]
        assert [r["values"] for r in m["rows"]] == [v for _, v in pub[key]["rows"]]
    wearers = by_key["wearers"]
    # four wearers: every interior cell is below 10, so suppressed (null)
    assert all(v is None for r in wearers["rows"][:-1] for v in r["values"][:-1])
    total = by_key["positions"]["rows"][-1]["values"][-1]
    assert total == len(services.positions_frame(None, None))


def test_the_openapi_description_names_every_tagging_endpoint(world):
    r = client(user("unit.schema@x.test", "analyst")).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    for p in ("/api/v1/tagging/wearers/{id}/trail/", "/api/v1/tagging/matches/{id}/",
              "/api/v1/tagging/figures/", "/api/v1/tagging/breaches/{id}/", "/api/v1/tagging/batches/",
              '"reason"'):
        assert p in text, p


# --- navigation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role,href", [
    (OM_A, "/tagging/"), (PA_X, "/tagging/matches/"), (RV, "/tagging/matches/"),
    *[(r, None) for r in PLATFORM_ROLES],
    ("anonymous", None)])
def test_the_tagging_link_is_in_the_navigation_of_the_roles_that_use_it(world, role, href):
    from django.contrib.auth.models import AnonymousUser

    known = {OM_A: world.om, PA_X: world.pa, RV: world.reviewer}
    u = known.get(role) or (AnonymousUser() if role == "anonymous" else user(f"nav.{role[:5]}@x.test", role))
    request = RequestFactory().get("/tagging/")
    request.user = u
    links = [i for i in nav(request)["vru_nav"] if i["text"] == "GPS tagging"]
    assert [i["href"] for i in links] == ([href] if href else [])
    if href:
        assert links[0]["active"]
