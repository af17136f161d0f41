"""Rescue and Response: the view ``referrals:review_risk``
(/referrals/cases/<uuid:pk>/risk/<int:note>/review/): what it shows and writes, who may use it, its form's
errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import NAME, _cases, _day, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    RiskNote,
)

pytestmark = pytest.mark.django_db


# -------------------------------------------------------------------------------------- risk review
def test_a_risk_that_remains_is_reviewed_and_carried_on_by_a_new_note(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    cw = signed_in(w.cw_a)
    page = cw.get(reverse("referrals:case", args=[r.pk])).content.decode()
    review_url = reverse("referrals:review_risk", args=[r.pk, note.pk])
    assert review_url in page and "due" in page.split('id="risks"')[1]
    listed = cw.get(reverse("referrals:cases")).content.decode().split('id="cases"')[1]
    assert "Risk review due" in listed
    before = AuditLog.objects.count()
    form = cw.get(review_url)
    assert form.status_code == 200 and "Owes a debt" in form.content.decode()
    assert AuditLog.objects.count() == before + 1  # the page shows the note: one audit row
    assert AuditLog.objects.first().action == "view case"
    nxt = _day(30)
    resp = cw.post(review_url, {"outcome": "remains", "level": "medium", "note": "Debt paid in part",
                                "next_review_on": nxt})
    assert resp.status_code == 302
    note.refresh_from_db()
    assert note.reviewed_at is not None and note.reviewed_by == w.cw_a
    assert note.review_note == "Debt paid in part"
    follow = note.follow_up
    assert (follow.level, follow.text, follow.review_on.isoformat()) == ("medium", "Owes a debt", nxt)
    assert follow.reviewed_at is None and follow.created_by == w.cw_a
    row = AuditLog.objects.get(action="review risk note")
    assert row.user == w.cw_a and row.object_id == str(r.pk)
    found = f"remains, medium, next review in {nxt[:7]}"  # the month only (review 4, 8)
    assert row.purpose == f"{r.reference}: casework: risk note {note.pk} reviewed ({found})"
    assert NAME not in row.purpose
    # reviewed once: the page is gone, the case page says so, the list no longer flags it
    assert cw.get(review_url).status_code == 404
    assert cw.post(review_url, {"outcome": "ended", "note": "Again and again"}).status_code == 404
    page = cw.get(reverse("referrals:case", args=[r.pk])).content.decode().split('id="risks"')[1]
    assert "Debt paid in part" in page and "review by" in page
    assert "Risk review due" not in cw.get(reverse("referrals:cases")).content.decode()
    # the command lists the new note when it comes due, not the reviewed one
    assert "0 risk note(s) due" in base._out("referrals_reviews")
    assert "1 risk note(s) due" in base._out("referrals_reviews", "--on", nxt)


def test_a_risk_that_no_longer_applies_is_closed_by_its_review(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    resp = signed_in(w.mgr_a).post(
        reverse("referrals:review_risk", args=[r.pk, note.pk]), {"outcome": "ended", "note": "Debt cleared"}
    )
    assert resp.status_code == 302
    note.refresh_from_db()
    assert note.reviewed_at and note.follow_up is None and RiskNote.objects.count() == 1
    assert AuditLog.objects.get(action="review risk note").purpose.endswith("(no longer applies)")
    resp = signed_in(w.cw_a).get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert "no longer applies" in resp.split('id="risks"')[1]


def test_only_the_cases_own_staff_review_its_risk_notes(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    other = make_case(w, provider=w.pb)
    url = reverse("referrals:review_risk", args=[r.pk, note.pk])
    data = {"outcome": "ended", "note": "Debt cleared"}
    refused = ((w.cw_b, 404), (w.mgr_b, 404), (w.referrer, 403), (w.council_brent, 403), (w.analyst, 403))
    for u, code in refused:
        assert signed_in(u).get(url).status_code == code, u
        assert signed_in(u).post(url, data).status_code == code, u
    # a note named under another case's id (one the user may open) is not found either
    wrong = reverse("referrals:review_risk", args=[other.pk, note.pk])
    assert signed_in(w.cw_b).post(wrong, data).status_code == 404
    unknown = reverse("referrals:review_risk", args=[r.pk, 987654])
    assert signed_in(w.cw_a).post(unknown, data).status_code == 404
    # restricted: the review needs the glass broken first, like every casework write
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    assert signed_in(w.cw_a).post(url, data).status_code == 403
    note.refresh_from_db()
    assert note.reviewed_at is None and not AuditLog.objects.filter(action="review risk note").exists()


# ----------------------------------------------------------------- 8: no exact review date in the audit log
def test_the_risk_reviews_audit_row_holds_the_month_not_the_date(w):
    r = make_case(w, provider=w.pa)
    note = RiskNote.objects.create(
        referral=r, level="high", text="Owes a debt", review_on=timezone.localdate(), created_by=w.cw_a
    )
    nxt = timezone.localdate() + timedelta(days=40)
    data = {"outcome": "remains", "level": "medium", "note": "Debt paid in part", "next_review_on": nxt}
    resp = signed_in(w.cw_a).post(reverse("referrals:review_risk", args=[r.pk, note.pk]), data)
    assert resp.status_code == 302
    services.anonymise(r, w.mgr_a)
    purposes = " ".join(AuditLog.objects.values_list("purpose", flat=True))
    assert nxt.isoformat() not in purposes and f"next review in {nxt:%Y-%m}" in purposes
    follow = RiskNote.objects.get(referral=r, reviewed_at__isnull=True)
    assert follow.review_on == nxt.replace(day=1)  # what erasure keeps: the month, as the log
