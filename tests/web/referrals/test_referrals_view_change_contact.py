"""Rescue and Response: the view ``referrals:change_contact``
(/referrals/cases/<uuid:pk>/contact/<int:item>/change/): what it shows and writes, who may use it, its form's
errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import Rescue

pytestmark = pytest.mark.django_db


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
    c = signed_in(w.cw_a)
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
    assert signed_in(w.cw_b).get(url).status_code == 404
    other = make_case(w, provider=w.pa)
    assert c.get(reverse("referrals:change_contact", args=[other.pk, contact.pk])).status_code == 404
