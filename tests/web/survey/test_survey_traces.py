"""Anonymity across the whole flow: after 100 responses nothing in the database, the logs, the caches or the
draft files holds an address, a user agent, a time finer than the ISO week, or a code's link to a response."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from factories import answer_survey, send_survey, start_survey, survey_page
from survey_helpers import IP, UA, client, n_drafts

from vru.web.survey import codes, drafts, invitations, pool
from vru.web.survey.models import Answer, Invitation, Response
from vru.web.survey.ratelimit import LIMITER

pytestmark = pytest.mark.django_db


def _all_db_text() -> str:
    """Every row of every table of the database, as text."""
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')
            chunks.append(f"{table}: " + repr(cur.fetchall()))
    return "\n".join(chunks)


def _cache_text(written_keys: list[str]) -> str:
    """Every live entry of both caches, read through the cache backend: the values as the backend decodes
    them (Django's file cache keeps each value as a zlib-compressed pickle under an md5 of its key, so a grep
    of the raw files finds nothing) and the keys written during the test (recorded by ``_record_keys``)."""
    import pickle
    import zlib

    chunks = [repr(written_keys), repr(LIMITER.entries())]
    for alias in ("default", "ratelimit"):
        cache = caches[alias]
        if hasattr(cache, "_list_cache_files"):  # FileBasedCache: its own file format
            for fname in cache._list_cache_files():
                with open(fname, "rb") as f:
                    if not cache._is_expired(f):
                        chunks.append(repr(pickle.loads(zlib.decompress(f.read()))))
        elif hasattr(cache, "_cache"):  # LocMemCache
            chunks += [repr(k) + repr(pickle.loads(v)) for k, v in cache._cache.items()]
        else:
            pytest.fail(f"cache {alias}: no way to read its entries ({type(cache).__name__})")
    return "\n".join(chunks)


def test_after_100_responses_nothing_holds_an_address_agent_time_or_code_link(version, police, capsys,
                                                                             _record_keys, monkeypatch):
    written: list[bytes] = []  # every draft file ever written, as written
    real_write = drafts.DraftStore._write

    def spy(self, folder, name, data, week):
        written.append(data)
        return real_write(self, folder, name, data, week)

    monkeypatch.setattr(drafts.DraftStore, "_write", spy)
    caches["default"].clear()
    # the cache reader must see what is there: a planted canary (key and value) is found, then removed
    caches["ratelimit"].set(f"canary-{IP}", {"agent": UA}, 60)
    planted = _cache_text(_record_keys)
    assert f"canary-{IP}" in planted and UA in planted
    caches["ratelimit"].delete(f"canary-{IP}")
    _record_keys.clear()
    assert UA not in _cache_text(_record_keys)
    _, issued = invitations.issue(police, 60)
    resume_codes = []
    monkeypatch.setenv("VRU_SURVEY_BATCH", "10")  # responses go to the database in batches of 10
    for i in range(100):
        lang = version.questionnaire.languages[i % 7]
        c = start_survey(client(), lang=lang, code=issued[i] if i < 60 else "")
        resume_codes.append(c.cookies["vru_survey"].value)
        answer_survey(c, version, lang=lang)
        send_survey(c, version, lang=lang)
        assert Response.objects.count() % 10 == 0  # only whole batches are ever in the database
    call_command("survey_flush", "--all", stdout=io.StringIO(), stderr=io.StringIO())
    assert pool.pool().waiting() == 0
    assert Response.objects.count() == 100 and Invitation.objects.filter(used=True).count() == 60
    # the drafts: none left (each went with its send), and no file ever held an answer or a code in clear
    assert drafts.store().files() == [] and len(written) == 100 * (1 + len(version.questionnaire.groups))
    free_text = survey_page(version, version.questionnaire.groups[-1])
    clear = [v for v in free_text.values() if isinstance(v, str) and len(v) > 20]
    assert clear, "the free-text answer the check looks for"
    for data in written:
        assert data.startswith(drafts.MAGIC)
        for secret in clear + issued + resume_codes + ["E09000001", '"answers"', '"verified"']:
            assert secret.encode() not in data
    # refused requests on the respondent pages, in every language: none may leave a line with its page
    for i, lang in enumerate(version.questionnaire.languages):
        c = client()
        assert c.post(f"/survey/{lang}/", {"code": codes.new_code()}).status_code == 400
        assert c.post(f"/survey/{lang}/", {"code": ""}).status_code == 302
        assert c.post(f"/survey/{lang}/q/1/", {"version": version.pk, "borough": "zzz"}).status_code == 400
        assert c.post(f"/survey/{lang}/check/", {"version": "999"}).status_code == 409
        assert c.get(f"/survey/{lang}/q/{50 + i}/").status_code == 404
        assert client().get(f"/survey/{lang}/check/").status_code == 404  # no draft
    # no column of the survey's response-side tables holds a time, and none points to an invitation
    from django.db import models

    for model in (Response, Answer, Invitation):
        for f in model._meta.get_fields():
            assert not isinstance(f, models.DateField | models.DateTimeField | models.TimeField), f
            if f.is_relation and f.related_model is not None:
                assert {model, f.related_model} != {Response, Invitation}, f
        assert isinstance(model._meta.pk, models.UUIDField)
    assert Response._meta.ordering == ["id"]
    db = _all_db_text()
    logs = capsys.readouterr()
    logs = logs.out + logs.err
    cache = _cache_text(_record_keys)
    assert LIMITER.entries(), "the flow counted nothing: the check of the counters would be empty"
    assert not _record_keys, "the survey wrote to a Django cache"
    assert not re.search(r"/survey/[a-z]{2,3}/", logs), "a log line names a respondent's language or page"
    for where, text in (("database", db), ("logs", logs), ("cache", cache)):
        assert IP not in text and "203.0.113" not in text, where
        assert UA not in text and "AnonTest" not in text, where
        assert "referrer.example" not in text, where
        for code in issued + resume_codes:
            assert code not in text and codes.display(code) not in text, where
    # no invitation hash is anywhere on the response side
    hashes = set(Invitation.objects.values_list("code_hash", flat=True))
    resp_side = repr(list(Response.objects.values())) + repr(list(Answer.objects.values()))
    assert not any(h in resp_side for h in hashes)
    assert n_drafts() == 7  # only the 7 started for the refused requests: each completion's went
    # the session store: the flow opens no session at all
    from django.contrib.sessions.models import Session

    assert Session.objects.count() == 0
    # the finest time is the ISO week: the database holds no timestamp of today for a response
    today = __import__("datetime").date.today().isoformat()
    response_tables = [t for t in connection.introspection.table_names() if t.startswith("survey_")
                       and t not in ("survey_invitationbatch",)]
    with connection.cursor() as cur:
        for table in response_tables:
            cur.execute(f'SELECT * FROM "{table}"')
            assert today not in repr(cur.fetchall()), table
