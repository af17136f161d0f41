"""Helpers shared by several of the opportunities web test modules."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

from django.test import Client
from django.utils import timezone
from factories import LAMBETH, org, user

from vru.web.opportunities import search
from vru.web.opportunities.models import Opportunity


def _error(html: str, field: str) -> str | None:
    """The GOV.UK error message shown next to ``field`` (unescaped), or None."""
    m = re.search(rf'<p id="id_{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return unescape(m.group(1)) if m else None


def _search(**params) -> list[Opportunity]:
    form = search.SearchForm(params)
    assert form.is_valid(), form.errors
    return list(search.run(form, 1).object_list)


def _form_data(**kw) -> dict:
    today = timezone.localdate()
    data = {
        "kind": "activity", "title": "Basketball drop-in", "description": "Free basketball for 14-18s",
        "topic": "basketball", "borough": LAMBETH, "address": "Max Roach Park", "postcode": "sw9 8pq",
        "latitude": "51.4650", "longitude": "-0.1190", "min_age": "14", "max_age": "18",
        "start_date": (today + dt.timedelta(days=7)).isoformat(),
        "end_date": (today + dt.timedelta(days=60)).isoformat(), "recurrence": "weekly",
        "days_of_week": ["TU", "TH"], "start_time": "17:00", "end_time": "19:00", "is_free": "on",
        "price": "", "capacity": "20", "accessibility": "Step-free", "eligibility": "",
        "how_to_apply": "Just come",
        "apply_url": "", "visible_from": "", "visible_to": "",
    }
    data.update(kw)
    return data


SIGNUP = "/opportunities/sign-up/"


def _signup(c: Client, email: str, **kw):
    data = {"email": email, "nickname": "Sam", "birth_year": timezone.localdate().year - 16} | kw
    return c.post(SIGNUP, data)


def _link(msg) -> str:
    return re.search(r"https?://[^/\s]+(/opportunities/sign-up/confirm/\S+/)", msg.body).group(1)


def _provider():

    return user("staff@brixtonyouth.example.org", "provider", org("Brixton Youth Club"))
