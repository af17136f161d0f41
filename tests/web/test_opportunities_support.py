"""Shared helpers of the opportunities tests (synthetic people and hand-made opportunities).

No tests here; the test modules import these functions."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.utils import timezone

from vru.web.accounts.models import Organisation, User
from vru.web.opportunities.models import Opportunity, YoungPerson

PASSWORD = "correct horse battery staple"
LAMBETH, SOUTHWARK = "E09000022", "E09000028"
BRIXTON = (51.4613, -0.1156)  # a point in Lambeth


def org(name="Brixton Youth Club", verified=True) -> Organisation:
    o, _ = Organisation.objects.get_or_create(name=name, defaults={"kind": "provider"})
    if o.verified != verified:
        o.verified = verified
        o.save()
    return o


def user(email: str, role: str | None = None, organisation=None) -> User:
    u = User.objects.create_user(email, PASSWORD, organisation=organisation)
    if role:
        u.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=u.pk)


def young_person(email="sam@example.org", nickname="Sam", age=15) -> User:
    u = user(email, "young person")
    YoungPerson.objects.create(user=u, nickname=nickname, birth_year=timezone.localdate().year - age)
    return u


def opportunity(provider=None, *, status="published", **kw) -> Opportunity:
    today = timezone.localdate()
    now = timezone.now()
    fields = dict(
        kind="activity", title="Football session", description="Five-a-side for beginners", topic="football",
        borough=LAMBETH, address="Brixton Recreation Centre", postcode="SW9 8QQ",
        latitude=BRIXTON[0], longitude=BRIXTON[1], min_age=14, max_age=18,
        start_date=today + dt.timedelta(days=3), end_date=today + dt.timedelta(days=3),
        is_free=True, price=None, capacity=None, how_to_apply="Book here",
        visible_from=now - dt.timedelta(days=1), visible_to=now + dt.timedelta(days=30),
    )
    fields.update(kw)
    return Opportunity.objects.create(provider=provider or org(), status=status, **fields)


def offset(lat: float, lon: float, north_km: float = 0.0, east_km: float = 0.0) -> tuple[float, float]:
    """A point ``north_km`` north and ``east_km`` east of (lat, lon) (small distances)."""
    import math

    from vru.web.opportunities.geo import EARTH_RADIUS_KM

    dlat = math.degrees(north_km / EARTH_RADIUS_KM)
    dlon = math.degrees(east_km / (EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def prefilled(response) -> dict:
    """The values a browser would submit for the text and number inputs of ``response``'s page (as the
    confirmation page prefills the nickname and year of birth)."""
    import re
    from html import unescape

    html = response.content.decode()
    return {m.group(1): unescape(m.group(2)) for m in re.finditer(
        r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"', html) if m.group(1) != "csrfmiddlewaretoken"}
