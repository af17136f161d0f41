"""Anonymity fixes from review 14 (docs/web-survey.md, "Anonymity"): the CSRF cookie, the rate-limit keys,
the cache, and the database's own metadata (PostgreSQL xmin)."""

from __future__ import annotations

import pytest
from django.test import Client
from factories import complete_survey, user

pytestmark = pytest.mark.django_db
IP = "198.51.100.23"
UA = "Mozilla/5.0 (AnonTest2) UA-77e1"


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def _police():
    return user("police-xmin@example.org", "police analyst")


def _complete(c: Client, version, code: str = "") -> None:
    complete_survey(c, version, code=code, text="Kind but slow.")


def _rows(sql: str) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


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
