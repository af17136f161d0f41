"""Anonymity fixes from review 14 (docs/web-survey.md, "Anonymity"): the CSRF cookie, the rate-limit keys,
the cache, and the database's own metadata (PostgreSQL xmin)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from factories import complete_survey, user

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"
UA = "Mozilla/5.0 (AnonTest2) UA-77e1"


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def test_the_csrf_cookie_is_a_browser_session_cookie(version):
    """Finding 6: the survey's CSRF cookie must not outlive the browser session (it used to last a year)."""
    r = client().get("/survey/en/")
    assert r.status_code == 200
    cookie = r.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == "", (cookie["max-age"], cookie["expires"])



def _usage(request, group, rate, key):
    from vru.web.survey.ratelimit import LIMITER

    return LIMITER.count(group, key(group, request), rate)


def test_rate_limit_keys_cannot_be_recomputed_from_the_database_or_secret_key(version):
    """Finding 3: the per-code counter is not keyed by the stored code hash, and the per-network counter is
    not keyed by anything derived from SECRET_KEY (the old daily key): someone holding the database, the
    cache and the settings cannot find the counter of a code or of a guessed network."""
    from django.test import RequestFactory
    from django.utils import timezone
    from django.utils.crypto import salted_hmac

    from vru.web.survey import codes, invitations, views
    from vru.web.survey.models import Invitation

    _, issued = invitations.issue(user("police-anon@example.org", "police analyst"), 20)
    assert client().post("/survey/en/", {"code": issued[0]}).status_code == 302

    request = RequestFactory().post("/survey/en/", REMOTE_ADDR=IP)
    stored_hash = Invitation.objects.get(code_hash=codes.code_hash(issued[0], "invitation")).code_hash
    # the counters exist under the process's keys ...
    own = codes.code_rate_key(issued[0])
    assert _usage(request, "survey:code-starts", views.CODE_STARTS, lambda _g, _r: own) == 1
    assert _usage(request, "survey:network-starts", views.NETWORK_STARTS, codes.network_key) == 1
    # ... and not under anything computable from the database or SECRET_KEY
    assert _usage(request, "survey:code-starts", views.CODE_STARTS, lambda _g, _r: stored_hash) == 0
    day = timezone.localdate().isoformat()
    old_daily = salted_hmac(f"vru.survey.network.{day}", codes.network(IP), algorithm="sha256").hexdigest()
    assert _usage(request, "survey:network-starts", views.NETWORK_STARTS, lambda _g, _r: old_daily) == 0
    for kind, value in (("code", codes.normalise(issued[0])), ("network", codes.network(IP))):
        key = codes.rate_key(kind, value)
        assert key != salted_hmac(f"vru.survey.{kind}", value, algorithm="sha256").hexdigest()
        assert key not in (stored_hash, old_daily)
    # the key is random per process: a fresh key gives other counters (so the limits reset, never tighten)
    saved = codes._RATE_KEY
    try:
        codes._RATE_KEY = b"\0" * 32
        assert _usage(request, "survey:code-starts", views.CODE_STARTS,
                      lambda _g, _r: codes.code_rate_key(issued[0])) == 0
    finally:
        codes._RATE_KEY = saved


def _police():
    return user("police-xmin@example.org", "police analyst")


def _complete(c: Client, version, code: str = "") -> None:
    complete_survey(c, version, code=code, text="Kind but slow.")


def _rows(sql: str) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_a_retry_after_a_failed_send_still_completes_verified(version):
    """The code was burnt at the start and the draft says only that one was used: if writing the response
    fails, sending again completes, verified."""
    from unittest import mock

    from vru.web.survey import drafts, invitations, pool
    from vru.web.survey.models import Invitation, Response

    _, issued = invitations.issue(_police(), 20)
    c = client()
    with mock.patch.object(pool.Pool, "put", side_effect=OSError(28, "No space left on device")):
        with pytest.raises(AssertionError):  # the send is answered 503, not the redirect to done/
            _complete(c, version, issued[0])
    assert Invitation.objects.filter(used=True).count() == 1 and Response.objects.count() == 0
    draft = drafts.store().load(c.cookies["vru_survey"].value)
    assert draft.verified and [p.name for p in drafts.store().files()] == [draft.key]  # put back, whole
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/done/")
    assert Response.objects.get().verified and drafts.store().files() == []


def test_a_draft_holds_nothing_of_its_invitation_code(version):
    """Review finding 2: the code is burnt when the survey starts, and the draft (partial answers) keeps
    neither the code nor any hash of it, only that one was used; nothing joins it to the invitation."""
    from vru.web.survey import codes, drafts, invitations
    from vru.web.survey.models import Invitation

    _, issued = invitations.issue(_police(), 20)
    c = client()
    assert c.post("/survey/en/", {"code": codes.display(issued[0])}).status_code == 302
    assert Invitation.objects.filter(used=True).count() == 1  # burnt at the start
    q = version.questionnaire
    data = {"version": version.pk, **{x.key: x.options[0] for x in q.group_questions(q.groups[0])}}
    assert c.post("/survey/en/q/1/", data).status_code == 302
    draft = drafts.store().load(c.cookies["vru_survey"].value)
    assert draft.answers and draft.verified is True
    assert set(draft.content()) == {"version", "answers", "verified", "nonce"}  # nonce: random
    secrets = {issued[0], codes.display(issued[0]), codes.code_hash(issued[0], "invitation"),
               *Invitation.objects.values_list("code_hash", flat=True), *Invitation.objects.values_list(
                   "id", flat=True)}
    held = repr(draft.content()) + " ".join(str(p) for p in drafts.store().files())
    assert not [s for s in secrets if str(s) in held]


def test_survey_shuffle_keeps_every_row_and_changes_nothing_else(version):
    from django.core.management import call_command

    from vru.web.survey.models import Answer, Response

    for _ in range(3):
        _complete(client(), version)
    before_r = sorted(Response.objects.values_list("id", "version_id", "language", "iso_year", "iso_week",
                                                   "verified"))
    before_a = sorted(Answer.objects.values_list("id", "response_id", "question", "value", "text"))
    from vru.web.survey import invitations
    from vru.web.survey.models import Invitation

    _, issued = invitations.issue(_police(), 20)
    _complete(client(), version, issued[0])
    before_r = sorted(Response.objects.values_list("id", "version_id", "language", "iso_year", "iso_week",
                                                   "verified"))
    before_a = sorted(Answer.objects.values_list("id", "response_id", "question", "value", "text"))
    before_i = sorted(Invitation.objects.values_list("id", "batch_id", "code_hash", "used"))
    call_command("survey_shuffle")
    assert sorted(Invitation.objects.values_list("id", "batch_id", "code_hash", "used")) == before_i
    assert sorted(Response.objects.values_list("id", "version_id", "language", "iso_year", "iso_week",
                                               "verified")) == before_r
    assert sorted(Answer.objects.values_list("id", "response_id", "question", "value", "text")) == before_a


# Each row version of every survey table: table, xmin, and the xmax of a transaction that replaced or
# deleted it (0 where none did, or where the xmax only locked it: HEAP_XMAX_LOCK_ONLY, 0x0080, e.g. the
# FOR KEY SHARE lock a foreign-key check takes on the response and the questionnaire version).
SURVEY_TUPLES = """SELECT c.relname::text, t_xmin::text::bigint,
                   CASE WHEN t_infomask & 128 <> 0 THEN 0 ELSE t_xmax::text::bigint END
                   FROM pg_class c,
                   LATERAL generate_series(0, (pg_relation_size(c.oid) / 8192)::int - 1) b,
                   LATERAL heap_page_items(get_raw_page(c.relname::text, b))
                   WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
                   AND c.relname LIKE 'survey%' AND t_xmin IS NOT NULL"""


def _reached(burn: int, tuples: list) -> set[int]:
    """What a database administrator follows in the heap (pageinspect) from a code's burn (the
    transaction that marked it used): the first row version written after it in any survey table (the
    old code's draft), then, from every row version a reached transaction wrote, the transaction that
    replaced or deleted it (``t_xmax``), and so on. The transactions reached through a ``t_xmax``."""
    after = [t[1] for t in tuples if t[1] > burn]
    frontier = {burn, min(after)} if after else {burn}
    reached: set[int] = set()
    while frontier:
        nxt = {t[2] for t in tuples if t[1] in frontier and t[2] not in (0, None)} - reached
        reached |= nxt
        frontier = nxt
    return reached


@pytest.mark.django_db(transaction=True)
def test_postgresql_heap_chain_from_a_code_to_its_response_is_gone_before_any_shuffle(version):
    """What the database's own metadata links, read the way an administrator with pageinspect would,
    right after the sends and BEFORE any survey_shuffle: no row version of any survey table was replaced
    or deleted by the transaction that wrote a response (no ``t_xmax`` equals a response's ``xmin``),
    and following row versions from each code's burn (the first row written after it, then each
    ``t_xmax``) reaches no response. With the drafts in the database (before 0007) both failed: the
    draft's versions chained from the burn to the send. What is left is only the order of commits (the
    first row written after a burn is, on a quiet server, that respondent's response), which the nightly
    shuffle ends. No row ever shares an xmin with its code, and after the shuffle the rows share one."""
    from django.core.management import call_command

    from vru.web.survey import codes, invitations

    if connection_vendor() != "postgresql":
        pytest.skip("xmin, xmax and pageinspect are PostgreSQL's")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")  # the test database's superuser
    _, issued = invitations.issue(_police(), 20)
    burns, sends = {}, {}
    for code in issued[:3]:
        _complete(client(), version, code)
        h = codes.code_hash(code, "invitation")
        burns[h] = _rows(f"SELECT xmin::text::bigint FROM survey_invitation WHERE code_hash = '{h}'")[0][0]
        sends[h] = _rows("SELECT xmin::text::bigint FROM survey_response ORDER BY xmin::text::bigint DESC "
                         "LIMIT 1")[0][0]
    assert len(set(sends.values())) == 3 and all(sends[h] > burns[h] for h in burns)
    tuples = _rows(SURVEY_TUPLES)
    assert {t[0] for t in tuples} >= {"survey_invitation", "survey_response", "survey_answer"}
    # the burn itself is in the heap: the invitation's old version was replaced by it (the probe sees it)
    assert {t[2] for t in tuples if t[0] == "survey_invitation"} >= set(burns.values())
    replaced_or_deleted_by = {t[2] for t in tuples}
    assert not replaced_or_deleted_by & set(sends.values()), [t for t in tuples if t[2] in sends.values()]
    for burn in burns.values():
        assert not _reached(burn, tuples) & set(sends.values()), "a chain of row versions reaches a response"
    invitation_xmins = {x for (x,) in _rows("SELECT xmin::text FROM survey_invitation")}
    row_xmins = {x for (x,) in _rows("SELECT xmin::text FROM survey_response UNION "
                                     "SELECT xmin::text FROM survey_answer")}
    assert len(row_xmins) == 3 and not invitation_xmins & row_xmins
    call_command("survey_shuffle", stdout=__import__("io").StringIO())
    after = {x for (x,) in _rows("SELECT xmin::text FROM survey_response UNION SELECT xmin::text FROM "
                                 "survey_answer UNION SELECT xmin::text FROM survey_invitation WHERE used")}
    assert len(after) == 1 and not after & invitation_xmins
    assert _rows("SELECT count(*) FROM survey_response") == [(3,)]


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def test_every_answer_post_must_carry_the_version(version):
    """Finding 12: a form without ``version`` is refused (400, nothing saved), not let past the check."""
    from vru.web.survey import drafts

    c = client()
    assert c.post("/survey/en/", {"code": ""}).status_code == 302
    q = version.questionnaire
    questions = q.group_questions(q.groups[0])
    data = {question.key: ("x" if question.text else question.options[0]) for question in questions}
    r = c.post("/survey/en/q/1/", data)
    assert r.status_code == 400, r.status_code
    assert "The survey has changed" in r.content.decode()
    assert drafts.store().load(c.cookies["vru_survey"].value).answers == {}
    assert c.post("/survey/en/check/", {}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_drafts_written_before_the_change_are_migrated_without_their_hash():
    """0004: a draft whose code was burnt, or whose code is still unused (burnt now), becomes verified and
    loses the hash; a draft whose code another draft used could never complete and is deleted."""
    import uuid

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from vru.web.survey import codes

    before, after = [("survey", "0003_draft_code_burnt")], [("survey", "0005_draft_without_invitation")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    version = old.get_model("survey", "QuestionnaireVersion").objects.create(
        slug="victim-voice", number=1, status="live", definition={})
    batch = old.get_model("survey", "InvitationBatch").objects.create(issued_by_id=_police().pk, size=20)
    Invitation, Draft = old.get_model("survey", "Invitation"), old.get_model("survey", "Draft")
    h = {name: codes.code_hash(codes.new_code(), "invitation") for name in ("burnt", "unused", "taken")}
    Invitation.objects.create(batch=batch, code_hash=h["burnt"], used=True)
    Invitation.objects.create(batch=batch, code_hash=h["unused"], used=False)
    Invitation.objects.create(batch=batch, code_hash=h["taken"], used=True)
    rows = {}
    for name, burnt in (("burnt", True), ("unused", False), ("taken", False), ("open", False)):
        rows[name] = Draft.objects.create(key_hash=uuid.uuid4().hex, version=version, answers={"q": name},
                                          invitation_hash="" if name == "open" else h[name],
                                          code_burnt=burnt, expires=999999).pk
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    drafts = {d["id"]: d for d in new.get_model("survey", "Draft").objects.values()}
    assert drafts[rows["burnt"]]["verified"] and drafts[rows["unused"]]["verified"]
    assert not drafts[rows["open"]]["verified"] and rows["taken"] not in drafts
    assert "invitation_hash" not in drafts[rows["burnt"]]
    assert new.get_model("survey", "Invitation").objects.filter(used=True).count() == 3
    executor = MigrationExecutor(connection)  # back to the latest schema, for the tests that follow
    executor.migrate(executor.loader.graph.leaf_nodes("survey"))
