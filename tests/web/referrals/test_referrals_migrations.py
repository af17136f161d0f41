"""Rescue and Response: the migrations (drafts from before the draft period, going back once a case is
erased)."""

from __future__ import annotations

import pytest
from referrals_base import make_case

from vru.web.referrals import services
from vru.web.referrals.models import Referral


# --------------------------------------------------------- 4: drafts saved before 0011 keep their date
def _migration(name):
    import importlib

    return importlib.import_module(f"vru.web.referrals.migrations.{name}")


@pytest.mark.django_db
def test_drafts_from_before_the_upgrade_are_not_purged_on_the_first_night(w):
    from datetime import timedelta

    from django.apps import apps
    from django.utils import timezone

    old = make_case(w, status="draft", days_ago=90)
    Referral.objects.filter(pk=old.pk).update(saved_at=None, created=timezone.now() - timedelta(days=90))
    submitted = make_case(w, provider=w.pa)
    assert services.drafts_due().filter(pk=old.pk).exists()  # what the first run would have deleted
    _migration("0012_drafts_saved_at_backfill").backfill_saved_at(apps, None)
    old.refresh_from_db()
    assert old.saved_at is not None and timezone.now() - old.saved_at < timedelta(minutes=1)
    assert not services.drafts_due().exists()
    assert services.drafts_due(timezone.now() + timedelta(days=31)).filter(pk=old.pk).exists()
    assert Referral.objects.get(pk=submitted.pk).saved_at is None  # only drafts are given a date


@pytest.mark.django_db
def test_going_back_before_0011_is_refused_in_words_once_a_case_is_erased(w):
    from django.apps import apps

    back = _migration("0011_erasure_unlinks_referrer_draft_saved_at").refuse_back_once_erased
    r = make_case(w, provider=w.pa)
    back(apps, None)  # no erased case: nothing to refuse
    Referral.objects.filter(pk=r.pk).update(referrer=None)  # as the erasure leaves it
    with pytest.raises(RuntimeError, match=r"cannot migrate back before 0011: 1 erased case"):
        back(apps, None)
