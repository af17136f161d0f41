"""Rescue and Response: every case page, shown or sent back with a mistake, writes exactly one audit row."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import Contact, MissingEpisode, Need, NeedOutcome, Rescue, RiskNote

pytestmark = pytest.mark.django_db


# ----------------------------------------------------------------- 1: every case page read, one audit row
def _case_urls(w) -> list[tuple[str, object, str, dict]]:
    """(name, user, url, a POST with a mistake or None) for every page that shows a case."""
    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Leaves the line")
    note = RiskNote.objects.create(
        referral=r, level="high", text="Debt to a dealer", review_on=timezone.localdate(), created_by=w.cw_a
    )
    contact = Contact.objects.create(
        referral=r, when=timezone.now(), kind="session", attendance="attended", recorded_by=w.cw_a
    )
    rescue = Rescue.objects.create(
        referral=r, county="Norfolk", police_force="Norfolk", rescued_on=timezone.localdate()
    )
    episode = MissingEpisode.objects.create(referral=r, started_on=timezone.localdate())
    closed = make_case(w, provider=w.pa)
    closed_need = Need.objects.create(referral=closed, category="exit", desired_outcome="Leaves the line")
    NeedOutcome.objects.create(
        closure=base.close_case(w, closed, timezone.localdate()), need=closed_need, achievement="achieved"
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
        ("change_contact", w.cw_a, url("change_contact", r.pk, contact.pk), {"attendance": "late"}),
        ("change_rescue", w.cw_a, url("change_rescue", r.pk, rescue.pk), {"county": ""}),
        ("change_missing", w.cw_a, url("change_missing", r.pk, episode.pk), {"started_on": "abc"}),
        ("change_need", w.cw_a, url("change_need", r.pk, need.pk), {"category": "bogus"}),
        ("change_risk", w.cw_a, url("change_risk", r.pk, note.pk), {"level": "high", "review_on": "abc"}),
        ("change_closure", w.cw_a, url("change_closure", closed.pk), {"closed_on": "abc"}),
        ("missing", w.cw_a, url("missing", r.pk), {"started_on": "abc"}),
        ("close", w.cw_a, url("close", r.pk), {"closed_on": "abc"}),
        ("update", w.cw_a, url("update", r.pk), {"borough": BRENT}),  # no reason
        ("restrict", w.mgr_a, url("restrict", r.pk), {"restricted": "on", "allowed_staff": ["abc"]}),
    ]


def test_every_case_page_get_or_sent_back_with_a_mistake_writes_exactly_one_audit_row(w):
    for name, u, url, mistake in _case_urls(w):
        c = signed_in(u)
        for method, data in (("get", None), ("post", mistake)):
            if data is None and method == "post":
                continue
            n = AuditLog.objects.count()
            resp = c.get(url) if method == "get" else c.post(url, data)
            assert resp.status_code == (200 if method == "get" else 400), (name, method, resp.status_code)
            rows = list(AuditLog.objects.order_by("-pk")[: AuditLog.objects.count() - n])
            assert len(rows) == 1, (name, method, [(a.action, a.purpose) for a in rows])
            assert rows[0].action == "view case" and rows[0].user == u, (name, method)
