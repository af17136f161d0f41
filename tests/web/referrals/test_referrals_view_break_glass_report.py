"""Rescue and Response: the view ``referrals:break_glass_report`` (/referrals/break-glass/): what it shows and
writes, who may use it, its form's errors and its audit rows (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- break-glass reported to the managers
def test_a_break_glass_opening_is_reported_to_the_managers_where_they_land(w):
    """Item 5: an opening is reported to a manager: the managers of the opener's organisation are told on
    their caseload page (with a link to who, when and why) for a week; not another organisation's managers,
    not the caseworkers, and not the reason itself on that page."""
    from datetime import timedelta

    r = base.restricted_case(w)
    url = reverse("referrals:cases")
    assert 'id="recent-openings"' not in signed_in(w.mgr_a).get(url).content.decode()
    reason = "Police called out of hours about him"
    signed_in(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": reason})
    page = signed_in(w.mgr_a).get(url).content.decode()
    notice = page.split('id="recent-openings"')[1].split("</div>")[0]
    assert "1 break-glass opening of restricted cases" in notice and "last 7 days" in notice
    assert reverse("referrals:break_glass_report") in notice and reason not in page
    for other in (w.mgr_b, w.cw_a, w.cw_a2):
        assert 'id="recent-openings"' not in signed_in(other).get(url).content.decode(), other.email
    # a week on, it is on the report page only (the row is append-only: the clock moves instead)
    later = timezone.now() + timedelta(days=8)
    from unittest import mock

    with mock.patch("vru.web.referrals.services.timezone.now", return_value=later):
        assert 'id="recent-openings"' not in signed_in(w.mgr_a).get(url).content.decode()
    assert reason in signed_in(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()


def test_the_break_glass_report_follows_the_openers_organisation_not_the_cases_provider(w):
    from vru.web.referrals import services

    r = base.restricted_case(w)
    assert signed_in(w.cw_a).post(
        reverse("referrals:break_glass", args=[r.pk]), {"reason": "Out of hours call"}
    )
    services.allocate(r, w.pb, w.mgr_a, reason="Moved to B")
    assert r.reference in signed_in(w.mgr_a).get(reverse("referrals:break_glass_report")).content.decode()
    assert r.reference not in signed_in(w.mgr_b).get(reverse("referrals:break_glass_report")).content.decode()
