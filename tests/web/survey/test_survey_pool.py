"""The batch pool (vru.web.survey.pool; docs/web-survey.md, "The batch pool"): a send writes its response
to an encrypted file, and responses go to the database in batches of at least K (VRU_SURVEY_BATCH), each
in one transaction, so that the order of transaction ids no longer pairs a burnt code with its response;
as deployed only the weekly survey_flush writes them. Most tests here run as the test suite does, with a
flush at the send (VRU_SURVEY_FLUSH_ON_SEND, conftest.py); the tests named "as deployed" and "once per ISO
week" run without it."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from factories import at_once, user
from survey_helpers import FREE_TEXT, send

from vru.web.survey import codes, invitations, pool
from vru.web.survey.models import Answer, Invitation, Response

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_store")]


def _police():
    return user("police-pool@example.org", "police analyst")


def _rows(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _pg():
    if connection.vendor != "postgresql":
        pytest.skip("transaction ids (xmin): PostgreSQL")


@override_settings(VRU_SURVEY_BATCH=10)
def test_a_burnt_code_narrows_only_to_a_batch_of_at_least_k_verified_responses(version):
    """The reviewer's attack: a DBA orders by xmin and takes, for each used invitation, "the first verified
    response written after the burn". With the pool, nothing is written until 10 verified responses wait,
    and then the 10 are written by one transaction: every burn's candidates are 10, not 1."""
    _pg()
    _, issued = invitations.issue(_police(), 20)
    for n, code in enumerate(issued[:12]):
        send(version, code, n)
        stored = Response.objects.count()
        assert stored == (10 if n >= 9 else 0), (n, stored)
        assert pool.pool().waiting() == n + 1 - stored
    xmins = _rows("SELECT DISTINCT xmin::text FROM survey_response WHERE verified")
    assert len(xmins) == 1  # the 10 verified share one transaction id
    burns = [row[0] for row in _rows("SELECT xmin::text::bigint FROM survey_invitation WHERE used")]
    assert len(burns) == 12
    linked = 0
    for burn in burns:
        candidates = _rows("""SELECT r.id FROM survey_response r WHERE r.verified AND r.xmin::text::bigint = (
                                SELECT min(r2.xmin::text::bigint) FROM survey_response r2
                                WHERE r2.verified AND r2.xmin::text::bigint > %s)""", [burn])
        assert len(candidates) == 0 or len(candidates) >= 10, (burn, len(candidates))
        linked += bool(candidates)
    assert linked == 10  # the two burnt after the batch have no candidate yet (their responses are pooled)
    # the probe's own query ("the first verified response after the burn", ties broken by the table)
    truth = {codes.code_hash(code, "invitation"): f"{FREE_TEXT} respondent {n}"
             for n, code in enumerate(issued)}
    guesses = _rows("""
        SELECT i.code_hash, (SELECT a.text FROM survey_response r JOIN survey_answer a ON a.response_id = r.id
                             WHERE r.verified AND a.text <> '' AND r.xmin::text::bigint > i.xmin::text::bigint
                             ORDER BY r.xmin::text::bigint LIMIT 1)
        FROM survey_invitation i WHERE i.used""")
    hits = sum(truth[h] == t for h, t in guesses if t is not None)
    assert hits <= 2  # 1/K of the 10 on average; the order of ties is the batch's random order


@override_settings(VRU_SURVEY_BATCH=10)
def test_a_dated_row_between_two_sends_brackets_no_single_response(version):
    """A user row (it has a date) written between each two sends: the responses between any two
    consecutive dated rows, by xmin, are none or a whole batch of at least 10."""
    _pg()
    _, issued = invitations.issue(_police(), 20)
    for n, code in enumerate(issued[:11]):
        user(f"dated-{n}@example.org")
        send(version, code, n)
    user("dated-last@example.org")
    marks = [row[0] for row in _rows("SELECT xmin::text::bigint FROM accounts_user "
                                     "WHERE email LIKE 'dated-%%' ORDER BY xmin::text::bigint")]
    assert len(marks) == 12 and Response.objects.count() == 10
    for lo, hi in zip(marks, marks[1:], strict=False):
        (between,), = _rows("SELECT count(*) FROM survey_response WHERE xmin::text::bigint > %s "
                            "AND xmin::text::bigint < %s", [lo, hi])
        assert between in (0, 10), (lo, hi, between)


@override_settings(VRU_SURVEY_BATCH=10)
def test_a_crash_after_the_commit_before_the_files_go_duplicates_nothing(version, tmp_path):
    for n in range(3):
        send(version, "", n)
    assert Response.objects.count() == 0 and pool.pool().waiting() == 3
    saved = tmp_path / "saved"
    shutil.copytree(pool.pool().root, saved)
    result = pool.flush(everything=True)
    assert result.written == 3 and Response.objects.count() == 3 and pool.pool().waiting() == 0
    answers = Answer.objects.count()
    for f in saved.iterdir():  # the crash: the commit happened, the files were never deleted
        shutil.copy2(f, pool.pool().root / f.name)
    assert pool.pool().waiting() == 3
    again = pool.flush(everything=True)
    assert again.written == 0 and pool.pool().waiting() == 0
    assert Response.objects.count() == 3 and Answer.objects.count() == answers


@override_settings(VRU_SURVEY_BATCH=10)
def test_two_flushes_at_once_write_each_response_once(version):
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once: PostgreSQL")
    for n in range(6):
        send(version, "", n)
    results = at_once(3, lambda _: pool.flush(everything=True).written, timeout=60)
    assert not [r for r in results if isinstance(r, Exception)] and sorted(results) == [0, 0, 6], results
    assert Response.objects.count() == 6 and pool.pool().waiting() == 0


@override_settings(VRU_SURVEY_BATCH=10)
def test_pool_files_are_encrypted_and_all_one_size(version):
    _, issued = invitations.issue(_police(), 20)
    send(version, issued[0], 0)
    send(version, "", 1)
    short = version.questionnaire
    c = Client()  # a third respondent who leaves the free text empty: the file is no smaller
    assert c.post("/survey/en/", {"code": ""}).status_code == 302
    for i, group in enumerate(short.groups, start=1):
        data = {"version": version.pk}
        for x in short.group_questions(group):
            if not x.text:
                data[x.key] = x.options[0]
        assert c.post(f"/survey/en/q/{i}/", data).status_code == 302
    assert c.post("/survey/en/check/", {"version": version.pk}).status_code == 302
    files = pool.pool().paths()
    assert len(files) == 3 and Response.objects.count() == 0
    assert len({f.stat().st_size for f in files}) == 1
    for f in files:
        data = f.read_bytes()
        assert data.startswith(pool.MAGIC)
        for clear in (FREE_TEXT, "Pool-canary", '"verified"', '"answers"', issued[0]):
            assert clear.encode() not in data
        assert f.stat().st_mode & 0o077 == 0
    assert pool.pool().root.stat().st_mode & 0o077 == 0
    # a file changed by anyone does not open, and is left in place with a clear error
    tampered = bytearray(files[0].read_bytes())
    tampered[-1] ^= 1
    files[0].write_bytes(bytes(tampered))
    result = pool.flush(everything=True)
    assert result.written == 2 and len(result.errors) == 1 and files[0].name in result.errors[0]


def test_every_demo_questionnaire_fits_one_pool_file():
    from vru.web.survey.questionnaire import load_folder

    for folder in ("victim-voice-1", "victim-voice-2", "victim-voice-3"):
        assert pool.plain_bound(load_folder(folder)) < pool.SIZE


@override_settings(VRU_SURVEY_BATCH=10)
def test_survey_flush_writes_whole_batches_and_all_only_when_asked(version):
    _, issued = invitations.issue(_police(), 20)
    for n in range(3):
        send(version, issued[n], n)
    for n in range(2):
        send(version, "", n)
    out, err = io.StringIO(), io.StringIO()
    call_command("survey_flush", stdout=out, stderr=err)
    assert Response.objects.count() == 0 and "0 responses written" in out.getvalue() and not err.getvalue()
    assert "5 waiting" in out.getvalue()
    call_command("survey_flush", "--all", stdout=out, stderr=err)
    assert "warning" in err.getvalue() and "5 responses written in 2 batches" in out.getvalue()
    assert Response.objects.filter(verified=True).count() == 3 and Response.objects.count() == 5
    assert pool.pool().waiting() == 0
    assert Invitation.objects.filter(used=True).count() == 3


def test_the_iso_week_stored_is_the_week_of_completion(version, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    with override_settings(VRU_SURVEY_BATCH=10):
        with monkeypatch.context() as m:  # not monkeypatch.undo(): that also undoes conftest's drafts folder
            m.setattr(timezone, "localdate", lambda: dt.date(2026, 3, 4))  # week 2026-10
            send(version, "", 0)
        pool.flush(everything=True)
    r = Response.objects.get()
    assert (r.iso_year, r.iso_week) == (2026, 10) != codes.iso_week()


@override_settings(VRU_SURVEY_BATCH=10)
def test_the_shuffle_writes_whole_batches_first(version):
    _, issued = invitations.issue(_police(), 20)
    for n in range(12):
        with override_settings(VRU_SURVEY_BATCH=100):  # nothing written at the sends
            send(version, issued[n], n)
    assert Response.objects.count() == 0
    out = io.StringIO()
    call_command("survey_shuffle", stdout=out)
    assert "12 pooled responses written in 1 batches" in out.getvalue()
    assert Response.objects.count() == 12 and pool.pool().waiting() == 0


def test_a_bad_batch_size_is_refused_clearly(settings):
    from django.core.exceptions import ImproperlyConfigured

    for bad in ("0", "ten", -3):
        settings.VRU_SURVEY_BATCH = bad
        with pytest.raises(ImproperlyConfigured, match="VRU_SURVEY_BATCH"):
            pool.batch_size()


def test_the_shuffle_still_runs_where_it_cannot_read_the_pool(version):
    from unittest import mock

    send(version, "", 0)  # K = 1 (the test session's setting): written at once
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(pool.Pool, "flush", side_effect=PermissionError(13, "Permission denied")):
        call_command("survey_shuffle", stdout=out, stderr=err)
    assert "not flushed here" in err.getvalue() and "1 responses and" in out.getvalue()


@override_settings(VRU_SURVEY_BATCH=10)
def test_files_left_by_a_crash_after_the_commit_never_count_toward_k(version, tmp_path):
    """A crash after a batch's commit, before its files went: those files are deleted at the next flush,
    under its lock, and do not count toward K, so they never make a batch of fewer than K fresh responses
    (before: 7 stale files and 3 new sends made a batch of 3)."""
    for n in range(9):
        send(version, "", n)
    saved = {p.name: p.read_bytes() for p in pool.pool().paths()}
    send(version, "", 9)  # the 10th: the batch (the test suite flushes at the send)
    assert Response.objects.count() == 10 and pool.pool().waiting() == 0
    for name in list(saved)[:7]:  # the crash: 7 of the batch's files still there
        (pool.pool().root / name).write_bytes(saved[name])
    for n in range(10, 13):
        send(version, "", n)
    assert Response.objects.count() == 10  # 3 fresh responses are fewer than K: nothing written
    assert pool.pool().waiting() == 3  # and the 7 stale files are gone
    result = pool.flush()
    assert (result.written, result.stale, result.waiting) == (0, 0, 3)
    for n in range(13, 20):
        send(version, "", n)
    assert Response.objects.count() == 20 and pool.pool().waiting() == 0


@override_settings(VRU_SURVEY_BATCH=10)
def test_every_response_of_a_batch_has_the_batch_s_latest_week(version, monkeypatch):
    """A batch spanning a week boundary is stored with one week, the latest: a week's count never singles
    out the one response of the batch sent in the next week."""
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: dt.date(2026, 12, 13))  # Sunday of 2026-W50
    for n in range(9):
        send(version, "", n)
    monkeypatch.setattr(timezone, "localdate", lambda: dt.date(2026, 12, 14))  # Monday of 2026-W51
    send(version, "", 9)
    assert Response.objects.count() == 10
    assert set(Response.objects.values_list("iso_year", "iso_week")) == {(2026, 51)}


@override_settings(VRU_SURVEY_BATCH=10, VRU_SURVEY_FLUSH_ON_SEND=False)
def test_as_deployed_a_send_writes_nothing_and_dated_rows_bracket_no_batch(version):
    """As deployed (no flush at the send), twenty sends with a dated row after each ten write nothing to
    the database; the weekly flush then writes them, after every dated row: a response can be dated only
    to the week between two weekly flushes (before: each batch of ten sat between two user rows)."""
    for n in range(20):
        send(version, "", n)
        if n % 10 == 9:
            user(f"dated-pool-{n}@example.org")
    assert Response.objects.count() == 0 and pool.pool().waiting() == 20
    out = io.StringIO()
    call_command("survey_flush", stdout=out, stderr=io.StringIO())
    assert "20 responses written in 1 batches" in out.getvalue()
    assert Response.objects.count() == 20 and pool.pool().waiting() == 0
    if connection.vendor == "postgresql":
        (last_user,), = _rows("SELECT max(xmin::text::bigint) FROM accounts_user "
                              "WHERE email LIKE 'dated-pool-%%'")
        xmins = _rows("SELECT DISTINCT xmin::text::bigint FROM survey_response")
        assert len(xmins) == 1 and xmins[0][0] > last_user


@override_settings(VRU_SURVEY_BATCH=10, VRU_SURVEY_FLUSH_ON_SEND=False)
def test_survey_flush_runs_at_most_once_per_iso_week(version, monkeypatch):
    import datetime as dt
    import os

    from django.utils import timezone

    for n in range(10):
        send(version, "", n)
    out, err = io.StringIO(), io.StringIO()
    call_command("survey_flush", stdout=out, stderr=err)
    assert Response.objects.count() == 10 and not err.getvalue()
    year, week = codes.iso_week()
    record = pool.pool().root / pool.WEEK_FILE
    assert record.read_text() == f"{year}-W{week:02d}\n"  # a week, nothing finer
    monday = dt.datetime.combine(dt.date.fromisocalendar(year, week, 1), dt.time(), tzinfo=dt.UTC)
    assert os.stat(record).st_mtime == monday.timestamp()
    assert record.name not in {p.name for p in pool.pool().paths()}
    for n in range(10, 22):
        send(version, "", n)
    out = io.StringIO()
    call_command("survey_flush", stdout=out, stderr=io.StringIO())  # the same week: nothing
    assert "nothing written: this ISO week's flush ran already" in out.getvalue()
    assert "12 waiting" in out.getvalue()
    call_command("survey_shuffle", stdout=(shuffled := io.StringIO()))  # nor does the nightly shuffle flush
    assert "this ISO week's flush ran already" in shuffled.getvalue()
    assert Response.objects.count() == 10 and pool.pool().waiting() == 12
    today = timezone.localdate()
    monkeypatch.setattr(timezone, "localdate", lambda: today + dt.timedelta(days=7))
    call_command("survey_flush", stdout=(out := io.StringIO()), stderr=io.StringIO())  # the next week
    assert "12 responses written in 1 batches" in out.getvalue()
    assert Response.objects.count() == 22 and pool.pool().waiting() == 0
    # --force-week flushes again in the same week, with a warning
    for n in range(22, 32):
        send(version, "", n)
    call_command("survey_flush", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "nothing written" in out.getvalue() and Response.objects.count() == 22
    call_command("survey_flush", "--force-week", stdout=(out := io.StringIO()), stderr=(err := io.StringIO()))
    assert "warning: --force-week" in err.getvalue() and "10 responses written" in out.getvalue()
    assert Response.objects.count() == 32


@override_settings(VRU_SURVEY_BATCH=10, VRU_SURVEY_FLUSH_ON_SEND=False)
def test_a_damaged_week_record_stops_the_weekly_flush_with_a_clear_error(version):
    from django.core.management.base import CommandError

    for n in range(10):
        send(version, "", n)
    (pool.pool().root / pool.WEEK_FILE).write_text("last Tuesday 14:02\n")
    with pytest.raises(CommandError, match=r"\.flushed-week: does not hold an ISO week"):
        call_command("survey_flush", stdout=io.StringIO(), stderr=io.StringIO())
    assert Response.objects.count() == 0  # not known whether this week's flush ran: nothing written
    call_command("survey_flush", "--force-week", stdout=io.StringIO(), stderr=io.StringIO())
    assert Response.objects.count() == 10
    year, week = codes.iso_week()
    assert (pool.pool().root / pool.WEEK_FILE).read_text() == f"{year}-W{week:02d}\n"


@override_settings(VRU_SURVEY_BATCH=10, VRU_SURVEY_FLUSH_ON_SEND=False)
def test_a_flush_that_fails_half_way_is_not_run_again_in_the_same_week(version, monkeypatch):
    """The week is recorded before the first batch: a rerun after a failure (an administrator restarting
    the unit) writes nothing until next week, so no batch can be dated to the hours since a dated row."""
    import datetime as dt

    from django.utils import timezone

    for n in range(10):
        send(version, "", n)

    def lost(group):
        raise RuntimeError("the database connection was lost")

    with monkeypatch.context() as m:
        m.setattr(pool, "_write_batch", lost)
        with pytest.raises(RuntimeError, match="connection was lost"):
            call_command("survey_flush", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("survey_flush", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "nothing written: this ISO week's flush ran already" in out.getvalue()
    assert Response.objects.count() == 0 and pool.pool().waiting() == 10  # nothing lost: they wait
    today = timezone.localdate()
    monkeypatch.setattr(timezone, "localdate", lambda: today + dt.timedelta(days=7))
    call_command("survey_flush", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "10 responses written in 1 batches" in out.getvalue() and Response.objects.count() == 10


@override_settings(VRU_SURVEY_BATCH=10, VRU_SURVEY_FLUSH_ON_SEND=False)
def test_a_week_recorded_in_the_future_is_an_error_until_forced(version):
    """A run under a wrong clock must not stop every later flush silently."""
    from django.core.management.base import CommandError

    for n in range(10):
        send(version, "", n)
    year, week = codes.iso_week()
    (pool.pool().root / pool.WEEK_FILE).write_text(f"{year + 1}-W10\n")
    with pytest.raises(CommandError, match=r"recorded in week .*-W10, after this week"):
        call_command("survey_flush", stdout=io.StringIO(), stderr=io.StringIO())
    assert Response.objects.count() == 0
    call_command("survey_flush", "--force-week", stdout=io.StringIO(), stderr=io.StringIO())
    assert Response.objects.count() == 10
    assert (pool.pool().root / pool.WEEK_FILE).read_text() == f"{year}-W{week:02d}\n"


def test_flush_on_send_is_off_unless_set_and_a_bad_value_is_refused(settings, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("VRU_SURVEY_FLUSH_ON_SEND", raising=False)
    assert not hasattr(settings, "VRU_SURVEY_FLUSH_ON_SEND") and pool.flush_on_send() is False
    monkeypatch.setenv("VRU_SURVEY_FLUSH_ON_SEND", "1")
    assert pool.flush_on_send() is True
    monkeypatch.setenv("VRU_SURVEY_FLUSH_ON_SEND", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="VRU_SURVEY_FLUSH_ON_SEND"):
        pool.flush_on_send()
