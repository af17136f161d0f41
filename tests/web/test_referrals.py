"""Rescue and Response (docs/web-referrals.md): referral and eligibility, triage and allocation with
capacity, casework, least privilege per role and per object (another provider's case is 404 on every page and
endpoint), break-glass, exactly one audit row per case read, immutability of the audit log and the append-only
records, intelligence disclosed only to the young person's council, subject access and erasure, the commands,
the reports and the demo data's rates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from vru.web.accounts.models import AuditLog, Organisation, User
from vru.web.accounts.roles import role_permissions
from vru.web.referrals import conf, demo, reports, services
from vru.web.referrals.models import (
    Allocation,
    AllocationRule,
    AppendOnlyImmutable,
    BreakGlass,
    ChangeRecord,
    Closure,
    Council,
    Disclosure,
    Need,
    Provider,
    Referral,
    RiskNote,
    YoungPerson,
)
from vru.web.referrals.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"
BRENT, LAMBETH = "E09000005", "E09000022"
NAME = "Zebedee Testperson"


def user(email, role=None, org=None) -> User:
    # no password (the tests sign in with force_login): hashing eleven passwords per test took 6 s
    u = User.objects.create_user(email, None, organisation=org, full_name=email.split("@")[0])
    if role:
        u.groups.add(Group.objects.get(name=role))
    return u


def client(u=None) -> Client:
    c = Client()
    if u is not None:
        c.force_login(u)
    return c


@dataclass
class W:
    pa: Provider
    pb: Provider
    referrer: User
    cw_a: User
    cw_a2: User
    cw_b: User
    mgr_a: User
    mgr_b: User
    council_brent: User
    council_lambeth: User
    analyst: User


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
    return W(
        pa,
        pb,
        user("ref@example.org", "referrer", school),
        user("cwa@example.org", "caseworker", oa),
        user("cwa2@example.org", "caseworker", oa),
        user("cwb@example.org", "caseworker", ob),
        user("mgra@example.org", "provider manager", oa),
        user("mgrb@example.org", "provider manager", ob),
        user("brent@example.org", "council user", cb),
        user("lambeth@example.org", "council user", cl),
        user("analyst@example.org", "analyst"),
    )


def make_case(
    w: W, *, provider=None, status="accepted", kind="intervention", borough=BRENT, days_ago=30, name=NAME
) -> Referral:
    day = timezone.localdate() - timedelta(days=days_ago)
    r = Referral.objects.create(
        kind=kind,
        status=status,
        referrer=w.referrer,
        sector="education",
        referral_date=day,
        borough=borough,
        gender="male",
        age_at_referral=16,
        ind_county_lines=True,
        consent="given",
        lawful_basis="public_task_safeguarding",
        concerns="Found in Norfolk with drugs",
        submitted_at=timezone.now(),
        decided_at=timezone.now() if status in ("accepted", "closed") else None,
    )
    YoungPerson.objects.create(
        referral=r, name=name, date_of_birth=day - timedelta(days=16 * 366), contact="07700 900123"
    )
    if provider is not None:
        services.allocate(r, provider, w.mgr_a)
    if kind == "intelligence":
        r.shared_with = Council.objects.get(borough=borough)
        r.save()
    return r


def restricted_case(w: W, **kw) -> Referral:
    """A case at provider A restricted to its second caseworker (``cw_a2``)."""
    r = make_case(w, **{"provider": w.pa, **kw})
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    return r


def close_case(w: W, r: Referral, closed_on: date, **over) -> Closure:
    """Close ``r`` directly, as the closure page would (involvement ceased unless ``over`` says otherwise)."""
    values = {"reason": "completed", "engaged": True, "involvement": "ceased", "in_eet": "yes"}
    values.update(fewer_missing="yes", nrm_outcome="none", closed_by=w.cw_a)
    c = Closure.objects.create(referral=r, closed_on=closed_on, **{**values, **over})
    r.status = "closed"
    r.save()
    return c


def closing_post(need: Need, closed_on: date) -> dict:
    """The closure form, filled in: completed, engaged, involvement ceased, the need achieved."""
    return {
        "closed_on": closed_on.isoformat(),
        "reason": "completed",
        "engaged": "on",
        "involvement": "ceased",
        "in_eet": "yes",
        "fewer_missing": "yes",
        "nrm_outcome": "none",
        f"outcome_{need.pk}": "achieved",
    }


def referral_post(**over) -> dict:
    dob = timezone.localdate() - timedelta(days=16 * 366)
    data = {
        "kind": "intervention",
        "sector": "education",
        "borough": BRENT,
        "gender": "female",
        "ind_county_lines": "on",
        "missing_episodes": "2",
        "name": NAME,
        "date_of_birth": dob.isoformat(),
        "consent": "given",
        "lawful_basis": "public_task_safeguarding",
        "concerns": "Missing twice",
        "submit": "1",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# ------------------------------------------------------------------------------------------- roles
def test_the_role_groups_hold_this_apps_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert {p for p in held if p.startswith("referrals.")} == set(perms), role
    assert role_permissions()["analyst"] >= {"referrals.view_reports"}
    assert not any(p.endswith(("view_case", "view_referral")) for p in ROLE_PERMISSIONS["analyst"])
    assert ROLE_PERMISSIONS["referrer"] == {"referrals.add_referral"}


# -------------------------------------------------------------------------------- referral and forms
def test_a_referrer_submits_and_the_person_is_kept_apart(w):
    c = client(w.referrer)
    r = c.post(reverse("referrals:new"), referral_post())
    assert r.status_code == 302
    ref = Referral.objects.get()
    assert ref.status == "submitted" and ref.age_at_referral == 16 and ref.referrer == w.referrer
    assert ref.person.name == NAME and not hasattr(Referral, "name")
    # URLs and titles carry the reference or UUID, never the name
    assert str(ref.pk) in r["Location"] and NAME not in r["Location"]
    page = c.get(r["Location"])
    assert page.status_code == 200 and ref.reference in page.content.decode()
    assert NAME not in page.content.decode()  # the status page only
    assert "Found in" not in page.content.decode()
    audit = AuditLog.objects.get(action="submit referral")
    assert audit.object_id == str(ref.pk) and NAME not in audit.purpose


def test_a_draft_is_saved_incomplete_then_submitted(w):
    c = client(w.referrer)
    r = c.post(
        reverse("referrals:new"),
        referral_post(submit=None, draft="1", name="", gender="", ind_county_lines=None),
    )
    assert r.status_code == 302
    ref = Referral.objects.get()
    assert ref.status == "draft"
    r = c.post(reverse("referrals:draft", args=[ref.pk]), referral_post())
    ref.refresh_from_db()
    assert r.status_code == 302 and ref.status == "submitted" and ref.person.name == NAME


@pytest.mark.parametrize("age,says", [(9, "makes them 9"), (26, "makes them 26")])
def test_a_date_of_birth_out_of_range_is_refused_next_to_the_field(w, age, says):
    today = timezone.localdate()
    dob = date(today.year - age, today.month, 1) if today.day > 1 else date(today.year - age - 1, 12, 1)
    dob = dob if services.age_on(dob, today) == age else dob - timedelta(days=40)
    r = client(w.referrer).post(reverse("referrals:new"), referral_post(date_of_birth=dob.isoformat()))
    html = r.content.decode()
    assert r.status_code == 400 and 'id="id_date_of_birth-error"' in html
    error = html.split('id="id_date_of_birth-error"')[1].split("</p>")[0]
    assert says in error and ("MASH" in error or "adult safeguarding" in error)
    assert not Referral.objects.exists() and not YoungPerson.objects.exists()


def test_ineligible_referrals_say_why_and_where_to_go(w):
    r = client(w.referrer).post(reverse("referrals:new"), referral_post(borough="", ind_county_lines=None))
    html = r.content.decode()
    assert 'id="id_borough-error"' in html and "live in London" in html
    assert 'id="id_ind_county_lines-error"' in html and "at least one" in html
    assert not Referral.objects.exists()


def test_nrm_dates_must_follow_their_decisions(w):
    today = timezone.localdate()
    r = client(w.referrer).post(
        reverse("referrals:new"),
        referral_post(
            nrm_referred="on",
            nrm_referred_on=(today - timedelta(days=5)).isoformat(),
            rg_decision="positive",
            rg_decided_on=(today - timedelta(days=9)).isoformat(),
            cg_decision="positive",
        ),
    )
    html = r.content.decode()
    assert 'id="id_rg_decided_on-error"' in html and 'id="id_cg_decided_on-error"' in html
    assert not Referral.objects.exists()


# --------------------------------------------------------------------------------- triage, allocation
def test_a_manager_accepts_and_allocates_by_the_rules(w):
    r = make_case(w, status="submitted")
    r.gender = "female"
    r.save()
    c = client(w.mgr_a)  # the triage hub's manager
    assert c.get(reverse("referrals:triage")).content.decode().count(r.reference) == 1
    resp = c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "accept"})
    assert resp.status_code == 302
    page = c.get(reverse("referrals:allocate", args=[r.pk])).content.decode()
    assert "Abianda (test)" in page.split('id="suggested"')[1][:200]  # young women -> Abianda-like
    assert "0 of 2 places taken" in page and "0 of 5 places taken" in page
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk})
    r.refresh_from_db()
    assert resp.status_code == 302 and r.current_provider == w.pb and r.status == "accepted"
    assert Allocation.objects.filter(referral=r).count() == 1


def test_a_decline_needs_a_reason_from_the_list(w):
    r = make_case(w, status="submitted")
    c = client(w.mgr_a)
    resp = c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "decline"})
    assert resp.status_code == 400 and 'id="id_decline_reason-error"' in resp.content.decode()
    resp = c.post(
        reverse("referrals:decide", args=[r.pk]), {"decision": "decline", "decline_reason": "other"}
    )
    assert 'id="id_note-error"' in resp.content.decode()
    r.refresh_from_db()
    assert r.status == "submitted"
    c.post(reverse("referrals:decide", args=[r.pk]), {"decision": "decline", "decline_reason": "statutory"})
    r.refresh_from_db()
    assert r.status == "declined" and r.decline_reason == "statutory"


def test_allocation_to_a_provider_at_capacity_is_refused_and_nothing_is_written(w):
    make_case(w, provider=w.pa), make_case(w, provider=w.pa)  # capacity 2: full
    r = make_case(w, status="accepted")
    resp = client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    html = resp.content.decode()
    assert resp.status_code == 400 and 'id="id_provider-error"' in html and "at capacity" in html
    r.refresh_from_db()
    assert r.current_provider is None and not Allocation.objects.filter(referral=r).exists()
    with pytest.raises(services.AtCapacity):
        services.allocate(r, w.pa, w.mgr_a)


def test_reassignment_needs_a_reason_and_the_history_is_append_only(w):
    r = make_case(w, provider=w.pa)
    c = client(w.mgr_a)
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk})
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    resp = c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "Young woman"})
    r.refresh_from_db()
    assert r.current_provider == w.pb
    assert [a.provider for a in r.allocations.all()] == [w.pa, w.pb]
    a = r.allocations.first()
    a.reason = "rewritten"
    with pytest.raises(AppendOnlyImmutable):
        a.save()
    with pytest.raises(AppendOnlyImmutable):
        a.delete()
    with pytest.raises(AppendOnlyImmutable):
        Allocation.objects.filter(referral=r).update(reason="x")
    with pytest.raises(AppendOnlyImmutable):
        Allocation.objects.all().delete()
    # the case has moved: provider A's staff no longer see it
    assert client(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404


# ----------------------------------------------------------------------------------------- casework
def test_casework_is_recorded_and_closure_before_the_referral_is_refused(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    c = client(w.cw_a)
    now = timezone.localtime()
    assert (
        c.post(
            reverse("referrals:contact", args=[r.pk]),
            {
                "when": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "kind": "session",
                "attendance": "dna",
            },
        ).status_code
        == 400
    )  # a missed session needs its reason
    for name, data in [
        (
            "contact",
            {
                "when": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                "kind": "session",
                "attendance": "late",
                "note": "Met at the youth club",
            },
        ),
        ("need", {"category": "exit", "desired_outcome": "Stops running lines"}),
        ("risk", {"level": "high", "text": "Debt bondage", "review_on": timezone.localdate().isoformat()}),
        (
            "rescue",
            {
                "county": "Norfolk",
                "police_force": "Norfolk",
                "rescued_on": (now - timedelta(days=2)).date().isoformat(),
                "returned_on": (now - timedelta(days=1)).date().isoformat(),
            },
        ),
        ("missing", {"started_on": (now - timedelta(days=5)).date().isoformat(), "reported_to_police": "on"}),
    ]:
        resp = c.post(reverse(f"referrals:{name}", args=[r.pk]), data)
        assert resp.status_code == 302, (name, resp.content.decode()[:3000])
    need = Need.objects.get(referral=r)
    before = timezone.localdate() - timedelta(days=25)
    closing = closing_post(need, before)
    resp = c.post(reverse("referrals:close", args=[r.pk]), closing)
    html = resp.content.decode()
    assert resp.status_code == 400 and "before the referral" in html.split('id="id_closed_on-error"')[1][:300]
    resp = c.post(
        reverse("referrals:close", args=[r.pk]),
        {**closing, "closed_on": timezone.localdate().isoformat(), f"outcome_{need.pk}": ""},
    )
    assert resp.status_code == 400 and f'id="id_outcome_{need.pk}-error"' in resp.content.decode()
    assert not Closure.objects.exists()
    r.refresh_from_db()
    assert r.status == "accepted"
    resp = c.post(
        reverse("referrals:close", args=[r.pk]), {**closing, "closed_on": timezone.localdate().isoformat()}
    )
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == "closed" and r.closure.outcomes.get().achievement == "achieved"
    assert r.first_contact() is not None


def test_changes_after_submission_keep_old_and_new_values_and_the_reason(w):
    r = make_case(w, provider=w.pa)
    c = client(w.cw_a)
    data = {
        "borough": BRENT,
        "gender": "male",
        "missing_episodes": "4",
        "contact": "07700 900999",
        "nrm_referred": "on",
        "nrm_referred_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
    }
    resp = c.post(reverse("referrals:update", args=[r.pk]), data)
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not ChangeRecord.objects.exists()
    c.post(reverse("referrals:update", args=[r.pk]), {**data, "reason": "NRM referral made by the council"})
    got = {x.field: (x.old_value, x.new_value, x.reason) for x in ChangeRecord.objects.filter(referral=r)}
    assert got["missing_episodes"][:2] == ("0", "4")
    assert got["nrm_referred"][:2] == ("False", "True")
    assert got["contact"][:2] == ("07700 900123", "07700 900999")
    assert all(v[2] == "NRM referral made by the council" for v in got.values())


# ------------------------------------------------------------------------------ least privilege, 404s
def _case_urls(r) -> list[str]:
    names = [
        "case",
        "contact",
        "need",
        "risk",
        "rescue",
        "missing",
        "close",
        "update",
        "restrict",
        "allocate",
        "decide",
    ]
    return [reverse(f"referrals:{n}", args=[r.pk]) for n in names] + [
        reverse("referrals:export", args=[r.pk, "json"]),
        reverse("referrals:export", args=[r.pk, "csv"]),
        reverse("referrals:break_glass", args=[r.pk]),
        f"/api/v1/referrals/cases/{r.pk}/",
    ]


def test_another_providers_case_is_404_everywhere_and_never_listed_or_found(w):
    r = make_case(w, provider=w.pa)
    for u in (w.cw_b, w.mgr_b):
        c = client(u)
        for url in _case_urls(r):
            got = c.post(url) if url.endswith("/break-glass/") else c.get(url)
            # the manager holds every permission here: only the object rule refuses, with a 404
            assert got.status_code == 404 if u == w.mgr_b else got.status_code in (403, 404), (u, url, got)
        assert r.reference not in c.get(reverse("referrals:cases")).content.decode()
        table = c.post(reverse("referrals:cases"), {"q": r.reference}).content.decode().split('id="cases"')[1]
        assert r.reference not in table and "No cases." in table
        assert NAME not in c.post(reverse("referrals:cases"), {"q": "Zebedee"}).content.decode()
        assert str(r.pk) not in json.dumps(c.get("/api/v1/referrals/cases/").json())
        # a guessed id is the same 404 as a real one of another provider
        assert (
            c.get(reverse("referrals:case", args=["00000000-0000-0000-0000-000000000001"])).status_code == 404
        )
    assert not AuditLog.objects.filter(action="view case").exists()
    # provider A's caseworker finds it by name and reference
    c = client(w.cw_a)
    assert (
        r.reference
        in c.post(reverse("referrals:cases"), {"q": "zebedee"}).content.decode().split('id="cases"')[1]
    )
    assert AuditLog.objects.filter(action="search", user=w.cw_a).exists()


def test_a_referrer_sees_the_status_of_their_referrals_only(w):
    r = make_case(w, provider=w.pa)
    c = client(w.referrer)
    for url in _case_urls(r):
        assert c.get(url).status_code in (403, 405), url
    assert c.get(reverse("referrals:cases")).status_code == 403
    assert c.get("/api/v1/referrals/cases/").status_code == 403
    page = c.get(reverse("referrals:draft", args=[r.pk])).content.decode()
    assert "Accepted" in page and NAME not in page and "Norfolk" not in page
    assert [x["reference"] for x in c.get("/api/v1/referrals/mine/").json()["results"]] == [r.reference]
    other = user("ref2@example.org", "referrer")
    assert client(other).get(reverse("referrals:draft", args=[r.pk])).status_code == 404
    assert client(other).get("/api/v1/referrals/mine/").json()["count"] == 0


def test_a_council_user_sees_only_their_councils_redacted_intelligence(w):
    brent = make_case(w, status="submitted", kind="intelligence", borough=BRENT)
    lambeth = make_case(w, status="submitted", kind="intelligence", borough=LAMBETH, name="Other Person")
    intervention = make_case(w, provider=w.pa, borough=BRENT)
    c = client(w.council_brent)
    listing = c.get(reverse("referrals:intelligence")).content.decode()
    assert (
        brent.reference in listing
        and lambeth.reference not in listing
        and intervention.reference not in listing
    )
    page = c.get(reverse("referrals:intelligence_detail", args=[brent.pk])).content.decode()
    assert NAME in page and "07700" not in page and "Norfolk" not in page and w.referrer.email not in page
    d = Disclosure.objects.get()
    assert (d.referral, d.recipient, d.council.borough) == (brent, w.council_brent, BRENT)
    a = AuditLog.objects.get(action="disclose intelligence")
    assert a.user == w.council_brent and "Brent Council" in a.purpose
    for ref in (lambeth, intervention):
        assert c.get(reverse("referrals:intelligence_detail", args=[ref.pk])).status_code == 404
        assert c.get(f"/api/v1/referrals/intelligence/{ref.pk}/").status_code == 404
    api = c.get(f"/api/v1/referrals/intelligence/{brent.pk}/").json()["fields"]
    assert api["Name"] == NAME and "07700" not in json.dumps(api)
    assert Disclosure.objects.count() == 2
    assert c.get(reverse("referrals:case", args=[intervention.pk])).status_code == 403
    assert (
        client(w.council_lambeth).get(reverse("referrals:intelligence_detail", args=[brent.pk])).status_code
        == 404
    )


def test_every_page_and_endpoint_checks_its_role(w):
    r = make_case(w, provider=w.pa)
    pages = {
        reverse("referrals:cases"): "referrals.view_case",
        reverse("referrals:triage"): "triage",
        reverse("referrals:break_glass_report"): "triage",
        reverse("referrals:mine"): "add",
        reverse("referrals:new"): "add",
        reverse("referrals:intelligence"): "intel",
        reverse("referrals:reports"): "reports",
        "/api/v1/referrals/cases/": "referrals.view_case",
        "/api/v1/referrals/mine/": "add",
        "/api/v1/referrals/intelligence/": "intel",
        "/api/v1/referrals/reports/": "reports",
    }
    allowed = {
        "referrals.view_case": {w.cw_a, w.mgr_a},
        "triage": {w.mgr_a},
        "add": {w.referrer},
        "intel": {w.council_brent},
        "reports": {w.analyst},
    }
    for u in (w.cw_a, w.mgr_a, w.referrer, w.council_brent, w.analyst):
        c = client(u)
        for url, key in pages.items():
            code = c.get(url).status_code
            assert code == (200 if u in allowed[key] else 403), (u.email, url, code)
        case_code = c.get(reverse("referrals:case", args=[r.pk])).status_code
        assert case_code == (200 if u in (w.cw_a, w.mgr_a) else 403), (u.email, case_code)
    # the caseworker does not triage, restrict or export
    c = client(w.cw_a)
    for name in ("restrict", "allocate", "decide"):
        assert c.get(reverse(f"referrals:{name}", args=[r.pk])).status_code == 403
    assert c.get(reverse("referrals:export", args=[r.pk, "json"])).status_code == 403


# ---------------------------------------------------------------------------------- audit, break-glass
def test_every_read_of_a_case_page_writes_exactly_one_audit_row(w):
    r = make_case(w, provider=w.pa)
    c = client(w.cw_a)
    for _ in range(3):
        before = AuditLog.objects.count()
        assert c.get(reverse("referrals:case", args=[r.pk])).status_code == 200
        assert AuditLog.objects.count() == before + 1
        row = AuditLog.objects.first()
        assert (row.user, row.action, row.object_id) == (w.cw_a, "view case", str(r.pk))
        assert row.purpose.startswith(f"{r.reference}: casework:") and NAME not in row.purpose
    before = AuditLog.objects.count()
    assert c.get(f"/api/v1/referrals/cases/{r.pk}/").json()["person"]["name"] == NAME
    assert AuditLog.objects.count() == before + 1
    assert AuditLog.objects.filter(action="view case", object_id=str(r.pk)).count() == 3


def test_break_glass_needs_a_reason_leaves_its_rows_and_is_shown_to_a_manager(w):
    r = restricted_case(w)
    c = client(w.cw_a)
    page = c.get(reverse("referrals:case", args=[r.pk]))
    assert (
        page.status_code == 200
        and "restricted record" in page.content.decode()
        and NAME not in page.content.decode()
    )
    assert c.get(f"/api/v1/referrals/cases/{r.pk}/").status_code == 403
    assert c.get(reverse("referrals:export", args=[r.pk, "json"])).status_code == 403
    assert c.post(reverse("referrals:contact", args=[r.pk]), {}).status_code == 403
    assert not AuditLog.objects.filter(action="view case").exists()
    resp = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "short"})
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not BreakGlass.objects.exists() and not AuditLog.objects.filter(action="break glass").exists()
    c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Police called out of hours about him"})
    bg = BreakGlass.objects.get()
    assert (bg.user, bg.referral) == (w.cw_a, r)
    # the audit rows name the opening by id and the case by reference; the reason stays on the opening
    purpose = AuditLog.objects.get(action="break glass").purpose
    assert purpose == f"{r.reference}: break-glass opening {bg.pk} (its reason is on it)"
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert NAME in page
    assert AuditLog.objects.get(action="view case").purpose == f"{r.reference}: break-glass opening {bg.pk}"
    # the named member of staff opens it without a reason
    assert NAME in client(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).content.decode()
    report = client(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()
    assert "Police called out of hours" in report and r.reference in report
    assert (
        "Police called out"
        not in client(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()
    )
    # barred staff: 404, even with a reason
    r.barred_staff.add(w.cw_a2)
    assert client(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).status_code == 404
    assert (
        client(w.cw_a2)
        .post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "I really need to see it"})
        .status_code
        == 404
    )


# the audit log and the append-only records through the ORM, the admin and the API: test_referrals_audit.py


def test_the_admin_edits_the_rule_table_but_opens_no_case(w):
    admin_user = user("admin@example.org", "administrator")
    admin_user.is_staff = True
    admin_user.save()
    c = client(admin_user)
    assert c.get("/admin/referrals/allocationrule/").status_code == 200
    assert c.get("/admin/referrals/provider/").status_code == 200
    r = make_case(w, provider=w.pa)
    assert c.get(reverse("referrals:case", args=[r.pk])).status_code == 403
    assert c.get("/admin/referrals/referral/").status_code == 404


# --------------------------------------------------------------------------------- SAR and erasure
def test_subject_access_export_and_erasure(w):
    r = make_case(w, provider=w.pa, days_ago=3000)
    Need.objects.create(referral=r, category="exit", desired_outcome=f"{NAME} stops")
    RiskNote.objects.create(
        referral=r,
        level="high",
        text=f"{NAME} owes a debt",
        review_on=timezone.localdate(),
        created_by=w.cw_a,
    )
    services.record_changes(
        r, "person", {"contact": "07700 900000"}, {"contact": "07700 900123"}, "moved", w.cw_a
    )
    c = client(w.mgr_a)
    data = c.get(reverse("referrals:export", args=[r.pk, "json"])).json()
    item = data["referrals"][0]
    assert item["person"][0]["name"] == NAME and item["referral"][0]["reference"] == r.reference
    assert item["risk_notes"][0]["text"].endswith("owes a debt") and item["allocations"]
    csv = c.get(reverse("referrals:export", args=[r.pk, "csv"])).content.decode()
    assert NAME in csv and "07700 900123" in csv and csv.startswith('"referral","record"')
    assert AuditLog.objects.filter(action="subject access export", object_id=str(r.pk)).count() == 2
    # close it long ago: due for erasure
    close_case(
        w, r, timezone.localdate() - timedelta(days=conf.retention_days() + 1), note=f"{NAME} is doing well"
    )
    before = reports.service_report()
    from io import StringIO

    out = StringIO()
    call_command("referrals_retention", stdout=out)
    assert f"{r.reference}\tClosed" in out.getvalue() and "1 referral(s) due" in out.getvalue()
    assert YoungPerson.objects.filter(referral=r).exists()  # listing erases nothing
    with pytest.raises(CommandError, match="--user"):  # an erasure is done by a named user
        call_command("referrals_retention", "--anonymise", stdout=StringIO())
    call_command("referrals_retention", "--anonymise", "--user", w.mgr_a.email, stdout=StringIO())
    erased = AuditLog.objects.get(action="erase referral")
    purpose = f"{r.reference}: retention: period ended (Closed)"  # no personal data in it
    assert (erased.user, erased.object_id, erased.purpose) == (w.mgr_a, str(r.pk), purpose)
    r.refresh_from_db()
    assert r.anonymised_at is not None and not YoungPerson.objects.filter(referral=r).exists()
    dump = json.dumps(services.subject_access(Referral.objects.filter(pk=r.pk)))
    for secret in (NAME, "Zebedee", "07700", "Norfolk", "debt"):
        assert secret not in dump, secret
    after = reports.service_report()
    assert after == before
    assert "0 referral(s)" in _out("referrals_retention")


def _out(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_reviews_command_lists_risk_notes_that_are_due(w):
    r = make_case(w, provider=w.pa)
    today = timezone.localdate()
    RiskNote.objects.create(referral=r, level="high", text="x", review_on=today, created_by=w.cw_a)
    RiskNote.objects.create(
        referral=r, level="low", text="y", review_on=today + timedelta(days=30), created_by=w.cw_a
    )
    out = _out("referrals_reviews")
    assert out.count(r.reference) == 1 and "1 risk note(s) due" in out and NAME not in out
    assert "2 risk note(s) due" in _out("referrals_reviews", "--on", (today + timedelta(days=31)).isoformat())


# ------------------------------------------------------------------------------------------- reports
def test_the_demo_data_recovers_the_published_rates(w):
    made = demo.generate(seed=7)
    assert made.referrals == 593
    rep = reports.service_report()
    assert rep["total"] == 593
    assert rep["rates"]["acceptance"]["rate"] == pytest.approx(41, abs=0.5)
    assert rep["rates"]["engagement"]["rate"] == pytest.approx(62, abs=0.5)
    assert rep["rates"]["reduced_or_ceased"]["rate"] == pytest.approx(88, abs=0.5)
    assert rep["first_contact"]["median"] is not None and 2 <= rep["first_contact"]["median"] <= 21
    kinds = {c["label"]: c["count"] for c in rep["by_kind"]}
    assert kinds["Intelligence"] == 60 and kinds["Total"] == 593
    months = [c for c in rep["by_month"] if c["label"] != "Total"]
    assert len(months) == 12 and sum(c["count"] or 0 for c in months) <= 593


def test_small_numbers_are_suppressed_through_one_function(w):
    for p in (w.pa, w.pb, w.pb):
        make_case(w, provider=p)
    rep = reports.service_report()
    assert rep["total"] is None  # 3 referrals: below the threshold
    assert all(
        c["count"] is None or c["count"] >= reports.min_n() or c["count"] == 0 for c in rep["by_borough"]
    )
    assert rep["rates"]["acceptance"]["rate"] is None
    cells = reports.publish(__import__("pandas").Series({"a": 40, "b": 3, "c": 30}))
    assert [c["count"] for c in cells] == [40, None, None, 73]  # 3 hidden, and 30 with it


def test_referrals_against_need_use_the_warehouse(w, settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    demo.generate(seed=3)
    rows = reports.referrals_against_need()
    need = {r["code"]: r for r in rows}
    assert need["E09000002"]["need"] > 0 and need["E09000002"]["need_rank"] is not None
    ranks = sorted(r["need_rank"] for r in rows if r["need_rank"])
    assert len(ranks) >= 32 and ranks == list(range(1, len(ranks) + 1))  # the 32 MPS boroughs ranked
    page = client(w.analyst).get(reverse("referrals:reports")).content.decode()
    assert "Barking and Dagenham" in page and "Referrals against need" in page and NAME not in page


def test_need_without_a_warehouse_is_left_empty(w, settings, tmp_path):
    settings.VRU_WAREHOUSE = str(tmp_path / "none.duckdb")
    assert reports.need_by_borough() is None
    assert client(w.analyst).get(reverse("referrals:reports")).status_code == 200


# ------------------------------------------------------------------------------------- vru serve's demo
def _sign_in(email: str, password: str) -> Client:
    c = Client()
    r = c.post(reverse("login"), {"username": email, "password": password})
    assert r.status_code == 302, f"{email} could not sign in"
    return c


def test_the_demo_users_walk_the_journey_and_a_second_seeding_changes_nothing(settings, tmp_path):
    """``demo.seed`` (as ``vru serve`` runs it, after the platform's users): the synthetic data once, and
    demo users who sign in with the generated passwords: a referrer refers, the provider manager accepts and
    allocates to their organisation, the platform's caseworker there works the case (and nobody else's),
    the council user reads the intelligence of their borough."""
    import io
    import stat

    from vru.web import demo as platform_demo

    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    platform_demo.seed(io.StringIO(), apps=False)
    old = User.objects.create_user(demo.OLD_SYNTHETIC_REFERRER, None, full_name="Demo referrer")  # before
    out = io.StringIO()
    made = demo.seed(out)
    assert made["referrals"] == demo.TOTAL and made["shared"] > 0
    old.refresh_from_db()
    assert old.email == demo.SYNTHETIC_REFERRER and not old.has_usable_password()
    assert not User.objects.filter(email__endswith="example.org").exists()
    assert all(e.endswith(".test") for e in User.objects.values_list("email", flat=True))
    path = platform_demo.app_users_file("referrals")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = platform_demo.read_passwords(path)
    assert set(passwords) == {email for _, email, *_ in demo.JOURNEY_USERS}
    listed = platform_demo.describe_users()
    for role, email, _name, org_name in demo.JOURNEY_USERS:
        u = User.objects.get(email=email)
        assert u.roles == [role] and u.organisation.name == org_name and "(demo)" in u.full_name
        assert f"{email}" in listed and passwords[email] in listed and email in out.getvalue()
    before = {m: m.objects.count() for m in (Referral, Provider, Council, Organisation, User, Allocation)}
    hashes = sorted(User.objects.values_list("email", "password"))
    assert demo.seed(io.StringIO()) == {"referrals": 0, "shared": 0}
    assert {m: m.objects.count() for m in before} == before
    assert sorted(User.objects.values_list("email", "password")) == hashes
    assert platform_demo.read_passwords(path) == passwords

    caseworker_pw = platform_demo.read_passwords()["caseworker@demo.vru.test"]
    referrer, manager, council = (_sign_in(e, passwords[e]) for _, e, *_ in demo.JOURNEY_USERS)
    caseworker = _sign_in("caseworker@demo.vru.test", caseworker_pw)
    r = referrer.post(reverse("referrals:new"), referral_post(borough=demo.COUNCIL_BOROUGH, concerns="Demo"))
    assert r.status_code == 302
    ref = Referral.objects.get(referrer__email="referrer@demo.vru.test")
    assert ref.reference in manager.get(reverse("referrals:triage")).content.decode()
    assert manager.post(reverse("referrals:decide", args=[ref.pk]), {"decision": "accept"}).status_code == 302
    own = Provider.objects.get(organisation__name=demo.CASEWORK_ORGANISATION)
    assert manager.post(reverse("referrals:allocate", args=[ref.pk]), {"provider": own.pk}).status_code == 302
    ref.refresh_from_db()
    assert ref.status == "accepted" and ref.current_provider == own
    assert ref.reference in caseworker.get(reverse("referrals:cases")).content.decode()
    assert caseworker.get(reverse("referrals:case", args=[ref.pk])).status_code == 200
    elsewhere = Referral.objects.exclude(current_provider=own).filter(current_provider__isnull=False).first()
    assert caseworker.get(reverse("referrals:case", args=[elsewhere.pk])).status_code == 404
    assert referrer.get(reverse("referrals:case", args=[ref.pk])).status_code == 403
    shared = Referral.objects.filter(shared_with__borough=demo.COUNCIL_BOROUGH, kind="intelligence")
    assert shared.exists() and not shared.exclude(borough=demo.COUNCIL_BOROUGH).exists()
    listing = council.get(reverse("referrals:intelligence")).content.decode()
    assert all(s.reference in listing for s in shared[:5])
    other = Referral.objects.filter(kind="intelligence").exclude(borough=demo.COUNCIL_BOROUGH).first()
    assert council.get(reverse("referrals:intelligence_detail", args=[other.pk])).status_code == 404


def test_the_referrals_demo_command_seeds_once(settings, tmp_path):
    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    first = _out("referrals_demo")
    assert "593 synthetic referrals" in first and "demo-users-referrals.txt" in first
    assert "nothing generated" in _out("referrals_demo", "--seed", "5")
    assert Referral.objects.count() == demo.TOTAL
