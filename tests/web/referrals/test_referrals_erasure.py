"""Rescue and Response: erasure leaves the figures and no name, exact date or free text behind."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import conf, reports, services
from vru.web.referrals.models import (
    BreakGlass,
    ChangeRecord,
    Contact,
    MissingEpisode,
    Need,
    Referral,
    Rescue,
    RiskNote,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


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
        Council,
        Disclosure,
        Referral,
        Rescue,
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
    stored = _everything_stored()
    assert not [n for n in names if n in stored]
    assert not [
        t for t in ("Met him", "Debt", "Urgent police call", "typo", "Found in Norfolk") if t in stored
    ]


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

    from vru.web.referrals import services

    r = base.restricted_case(w, days_ago=3000, name="Quilliam Erasable")
    c = signed_in(w.cw_a)
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


# ------------------------------------------------------------------------- 2: erasure and the referrer
def test_erasure_unlinks_the_referrer_and_their_status_page_copes(w):
    c = signed_in(w.referrer)
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
