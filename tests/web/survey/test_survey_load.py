"""Load: 200 respondents send their answers at the same moment, over HTTP on loopback, to gunicorn on
PostgreSQL; every accepted response waits in the batch pool (nothing in the database at the send, as
deployed) and is stored by the weekly ``survey_flush``, none fails; p50 and p95 of the send go to
docs/web-survey.md.

Runs only on PostgreSQL (``bash scripts/test-web-postgres.sh tests/web/survey/test_survey_load.py``): SQLite
serialises every write, which is not what a deployment runs. ``VRU_SURVEY_LOAD_N`` changes the number."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection

from vru.web.survey import drafts
from vru.web.survey import pool as survey_pool
from vru.web.survey.demo import load_and_publish
from vru.web.survey.models import Response

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
N = int(os.environ.get("VRU_SURVEY_LOAD_N", "200"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _respondent(base: str, version, barrier: threading.Barrier) -> tuple[int, float]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def get(path):
        with opener.open(base + path, timeout=120) as r:
            return r.read().decode()

    def post(path, data):
        body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(base + path, data=body, headers={"Referer": base + path})
        try:
            with opener.open(req, timeout=120) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    html = get("/survey/en/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert post("/survey/en/", {"csrfmiddlewaretoken": token, "code": ""}) == 302
    q = version.questionnaire
    for i, group in enumerate(q.groups, start=1):
        data = {"csrfmiddlewaretoken": token, "version": version.pk}
        for question in q.group_questions(group):
            data[question.key] = "fine" if question.text else question.options[i % len(question.options)]
        assert post(f"/survey/en/q/{i}/", data) == 302
    barrier.wait(timeout=600)
    t0 = time.perf_counter()
    status = post("/survey/en/check/", {"csrfmiddlewaretoken": token, "version": version.pk})
    return status, time.perf_counter() - t0


def test_200_concurrent_submissions_are_all_stored(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the load test runs on PostgreSQL (scripts/test-web-postgres.sh)")
    version = load_and_publish()
    __import__("shutil").rmtree(drafts.store().root, ignore_errors=True)  # the workers' store, emptied
    port = _free_port()
    db = connection.settings_dict
    # as deployed: K = 10 and no flush at the send (every response waits in the pool for the weekly flush)
    from django.conf import settings

    # the servers encrypt the pool under the key this process decrypts with (under pytest-xdist they once
    # disagreed: tests/web/conftest.py now rereads the settings in each worker; said here as well)
    env = {**os.environ, "DJANGO_SECRET_KEY": settings.SECRET_KEY,
           "VRU_SURVEY_NETWORK_RATE": f"{10 * N}/h", "VRU_SURVEY_BATCH": "10",
           "VRU_SURVEY_FLUSH_ON_SEND": "0",
           "DATABASE_URL": f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
                           f"{db['PORT'] or 5432}/{db['NAME']}"}
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:vru.web.gunicorn_conf",
                               "vru.web.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "4",
                               "-k", "gthread", "--threads", "8"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        barrier = threading.Barrier(N)
        with ThreadPoolExecutor(max_workers=N) as pool:
            outcomes = list(pool.map(lambda _: _respondent(base, version, barrier), range(N)))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    statuses = [s for s, _ in outcomes]
    seconds = sorted(t for _, t in outcomes)
    accepted = statuses.count(302)
    p50 = statistics.median(seconds)
    p95 = seconds[int(0.95 * (len(seconds) - 1))]
    print(f"\nsurvey load: {N} concurrent sends, {accepted} accepted, p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms")
    assert statuses == [302] * N, sorted(set(statuses))
    assert Response.objects.count() == 0 and survey_pool.pool().waiting() == accepted  # nothing at the send
    # the weekly flush writes them all (one batch: all unverified, at least 10)
    call_command("survey_flush", stdout=io.StringIO(), stderr=io.StringIO())
    assert Response.objects.count() == accepted == N and survey_pool.pool().waiting() == 0
    assert drafts.store().files() == []  # each draft went with its send
