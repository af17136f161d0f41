"""The ``opportunities:shortlist`` view, ``/opportunities/shortlist/``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from factories import opportunity, signed_in, user

from vru.web.accounts.models import AuditLog
from vru.web.opportunities.models import ModerationEvent, Opportunity, Registration

pytestmark = pytest.mark.django_db


def test_signposting_shortlist_lives_only_in_the_url():
    a, b = opportunity(title="Football"), opportunity(title="Coding club", topic="coding")
    gone = opportunity(title="Gone", status="archived")
    caseworker = signed_in(user("cw@example.org", "caseworker"))
    page = caseworker.get(reverse("opportunities:search")).content.decode()
    assert page.count(">Add to shortlist<") == 2
    assert "Add to shortlist" not in Client().get(reverse("opportunities:search")).content.decode()
    # adding carries the list in the query string
    page = caseworker.get(reverse("opportunities:search"), {"sl": f"{a.pk}"}).content.decode()
    assert f"sl={a.pk}%2C{b.pk}" in page
    before = {m.objects.count() for m in (Opportunity, ModerationEvent, Registration, AuditLog)}
    r = Client().get(reverse("opportunities:shortlist"), {"ids": f"{b.pk},{a.pk},{gone.pk},{b.pk},junk"})
    html = r.content.decode()
    assert html.index("Coding club") < html.index("Football") and "Gone" not in html
    assert "1 opportunity on this list is no longer available" in " ".join(html.split())
    assert f"ids={b.pk}%2C{a.pk}%2C{gone.pk}" in html  # the shareable link
    printable = Client().get(reverse("opportunities:shortlist_print"), {"ids": f"{a.pk}"}).content.decode()
    assert "How to apply" in printable and "Football" in printable
    assert {m.objects.count() for m in (Opportunity, ModerationEvent, Registration, AuditLog)} == before
