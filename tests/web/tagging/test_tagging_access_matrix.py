"""Every role against every page of ``tagging/urls.py`` and every endpoint of the tagging API: who gets
200, 403 or 404, what each answer carries (no-store), and the navigation link of the roles that use
the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from django.test import RequestFactory
from django.urls import get_resolver, reverse
from factories import signed_in, user
from tagging_util import IDENTITY_Q, MATCH_POST, MATCH_Q, START, TRAIL_Q

from vru.web.accounts.models import AuditLog
from vru.web.core.nav import nav
from vru.web.tagging import api, demo, services, urls
from vru.web.tagging.models import Match, Zone

pytestmark = pytest.mark.django_db


PLATFORM_ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "young person"]


OM_A, OM_B, PA_X, PA_Y = "offender manager A", "offender manager B", "police analyst X", "police analyst Y"


RV = "tagging reviewer"  # the unit's hub: every force's matches, qualifies or dismisses them


ROLES = ["anonymous", *PLATFORM_ROLES, OM_A, OM_B, PA_X, PA_Y, RV]


UNIT = {"administrator", "analyst", "programme manager"}


IDENTITY_POST = {"purpose": "licence compliance", "justification": "Home visit planned, case 24/1234"}


def _client_of(world, role: str):
    if role == "anonymous":
        return signed_in()
    known = {OM_A: world.om, OM_B: world.other_om, PA_X: world.pa, PA_Y: world.other_pa, RV: world.reviewer}
    if role in known:
        return signed_in(known[role])
    return signed_in(user(f"{role.replace(' ', '.')}@matrix.test", role, world.police))


@dataclass(frozen=True)
class Endpoint:
    """One request: ``ok`` roles get ``ok_status`` (and leave ``audit`` rows); ``other`` roles (of another
    organisation or force) get 404; every other signed-in role 403; anonymous: the sign-in redirect on a
    page, 403 on the API."""

    label: str
    name: str  # URL name
    obj: str | None  # which of the world's objects the URL names (attribute), or None
    ok: frozenset
    other: frozenset = frozenset()
    method: str = "get"
    data: Any = None
    ok_status: int = 200
    audit: int = 0

    @property
    def is_api(self) -> bool:
        return self.name.startswith("tagging-api-")

    def url(self, world) -> str:
        args = [getattr(world, self.obj).pk] if self.obj else []
        return reverse(self.name if self.is_api else f"tagging:{self.name}", args=args)


def _e(label, name, obj, ok, other=(), **kw) -> Endpoint:
    return Endpoint(label, name, obj, frozenset(ok), frozenset(other), **kw)


TRAIL_POST = {"purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
              "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"}


ENDPOINTS = [
    # pages (tagging/urls.py)
    _e("wearers page", "wearers", None, {OM_A, OM_B}),
    _e("wearer page (no identity without a reason)", "wearer", "wearer_a", {OM_A}, {OM_B}),
    _e("wearer page, identity with a reason (audited)", "wearer", "wearer_a", {OM_A}, {OM_B}, method="post",
       data=IDENTITY_POST, audit=1),
    _e("wearer page, identity without a reason", "wearer", "wearer_a", {OM_A}, {OM_B}, method="post",
       data={"purpose": "licence compliance"}, ok_status=400),
    _e("trail form", "trail", "wearer_a", {OM_A}, {OM_B}),
    _e("trail search", "trail", "wearer_a", {OM_A}, {OM_B}, method="post", data=TRAIL_POST, audit=1),
    _e("zone form", "zone_create", "wearer_a", {OM_A}, {OM_B}),
    _e("breaches page", "breaches", None, {OM_A, OM_B}),
    _e("breach page", "breach", "breach", {OM_A}, {OM_B}),
    _e("batches page", "batches", None, {PA_X, PA_Y}),
    _e("batch page", "batch", "batch", {PA_X}, {PA_Y}),
    _e("matches page", "matches", None, {PA_X, PA_Y, RV}, audit=1),  # the list names wearers: audited
    # a pending match: the hub's reviewer only; the police see qualified matches only (404)
    _e("match page (justification form)", "match", "match", {RV}, {PA_X, PA_Y}),
    _e("qualified match page (justification form)", "match", "qualified", {RV, PA_X}, {PA_Y}),
    _e("match review without a justification", "match_review", "match", {RV}, method="post",
       data={"decision": "dismissed", "reason": "probing the review"}, ok_status=302),
    _e("report without a justification", "report", "qualified", {PA_X, RV}, {PA_Y}, ok_status=302),
    _e("report PDF without a justification", "report_pdf", "qualified", {PA_X, RV}, {PA_Y}, ok_status=302),
    _e("report of a pending match", "report", "match", set(), {PA_X, PA_Y, RV}),
    _e("figures page", "figures", None, UNIT),
    # the JSON API
    _e("API wearers", "tagging-api-wearers", None, {OM_A, OM_B}),
    _e("API wearer", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B}),
    _e("API wearer with identity (audited)", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B},
       data={"identity": "true", **IDENTITY_Q}, audit=1),
    _e("API wearer with identity without a reason", "tagging-api-wearer", "wearer_a", {OM_A}, {OM_B},
       data={"identity": "true", "purpose": "licence compliance"}, ok_status=400),
    _e("API trail", "tagging-api-trail", "wearer_a", {OM_A}, {OM_B}, data=TRAIL_Q, audit=1),
    _e("API trail without a reason", "tagging-api-trail", "wearer_a", {OM_A}, {OM_B},
       data={k: v for k, v in TRAIL_Q.items() if k != "reason"}, ok_status=400),
    _e("API breaches", "tagging-api-breaches", None, {OM_A, OM_B}),
    _e("API breach", "tagging-api-breach", "breach", {OM_A}, {OM_B}),
    _e("API batches", "tagging-api-batches", None, {PA_X, PA_Y}),
    _e("API batch", "tagging-api-batch", "batch", {PA_X}, {PA_Y}),
    _e("API matches", "tagging-api-matches", None, {PA_X, PA_Y, RV}, audit=1),
    _e("API match", "tagging-api-match", "match", {RV}, {PA_X, PA_Y}, data=MATCH_Q, audit=1),
    _e("API qualified match", "tagging-api-match", "qualified", {RV, PA_X}, {PA_Y}, data=MATCH_Q, audit=1),
    _e("API match without a justification", "tagging-api-match", "match", {RV}, {PA_X, PA_Y}, ok_status=400),
    _e("API figures", "tagging-api-figures", None, UNIT),
]


def expected(e: Endpoint, role: str) -> tuple[int, int]:
    """(status, audit rows) of ``role`` on ``e``."""
    if role == "anonymous":
        return (403 if e.is_api else 302), 0
    if role in e.ok:
        return e.ok_status, e.audit
    if role in e.other:
        return 404, 0
    return 403, 0


def test_the_matrix_names_every_tagging_url():
    """Every URL of the pages and of the API is in the matrix (a new one must be added to it)."""
    pages = {p.name for p in get_resolver("vru.web.tagging.urls").url_patterns}
    apis = {p.name for p in api.urlpatterns}
    named = {e.name for e in ENDPOINTS}
    assert pages | apis == named, (pages | apis) ^ named


@pytest.mark.world("api")
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role):
    c = _client_of(world, role)
    got, want = {}, {}
    for e in ENDPOINTS:
        before = AuditLog.objects.count()
        r = getattr(c, e.method)(e.url(world), e.data or {})
        got[e.label] = (r.status_code, AuditLog.objects.count() - before)
        want[e.label] = expected(e, role)
        if role == "anonymous" and not e.is_api:
            assert r["Location"].startswith(reverse("login")), e.label
    assert got == want, {k: (got[k], want[k]) for k in got if got[k] != want[k]}
    assert Match.objects.get(pk=world.match.pk).status == "pending"  # no review slipped through


@pytest.mark.world("api")
@pytest.mark.parametrize("role,href", [
    (OM_A, "/tagging/"), (PA_X, "/tagging/matches/"), (RV, "/tagging/matches/"),
    *[(r, None) for r in PLATFORM_ROLES],
    ("anonymous", None)])
def test_the_tagging_link_is_in_the_navigation_of_the_roles_that_use_it(world, role, href):
    from django.contrib.auth.models import AnonymousUser

    known = {OM_A: world.om, PA_X: world.pa, RV: world.reviewer}
    u = known.get(role) or (AnonymousUser() if role == "anonymous" else user(f"nav.{role[:5]}@x.test", role))
    request = RequestFactory().get("/tagging/")
    request.user = u
    links = [i for i in nav(request)["vru_nav"] if i["text"] == "GPS tagging"]
    assert [i["href"] for i in links] == ([href] if href else [])
    if href:
        assert links[0]["active"]


def _no_store(r) -> bool:
    return "no-store" in r.get("Cache-Control", "")


@pytest.mark.world("pending")
def test_every_tagging_page_and_api_answer_is_no_store(world):
    m = world.matches[0]
    services.review_match(m, world.reviewer, "qualified", "corroborated by CCTV")
    Zone.objects.create(wearer=world.wearers[0], kind="exclusion", name="Zone A",
                        geometry=demo.zone_on_trail(world.sim, world.wearers[0].ref))
    breach = services.detect_breaches(START, START + pd.Timedelta(days=1))[0]
    w = world.wearers[0]
    # every route, for a signed-in user of each kind: every answer the view gives (200, 302, 400) is
    # no-store; a 403 or 404 (raised before the view answers) shows nothing to keep
    pks = {"wearer": w.pk, "trail": w.pk, "zone_create": w.pk, "breach": breach.pk, "batch": world.batch.pk,
           "match": m.pk, "match_review": m.pk, "report": m.pk, "report_pdf": m.pk}
    answered = 0
    for u in (world.om, world.pa, world.reviewer, user("nobody@test.test", None)):
        c = signed_in(u)
        for p in urls.urlpatterns:
            url = reverse(f"tagging:{p.name}", args=[pks[p.name]] if p.name in pks else [])
            r = c.get(url)
            assert r.status_code in (403, 404) or _no_store(r), (u.email, url)
            answered += r.status_code not in (403, 404)
        for p in api.urlpatterns:
            url = reverse(p.name, args=[pks.get(p.name.rsplit("-", 1)[1], 1)] if "<int:pk>" in str(p.pattern)
                          else [])
            r = c.get(url)
            assert r.status_code in (403, 404) or _no_store(r), (u.email, url)
            answered += r.status_code not in (403, 404)
    assert answered >= 12
    # the answers that show personal data, each 200
    om = signed_in(world.om)
    shown = [om.post(reverse("tagging:wearer", args=[w.pk]),
                     {"purpose": "licence compliance", "justification": "Home visit planned, case 24/1234"}),
             om.post(reverse("tagging:trail", args=[w.pk]), {
                 "purpose": "breach review", "justification": "Alert on 4 March, case 24/1234",
                 "start": "2024-03-04T08:00", "end": "2024-03-04T10:00"}),
             om.get(f"/api/v1/tagging/wearers/{w.pk}/trail/", {
                 "purpose": "breach review", "reason": "Alert on 4 March, case 24/1234",
                 "start": "2024-03-04T08:00:00Z", "end": "2024-03-04T10:00:00Z"})]
    pa = signed_in(world.pa)
    pa.post(reverse("tagging:match", args=[m.pk]), MATCH_POST)
    shown += [pa.get(reverse(n, args=[m.pk])) for n in ("tagging:match", "tagging:report",
                                                        "tagging:report_pdf")]
    shown.append(pa.get(f"/api/v1/tagging/matches/{m.pk}/", MATCH_Q))
    assert [r.status_code for r in shown] == [200] * len(shown)
    assert all(_no_store(r) for r in shown)
