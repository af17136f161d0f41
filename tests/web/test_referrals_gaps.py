"""Rescue and Response: the gaps left open after the first review (docs/web-referrals.md): the
allocation history, the closure of a case without needs, retention of every state, the triage hub as the only
door to new referrals, when a year's figures are published, what erasure keeps. Each test failed before its
fix. Fixtures and helpers come from test_referrals.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import test_referrals as base
from django.urls import reverse
from django.utils import timezone
from test_referrals import client, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import Allocation, Closure, Need, Provider

pytestmark = pytest.mark.django_db
w = base.w  # the fixture


def _error_next_to(html: str, field: str) -> str:
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    return html.split(marker)[1].split("</p>")[0]


# ------------------------------------------------------------------- the allocation history's words
def test_only_a_real_reassignment_is_called_one(w):
    r = make_case(w, status="accepted")
    m = client(w.mgr_a)
    page = m.get(reverse("referrals:allocate", args=[r.pk])).content.decode()
    assert 'name="reason"' not in page  # a first allocation asks for no reason
    # a reason sent anyway with a first allocation does not make it a reassignment
    resp = m.post(
        reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Close to home"}
    )
    assert resp.status_code == 302
    first = AuditLog.objects.get(action="allocate case")
    assert first.purpose == f"{r.reference}: allocation to {w.pa}"
    assert Allocation.objects.get(referral=r).reason == ""
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "Young woman"})
    assert resp.status_code == 302
    second = AuditLog.objects.filter(action="allocate case").latest("pk")
    assert second.purpose == f"{r.reference}: allocation to {w.pb} (reassignment)"
    page = client(w.mgr_b).get(reverse("referrals:case", args=[r.pk])).content.decode()  # now B's case
    history = page.split('id="allocations"')[1].split("</ul>")[0]
    assert f"allocated to {w.pa}</li>" in history and f"reassigned to {w.pb}: Young woman" in history
    assert history.count("reassigned") == 1


# --------------------------------------------------------------- closing a case that has no needs
def test_closing_a_case_without_needs_puts_the_message_next_to_the_outcomes(w):
    r = make_case(w, provider=w.pa)
    data = base.closing_post(Need(pk=0), timezone.localdate())
    resp = client(w.cw_a).post(reverse("referrals:close", args=[r.pk]), data)
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "Record at least one need" in _error_next_to(html, "outcomes")
    summary = html.split("govuk-error-summary__list")[1].split("</ul>")[0]
    assert '<a href="#id_outcomes">Record at least one need' in summary  # linked, not a bare line
    assert '<output id="id_outcomes"' in html and 'aria-describedby="id_outcomes-error"' in html
    assert reverse("referrals:need", args=[r.pk]) in html.split('id="id_outcomes"')[1].split("</output>")[0]
    r.refresh_from_db()
    assert r.status == "accepted" and not Closure.objects.filter(referral=r).exists()
    # with a need, the same form closes it (the field is gone)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    ok = client(w.cw_a).post(
        reverse("referrals:close", args=[r.pk]), base.closing_post(need, timezone.localdate())
    )
    assert ok.status_code == 302 and Closure.objects.filter(referral=r).exists()


# ------------------------------------------------------------------------ the triage hub, or no one
def test_without_a_triage_hub_no_manager_sees_new_referrals_and_everyone_is_told(w):
    Provider.objects.update(triage_hub=False)
    waiting = make_case(w, status="submitted")
    unallocated = make_case(w, status="accepted")
    mine = make_case(w, provider=w.pb)
    n = AuditLog.objects.count()
    for m in (w.mgr_a, w.mgr_b):
        c = client(m)
        queue = c.get(reverse("referrals:triage")).content.decode()
        assert waiting.reference not in queue and unallocated.reference not in queue
        assert "No provider is marked as the central triage hub" in queue and "2 referrals waiting" in queue
        landing = c.get(reverse("referrals:cases")).content.decode()
        assert 'id="no-hub"' in landing and "2 referrals waiting" in landing
        for name, r in (("decide", waiting), ("allocate", unallocated), ("case", waiting)):
            assert c.get(reverse(f"referrals:{name}", args=[r.pk])).status_code == 404, (m, name)
        assert (
            c.post(reverse("referrals:decide", args=[waiting.pk]), {"decision": "accept"}).status_code == 404
        )
    assert AuditLog.objects.count() == n  # nothing was shown
    assert client(w.mgr_b).get(reverse("referrals:case", args=[mine.pk])).status_code == 200  # own caseload
    # a caseworker (no triage) is not told about triage
    assert 'id="no-hub"' not in client(w.cw_a).get(reverse("referrals:cases")).content.decode()
    # the administrator is told on the providers' list, where the hub is marked
    from vru.web.accounts.models import User

    admin = User.objects.create_superuser("admin@example.org", None)
    page = client(admin).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "No provider is marked as the central triage hub" in page and "2 referral(s) waiting" in page
    # once a hub is marked: its managers see the queue, the warnings are gone
    w.pa.triage_hub = True
    w.pa.save()
    queue = client(w.mgr_a).get(reverse("referrals:triage")).content.decode()
    assert waiting.reference in queue and 'id="no-hub"' not in queue
    assert waiting.reference not in client(w.mgr_b).get(reverse("referrals:triage")).content.decode()
    page = client(admin).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "No provider is marked as the central triage hub" not in page


# ------------------------------------------------------------------ retention reaches every state
def test_accepted_cases_come_due_from_their_last_recorded_step(w, settings):
    from vru.web.referrals.models import Contact, Referral

    settings.VRU_REFERRALS_RETENTION_DAYS = 400
    long_ago = timezone.now() - timedelta(days=500)
    never_allocated = make_case(w, status="accepted", days_ago=600)
    stale = make_case(w, status="accepted", days_ago=600)
    Allocation.objects.create(referral=stale, provider=w.pa, allocated_by=w.mgr_a, allocated_at=long_ago)
    stale.current_provider = w.pa
    stale.save()
    busy = make_case(w, status="accepted", days_ago=600)
    Allocation.objects.create(referral=busy, provider=w.pa, allocated_by=w.mgr_a, allocated_at=long_ago)
    busy.current_provider = w.pa
    busy.save()
    Contact.objects.create(
        referral=busy, when=timezone.now() - timedelta(days=30), attendance="attended", recorded_by=w.cw_a
    )
    Referral.objects.filter(pk__in=[never_allocated.pk, stale.pk, busy.pk]).update(
        decided_at=long_ago, submitted_at=long_ago
    )
    assert set(services.retention_due()) == {never_allocated, stale}  # busy: a contact a month ago
    busy.refresh_from_db()
    assert services.last_step(busy) == timezone.localdate() - timedelta(days=30)
    assert w.pa.open_cases() == 2
    out = base._out("referrals_retention", "--anonymise", "--user", w.mgr_a.email)
    assert "2 referral(s) anonymised" in out and "Accepted" in out
    assert not Referral.objects.filter(pk__in=[never_allocated.pk, stale.pk], anonymised_at__isnull=True)
    assert w.pa.open_cases() == 1  # an erased case holds no place
    assert not services.triage_queue(w.mgr_a).filter(pk=never_allocated.pk).exists()


# ------------------------------------------------------------- a year's figures: once, when final
def _year_cases(w, n: int, day: str) -> list:
    from vru.web.referrals.models import Referral

    cases = [make_case(w, status="accepted") for _ in range(n)]
    Referral.objects.filter(pk__in=[c.pk for c in cases]).update(referral_date=day)
    for c in cases:
        c.refresh_from_db()
    return cases


def test_a_years_figures_wait_for_its_cases_then_are_published_once(w, settings, monkeypatch):
    from vru.web.referrals import reports
    from vru.web.referrals.models import PublishedFigures, Referral

    settings.VRU_REFERRALS_MIN_N = 3
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 6, 1))  # 2025-26 ended two months ago
    cases = _year_cases(w, 8, "2025-06-01")
    for c in cases[:4]:
        base.close_case(w, c, date(2025, 9, 1), involvement="ceased")
    for c in cases[4:7]:
        base.close_case(w, c, date(2025, 9, 1), involvement="no_change")
    # three accepted and not engaged, three declined: every part of every rate at least 3 (the chain's rule)
    for c in _year_cases(w, 3, "2025-06-01"):
        base.close_case(w, c, date(2025, 9, 1), engaged=False, involvement="no_change")
    for c in _year_cases(w, 3, "2025-06-01"):
        Referral.objects.filter(pk=c.pk).update(status="declined")
    a = client(w.analyst)
    # one case of the year is open: nothing is published yet, and the page says when it will be
    page = a.get(reverse("referrals:reports")).content.decode()
    assert "published once every referral of that year is decided and every case closed" in page
    assert "1 October 2026 at the latest" in page.split('id="pending"')[1]
    api = a.get("/api/v1/referrals/reports/").json()
    assert api["report"] is None and api["pending"]["period"] == "2025-26"
    assert api["pending"]["publish_by"] == "2026-10-01"
    assert not PublishedFigures.objects.exists()
    # the last case closes: the year is final, and its release counts every outcome (4 of 8, not 4 of 7)
    base.close_case(w, cases[7], date(2026, 5, 1), involvement="no_change")
    api = a.get("/api/v1/referrals/reports/").json()
    assert api["pending"] is None and api["report"]["period"] == "2025-26"
    assert api["report"]["rates"]["reduced_or_ceased"] == {"rate": 50.0, "n": 8}
    assert api["report"]["still_open"] == 0
    assert (
        "once every referral of the year was decided and every case closed"
        in a.get(reverse("referrals:reports")).content.decode()
    )
    # one release of a year, never another: a case back-dated into it later changes nothing
    _year_cases(w, 1, "2025-07-01")
    assert a.get("/api/v1/referrals/reports/").json() == api
    assert PublishedFigures.objects.count() == 1


def test_a_year_with_open_cases_is_published_on_its_day_with_the_open_count(w, settings, monkeypatch):
    from vru.web.referrals import reports

    settings.VRU_REFERRALS_MIN_N = 3
    cases = _year_cases(w, 6, "2025-06-01")
    for c in cases[:2]:
        base.close_case(w, c, date(2025, 9, 1))
    with pytest.raises(reports.NotYetPublished):
        reports.release(2025, today=date(2026, 9, 30))
    monkeypatch.setattr(reports, "_today", lambda: date(2026, 10, 1))  # the latest publication day
    api = client(w.analyst).get("/api/v1/referrals/reports/?year=2025").json()
    assert api["report"]["still_open"] == 4 and api["report"]["total"] == 6
    page = client(w.analyst).get(reverse("referrals:reports") + "?year=2025").content.decode()
    assert "while 4 of the year's referrals were still open" in page


# --------------------------------------------------- erasure keeps only what the figures need, coarsened
def _dates_of_the_app() -> list[tuple[str, str, object]]:
    """(model, field, value) of every date and date-time of the app's records about referrals."""
    from vru.web.referrals import models as m

    out = []
    for model in (
        m.Referral,
        m.Allocation,
        m.ChangeRecord,
        m.BreakGlass,
        m.Disclosure,
        m.SubjectAccessRequest,
        m.Contact,
        m.RiskNote,
        m.Rescue,
        m.MissingEpisode,
        m.Closure,
    ):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.get_internal_type() in ("DateField", "DateTimeField")
        ]
        for row in model._base_manager.values(*fields):
            out += [(model.__name__, f, v) for f, v in row.items() if v is not None]
    return out


def test_erasing_a_whole_year_keeps_every_figure_and_no_exact_date_name_or_text(w, settings):
    from vru.web.referrals import demo, reports
    from vru.web.referrals.models import (
        BreakGlass,
        ChangeRecord,
        Contact,
        Council,
        Disclosure,
        MissingEpisode,
        Referral,
        Rescue,
        RiskNote,
        YoungPerson,
    )

    settings.VRU_REFERRALS_MIN_N = 3  # more cells shown, so more figures compared
    demo.generate(seed=5, total=200)  # 2020-21
    year = Referral.objects.filter(referral_date__lt=date(2021, 4, 1))
    names = list(YoungPerson.objects.values_list("name", flat=True))
    # casework of every kind on some cases, late-evening contacts (the date a day earlier in UTC) included
    for i, r in enumerate(year.filter(status="closed")[:12]):
        when = timezone.make_aware(datetime.combine(r.referral_date + timedelta(days=i), time(23, 30)))
        Contact.objects.create(
            referral=r, when=when, attendance="attended", recorded_by=w.cw_a, note="Met him"
        )
        RiskNote.objects.create(
            referral=r,
            level="high",
            text="Debt",
            review_on=r.referral_date + timedelta(days=40),
            created_by=w.cw_a,
        )
        Rescue.objects.create(
            referral=r,
            county="Norfolk",
            police_force="Norfolk",
            rescued_on=r.referral_date + timedelta(days=5),
        )
        MissingEpisode.objects.create(
            referral=r,
            started_on=r.referral_date + timedelta(days=3),
            ended_on=r.referral_date + timedelta(days=4),
        )
        ChangeRecord.objects.create(
            referral=r,
            record="person",
            field="name",
            old_value=names[0],
            new_value="x",
            reason="typo",
            changed_by=w.cw_a,
        )
        BreakGlass.objects.create(referral=r, user=w.cw_a, reason="Urgent police call")
    intel = year.filter(kind="intelligence").first()
    Disclosure.objects.create(referral=intel, council=Council.objects.first(), recipient=w.council_brent)
    Referral.objects.filter(pk__in=year.values("pk")[:5]).update(
        nrm_referred=True, nrm_referred_on=date(2020, 9, 17)
    )
    before = reports.service_report(date(2020, 4, 1), date(2021, 4, 1))
    before_all = reports.service_report()
    references = set(year.values_list("reference", flat=True))
    exact = {(m, f, v) for m, f, v in _dates_of_the_app()}
    assert any(getattr(v, "day", 1) != 1 for _, _, v in exact)  # the demo has exact dates to erase

    for r in list(year):
        services.anonymise(r, w.mgr_a)

    # every figure of the year, and of all years, is the same
    assert reports.service_report(date(2020, 4, 1), date(2021, 4, 1)) == before
    assert reports.service_report() == before_all
    assert before["first_contact"]["median"] is not None and before["rates"]["acceptance"]["rate"]
    # nothing identifying remains: no person, no exact date, no age, no old reference, no name or free text
    assert not YoungPerson.objects.exists()
    for model, field, value in _dates_of_the_app():
        if hasattr(value, "hour"):
            value = timezone.localtime(value)
            assert (value.day, value.hour, value.minute, value.second) == (1, 0, 0, 0), (model, field, value)
        else:
            assert value.day == 1, (model, field, value)
    kept = Referral.objects.values_list(
        "age_at_referral", "nrm_referred_on", "rg_decided_on", "cg_decided_on"
    )
    assert set(kept) == {(None, None, None, None)}
    assert not references & set(Referral.objects.values_list("reference", flat=True))
    from test_referrals_review import _everything_stored

    stored = _everything_stored()
    assert not [n for n in names if n in stored]
    assert not [
        t for t in ("Met him", "Debt", "Urgent police call", "typo", "Found in Norfolk") if t in stored
    ]
