"""Rescue and Response: what the retention job finds due (closed cases, intelligence, drafts) and what it
leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.core.management import CommandError
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import NAME, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import conf, services
from vru.web.referrals.models import (
    Allocation,
    Contact,
    Referral,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ retention reaches every state
def test_accepted_cases_come_due_from_their_last_recorded_step(w, settings):
    from vru.web.referrals.models import Referral

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
    # a draft has its own, short period (review 4, 4): below, and test_referrals_settings.py
    assert set(services.drafts_due()) == {draft}
    assert recent not in services.retention_due() and open_case not in services.retention_due()


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


# ------------------------------------------------------------------------------------ 4: abandoned drafts
def test_an_abandoned_draft_is_purged_after_the_draft_period(w, settings):
    c = signed_in(w.referrer)
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
