"""Rescue and Response: the view ``referrals:triage`` (/referrals/triage/): what it shows and writes, who may
use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import signed_in, superuser
from referrals_base import BRENT, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    Provider,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------ the triage hub, or no one
def test_without_a_triage_hub_no_manager_sees_new_referrals_and_everyone_is_told(w):
    Provider.objects.update(triage_hub=False)
    waiting = make_case(w, status="submitted")
    unallocated = make_case(w, status="accepted")
    mine = make_case(w, provider=w.pb)
    n = AuditLog.objects.count()
    for m in (w.mgr_a, w.mgr_b):
        c = signed_in(m)
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
    assert (
        signed_in(w.mgr_b).get(reverse("referrals:case", args=[mine.pk])).status_code == 200
    )  # own caseload
    # a caseworker (no triage) is not told about triage
    assert 'id="no-hub"' not in signed_in(w.cw_a).get(reverse("referrals:cases")).content.decode()
    # the administrator is told on the providers' list, where the hub is marked
    admin = superuser("admin@example.org")
    page = signed_in(admin).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "No provider is marked as the central triage hub" in page and "2 referral(s) waiting" in page
    # once a hub is marked: its managers see the queue, the warnings are gone
    w.pa.triage_hub = True
    w.pa.save()
    queue = signed_in(w.mgr_a).get(reverse("referrals:triage")).content.decode()
    assert waiting.reference in queue and 'id="no-hub"' not in queue
    assert waiting.reference not in signed_in(w.mgr_b).get(reverse("referrals:triage")).content.decode()
    page = signed_in(admin).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "No provider is marked as the central triage hub" not in page


# ------------------------------------------------------------------------- 8, 12: triage hub, openings
def test_only_the_triage_hubs_managers_see_new_referrals_others_only_their_allocated_cases(w):
    waiting = make_case(w, status="submitted")
    mine_b = make_case(w, provider=w.pb)
    mb = signed_in(w.mgr_b)
    assert w.pa.triage_hub  # provider A is the hub (the fixture)
    assert waiting.reference not in mb.get(reverse("referrals:triage")).content.decode()
    n = AuditLog.objects.count()
    for name in ("decide", "allocate", "case"):
        assert mb.get(reverse(f"referrals:{name}", args=[waiting.pk])).status_code == 404, name
    assert mb.post(reverse("referrals:decide", args=[waiting.pk]), {"decision": "accept"}).status_code == 404
    assert AuditLog.objects.count() == n  # nothing seen, nothing logged
    assert mb.get(reverse("referrals:case", args=[mine_b.pk])).status_code == 200  # their own allocated case
    ma = signed_in(w.mgr_a)
    assert waiting.reference in ma.get(reverse("referrals:triage")).content.decode()
    assert ma.get(reverse("referrals:decide", args=[waiting.pk])).status_code == 200
    # one hub at most
    from django.db import IntegrityError, transaction

    w.pb.triage_hub = True
    with pytest.raises(IntegrityError), transaction.atomic():
        w.pb.save()


def test_a_hub_without_an_active_manager_is_said_where_the_hub_is_marked(w):
    make_case(w, status="submitted", borough=BRENT)
    assert services.hub_problem() is None
    w.mgr_a.is_active = False
    w.mgr_a.save()
    assert "has no active provider manager" in services.hub_problem()
    page = signed_in(w.mgr_b).get(reverse("referrals:triage")).content.decode()
    assert "has no active provider manager" in page and "1 referral waiting" in page
    root = superuser()
    admin_page = signed_in(root).get(reverse("admin:referrals_provider_changelist")).content.decode()
    assert "has no active provider manager" in admin_page
