"""Rescue and Response: every page and endpoint of the app against every role, another organisation's staff
and another case's records (docs/web-referrals.md, the authorisation matrix)."""

from __future__ import annotations

import json

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in, user
from referrals_base import BRENT, NAME, _case_urls, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import api
from vru.web.referrals import urls as page_urls
from vru.web.referrals.models import (
    BreakGlass,
    ChangeRecord,
    Contact,
    MissingEpisode,
    Need,
    NeedOutcome,
    Referral,
    Rescue,
    RiskNote,
)

pytestmark = pytest.mark.django_db


def test_another_providers_case_is_404_everywhere_and_never_listed_or_found(w):
    r = make_case(w, provider=w.pa)
    for u in (w.cw_b, w.mgr_b):
        c = signed_in(u)
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
    c = signed_in(w.cw_a)
    assert (
        r.reference
        in c.post(reverse("referrals:cases"), {"q": "zebedee"}).content.decode().split('id="cases"')[1]
    )
    assert AuditLog.objects.filter(action="search", user=w.cw_a).exists()


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
        c = signed_in(u)
        for url, key in pages.items():
            code = c.get(url).status_code
            assert code == (200 if u in allowed[key] else 403), (u.email, url, code)
        case_code = c.get(reverse("referrals:case", args=[r.pk])).status_code
        assert case_code == (200 if u in (w.cw_a, w.mgr_a) else 403), (u.email, case_code)
    # the caseworker does not triage, restrict or export
    c = signed_in(w.cw_a)
    for name in ("restrict", "allocate", "decide"):
        assert c.get(reverse(f"referrals:{name}", args=[r.pk])).status_code == 403
    assert c.get(reverse("referrals:export", args=[r.pk, "json"])).status_code == 403


#: the roles of the matrix, by the fixture's attribute (``admin`` and ``anon`` are made here)
ROLES = [
    "anon",
    "referrer",
    "cw_a",
    "cw_a2",
    "cw_b",
    "mgr_a",
    "mgr_b",
    "council_brent",
    "council_lambeth",
    "analyst",
    "admin",
]


CASE_READERS = {"cw_a", "cw_a2", "mgr_a"}  # the staff of provider A, which holds the cases

OTHER_STAFF = {"cw_b", "mgr_b"}  # provider B's: they hold the permission, not the case


#: the figures: the analyst, and the administrator (who holds the permission only to give the analyst role)
FIGURES = {"analyst", "admin"}


def _world(w):
    """One object of every kind a URL names: an open case at provider A with one record of each casework
    kind, a closed case, a referral waiting for a decision, an accepted one waiting for a provider, the
    referrer's draft, and an intelligence referral for Brent. Each person has a name of their own."""
    r = make_case(w, provider=w.pa, name="Orla Opencase")
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    note = RiskNote.objects.create(
        referral=r, level="high", text="Debt to a dealer", review_on=timezone.localdate(), created_by=w.cw_a
    )
    contact = Contact.objects.create(
        referral=r, when=timezone.now(), kind="session", attendance="attended", recorded_by=w.cw_a
    )
    rescue = Rescue.objects.create(
        referral=r, county="Norfolk", police_force="Norfolk", rescued_on=timezone.localdate()
    )
    episode = MissingEpisode.objects.create(referral=r, started_on=timezone.localdate())
    closed = make_case(w, provider=w.pa, name="Cara Closedcase")
    closed_need = Need.objects.create(referral=closed, category="exit", desired_outcome="Leaves the line")
    NeedOutcome.objects.create(
        closure=base.close_case(w, closed, timezone.localdate()), need=closed_need, achievement="achieved"
    )
    waiting = make_case(w, status="submitted", name="Wendy Waiting")
    unallocated = make_case(w, status="accepted", name="Una Unallocated")
    draft = make_case(w, status="draft", name="Dora Draft")
    intel = make_case(w, status="submitted", kind="intelligence", borough=BRENT, name="Ivo Intel")
    return {
        "r": r,
        "need": need,
        "note": note,
        "contact": contact,
        "rescue": rescue,
        "episode": episode,
        "closed": closed,
        "waiting": waiting,
        "unallocated": unallocated,
        "draft": draft,
        "intel": intel,
    }


NAMES = ["Orla Opencase", "Cara Closedcase", "Wendy Waiting", "Una Unallocated", "Dora Draft", "Ivo Intel"]


#: the audit rows of one answer to an entitled user: one per read of a referral (every case page, the
#: draft, a disclosure, the API's one case, the export: one referral here) and one for the break-glass
#: report (a "list" row); none for a list, a new form, the figures, or the break-glass POST of a case that
#: needs none (a redirect)
READS = dict.fromkeys(
    "case contact need risk rescue missing close update review_risk change_risk change_need change_contact "
    "change_rescue change_missing change_closure decide allocate restrict export draft intelligence_detail "
    "referrals-api-case referrals-api-intelligence-detail break_glass_report".split(),
    1,
)


def _matrix(o) -> list[tuple[str, str, str, set[str], int]]:
    """(URL name, method, url, the roles answered ``ok``, ok) for every page and endpoint. Everyone else gets
    403 (no permission: the role's pages only), 404 (the permission, not the object: another organisation's
    case, another council's intelligence, another referrer's draft) or, signed out, the sign-in page."""

    def u(name, *args):
        return reverse(f"referrals:{name}", args=args)

    r, closed = o["r"], o["closed"]
    case_pages = [
        ("case", u("case", r.pk)),
        ("contact", u("contact", r.pk)),
        ("need", u("need", r.pk)),
        ("risk", u("risk", r.pk)),
        ("rescue", u("rescue", r.pk)),
        ("missing", u("missing", r.pk)),
        ("close", u("close", r.pk)),
        ("update", u("update", r.pk)),
        ("review_risk", u("review_risk", r.pk, o["note"].pk)),
        ("change_risk", u("change_risk", r.pk, o["note"].pk)),
        ("change_need", u("change_need", r.pk, o["need"].pk)),
        ("change_contact", u("change_contact", r.pk, o["contact"].pk)),
        ("change_rescue", u("change_rescue", r.pk, o["rescue"].pk)),
        ("change_missing", u("change_missing", r.pk, o["episode"].pk)),
        ("change_closure", u("change_closure", closed.pk)),
    ]
    rows = [(n, "get", url, CASE_READERS, 200) for n, url in case_pages]
    rows += [
        ("cases", "get", u("cases"), CASE_READERS | OTHER_STAFF, 200),
        ("mine", "get", u("mine"), {"referrer"}, 200),
        ("new", "get", u("new"), {"referrer"}, 200),
        ("draft", "get", u("draft", o["draft"].pk), {"referrer"}, 200),
        ("triage", "get", u("triage"), {"mgr_a", "mgr_b"}, 200),  # B's queue is empty (A is the hub)
        ("decide", "get", u("decide", o["waiting"].pk), {"mgr_a"}, 200),
        ("allocate", "get", u("allocate", o["unallocated"].pk), {"mgr_a"}, 200),
        ("allocate", "get", u("allocate", r.pk), {"mgr_a"}, 200),  # a reassignment, by A's manager
        ("break_glass_report", "get", u("break_glass_report"), {"mgr_a", "mgr_b"}, 200),
        ("break_glass", "post", u("break_glass", r.pk), CASE_READERS, 302),  # not restricted: to the case
        ("restrict", "get", u("restrict", r.pk), {"mgr_a"}, 200),
        ("export", "get", u("export", r.pk, "json"), {"mgr_a"}, 200),
        ("export", "get", u("export", r.pk, "csv"), {"mgr_a"}, 200),
        ("intelligence", "get", u("intelligence"), {"council_brent", "council_lambeth"}, 200),
        ("intelligence_detail", "get", u("intelligence_detail", o["intel"].pk), {"council_brent"}, 200),
        ("reports", "get", u("reports"), FIGURES, 200),
        ("referrals-api-cases", "get", "/api/v1/referrals/cases/", CASE_READERS | OTHER_STAFF, 200),
        ("referrals-api-case", "get", f"/api/v1/referrals/cases/{r.pk}/", CASE_READERS, 200),
        ("referrals-api-mine", "get", "/api/v1/referrals/mine/", {"referrer"}, 200),
        (
            "referrals-api-intelligence",
            "get",
            "/api/v1/referrals/intelligence/",
            {"council_brent", "council_lambeth"},
            200,
        ),
        (
            "referrals-api-intelligence-detail",
            "get",
            f"/api/v1/referrals/intelligence/{o['intel'].pk}/",
            {"council_brent"},
            200,
        ),
        ("referrals-api-reports", "get", "/api/v1/referrals/reports/", FIGURES, 200),
    ]
    return rows


def _permission_holders(w, admin) -> dict[str, set[str]]:
    """Who holds each permission the matrix's pages need (the roles decide 403; the objects decide 404)."""
    users = {name: getattr(w, name, None) for name in ROLES if name not in ("anon", "admin")}
    users["admin"] = admin
    perms = {
        "view_case": "referrals.view_case",
        "triage": "referrals.triage_referral",
        "add": "referrals.add_referral",
        "intel": "referrals.view_intelligence",
        "reports": "referrals.view_reports",
        "export": "referrals.export_subject",
    }
    return {k: {n for n, x in users.items() if x.has_perm(p)} for k, p in perms.items()}


def _refused(name: str, role: str, holders: dict[str, set[str]]) -> tuple[int, ...]:
    """What a role not answered ``ok`` gets: 403 without the page's permission, else 404 (the object rule)."""
    need = {
        "cases": ["view_case"],
        "mine": ["add"],
        "new": ["add"],
        "draft": ["add"],
        "triage": ["triage"],
        "decide": ["triage"],
        "allocate": ["triage"],
        "break_glass_report": ["triage"],
        "restrict": ["view_case", "triage"],
        "export": ["view_case", "export"],
        "intelligence": ["intel"],
        "intelligence_detail": ["intel"],
        "reports": ["reports"],
        "referrals-api-cases": ["view_case"],
        "referrals-api-case": ["view_case"],
        "referrals-api-mine": ["add"],
        "referrals-api-intelligence": ["intel"],
        "referrals-api-intelligence-detail": ["intel"],
        "referrals-api-reports": ["reports"],
    }.get(name, ["view_case"])
    if role == "anon":
        return (302, 401, 403)  # the sign-in page (pages) or refused (API)
    return (404,) if all(role in holders[p] for p in need) else (403,)


def test_the_matrix_names_every_page_and_endpoint_of_the_app(w):
    named = {p.name for p in page_urls.urlpatterns} | {p.name for p in api.urlpatterns}
    assert named == {row[0] for row in _matrix(_world(w))}


def test_every_page_and_endpoint_answers_each_role_and_another_organisations_staff(w):
    admin = user("admin@example.org", "administrator", is_staff=True)
    o = _world(w)
    holders = _permission_holders(w, admin)
    # the roles hold what the docs' table says (a test of the fixture as much as of the roles)
    assert holders["view_case"] == {"cw_a", "cw_a2", "cw_b", "mgr_a", "mgr_b"}
    assert holders["triage"] == {"mgr_a", "mgr_b"} and holders["export"] == {"mgr_a", "mgr_b"}
    assert holders["add"] == {"referrer"} and holders["intel"] == {"council_brent", "council_lambeth"}
    assert holders["reports"] == FIGURES and not FIGURES & (holders["view_case"] | holders["add"])
    clients = {n: signed_in(admin if n == "admin" else getattr(w, n, None)) for n in ROLES}
    wrong = []
    for name, method, url, ok_roles, ok in _matrix(o):
        for role in ROLES:
            c = clients[role]
            n = AuditLog.objects.count()
            resp = c.post(url, {"reason": "A reason long enough"}) if method == "post" else c.get(url)
            want = (ok,) if role in ok_roles else _refused(name, role, holders)
            if resp.status_code not in want:
                wrong.append((name, url, role, resp.status_code, want))
            # a page or endpoint showing one referral: exactly one audit row; a list: none (the break-glass
            # report is itself a "list" row); a refusal: none
            rows = AuditLog.objects.count() - n
            if rows != (READS.get(name, 0) if role in ok_roles else 0):
                wrong.append((name, url, role, "audit rows", rows))
            body = b"" if resp.streaming else resp.content
            shown = {n for n in NAMES if n.encode() in body}
            # a name only on the pages of those who hold the case (or made the draft, or receive the
            # intelligence), never on a list or a refusal
            allowed = {
                "cw_a": {"Orla Opencase", "Cara Closedcase"},
                "cw_a2": {"Orla Opencase", "Cara Closedcase"},
                "mgr_a": {"Orla Opencase", "Cara Closedcase", "Wendy Waiting", "Una Unallocated"},
                "referrer": {"Dora Draft"},
                "council_brent": {"Ivo Intel"},
            }.get(role, set())
            if shown - allowed:
                wrong.append((name, url, role, "shows", shown - allowed))
    assert not wrong, "\n".join(map(str, wrong))
    # a refusal reads nothing: the only case reads are those of provider A's staff and the hub's manager
    readers = set(
        AuditLog.objects.filter(action__startswith="view case").values_list("user__email", flat=True)
    )
    assert readers == {w.cw_a.email, w.cw_a2.email, w.mgr_a.email}
    disclosed = set(
        AuditLog.objects.filter(action__startswith="disclose").values_list("user__email", flat=True)
    )
    assert disclosed == {w.council_brent.email}


def _writes() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Contact, Need, RiskNote, Rescue, MissingEpisode, ChangeRecord, BreakGlass, NeedOutcome)
    }


def test_a_forged_post_by_another_organisations_staff_or_another_role_writes_nothing(w):
    """Each form's page POSTed, with values that would be valid, by everyone who may not write to the case:
    another provider's staff (404), the other roles (403); nothing is written and nothing is read."""
    o = _world(w)
    r = o["r"]
    today = timezone.localdate().isoformat()
    posts = {
        "contact": {"when": f"{today}T09:00", "kind": "session", "attendance": "attended"},
        "need": {"category": "exit", "desired_outcome": "Stays in college"},
        "risk": {"level": "low", "text": "A new worry", "review_on": today},
        "rescue": {"county": "Kent", "police_force": "Kent", "rescued_on": today},
        "missing": {"started_on": today},
        "update": {"borough": BRENT, "gender": "female", "missing_episodes": "9", "reason": "forged change"},
        "restrict": {"restricted": "on", "barred_staff": [str(w.cw_a.pk)]},
        "close": {**base.closing_post(o["need"], timezone.localdate())},
    }
    before, status = _writes(), Referral.objects.get(pk=r.pk).status
    n_audit = AuditLog.objects.count()
    for role in ("cw_b", "mgr_b", "referrer", "council_brent", "analyst"):
        c = signed_in(getattr(w, role))
        for name, data in posts.items():
            code = c.post(reverse(f"referrals:{name}", args=[r.pk]), data).status_code
            mgr_only = name == "restrict" and role == "cw_b"  # the caseworker lacks the permission: 403
            assert code == (404 if role in OTHER_STAFF and not mgr_only else 403), (role, name, code)
        for name, obj in (("change_contact", o["contact"]), ("review_risk", o["note"])):
            code = c.post(reverse(f"referrals:{name}", args=[r.pk, obj.pk]), {"reason": "x" * 20}).status_code
            assert code == (404 if role in OTHER_STAFF else 403), (role, name, code)
        code = c.post(reverse("referrals:decide", args=[o["waiting"].pk]), {"decision": "accept"}).status_code
        assert code in (403, 404), (role, "decide", code)
        code = c.post(reverse("referrals:allocate", args=[o["unallocated"].pk]), {"provider": w.pb.pk})
        assert code.status_code in (403, 404), (role, "allocate", code.status_code)
    assert _writes() == before and Referral.objects.get(pk=r.pk).status == status
    assert not r.barred_staff.exists()
    assert Referral.objects.get(pk=o["waiting"].pk).status == "submitted"
    assert Referral.objects.get(pk=o["unallocated"].pk).current_provider_id is None
    assert AuditLog.objects.count() == n_audit  # nothing read, nothing changed


def test_a_record_of_one_case_is_not_reached_through_another(w):
    """A contact, need, risk note, rescue or missing episode of provider B's case, named by its id under one
    of provider A's own cases, is a 404 for A's caseworker (the records are looked up within the case)."""
    mine = make_case(w, provider=w.pa)
    theirs = make_case(w, provider=w.pb, name="Bea Bcase")
    items = {
        "change_contact": Contact.objects.create(
            referral=theirs, when=timezone.now(), kind="session", attendance="attended", recorded_by=w.cw_b
        ),
        "change_need": Need.objects.create(referral=theirs, category="exit", desired_outcome="x"),
        "change_risk": RiskNote.objects.create(
            referral=theirs, level="low", text="x", review_on=timezone.localdate(), created_by=w.cw_b
        ),
        "change_rescue": Rescue.objects.create(
            referral=theirs, county="Kent", police_force="Kent", rescued_on=timezone.localdate()
        ),
        "change_missing": MissingEpisode.objects.create(referral=theirs, started_on=timezone.localdate()),
    }
    items["review_risk"] = items["change_risk"]
    c = signed_in(w.cw_a)
    for name, obj in items.items():
        url = reverse(f"referrals:{name}", args=[mine.pk, obj.pk])
        assert c.get(url).status_code == 404, name
        assert c.post(url, {"reason": "a long enough reason"}).status_code == 404, name
    assert not ChangeRecord.objects.exists() and RiskNote.objects.get().reviewed_at is None
