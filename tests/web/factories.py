"""The one set of web test users and factories: people per role, organisations, and the common objects of
the programme, opportunities and survey tests.

No tests here; the test modules import these functions (``from factories import user``, as with
``browser_util``). Everything is synthetic: example.org addresses, made-up organisations, demo content.
A user is created without a usable password unless ``password`` is given (hashing one costs a noticeable
fraction of a second); tests sign such users in with ``signed_in`` (``Client.force_login``), and give
``password=PASSWORD`` only where they sign in through the login form or a browser. ``superuser`` is the
Django superuser (staff, every permission, no role group) of the admin tests.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from decimal import Decimal
from html import unescape

from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client
from django.utils import timezone

from vru.web.accounts.models import Organisation, User
from vru.web.opportunities.models import Opportunity, YoungPerson
from vru.web.programme.models import Consortium, Grant, Membership, ProgrammeArea
from vru.web.survey.demo import load_and_publish
from vru.web.survey.models import QuestionnaireVersion

PASSWORD = "correct horse battery staple"
LAMBETH, SOUTHWARK, BRENT = "E09000022", "E09000028", "E09000005"
BRIXTON = (51.4613, -0.1156)  # a point in Lambeth
# A small square in Southwark (WGS84 longitude, latitude) and two real Southwark LSOAs (2011).
SQUARE = {"type": "Polygon", "coordinates": [[[-0.088, 51.471], [-0.082, 51.471], [-0.082, 51.475],
                                              [-0.088, 51.475], [-0.088, 51.471]]]}
SOUTHWARK_LSOAS = ["E01003911", "E01003912"]
SURVEY_TEXT = "The officer was kind but nobody kept me informed."
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- people and organisations ---------------------------------------------------------------------------


def org(name: str = "Brixton Youth Club", verified: bool = True, **fields) -> Organisation:
    """The organisation called ``name`` (a provider unless ``kind`` says otherwise), created unless it
    exists, verified or not as asked."""
    o, _ = Organisation.objects.get_or_create(name=name, defaults={"kind": "provider", **fields})
    if o.verified != verified:
        o.verified = verified
        o.save()
    return o


def user(email: str, role: str | None = None, organisation: Organisation | None = None, *,
         password: str | None = None, **fields) -> User:
    """A user in the role group ``role`` (none when None), read back from the database."""
    u = User.objects.create_user(email, password, organisation=organisation, **fields)
    if role:
        u.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=u.pk)


def superuser(email: str = "root@example.org", *, password: str | None = None, **fields) -> User:
    """A Django superuser (staff, every permission, in no role group)."""
    return User.objects.create_superuser(email, password, **fields)


def signed_in(who: User | None = None, **client_kwargs) -> Client:
    """A test client signed in as ``who`` (anonymous when None)."""
    c = Client(**client_kwargs)
    if who is not None:
        c.force_login(who, backend=MODEL_BACKEND)
    return c


def user_and_client(email: str, role: str | None = None, **fields) -> tuple[User, Client]:
    """A new user in ``role`` and a client signed in as them."""
    u = user(email, role, **fields)
    return u, signed_in(u)


def young_person(email: str = "sam@example.org", nickname: str = "Sam", age: int = 15) -> User:
    """A young person of ``age`` (this year) with a Local Village Network profile and ``PASSWORD``."""
    u = user(email, "young person", password=PASSWORD)
    YoungPerson.objects.create(user=u, nickname=nickname, birth_year=timezone.localdate().year - age)
    return u


def at_once(n: int, work, *, timeout: float = 120) -> list:
    """Run ``work(i)`` for i < ``n`` in ``n`` threads released at the same moment; return what each
    returned, or the exception it raised, in order (each thread closes its own database connections)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # returned: the test says what it expects
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


# --- opportunities --------------------------------------------------------------------------------------


def opportunity(provider: Organisation | None = None, *, status: str = "published", **kw) -> Opportunity:
    """A free football session in Brixton in three days' time, visible for a month (``kw`` overrides)."""
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
    from vru.web.opportunities.geo import EARTH_RADIUS_KM

    dlat = math.degrees(north_km / EARTH_RADIUS_KM)
    dlon = math.degrees(east_km / (EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def prefilled(response) -> dict:
    """The values a browser would submit for the text and number inputs of ``response``'s page (as the
    confirmation page prefills the nickname and year of birth)."""
    html = response.content.decode()
    return {m.group(1): unescape(m.group(2)) for m in re.finditer(
        r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"', html) if m.group(1) != "csrfmiddlewaretoken"}


# --- programme ------------------------------------------------------------------------------------------


def estate(lsoa_codes: list[str] | None = None, **kw) -> ProgrammeArea:
    """"Test estate": a programme area in Southwark with a geometry, selected in 2021."""
    fields = dict(name="Test estate", kind="estate", borough=SOUTHWARK, geometry=SQUARE, selected_year=2021,
                  lsoa_codes=list(SOUTHWARK_LSOAS if lsoa_codes is None else lsoa_codes))
    fields.update(kw)
    return ProgrammeArea.objects.create(**fields)


def partners(n: int = 3) -> tuple[Organisation, ...]:
    """The first ``n`` of three unverified provider organisations: Alpha Youth, Beta Mentors, Gamma
    Families (each "(test)")."""
    return tuple(org(name, verified=False)
                 for name in ("Alpha Youth (test)", "Beta Mentors (test)", "Gamma Families (test)")[:n])


def ward(**kw) -> ProgrammeArea:
    """"Test ward": a programme area in Brent without LSOAs or geometry, selected in 2022."""
    return ProgrammeArea.objects.create(**{"name": "Test ward", "kind": "ward", "borough": BRENT,
                                           "selected_year": 2022, **kw})


def consortium(name: str, area: ProgrammeArea, lead: Organisation, *members: Organisation) -> Consortium:
    """A consortium in ``area`` led by ``lead``, with ``members``."""
    c = Consortium.objects.create(name=name, area=area, lead=lead)
    for member in members:
        Membership.objects.create(consortium=c, organisation=member)
    return c


def awarded_grant(consortium, reference: str, requested: str, awarded: str, start: dt.date,
                  end: dt.date) -> Grant:
    """A grant of ``consortium`` bid for ``requested`` and awarded ``awarded`` (pounds, as text) for
    ``start`` to ``end``."""
    grant = Grant.objects.create(reference=reference, consortium=consortium,
                                 amount_requested=Decimal(requested))
    grant.transition("awarded", amount_awarded=Decimal(awarded), start_date=start, end_date=end)
    return grant


# --- survey ---------------------------------------------------------------------------------------------


def survey_version() -> QuestionnaireVersion:
    """The bundled Victim Voice questionnaire, published (the ``version`` fixture of conftest.py)."""
    return load_and_publish()


def survey_page(version: QuestionnaireVersion, group: str, text: str = SURVEY_TEXT) -> dict:
    """The POST data of page ``group``: ``text`` for a free-text question, the first option otherwise."""
    data = {"version": version.pk}
    for question in version.questionnaire.group_questions(group):
        data[question.key] = text if question.text else question.options[0]
    return data


def start_survey(c: Client | None = None, *, lang: str = "en", code: str = "") -> Client:
    """``c`` (a new anonymous client when None) having started the survey in ``lang`` with ``code``."""
    c = c or Client()
    r = c.post(f"/survey/{lang}/", {"code": code})
    assert r.status_code == 302, r.content.decode()[:2000]
    return c


def answer_survey(c: Client, version: QuestionnaireVersion, *, lang: str = "en", text: str = SURVEY_TEXT):
    """Every page answered by ``c`` (a plain POST per page, as with JavaScript off)."""
    for i, group in enumerate(version.questionnaire.groups, start=1):
        r = c.post(f"/survey/{lang}/q/{i}/", survey_page(version, group, text))
        assert r.status_code == 302, r.content.decode()[:3000]


def complete_survey(c: Client, version: QuestionnaireVersion, *, lang: str = "en", code: str = "",
                    text: str = SURVEY_TEXT):
    """The whole flow: start (with ``code``), every page, and the send; returns the send's response."""
    start_survey(c, lang=lang, code=code)
    answer_survey(c, version, lang=lang, text=text)
    return send_survey(c, version, lang=lang)


def send_survey(c: Client, version: QuestionnaireVersion, *, lang: str = "en"):
    """The check page's send, which must end on the thank-you page; returns its response."""
    r = c.post(f"/survey/{lang}/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith(f"/survey/{lang}/done/"), r.content.decode()[:2000]
    return r
