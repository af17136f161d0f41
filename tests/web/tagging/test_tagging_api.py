"""The tagging API (``/api/v1/tagging/``): lists, details, trails and figures, their justifications and
audit rows, and its OpenAPI description."""

from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse
from factories import signed_in, user
from tagging_util import IDENTITY_Q, MATCH_Q, TRAIL_Q, planted

from vru.web.accounts.models import AuditLog
from vru.web.tagging import demo, services
from vru.web.tagging.models import Match

pytestmark = pytest.mark.django_db


def _api(c, name, *args, **params):
    return c.get(reverse(f"tagging-api-{name}", args=args), params)


@pytest.mark.world("api")
def test_wearers_are_the_organisations_own_without_identifying_details(world):
    r = _api(signed_in(world.om), "wearers")
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 2 and {w["ref"] for w in data["results"]} == {w.ref for w in world.wearers[:2]}
    assert "Secret Name" not in r.content.decode() and "99999" not in r.content.decode()
    one = data["results"][0]
    assert one["organisation"] == "Probation A" and one["activations"][0]["device_id"]
    detail = _api(signed_in(world.om), "wearer", world.wearers[0].pk).json()
    assert detail["identity"] is None and detail["breaches"] == [world.breach.pk]
    assert detail["zones"][0]["name"] == "Zone A" and detail["zones"][0]["geometry"]["type"] == "Polygon"
    assert not AuditLog.objects.exists()


@pytest.mark.world("api")
def test_identity_only_on_request_with_the_permission_and_audited(world):
    from django.contrib.auth.models import Permission

    r = _api(signed_in(world.om), "wearer", world.wearers[0].pk, identity="true")
    assert r.status_code == 400 and set(r.json()) == {"purpose", "reason"}
    r = _api(signed_in(world.om), "wearer", world.wearers[0].pk, identity="true",
             purpose="licence compliance", reason="short")
    assert r.status_code == 400 and "at least 10" in r.json()["reason"][0]
    assert not AuditLog.objects.exists()
    r = _api(signed_in(world.om), "wearer", world.wearers[0].pk, identity="true", **IDENTITY_Q)
    assert r.json()["identity"]["name"] == "Secret Name 0"
    row = AuditLog.objects.get(action="view identity")
    assert row.user == world.om and row.object_type == "tagging.weareridentity"
    assert row.purpose == "licence compliance: Home visit planned, case 24/1234 [API]"
    assert _api(signed_in(world.om), "wearer", world.wearers[0].pk, identity="maybe").status_code == 400
    u = user("no.identity@x.test", None, world.probation)
    u.user_permissions.add(*Permission.objects.filter(content_type__app_label="tagging",
                                                      codename__in=["view_wearer", "view_trail"]))
    r = _api(signed_in(u), "wearer", world.wearers[0].pk, identity="true", **IDENTITY_Q)
    assert r.status_code == 403 and "identifying details" in r.json()["detail"]
    assert _api(signed_in(u), "wearer", world.wearers[0].pk).json()["identity"] is None
    assert AuditLog.objects.filter(action="view identity").count() == 1


@pytest.mark.world("api")
def test_a_trail_is_the_positions_of_the_window_and_its_audit_row_says_who_what_why(world):
    w = world.wearers[0]
    r = _api(signed_in(world.om), "trail", w.pk, **TRAIL_Q)
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


@pytest.mark.world("api")
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
    r = _api(signed_in(world.om), "trail", world.wearers[0].pk, **q)
    assert r.status_code == 400
    assert any(message in m for m in r.json()[param]), r.json()
    assert "positions" not in r.json()
    assert not AuditLog.objects.exists()


@pytest.mark.world("api")
def test_exactly_48_hours_in_london_time_is_allowed(world):
    q = {**TRAIL_Q, "start": "2024-03-04T00:00", "end": "2024-03-06T00:00"}
    r = _api(signed_in(world.om), "trail", world.wearers[0].pk, **q)
    assert r.status_code == 200 and r.json()["count"] > 100


@pytest.mark.world("api")
def test_another_organisations_wearer_trail_and_breach_are_404_whatever_the_parameters(world):
    c = signed_in(world.om)
    other = world.wearers[2]
    for name, params in (("wearer", {}), ("wearer", {"identity": "true", **IDENTITY_Q}), ("trail", TRAIL_Q),
                         ("trail", {})):
        assert _api(c, name, other.pk, **params).status_code == 404, name
    assert _api(signed_in(world.other_om), "breach", world.breach.pk).status_code == 404
    assert _api(c, "wearer", 987654).status_code == 404  # a missing id answers the same
    assert world.wearers[2].ref not in _api(c, "wearers").content.decode()
    assert not AuditLog.objects.exists()


@pytest.mark.world("api")
def test_matches_are_the_forces_pending_first_and_a_match_needs_a_justification(world):
    c = signed_in(world.reviewer)  # the hub: every match, pending first
    data = _api(c, "matches").json()
    ids = [m["id"] for m in data["results"]]
    assert set(ids) == set(Match.objects.values_list("pk", flat=True))
    statuses = [m["status"] for m in data["results"]]
    assert statuses == sorted(statuses, key=lambda s: s != "pending") and "qualified" in statuses
    assert "points" not in data["results"][0]
    assert [m["id"] for m in _api(c, "matches", status="qualified").json()["results"]] == [world.qualified.pk]
    assert _api(c, "matches", status="maybe").status_code == 400
    # the police: their force's qualified matches only
    assert [m["id"] for m in _api(signed_in(world.pa), "matches").json()["results"]] == [world.qualified.pk]
    assert _api(signed_in(world.pa), "match", world.match.pk, **MATCH_Q).status_code == 404
    assert _api(signed_in(world.other_pa), "matches").json()["count"] == 0

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
    assert _api(signed_in(world.other_pa), "match", world.match.pk, **MATCH_Q).status_code == 404
    assert AuditLog.objects.filter(action="view match").count() == 1


@pytest.mark.world("api")
def test_batches_show_the_row_errors_and_versions_of_the_force(world):
    data = demo.batch_csv(planted(1, decoys=0), batch_id="MPS20240305") + (
        b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n")
    batch = services.ingest_batch(data, "partial.csv", user=world.pa, force="Metropolitan")
    b = _api(signed_in(world.pa), "batch", batch.pk).json()
    assert b["outcome"] == "PARTIAL" and b["versions"][0]["version_id"].startswith("Metropolitan:")
    err = b["errors"][0]
    assert err["crime_ref"] == "BAD-9" and err["code"] and err["action"] and err["row"] == 2
    assert _api(signed_in(world.other_pa), "batch", batch.pk).status_code == 404


@pytest.mark.world("api")
def test_breaches_have_their_lifecycle(world):
    services.record_step(world.breach, "identified_at")
    b = _api(signed_in(world.om), "breach", world.breach.pk).json()
    assert b["wearer"] == world.wearers[0].ref and b["zone"]["name"] == "Zone A"
    assert b["identified_at"] and b["next_step"] == "police_notified_at" and b["n_fixes"] >= 1
    assert [x["id"] for x in _api(signed_in(world.om), "breaches").json()["results"]] == [world.breach.pk]
    assert _api(signed_in(world.other_om), "breaches").json()["count"] == 0


@pytest.mark.world("api")
def test_figures_are_the_published_suppressed_ones(world):
    data = _api(signed_in(user("unit@x.test", "analyst")), "figures").json()
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


@pytest.mark.world("api")
def test_the_openapi_description_names_every_tagging_endpoint(world):
    r = signed_in(user("unit.schema@x.test", "analyst")).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    for p in ("/api/v1/tagging/wearers/{id}/trail/", "/api/v1/tagging/matches/{id}/",
              "/api/v1/tagging/figures/", "/api/v1/tagging/breaches/{id}/", "/api/v1/tagging/batches/",
              '"reason"'):
        assert p in text, p


@pytest.mark.world("pending")
def test_the_batches_api_carries_no_match_count(world):
    data = signed_in(world.pa).get(f"/api/v1/tagging/batches/{world.batch.pk}/").json()
    assert not {k for k in data if "match" in k or "run" in k}


@pytest.mark.world("no_store")
def test_the_api_refuses_a_reason_of_invisible_characters(world):
    w = world.wearers[0]
    r = signed_in(world.om).get(f"/api/v1/tagging/wearers/{w.pk}/trail/", {
        "purpose": "crime investigation", "reason": "\u200b" * 20,
        "start": "2024-03-04T09:00", "end": "2024-03-04T10:00"})
    assert r.status_code == 400
    assert "reason" in r.json()
