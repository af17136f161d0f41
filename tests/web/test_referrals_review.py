"""Rescue and Response: the findings of the review of issue 15 (docs/web-referrals.md, "Review"), each with a
test that failed before its fix. Fixtures and helpers come from test_referrals.py (the same synthetic
world)."""

from __future__ import annotations

import pytest
import test_referrals as base
from django.urls import reverse
from django.utils import timezone
from test_referrals import BRENT, client, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import Need, RiskNote

pytestmark = pytest.mark.django_db
w = base.w  # the fixture


# ----------------------------------------------------------------- 1: every case page read, one audit row
def _case_urls(w) -> list[tuple[str, object, str, dict]]:
    """(name, user, url, a POST with a mistake or None) for every page that shows a case."""
    r = make_case(w, provider=w.pa)
    Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    note = RiskNote.objects.create(
        referral=r, level="high", text="Debt to a dealer", review_on=timezone.localdate(), created_by=w.cw_a
    )
    waiting = make_case(w, status="submitted")
    unallocated = make_case(w, status="accepted")

    def url(name, *args):
        return reverse(f"referrals:{name}", args=args)

    return [
        ("case", w.cw_a, url("case", r.pk), None),
        ("decide", w.mgr_a, url("decide", waiting.pk), {"decision": "bogus"}),
        ("allocate", w.mgr_a, url("allocate", unallocated.pk), {"provider": "abc"}),
        ("reassign", w.mgr_a, url("allocate", r.pk), {"provider": str(w.pb.pk)}),  # no reason
        ("contact", w.cw_a, url("contact", r.pk), {"when": "abc", "attendance": "attended"}),
        ("need", w.cw_a, url("need", r.pk), {"category": "bogus"}),
        ("risk", w.cw_a, url("risk", r.pk), {"level": "high", "text": "", "review_on": "abc"}),
        ("review_risk", w.cw_a, url("review_risk", r.pk, note.pk), {"outcome": "x"}),
        ("rescue", w.cw_a, url("rescue", r.pk), {"county": "", "police_force": "bogus"}),
        ("missing", w.cw_a, url("missing", r.pk), {"started_on": "abc"}),
        ("close", w.cw_a, url("close", r.pk), {"closed_on": "abc"}),
        ("update", w.cw_a, url("update", r.pk), {"borough": BRENT}),  # no reason
        ("restrict", w.mgr_a, url("restrict", r.pk), {"restricted": "on", "allowed_staff": ["abc"]}),
    ]


def test_every_case_page_get_or_sent_back_with_a_mistake_writes_exactly_one_audit_row(w):
    for name, u, url, mistake in _case_urls(w):
        c = client(u)
        for method, data in (("get", None), ("post", mistake)):
            if data is None and method == "post":
                continue
            n = AuditLog.objects.count()
            resp = c.get(url) if method == "get" else c.post(url, data)
            assert resp.status_code == (200 if method == "get" else 400), (name, method, resp.status_code)
            rows = list(AuditLog.objects.order_by("-pk")[: AuditLog.objects.count() - n])
            assert len(rows) == 1, (name, method, [(a.action, a.purpose) for a in rows])
            assert rows[0].action == "view case" and rows[0].user == u, (name, method)


def test_a_restricted_case_is_neither_decided_nor_reassigned_without_break_glass(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    m = client(w.mgr_a)
    page = m.get(reverse("referrals:allocate", args=[r.pk]))
    assert "restricted record" in page.content.decode() and not AuditLog.objects.filter(action="view case")
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 403 and r.current_provider == w.pa and r.allocations.count() == 1
    # after break-glass, it may
    bg = m.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "Safeguarding call"})
    assert bg.status_code == 302
    resp = m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pb.pk, "reason": "moving it"})
    r.refresh_from_db()
    assert resp.status_code == 302 and r.current_provider == w.pb
