"""The fourth review of Rescue and Response (docs/web-referrals.md, "Review 4"): one test (or more) per
defect, each failing before its fix: a bar on staff not offered by the form dropped on save (1), the erased
case still linked to its referrer (2), a reason of invisible characters or dots (3), abandoned drafts kept six
years (4), retention only by hand and by a person (5), a non-hub manager reassigning (6), a closure dated
before the casework (7), the exact next-review date in the audit log (8), the subject access search's personal
data on the command line (9: ``test_referrals_review.py``). The row lock of a move (10) is tested on
PostgreSQL in ``test_referrals_review4_pg.py``."""

from __future__ import annotations

import configparser
import shlex
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import test_referrals as base
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.urls import reverse
from django.utils import timezone
from test_referrals import NAME, client, make_case

from vru.web.accounts.models import AuditLog, User
from vru.web.core import text
from vru.web.referrals import conf, reports, services
from vru.web.referrals.models import (
    Allocation,
    BreakGlass,
    ChangeRecord,
    Closure,
    Contact,
    Need,
    Referral,
    Rescue,
    RiskNote,
    YoungPerson,
)

pytestmark = pytest.mark.django_db
w = base.w  # the fixture
DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def _restrict(c, r, **data):
    return c.post(reverse("referrals:restrict", args=[r.pk]), data)


# ------------------------------------------------------------------ 1: bars on staff the form does not offer
def test_a_bar_on_another_providers_staff_survives_a_move_and_their_managers_save(w):
    r = make_case(w, provider=w.pa)
    assert _restrict(client(w.mgr_a), r, barred_staff=[w.cw_a.pk]).status_code == 302
    moved = {"provider": w.pb.pk, "reason": "Closer to home"}
    assert client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), moved).status_code == 302
    mgr_b = client(w.mgr_b)
    page = mgr_b.get(reverse("referrals:restrict", args=[r.pk])).content.decode()
    assert "kept as they are" in page and "cwa" in page  # the bar not offered is shown
    assert _restrict(mgr_b, r, barred_staff=[w.cw_b.pk]).status_code == 302
    assert set(r.barred_staff.all()) == {w.cw_a, w.cw_b}  # before: only cw_b, the bar on cw_a silently gone
    back = {"provider": w.pa.pk, "reason": "Back to the first provider"}
    assert client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), back).status_code == 302
    assert client(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404  # still barred
    rows = AuditLog.objects.filter(action="restrict case").order_by("pk").values_list("purpose", flat=True)
    assert rows[0].endswith(f"barred +[{w.cw_a.pk}] -[] (user ids)")
    assert rows[1].endswith(f"barred +[{w.cw_b.pk}] -[] (user ids)")  # cw_a neither added nor removed


def test_a_bar_on_someone_no_longer_active_survives_a_save(w):
    r = make_case(w, provider=w.pa)
    mgr = client(w.mgr_a)
    _restrict(mgr, r, barred_staff=[w.cw_a.pk])
    User.objects.filter(pk=w.cw_a.pk).update(is_active=False)
    assert _restrict(mgr, r, restricted="on", allowed_staff=[w.cw_a2.pk]).status_code == 302
    assert list(r.barred_staff.all()) == [w.cw_a]
    User.objects.filter(pk=w.cw_a.pk).update(is_active=True)  # back from leave: still barred
    assert client(w.cw_a).get(reverse("referrals:case", args=[r.pk])).status_code == 404


def test_a_name_not_offered_counts_as_the_named_staff_of_a_restricted_case(w):
    r = base.restricted_case(w)  # named: cw_a2
    r.allowed_staff.add(w.mgr_a)
    User.objects.filter(pk=w.cw_a2.pk).update(is_active=False)
    # the manager takes themself off: cw_a2, not offered, is still named, so the case is not left with none
    assert _restrict(client(w.mgr_a), r, restricted="on").status_code == 302
    assert list(r.allowed_staff.all()) == [w.cw_a2]
    row = AuditLog.objects.get(action="restrict case")
    assert row.purpose.endswith(f"named +[] -[{w.mgr_a.pk}] (user ids)")


# ------------------------------------------------------------------------- 2: erasure and the referrer
def test_erasure_unlinks_the_referrer_and_their_status_page_copes(w):
    c = client(w.referrer)
    assert c.post(reverse("referrals:new"), base.referral_post()).status_code == 302
    r = Referral.objects.get()
    Referral.objects.filter(pk=r.pk).update(status="closed")
    r.refresh_from_db()
    rows = AuditLog.objects.filter(object_id=str(r.pk)).count()
    before = reports.service_report()
    services.anonymise(r, w.mgr_a)
    r.refresh_from_db()
    assert r.referrer_id is None and r.referrer_organisation_id is None
    assert not w.referrer.rr_referrals.exists()  # the account no longer leads to the case, nor it to them
    assert reports.service_report() == before  # the figures count the sector, kept
    mine = c.get(reverse("referrals:mine"))
    assert mine.status_code == 200 and r.reference not in mine.content.decode()
    assert c.get(reverse("referrals:draft", args=[r.pk])).status_code == 404
    api = c.get("/api/v1/referrals/mine/")
    assert api.status_code == 200 and str(r.pk) not in api.content.decode()
    # the audit rows stay, naming the case by id and its old reference; the erasure is one more
    assert AuditLog.objects.filter(object_id=str(r.pk)).count() == rows + 1
    dump = services.subject_access(Referral.objects.filter(pk=r.pk))
    assert dump["referrals"][0]["referral"][0]["referrer"] is None


def test_the_referrer_account_can_go_once_their_referrals_are_erased(w):
    r = make_case(w, provider=w.pa)
    services.anonymise(r)
    assert not Referral.objects.filter(referrer=w.referrer).exists()
    assert Referral.objects.filter(pk=r.pk, referrer__isnull=True).exists()


# ------------------------------------------------------------------------------------ 3: a reason in words
@pytest.mark.parametrize(
    "reason",
    ["\u200b" * 12, "..........", "- - - - - - -", "\u200b" * 12 + "ok", "1234567890", "\u2003" * 11],
    ids=["zero-width", "dots", "dashes", "two-letters", "digits", "em-spaces"],
)
def test_a_break_glass_reason_needs_words(w, reason):
    r = base.restricted_case(w)
    resp = client(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="id_reason-error"' in page
    assert not BreakGlass.objects.exists()


def test_a_real_reason_is_kept_without_its_invisible_characters(w):
    r = base.restricted_case(w)
    reason = "Urgent\u200b safeguarding\u00a0 call\u200d from police"
    resp = client(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    assert resp.status_code == 302
    assert BreakGlass.objects.get().reason == "Urgent safeguarding call from police"


def test_a_change_a_reassignment_and_a_decline_need_a_reason_in_words(w):
    r = make_case(w, provider=w.pa)
    c = client(w.cw_a)
    upd = {"borough": base.LAMBETH, "gender": "male", "missing_episodes": "0", "reason": "\u200b" * 12}
    resp = c.post(reverse("referrals:update", args=[r.pk]), upd)
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not ChangeRecord.objects.exists()
    move = {"provider": w.pb.pk, "reason": "........"}
    resp = client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), move)
    assert resp.status_code == 400 and "in words" in resp.content.decode()
    assert Allocation.objects.filter(referral=r).count() == 1
    waiting = make_case(w, status="submitted")
    decline = {"decision": "decline", "decline_reason": "other", "note": "\u200b\u200b\u200b . . ."}
    resp = client(w.mgr_a).post(reverse("referrals:decide", args=[waiting.pk]), decline)
    assert resp.status_code == 400 and 'id="id_note-error"' in resp.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "submitted"


def test_the_letters_count_any_script():
    assert text.reason_problem("Zuständig: Jugendamt") is None
    assert text.reason_problem("مراجعة عاجلة") is None
    assert text.reason_problem("\u200b\u200b...!!!") is not None
    assert text.visible_text("a\u200b\u200bb \u2003 c\n d") == "ab c\nd"


# ------------------------------------------------------------------------------------ 4: abandoned drafts
def test_an_abandoned_draft_is_purged_after_the_draft_period(w, settings):
    c = client(w.referrer)
    assert "not saved again for 30 days is deleted" in c.get(reverse("referrals:new")).content.decode()
    draft = base.referral_post()
    draft.pop("submit")  # Save as draft
    assert c.post(reverse("referrals:new"), draft).status_code == 302
    r = Referral.objects.get(status="draft")
    assert r.saved_at is not None
    assert conf.draft_days() == 30  # the default
    assert not services.drafts_due().exists()
    # made long ago but saved again 29 days ago: kept; 31 days ago: due
    Referral.objects.filter(pk=r.pk).update(
        created=timezone.now() - timedelta(days=400), saved_at=timezone.now() - timedelta(days=29)
    )
    assert not services.drafts_due().exists()
    Referral.objects.filter(pk=r.pk).update(saved_at=timezone.now() - timedelta(days=31))
    assert list(services.drafts_due()) == [r]
    assert r not in services.retention_due()  # the six years of a case do not apply
    settings.VRU_REFERRALS_DRAFT_DAYS = 60
    assert not services.drafts_due().exists()
    settings.VRU_REFERRALS_DRAFT_DAYS = 30
    out = base._out("referrals_retention")
    assert f"{r.reference}\tDraft (abandoned)" in out and "1 draft(s) abandoned" in out
    assert Referral.objects.filter(pk=r.pk).exists()  # listing purges nothing
    out = base._out("referrals_retention", "--anonymise", "--system")
    assert "1 draft(s) purged" in out
    assert not Referral.objects.filter(pk=r.pk).exists()
    assert not YoungPerson.objects.filter(referral_id=r.pk).exists()
    row = AuditLog.objects.get(action="purge draft")
    assert row.object_id == str(r.pk) and row.user.email == services.SYSTEM_EMAIL
    assert NAME not in row.purpose


def test_a_submitted_referral_is_not_a_draft_to_purge(w):
    r = make_case(w, status="submitted")
    Referral.objects.filter(pk=r.pk).update(created=timezone.now() - timedelta(days=400))
    assert not services.drafts_due().exists()
    services.purge_draft(r, w.mgr_a)  # no longer a draft: left alone
    assert Referral.objects.filter(pk=r.pk).exists()


@pytest.mark.parametrize("value", [0, 366, "30"])
def test_the_draft_period_is_checked(settings, value):
    settings.VRU_REFERRALS_DRAFT_DAYS = value
    with pytest.raises(ImproperlyConfigured, match="VRU_REFERRALS_DRAFT_DAYS"):
        conf.check(settings)


def test_the_draft_period_is_read_from_the_environment_when_the_settings_do_not_set_it(settings, monkeypatch):
    if hasattr(settings, "VRU_REFERRALS_DRAFT_DAYS"):
        del settings.VRU_REFERRALS_DRAFT_DAYS
    monkeypatch.setenv("VRU_REFERRALS_DRAFT_DAYS", "14")
    assert conf.draft_days() == 14
    monkeypatch.setenv("VRU_REFERRALS_DRAFT_DAYS", "0")
    with pytest.raises(ImproperlyConfigured):
        conf.draft_days()


# ----------------------------------------------------------------------- 5: unattended retention, units
def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_the_retention_job_ships_as_a_systemd_service_and_daily_timer():
    service = _unit(DEPLOY / "vru-referrals-retention.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[:3] == ["/opt/vru/venv/bin/python", "-m", "django"], argv
    assert get_commands().get(argv[3]) == "vru.web.referrals", argv
    cmd = load_command_class("vru.web.referrals", argv[3])
    opts = cmd.create_parser("django", argv[3]).parse_args(argv[4:])  # exits on a bad argument
    assert opts.anonymise and opts.system and not opts.user  # unattended: no person's account
    assert service["Type"] == "oneshot" and service["User"] == "vru"
    assert service["EnvironmentFile"] == "/etc/vru/web.env" and service["WorkingDirectory"] == "/var/lib/vru"
    assert service["ReadWritePaths"] == "/var/lib/vru" and service["NoNewPrivileges"] == "yes"
    assert service["UMask"] == "0077"
    timer = _unit(DEPLOY / "vru-referrals-retention.timer")
    assert timer["Timer"]["Unit"] == "vru-referrals-retention.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")  # daily


def test_the_unattended_run_acts_as_the_retention_jobs_account_which_cannot_sign_in(w):
    r = make_case(w, provider=w.pa)
    base.close_case(w, r, timezone.localdate() - timedelta(days=conf.retention_days() + 1))
    out = base._out("referrals_retention", "--anonymise", "--system")
    assert "1 referral(s) anonymised" in out
    row = AuditLog.objects.get(action="erase referral")
    system = User.objects.get(email=services.SYSTEM_EMAIL)
    assert row.user == system and row.object_id == str(r.pk)
    assert not system.is_active and not system.has_usable_password() and not system.get_all_permissions()
    base._out("referrals_retention", "--anonymise", "--system")  # a second run: the same account
    assert User.objects.filter(email=services.SYSTEM_EMAIL).count() == 1
    with pytest.raises(CommandError, match="with --anonymise"):
        base._out("referrals_retention", "--system")
    with pytest.raises(CommandError):
        base._out("referrals_retention", "--anonymise", "--system", "--user", w.mgr_a.email)


# ---------------------------------------------------------------------- 6: only the triage hub reassigns
def test_a_manager_outside_the_hub_cannot_reassign_even_their_own_case(w):
    r = make_case(w, provider=w.pb)
    c = client(w.mgr_b)
    url = reverse("referrals:allocate", args=[r.pk])
    assert c.get(url).status_code == 404
    assert c.post(url, {"provider": w.pa.pk, "reason": "We are full today"}).status_code == 404
    r.refresh_from_db()
    assert r.current_provider == w.pb and r.allocations.count() == 1
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert url not in page and reverse("referrals:restrict", args=[r.pk]) in page  # access is still theirs
    # the hub's manager reaches the case at the other provider, and moves it (the read is audited as triage)
    hub = client(w.mgr_a)
    assert hub.get(url).status_code == 200
    row = AuditLog.objects.filter(action="view case", user=w.mgr_a).latest("pk")
    assert "triage: reassignment of a case allocated to" in row.purpose
    assert hub.post(url, {"provider": w.pa.pk, "reason": "The other provider is full"}).status_code == 302
    r.refresh_from_db()
    assert r.current_provider == w.pa


# ------------------------------------------------------------------- 7: a closure after the casework
def test_a_closure_dated_before_recorded_casework_is_refused_next_to_the_date(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    today = timezone.localdate()
    Contact.objects.create(
        referral=r, when=timezone.now() - timedelta(days=2), attendance="attended", recorded_by=w.cw_a
    )
    Rescue.objects.create(
        referral=r, county="Kent", police_force="kent", rescued_on=today - timedelta(days=5),
        returned_on=today - timedelta(days=1),
    )
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    c = client(w.cw_a)
    url = reverse("referrals:close", args=[r.pk])
    resp = c.post(url, base.closing_post(need, today - timedelta(days=15)))
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="id_closed_on-error"' in page and "before its last recorded rescue" in page
    resp = c.post(url, base.closing_post(need, today - timedelta(days=3)))  # before the return, too
    assert resp.status_code == 400
    r.refresh_from_db()
    assert r.status == "accepted" and not Closure.objects.exists()
    assert c.post(url, base.closing_post(need, today - timedelta(days=1))).status_code == 302
    # the correction of the closure is held to the same
    data = {**base.closing_post(need, today - timedelta(days=10)), "reason_for_change": "Wrong date typed"}
    resp = c.post(reverse("referrals:change_closure", args=[r.pk]), data)
    assert resp.status_code == 400 and 'id="id_closed_on-error"' in resp.content.decode()
    assert Closure.objects.get().closed_on == today - timedelta(days=1)


def test_a_closure_before_a_contact_names_the_contact(w):
    r = make_case(w, provider=w.pa, days_ago=20)
    Contact.objects.create(referral=r, when=timezone.now(), attendance="dna", dna_reason="unknown",
                           recorded_by=w.cw_a)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    closed = timezone.localdate() - timedelta(days=15)
    resp = client(w.cw_a).post(reverse("referrals:close", args=[r.pk]), base.closing_post(need, closed))
    assert resp.status_code == 400 and "before its last recorded contact or session" in resp.content.decode()


# ----------------------------------------------------------------- 8: no exact review date in the audit log
def test_the_risk_reviews_audit_row_holds_the_month_not_the_date(w):
    r = make_case(w, provider=w.pa)
    note = RiskNote.objects.create(
        referral=r, level="high", text="Owes a debt", review_on=timezone.localdate(), created_by=w.cw_a
    )
    nxt = timezone.localdate() + timedelta(days=40)
    data = {"outcome": "remains", "level": "medium", "note": "Debt paid in part", "next_review_on": nxt}
    resp = client(w.cw_a).post(reverse("referrals:review_risk", args=[r.pk, note.pk]), data)
    assert resp.status_code == 302
    services.anonymise(r, w.mgr_a)
    purposes = " ".join(AuditLog.objects.values_list("purpose", flat=True))
    assert nxt.isoformat() not in purposes and f"next review in {nxt:%Y-%m}" in purposes
    follow = RiskNote.objects.get(referral=r, reviewed_at__isnull=True)
    assert follow.review_on == nxt.replace(day=1)  # what erasure keeps: the month, as the log


# ----------------------------------------------------------------- 9: subject access search at a prompt
def test_the_subject_access_search_prompts_for_the_person_without_echo(w, monkeypatch, tmp_path):
    import getpass

    make_case(w, status="submitted", name="Ottoline Prompted")
    dob = YoungPerson.objects.get().date_of_birth.isoformat()
    dpo = base.user("dpo4@example.org", "provider manager")
    asked = []

    def fake(prompt):
        asked.append(prompt)
        return "Ottoline Prompted" if "name" in prompt.lower() else dob

    class Terminal(StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(getpass, "getpass", fake)
    out = tmp_path / "sar.json"
    call_command(
        "referrals_subject_access", "--user", dpo.email, "--reason", "Letter of 4 May, ref DP-9",
        "--out", str(out), stdin=Terminal(), stderr=StringIO(),
    )
    assert asked == ["Full name: ", "Date of birth (YYYY-MM-DD): "]
    assert "Ottoline Prompted" in out.read_text()
