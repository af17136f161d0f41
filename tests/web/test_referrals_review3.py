"""The third review of Rescue and Response (docs/web-referrals.md, "Review 3"): one test (or more) per
finding, each failing before its fix: small cells worked out from the published totals (D1), the engagement
rate of a year published with open cases (D2), three 500s (D3), what erasure kept (D5), the draft read
without an audit row (D6), the retention command's day and user (D7) and a hub switched off or without
managers (D8)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import test_referrals as base
from django.core.management import CommandError
from django.urls import reverse
from django.utils import timezone
from test_referrals import BRENT, NAME, client, make_case

from vru.web.accounts.models import AuditLog, User
from vru.web.referrals import reports, services
from vru.web.referrals.models import Allocation, AllocationRule, Referral, Rescue

pytestmark = pytest.mark.django_db
w = base.w  # the fixture


def _cases(w, n: int, *, day: str = "2025-06-01", **closure) -> list[Referral]:
    """``n`` accepted cases referred on ``day``; closed on 1 September 2025 with ``closure`` when given."""
    cases = [make_case(w, status="accepted") for _ in range(n)]
    Referral.objects.filter(pk__in=[c.pk for c in cases]).update(referral_date=day)
    for c in cases:
        c.refresh_from_db()
        if closure:
            base.close_case(w, c, date(2025, 9, 1), **closure)
    return cases


def _declined(w, n: int, day: str = "2025-06-01") -> None:
    for c in _cases(w, n, day=day):
        Referral.objects.filter(pk=c.pk).update(status="declined")


# ---------------------------------------------------------------- D1: totals giving a hidden cell away
def test_a_rates_total_is_published_only_with_both_of_its_parts():
    assert reports._rate(95, 5) == {"rate": None, "n": None}  # "n 100" beside "n 95" gave the 5 away
    assert reports._rate(90, 10) == {"rate": 90.0, "n": 100}


def test_95_of_100_accepted_hides_the_acceptance_total_and_every_total_giving_the_5_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3  # 10 accepted of 12 is the 95 of 100 at a threshold of 3
    _cases(w, 3, engaged=True, involvement="ceased")
    _cases(w, 3, engaged=True, involvement="no_change")
    _cases(w, 4, engaged=False, involvement="no_change")
    _declined(w, 2)
    rates = reports.service_report()["rates"]
    assert rates["acceptance"] == {"rate": None, "n": None}  # 2 declined: the rate and its 12 hidden
    # the closed cases are the 10 accepted: their total beside the 12 submitted would give the 2 away
    assert rates["engagement"] == {"rate": None, "n": None}
    # the engaged (6) and reduced (3) are far enough from every published total: shown
    assert rates["reduced_or_ceased"] == {"rate": 50.0, "n": 6}


def test_a_total_chained_to_a_shown_rate_is_hidden_when_it_would_give_a_hidden_part_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 10, engaged=True, involvement="ceased")
    _cases(w, 3, engaged=True, involvement="no_change")
    _cases(w, 2, engaged=False, involvement="no_change")  # 2 not engaged: below 3
    _declined(w, 5)
    rep = reports.service_report()
    assert rep["total"] == 20
    assert rep["rates"]["acceptance"] == {"rate": 75.0, "n": 20}
    assert rep["rates"]["engagement"] == {"rate": None, "n": None}
    # before: "reduced or ceased, 76.9% of 13" beside "accepted 15" told that 2 were not engaged
    assert rep["rates"]["reduced_or_ceased"] == {"rate": None, "n": None}


def test_the_open_count_of_a_release_is_hidden_when_it_would_give_a_small_part_away(w, settings):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 6, engaged=True, involvement="ceased")
    _cases(w, 4)  # open
    undecided = make_case(w, status="submitted")
    Referral.objects.filter(pk=undecided.pk).update(referral_date="2025-06-01")
    _declined(w, 4)
    # 5 open = 4 accepted not closed (accepted 10 minus closed 6, both shown) + 1 undecided: it gives the 1
    assert reports.release(2025, today=date(2026, 10, 1))["still_open"] is None


# --------------------------------------------------------------- D2: engagement of the closed cases only
def test_a_year_published_with_open_cases_counts_engagement_of_its_closed_cases(w, settings, monkeypatch):
    settings.VRU_REFERRALS_MIN_N = 3
    _cases(w, 6, engaged=True, involvement="ceased")
    _cases(w, 4, engaged=False, involvement="no_change")
    _cases(w, 10)  # still open on the publication day
    _declined(w, 5)
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 10, 1))
    api = client(w.analyst).get("/api/v1/referrals/reports/?year=2025").json()["report"]
    assert api["still_open"] == 10
    assert api["rates"]["engagement"] == {"rate": 60.0, "n": 10}  # not 6 of 20 accepted, 30%
    page = client(w.analyst).get(reverse("referrals:reports") + "?year=2025").content.decode()
    assert "60.0% of 10" in page and "Engaged (of the accepted cases closed" in page


# ------------------------------------------------------------------------------------------ D3: 500s
def test_a_year_of_non_ascii_digits_is_a_404_not_a_500(w):
    a = client(w.analyst)
    assert a.get(reverse("referrals:reports") + "?year=²").status_code == 404
    assert a.get("/api/v1/referrals/reports/?year=%C2%B2").status_code == 404
    # more digits than Python converts to an int by default (4,300): still a 404
    assert a.get(reverse("referrals:reports") + "?year=" + "9" * 5000).status_code == 404
    assert a.get("/api/v1/referrals/reports/?year=" + "9" * 5000).status_code == 404


def test_a_search_with_a_nul_character_is_refused_next_to_the_box(w):
    make_case(w, provider=w.pa)
    resp = client(w.cw_a).post(reverse("referrals:cases"), {"q": "Zeb\x00"})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="q-error"' in page and "without control characters" in page
    assert not AuditLog.objects.filter(action="search").exists()
    r = Referral.objects.get()
    found = client(w.cw_a).post(reverse("referrals:cases"), {"q": "Zebedee"})
    assert found.status_code == 200 and r.reference in found.content.decode()
    assert AuditLog.objects.filter(action="search").count() == 1


def test_a_rule_an_allocation_followed_cannot_be_deleted_and_the_admin_says_why(w):
    used = AllocationRule.objects.get(need="any")
    services.allocate(make_case(w), w.pa, w.mgr_a, rule=used)
    admin_user = base.user("administrator@example.org", "administrator")
    admin_user.is_staff = True
    admin_user.save()
    assert not admin_user.has_perm("referrals.delete_allocationrule")  # rules are switched off, not deleted
    url = reverse("admin:referrals_allocationrule_delete", args=[used.pk])
    assert client(admin_user).post(url, {"post": "yes"}).status_code == 403
    root = User.objects.create_superuser("root@example.org", None)
    resp = client(root).post(url, {"post": "yes"})
    assert resp.status_code == 200 and "protected" in resp.content.decode().lower()
    assert AllocationRule.objects.filter(pk=used.pk).exists() and Allocation.objects.get().rule == used


# ------------------------------------------------------------------------------ D5: what erasure keeps
def test_erasure_blanks_the_police_force_and_the_referrers_organisation(w):
    r = make_case(w, provider=w.pa)
    Referral.objects.filter(pk=r.pk).update(referrer_organisation=w.referrer.organisation)
    Rescue.objects.create(referral=r, county="Norfolk", police_force="Norfolk", rescued_on=r.referral_date)
    before = reports.service_report()
    services.anonymise(r)
    r.refresh_from_db()
    assert r.referrer_organisation is None and r.sector == "education"  # the figures by source: the sector
    assert Rescue.objects.get(referral=r).police_force == "" and Rescue.objects.get(referral=r).county == ""
    assert reports.service_report() == before


# --------------------------------------------------------------------------------- D6: the draft read
def test_each_read_of_a_draft_leaves_one_audit_row(w):
    d = make_case(w, status="draft")
    c = client(w.referrer)
    page = c.get(reverse("referrals:draft", args=[d.pk]))
    assert page.status_code == 200 and NAME in page.content.decode()
    rows = AuditLog.objects.filter(object_id=str(d.pk), action="view draft")
    assert rows.count() == 1 and rows.get().user == w.referrer and rows.get().purpose.startswith(d.reference)
    c.get(reverse("referrals:draft", args=[d.pk]))
    assert rows.count() == 2


# ------------------------------------------------------------------------ D7: the retention command
def test_retention_erases_nothing_for_a_later_day_or_for_a_user_who_may_not(w):
    r = make_case(w, status="declined")
    Referral.objects.filter(pk=r.pk).update(decided_at=timezone.now() - timedelta(days=10))
    with pytest.raises(CommandError, match="after today"):
        base._out("referrals_retention", "--anonymise", "--on", "2099-01-01", "--user", w.mgr_a.email)
    with pytest.raises(CommandError, match="referrals.export_subject"):
        base._out("referrals_retention", "--anonymise", "--user", w.cw_a.email)
    assert not Referral.objects.filter(anonymised_at__isnull=False).exists()
    assert "1 referral(s) due" in base._out("referrals_retention", "--on", "2099-01-01")  # listing is fine


# ----------------------------------------------------------------------------- D8: an inactive hub
def test_a_hub_switched_off_triages_no_more_and_everyone_is_told(w):
    waiting = make_case(w, status="submitted")
    assert services.triages(w.mgr_a)
    w.pa.active = False
    w.pa.save()
    assert not services.triages(w.mgr_a)
    c = client(w.mgr_a)
    assert c.get(reverse("referrals:decide", args=[waiting.pk])).status_code == 404
    page = c.get(reverse("referrals:cases")).content.decode()
    assert 'id="no-hub"' in page and "is not active" in page and "1 referral waiting" in page


def test_a_hub_without_an_active_manager_is_said_where_the_hub_is_marked(w):
    make_case(w, status="submitted", borough=BRENT)
    assert services.hub_problem() is None
    w.mgr_a.is_active = False
    w.mgr_a.save()
    assert "has no active provider manager" in services.hub_problem()
    page = client(w.mgr_b).get(reverse("referrals:triage")).content.decode()
    assert "has no active provider manager" in page and "1 referral waiting" in page
    root = User.objects.create_superuser("root@example.org", None)
    admin_page = client(root).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "has no active provider manager" in admin_page


# ------------------------------------------------------ C3: a contact and a rescue corrected, with a reason
def test_a_contact_and_a_rescue_are_corrected_with_a_reason_old_and_new_values_kept(w):
    from vru.web.referrals.models import ChangeRecord, Contact

    r = make_case(w, provider=w.pa)
    when = timezone.localtime().replace(microsecond=0, second=0) - timedelta(hours=2)
    contact = Contact.objects.create(
        referral=r, when=when, kind="session", attendance="attended", recorded_by=w.cw_a
    )
    rescue = Rescue.objects.create(
        referral=r, county="Norfolk", police_force="Norfolk", rescued_on=r.referral_date
    )
    c = client(w.cw_a)
    url = reverse("referrals:change_contact", args=[r.pk, contact.pk])
    assert url in c.get(reverse("referrals:case", args=[r.pk])).content.decode()  # linked from the case
    post = {"when": when.strftime("%Y-%m-%d %H:%M"), "kind": "session", "attendance": "dna", "dna_reason": ""}
    # bad input: no reason, and a missed session without its reason: messages next to the fields, no change
    resp = c.post(url, post)
    assert resp.status_code == 400
    page = resp.content.decode()
    assert "Give the reason for the correction" in page and "Choose why they did not attend" in page
    contact.refresh_from_db()
    assert contact.attendance == "attended" and not ChangeRecord.objects.exists()
    resp = c.post(url, {**post, "dna_reason": "unknown", "reason": "Recorded as attended by mistake"})
    assert resp.status_code == 302
    contact.refresh_from_db()
    assert contact.attendance == "dna" and contact.dna_reason == "unknown"
    rows = {x.field: x for x in ChangeRecord.objects.filter(record=f"contact {contact.pk}")}
    assert set(rows) == {"attendance", "dna_reason"}
    assert (rows["attendance"].old_value, rows["attendance"].new_value) == ("attended", "dna")
    assert (
        rows["attendance"].reason == "Recorded as attended by mistake"
        and rows["attendance"].changed_by == w.cw_a
    )
    audit = AuditLog.objects.filter(action="change case", object_id=str(r.pk)).get()
    assert f"contact {contact.pk} corrected" in audit.purpose and "by mistake" not in audit.purpose
    # the rescue: the force corrected
    rurl = reverse("referrals:change_rescue", args=[r.pk, rescue.pk])
    day = r.referral_date.isoformat()
    resp = c.post(
        rurl,
        {"county": "Norfolk", "police_force": "Suffolk", "rescued_on": day, "reason": "Wrong force chosen"},
    )
    assert resp.status_code == 302
    row = ChangeRecord.objects.get(record=f"rescue {rescue.pk}")
    assert (row.field, row.old_value, row.new_value) == ("police_force", "Norfolk", "Suffolk")
    # another provider's caseworker, and a contact of another case: 404
    assert client(w.cw_b).get(url).status_code == 404
    other = make_case(w, provider=w.pa)
    assert c.get(reverse("referrals:change_contact", args=[other.pk, contact.pk])).status_code == 404


def test_a_missing_episode_is_corrected_once_they_are_found(w):
    from vru.web.referrals.models import ChangeRecord, MissingEpisode

    r = make_case(w, provider=w.pa)
    went = r.referral_date + timedelta(days=5)
    m = MissingEpisode.objects.create(referral=r, started_on=went)
    url = reverse("referrals:change_missing", args=[r.pk, m.pk])
    c = client(w.cw_a)
    start = went.isoformat()
    early = (went - timedelta(days=2)).isoformat()
    resp = c.post(url, {"started_on": start, "ended_on": early, "reason": "Found by police"})
    assert resp.status_code == 400 and "The end must not be before the start" in resp.content.decode()
    post = {"started_on": start, "ended_on": start, "reported_to_police": "on", "reason": "Found by police"}
    resp = c.post(url, post)
    assert resp.status_code == 302
    m.refresh_from_db()
    assert m.ended_on == went
    row = ChangeRecord.objects.get(record=f"missing episode {m.pk}")
    assert (row.field, row.old_value, row.new_value) == ("ended_on", "", start)


def test_a_need_and_a_risk_note_not_yet_reviewed_are_corrected_a_reviewed_one_is_not(w):
    from vru.web.referrals.models import ChangeRecord, Need, RiskNote

    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    today = timezone.localdate()
    note = RiskNote.objects.create(referral=r, level="high", text="Debt", review_on=today, created_by=w.cw_a)
    c = client(w.cw_a)
    page = c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert reverse("referrals:change_need", args=[r.pk, need.pk]) in page
    assert reverse("referrals:change_risk", args=[r.pk, note.pk]) in page
    url = reverse("referrals:change_need", args=[r.pk, need.pk])
    resp = c.post(
        url, {"category": "exit", "desired_outcome": "Leaves the line and the debt", "reason": "Typo"}
    )
    assert resp.status_code == 400 and "at least 5 characters" in resp.content.decode()
    post = {"category": "exit", "desired_outcome": "Leaves the line and the debt", "reason": "Outcome agreed"}
    assert c.post(url, post).status_code == 302
    row = ChangeRecord.objects.get(record=f"need {need.pk}")
    assert (row.old_value, row.new_value) == ("Leaves the line", "Leaves the line and the debt")
    rurl = reverse("referrals:change_risk", args=[r.pk, note.pk])
    later = (today + timedelta(days=30)).isoformat()
    post = {"level": "medium", "text": "Debt", "review_on": later, "reason": "Level agreed with the manager"}
    assert c.post(rurl, post).status_code == 302
    fields = set(ChangeRecord.objects.filter(record=f"risk note {note.pk}").values_list("field", flat=True))
    assert fields == {"level", "review_on"}
    RiskNote.objects.filter(pk=note.pk).update(reviewed_at=timezone.now(), reviewed_by=w.cw_a)
    assert c.get(rurl).status_code == 404  # a reviewed note is history


def test_a_closure_and_its_outcomes_are_corrected_with_a_reason(w):
    from vru.web.referrals.models import ChangeRecord, Need, NeedOutcome

    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    url = reverse("referrals:change_closure", args=[r.pk])
    c = client(w.cw_a)
    assert c.get(url).status_code == 404  # an open case has no closure to correct
    closed_on = r.referral_date + timedelta(days=10)
    closure = base.close_case(w, r, closed_on)
    NeedOutcome.objects.create(closure=closure, need=need, achievement="achieved")
    assert url in c.get(reverse("referrals:case", args=[r.pk])).content.decode()
    post = base.closing_post(need, closed_on)
    post.update({"involvement": "reduced", f"outcome_{need.pk}": "partly"})
    resp = c.post(url, post)  # no reason
    assert resp.status_code == 400 and "Give the reason for the correction" in resp.content.decode()
    closure.refresh_from_db()
    assert closure.involvement == "ceased"
    resp = c.post(url, {**post, "reason_for_change": "Manager's review of the outcome"})
    assert resp.status_code == 302
    closure.refresh_from_db()
    assert closure.involvement == "reduced" and NeedOutcome.objects.get(need=need).achievement == "partly"
    rows = {x.field: (x.old_value, x.new_value) for x in ChangeRecord.objects.filter(record="closure")}
    assert rows == {
        "involvement": ("ceased", "reduced"),
        f"outcome of need {need.pk}": ("achieved", "partly"),
    }
    assert AuditLog.objects.filter(action="change case", purpose__contains="closure corrected").count() == 1
