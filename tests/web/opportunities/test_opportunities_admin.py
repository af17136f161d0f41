"""The opportunities web app: the Django admin."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from factories import signed_in, superuser

pytestmark = pytest.mark.django_db


def test_lowering_capacity_below_places_booked_in_the_admin_is_a_message_not_a_500():
    """The admin shows places_taken read-only, so Django skips the database constraint's check in its
    form; the model's own clean() gives the message next to the field (found by the second review)."""
    from html.parser import HTMLParser

    from factories import opportunity, org

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self._select, self._textarea = {}, None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        self.data[a["name"]] = a.get("value", "on")
                else:
                    self.data[a["name"]] = a.get("value", "")
            elif tag == "select":
                self._select = a.get("name")
            elif tag == "option" and self._select and "selected" in a:
                self.data[self._select] = a.get("value", "")
            elif tag == "textarea":
                self._textarea = a.get("name")
                self.data[self._textarea] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self._select = None
            elif tag == "textarea":
                self._textarea = None

        def handle_data(self, data):
            if self._textarea:
                self.data[self._textarea] += data

    opp = opportunity(provider=org("Brixton Youth Club"), capacity=5, places_taken=4, title="Boxing")
    c = signed_in(superuser())
    url = reverse("admin:opportunities_opportunity_change", args=[opp.pk])
    form = Form()
    form.feed(c.get(url).content.decode())
    r = c.post(url, {**form.data, "capacity": "2", "_save": "Save"})
    assert r.status_code == 200
    assert "Capacity cannot be less than the 4 places already booked" in unescape(r.content.decode())
    opp.refresh_from_db()
    assert opp.capacity == 5
