"""Rescue and Response: the authorisation matrix of the issue's first "must show" (docs/web-referrals.md,
"What proves each must-show item"): every page and API endpoint of the app, for every role and for the
staff of another organisation, on a GET and on a forged POST, with the code each must answer; a test that
fails when a URL is added without a row here. Then what the pages leave behind: no name, date of birth or
contact in a log record, an e-mail, a page title or a URL; the administrator's search of the audit log by a
case's reference; a restriction made on its page. Fixtures and helpers come from test_referrals.py."""

from __future__ import annotations

import logging

import pytest
import test_referrals as base
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from test_referrals import BRENT, client, make_case, user

from vru.web.accounts.models import AuditLog
from vru.web.referrals import api
from vru.web.referrals import urls as page_urls
from vru.web.referrals.models import (
    BreakGlass,
    ChangeRecord,
    Contact,
    Council,
    MissingEpisode,
    Need,
    NeedOutcome,
    Referral,
    Rescue,
    RiskNote,
)

pytestmark = pytest.mark.django_db
w = base.w  # the fixture

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
    admin = user("admin@example.org", "administrator")
    admin.is_staff = True
    admin.save()
    o = _world(w)
    holders = _permission_holders(w, admin)
    # the roles hold what the docs' table says (a test of the fixture as much as of the roles)
    assert holders["view_case"] == {"cw_a", "cw_a2", "cw_b", "mgr_a", "mgr_b"}
    assert holders["triage"] == {"mgr_a", "mgr_b"} and holders["export"] == {"mgr_a", "mgr_b"}
    assert holders["add"] == {"referrer"} and holders["intel"] == {"council_brent", "council_lambeth"}
    assert holders["reports"] == FIGURES and not FIGURES & (holders["view_case"] | holders["add"])
    clients = {n: client(admin if n == "admin" else getattr(w, n, None)) for n in ROLES}
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
        c = client(getattr(w, role))
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
    c = client(w.cw_a)
    for name, obj in items.items():
        url = reverse(f"referrals:{name}", args=[mine.pk, obj.pk])
        assert c.get(url).status_code == 404, name
        assert c.post(url, {"reason": "a long enough reason"}).status_code == 404, name
    assert not ChangeRecord.objects.exists() and RiskNote.objects.get().reviewed_at is None


# ------------------------------------------------------------- no personal data in logs, mails, titles
def test_no_name_date_of_birth_or_contact_in_a_log_an_email_a_title_or_a_url(w, caplog):
    """The whole journey by the test client, with mistakes, refusals and 404s on the way: every log record
    (every logger, every level), every e-mail, every page title and every URL (redirects included) is free
    of the young person's name, date of birth and contact."""
    caplog.set_level(logging.DEBUG)
    name, contact = "Quilla Xylophone", "07700 900456"
    dob = timezone.localdate().replace(year=timezone.localdate().year - 15, day=3)
    secrets = [name, "Quilla", "Xylophone", contact, dob.isoformat(), dob.strftime("%d/%m/%Y")]
    seen_urls, titles = [], []

    def visit(c, method, url, data=None):
        resp = c.post(url, data or {}) if method == "post" else c.get(url)
        seen_urls.append(url)
        if resp.has_header("Location"):
            seen_urls.append(resp["Location"])
        body = b"" if resp.streaming else resp.content
        if b"<title>" in body:
            titles.append(body.split(b"<title>")[1].split(b"</title>")[0].decode())
        return resp

    ref = client(w.referrer)
    bad = base.referral_post(name=name, contact=contact, date_of_birth="2000-01-01")  # 26 or so: refused
    assert visit(ref, "post", reverse("referrals:new"), bad).status_code == 400
    visit(
        ref,
        "post",
        reverse("referrals:new"),
        base.referral_post(name=name, contact=contact, date_of_birth=dob.isoformat()),
    )
    r = Referral.objects.get(person__name=name)
    visit(ref, "get", reverse("referrals:draft", args=[r.pk]))
    mgr = client(w.mgr_a)
    visit(mgr, "get", reverse("referrals:decide", args=[r.pk]))
    visit(mgr, "post", reverse("referrals:decide", args=[r.pk]), {"decision": "bogus"})
    visit(mgr, "post", reverse("referrals:decide", args=[r.pk]), {"decision": "accept"})
    visit(mgr, "post", reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    cw = client(w.cw_a)
    visit(cw, "post", reverse("referrals:cases"), {"q": "Quilla"})
    visit(cw, "post", reverse("referrals:cases"), {"q": "Quilla\x00"})
    visit(cw, "get", reverse("referrals:case", args=[r.pk]))
    visit(cw, "post", reverse("referrals:contact", args=[r.pk]), {"when": "abc"})
    visit(
        cw,
        "post",
        reverse("referrals:update", args=[r.pk]),
        {
            "borough": BRENT,
            "gender": "female",
            "missing_episodes": "2",
            "name": name,
            "contact": "07700 900457",
            "date_of_birth": dob.isoformat(),
            "reason": "moved house",
        },
    )
    visit(client(w.cw_b), "get", reverse("referrals:case", args=[r.pk]))  # 404
    visit(client(w.analyst), "get", reverse("referrals:case", args=[r.pk]))  # 403
    visit(client(w.cw_b), "get", "/api/v1/referrals/cases/not-a-uuid/")
    visit(cw, "get", f"/api/v1/referrals/cases/{r.pk}/")
    visit(mgr, "get", reverse("referrals:export", args=[r.pk, "json"]))
    assert r.changes.filter(field="contact").exists()  # the journey did reach the change
    assert not mail.outbox, [m.subject for m in mail.outbox]
    assert len(titles) >= 8
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for s in secrets + ["07700 900457"]:
            assert s not in text, (s, record.name, text[:300])
    for text in titles + seen_urls:
        for s in secrets + ["07700 900457"]:
            assert s not in text, (s, text)


# ------------------------------------------------------------------------- the audit log, searched
def test_the_administrator_searches_the_audit_log_by_a_cases_reference(w):
    """DPA 2018 s.62: the administrator finds every row of one case (reads, changes, disclosures) by its
    reference in the audit log's admin search, and none of another case's; no row holds the person's name."""
    r = make_case(w, provider=w.pa)
    other = make_case(w, provider=w.pa, name="Someone Else")
    for case in (r, r, other):
        client(w.cw_a).get(reverse("referrals:case", args=[case.pk]))
    client(w.cw_a).post(reverse("referrals:need", args=[r.pk]), {"category": "exit", "desired_outcome": "x"})
    admin = user("admin@example.org", "administrator")
    admin.is_staff = True
    admin.save()
    page = client(admin).get("/admin/accounts/auditlog/", {"q": r.reference})
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 results" in html, html[html.find("result") :][:200]  # two reads, one change of this case only
    assert other.reference not in html and base.NAME not in html
    assert AuditLog.objects.filter(purpose__startswith=r.reference).count() == 3
    # searching by name finds nothing: the log never holds it
    assert "0 results" in client(admin).get("/admin/accounts/auditlog/", {"q": "Zebedee"}).content.decode()


# --------------------------------------------------------------------- a restriction made on its page
def test_a_manager_restricts_a_case_to_named_staff_and_bars_another_on_its_page(w):
    r = make_case(w, provider=w.pa)
    cw_a3 = user("cwa3@example.org", "caseworker", w.pa.organisation)
    mgr = client(w.mgr_a)
    resp = mgr.post(
        reverse("referrals:restrict", args=[r.pk]),
        {"restricted": "on", "allowed_staff": [w.cw_a2.pk, w.mgr_a.pk], "barred_staff": [cw_a3.pk]},
    )
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.restricted and set(r.allowed_staff.all()) == {w.cw_a2, w.mgr_a}
    assert list(r.barred_staff.all()) == [cw_a3]
    row = AuditLog.objects.get(action="restrict case")
    ids = sorted([w.cw_a2.pk, w.mgr_a.pk])
    assert row.purpose == (
        f"{r.reference}: management: restricted=True, 2 named, 1 barred; restricted False -> True; "
        f"named +{ids} -[] (user ids); barred +[{cw_a3.pk}] -[] (user ids)"
    )
    # named: opens it; not named: the break-glass page (no name on it); barred: 404, and not in the caseload
    assert base.NAME in client(w.cw_a2).get(reverse("referrals:case", args=[r.pk])).content.decode()
    page = client(w.cw_a).get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert "restricted record" in page and base.NAME not in page
    assert client(cw_a3).get(reverse("referrals:case", args=[r.pk])).status_code == 404
    assert r.reference not in client(cw_a3).get(reverse("referrals:cases")).content.decode()
    # staff of another organisation cannot be named (not one of the choices)
    resp = mgr.post(
        reverse("referrals:restrict", args=[r.pk]), {"restricted": "on", "allowed_staff": [w.cw_b.pk]}
    )
    assert resp.status_code == 400 and 'id="id_allowed_staff-error"' in resp.content.decode()
    r.refresh_from_db()
    assert set(r.allowed_staff.all()) == {w.cw_a2, w.mgr_a}


# ------------------------------------------------------------- a council's borough, once it has intelligence
def test_a_councils_borough_is_fixed_once_intelligence_has_been_shared_with_it(w):
    """Changing a council's borough would send one borough's intelligence to another borough's council, which
    keeps the old borough's: read-only in the admin once any is shared (before, a borough set wrongly can be
    corrected; its organisation is fixed from the start, test_referrals_review.py)."""
    admin = user("admin@example.org", "administrator")
    admin.is_staff = True
    admin.save()
    brent, lambeth = Council.objects.get(borough=BRENT), Council.objects.get(borough=base.LAMBETH)
    make_case(w, status="submitted", kind="intelligence", borough=BRENT)  # shared with Brent's council
    c = client(admin)
    page = c.get(f"/admin/referrals/council/{brent.pk}/change/")
    assert page.status_code == 200 and 'name="borough"' not in page.content.decode()
    c.post(f"/admin/referrals/council/{brent.pk}/change/", {"borough": "E09000001", "_save": "Save"})
    brent.refresh_from_db()
    assert brent.borough == BRENT
    # a council without intelligence yet: its borough can still be put right
    assert 'name="borough"' in c.get(f"/admin/referrals/council/{lambeth.pk}/change/").content.decode()
    resp = c.post(f"/admin/referrals/council/{lambeth.pk}/change/", {"borough": "E09000001", "_save": "Save"})
    lambeth.refresh_from_db()
    assert resp.status_code == 302 and lambeth.borough == "E09000001"


# ------------------------------------------------------------------ the rule table, changed by the admin
def test_the_administrator_changes_the_allocation_rules_and_the_suggestion_follows(w):
    """Item 2: allocation follows rules the administrator can change. A young woman is suggested provider B
    (the young-women rule); the administrator points that rule at provider A in the admin (an audited
    change): A is suggested; switched off, the fallback rule (any need) decides. A rescue goes by its rule."""
    from vru.web.referrals.models import AllocationRule

    admin = user("admin@example.org", "administrator")
    admin.is_staff = True
    admin.save()
    r = make_case(w, status="accepted")
    r.gender = "female"
    r.save()
    rescue = make_case(w, status="accepted")
    rescue.need_rescue = True
    rescue.save()
    mgr = client(w.mgr_a)

    def suggested(case) -> str:
        page = mgr.get(reverse("referrals:allocate", args=[case.pk])).content.decode()
        return page.split('id="suggested"')[1].split("</p>")[0]

    assert "Abianda (test)" in suggested(r) and "St Giles (test)" in suggested(rescue)
    rule = AllocationRule.objects.get(need="young_women")
    form = {"priority": "20", "need": "young_women", "gender": "female", "active": "on", "_save": "Save"}
    resp = client(admin).post(
        f"/admin/referrals/allocationrule/{rule.pk}/change/", {**form, "provider": str(w.pa.pk)}
    )
    assert resp.status_code == 302
    assert "St Giles (test)" in suggested(r)
    assert AuditLog.objects.filter(action="change", object_type="referrals.allocationrule").exists()
    resp = client(admin).post(
        f"/admin/referrals/allocationrule/{rule.pk}/change/",
        {**{k: v for k, v in form.items() if k != "active"}, "provider": str(w.pb.pk)},
    )
    assert resp.status_code == 302 and not AllocationRule.objects.get(pk=rule.pk).active
    assert "St Giles (test)" in suggested(r)  # the rule is off: the fallback (any need -> A)
    # the fallback rule pointed at B: B
    fallback = AllocationRule.objects.get(need="any")
    client(admin).post(
        f"/admin/referrals/allocationrule/{fallback.pk}/change/",
        {
            "priority": "90",
            "need": "any",
            "gender": "",
            "provider": str(w.pb.pk),
            "active": "on",
            "_save": "Save",
        },
    )
    assert "Abianda (test)" in suggested(r) and "St Giles (test)" in suggested(rescue)


def test_a_change_sent_without_the_contact_keeps_it_and_one_sent_empty_removes_it(w):
    """The change page's form always carries the contact; a POST made without it (a script, a form of one's
    own) keeps the contact as it is, as it keeps the name and date of birth, instead of blanking it."""
    r = make_case(w, provider=w.pa)
    c = client(w.cw_a)
    data = {"borough": BRENT, "gender": "male", "missing_episodes": "3", "reason": "two more episodes"}
    assert c.post(reverse("referrals:update", args=[r.pk]), data).status_code == 302
    r.refresh_from_db()
    assert r.person.contact == "07700 900123" and r.person.name == base.NAME
    assert list(r.changes.values_list("field", flat=True)) == ["missing_episodes"]
    data = {**data, "contact": "", "reason": "the phone was taken from them"}
    assert c.post(reverse("referrals:update", args=[r.pk]), data).status_code == 302
    r.person.refresh_from_db()
    assert r.person.contact == "" and r.changes.filter(field="contact", new_value="").exists()


# ---------------------------------------------------------------- break-glass reported to the managers
def test_a_break_glass_opening_is_reported_to_the_managers_where_they_land(w):
    """Item 5: an opening is reported to a manager: the managers of the opener's organisation are told on
    their caseload page (with a link to who, when and why) for a week; not another organisation's managers,
    not the caseworkers, and not the reason itself on that page."""
    from datetime import timedelta

    r = base.restricted_case(w)
    url = reverse("referrals:cases")
    assert 'id="recent-openings"' not in client(w.mgr_a).get(url).content.decode()
    reason = "Police called out of hours about him"
    client(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    page = client(w.mgr_a).get(url).content.decode()
    notice = page.split('id="recent-openings"')[1].split("</div>")[0]
    assert "1 break-glass opening of restricted cases" in notice and "last 7 days" in notice
    assert reverse("referrals:break_glass_report") in notice and reason not in page
    for other in (w.mgr_b, w.cw_a, w.cw_a2):
        assert 'id="recent-openings"' not in client(other).get(url).content.decode(), other.email
    # a week on, it is on the report page only (the row is append-only: the clock moves instead)
    later = timezone.now() + timedelta(days=8)
    from unittest import mock

    with mock.patch("vru.web.referrals.services.timezone.now", return_value=later):
        assert 'id="recent-openings"' not in client(w.mgr_a).get(url).content.decode()
    assert reason in client(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()


# ------------------------------------------------------------------------------ a NUL in every text field
def test_a_nul_character_in_any_field_of_any_form_is_refused_next_to_it_never_a_500(w):
    """PostgreSQL refuses a NUL in a text value (a 500 if it reached the database, as the search's once did):
    every field of every form that takes one, sent with a NUL, is a 400 with the form sent back, and nothing
    is written (run on PostgreSQL by scripts/test-web-postgres.sh; on SQLite too)."""
    from test_referrals_forms import snapshot

    nul = "a\x00b"
    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="x")
    note = RiskNote.objects.create(
        referral=r, level="low", text="x", review_on=timezone.localdate(), created_by=w.cw_a
    )
    contact = Contact.objects.create(
        referral=r, when=timezone.now(), kind="session", attendance="attended", recorded_by=w.cw_a
    )
    rescue = Rescue.objects.create(
        referral=r, county="K", police_force="Kent", rescued_on=timezone.localdate()
    )
    episode = MissingEpisode.objects.create(referral=r, started_on=timezone.localdate())
    waiting = make_case(w, status="submitted")
    restricted = base.restricted_case(w)
    day = timezone.localdate().isoformat()
    ok_reason = "a valid reason"

    def u(name, *args):
        return reverse(f"referrals:{name}", args=args)

    sends = [
        (w.referrer, u("new"), base.referral_post(**{f: nul}))
        for f in (
            "kind",
            "sector",
            "borough",
            "gender",
            "missing_episodes",
            "name",
            "date_of_birth",
            "consent",
            "lawful_basis",
            "concerns",
            "contact",
            "nrm_referred_on",
        )
    ]
    sends += [
        (w.mgr_a, u("decide", waiting.pk), {"decision": "decline", "decline_reason": "other", "note": nul}),
        (w.mgr_a, u("decide", waiting.pk), {"decision": nul}),
        (w.mgr_a, u("allocate", r.pk), {"provider": nul, "reason": ok_reason}),
        (w.mgr_a, u("allocate", r.pk), {"provider": str(w.pb.pk), "reason": nul}),
        (
            w.cw_a,
            u("contact", r.pk),
            {"when": day + "T09:00", "kind": "session", "attendance": "attended", "note": nul},
        ),
        (w.cw_a, u("contact", r.pk), {"when": nul, "kind": "session", "attendance": "attended"}),
        (w.cw_a, u("need", r.pk), {"category": "exit", "desired_outcome": nul}),
        (w.cw_a, u("risk", r.pk), {"level": "low", "text": nul, "review_on": day}),
        (w.cw_a, u("rescue", r.pk), {"county": nul, "police_force": "Kent", "rescued_on": day}),
        (
            w.cw_a,
            u("rescue", r.pk),
            {"county": "Kent", "police_force": "Kent", "rescued_on": day, "note": nul},
        ),
        (w.cw_a, u("missing", r.pk), {"started_on": nul}),
        (w.cw_a, u("close", r.pk), {**base.closing_post(need, timezone.localdate()), "note": nul}),
        (
            w.cw_a,
            u("update", r.pk),
            {"borough": BRENT, "gender": "male", "missing_episodes": "1", "reason": ok_reason, "name": nul},
        ),
        (
            w.cw_a,
            u("update", r.pk),
            {
                "borough": BRENT,
                "gender": "male",
                "missing_episodes": "1",
                "reason": ok_reason,
                "contact": nul,
            },
        ),
        (
            w.cw_a,
            u("update", r.pk),
            {"borough": BRENT, "gender": "male", "missing_episodes": "1", "reason": nul},
        ),
        (w.mgr_a, u("restrict", r.pk), {"restricted": "on", "allowed_staff": [nul]}),
        (
            w.cw_a,
            u("review_risk", r.pk, note.pk),
            {"outcome": "remains", "level": "low", "note": nul, "next_review_on": day},
        ),
        (
            w.cw_a,
            u("change_contact", r.pk, contact.pk),
            {"when": day + "T09:00", "kind": "session", "attendance": "attended", "reason": nul},
        ),
        (
            w.cw_a,
            u("change_rescue", r.pk, rescue.pk),
            {"county": nul, "police_force": "Kent", "rescued_on": day, "reason": ok_reason},
        ),
        (w.cw_a, u("change_missing", r.pk, episode.pk), {"started_on": day, "reason": nul}),
        (
            w.cw_a,
            u("change_need", r.pk, need.pk),
            {"category": "exit", "desired_outcome": nul, "reason": ok_reason},
        ),
        (
            w.cw_a,
            u("change_risk", r.pk, note.pk),
            {"level": "low", "text": nul, "review_on": day, "reason": ok_reason},
        ),
        (w.cw_a, u("break_glass", restricted.pk), {"reason": "long enough " + nul}),
    ]
    before = snapshot()
    for who, url, data in sends:
        resp = client(who).post(url, data)
        assert resp.status_code == 400, (url, sorted(data), resp.status_code)
    after = snapshot()
    # nothing written but the one read of each case page sent back
    assert {k: v for k, v in after.items() if k != "AuditLog"} == {
        k: v for k, v in before.items() if k != "AuditLog"
    }
    written = AuditLog.objects.order_by("-pk")[: after["AuditLog"] - before["AuditLog"]]
    assert {a.action for a in written} == {"view case"}
    for url in (u("reports") + "?year=%00", "/api/v1/referrals/reports/?year=%00"):
        assert client(w.analyst).get(url).status_code == 404
