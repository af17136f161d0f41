"""The draft store when things go wrong: two purges at once, a write that fails (disk full), a worker killed
with a draft claimed, a double click, and what the folders' times say (vru.web.survey.drafts)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from unittest import mock

import pytest
from factories import at_once, start_survey, survey_page

from vru.web.survey import codes, drafts

pytestmark = pytest.mark.django_db


def _week(days: int) -> int:
    return codes.current_week_number(dt.date.today() + dt.timedelta(days=days))


def _page_one(version) -> dict:
    return survey_page(version, version.questionnaire.groups[0], "words")


def test_purges_at_once_each_take_a_folder_once_and_never_fail():
    store = drafts.store()
    weeks = [_week(-7 * i) for i in range(1, 9)]
    for week in weeks:
        for i in range(15):
            store._write(store._ensure(week), f"{i:064d}", b"x", week)
    counts = at_once(4, lambda _: store.purge(), timeout=30)
    assert [c for c in counts if isinstance(c, Exception)] == [] and sum(counts) == 8 * 15
    assert [p for p in store.root.iterdir() if p.name.isdigit() or p.name.startswith(drafts.PURGING)] == []


def test_a_purge_that_died_half_way_is_finished_by_the_next(tmp_path):
    store = drafts.DraftStore(tmp_path / "d")
    left = store.root / f"{drafts.PURGING}{_week(-7)}-0123456789abcdef"
    left.mkdir(parents=True)
    (left / "a").write_bytes(b"x")
    assert store.purge() == 0 and not left.exists()
    assert drafts.DraftStore(tmp_path / "nothing-here").purge() == 0


def test_two_starts_creating_the_store_at_once_both_work(tmp_path):
    store = drafts.DraftStore(tmp_path / "a" / "b" / "drafts")
    created = at_once(6, lambda _: store.create(codes.new_code(), 1, False), timeout=30)
    assert [c for c in created if isinstance(c, Exception)] == [] and store.count() == 6


def test_a_legacy_file_whose_reencryption_fails_still_opens(version):
    store = drafts.store()
    code = codes.new_code()
    key = codes.code_hash(code, "resume")
    week = codes.draft_expiry()
    content = {"version": version.pk, "answers": {}, "verified": False}
    store._write(store._ensure(week), key, drafts.legacy_bytes(content, key), week)
    with mock.patch.object(drafts.DraftStore, "_write", side_effect=OSError(28, "No space left on device")):
        assert store.load(code).version_id == version.pk
    [path] = store.files()
    assert path.name == key and path.read_bytes().startswith(drafts.LEGACY)  # put back, not claimed
    assert store.load(code) is not None and store.files()[0].read_bytes().startswith(drafts.MAGIC)


def test_a_claim_left_by_a_killed_worker_is_put_back_after_the_limit(version, monkeypatch):
    c = start_survey()
    resume = c.cookies["vru_survey"].value
    store = drafts.store()
    draft = store.load(resume)
    claim = store.claim(draft)  # the worker dies here: neither done() nor release()
    assert claim is not None and claim.claimed.name.startswith(f"{drafts.CLAIMED}{draft.key}-")
    assert store.load(resume, wait=0.1) is None  # a fresh claim: a change in progress
    monkeypatch.setattr(drafts, "CLAIM_ABANDONED_S", 0.0)  # ... until it is older than the limit
    time.sleep(0.01)
    again = store.load(resume)
    assert again is not None and again.version_id == version.pk
    assert [p.name for p in store.files()] == [draft.key]  # renamed back; no claim left
    assert c.post("/survey/en/q/1/", _page_one(version)).status_code == 302


def test_a_double_click_waits_for_the_first_save(version):
    c = start_survey()
    resume = c.cookies["vru_survey"].value
    store = drafts.store()
    claim = store.claim(store.load(resume))
    threading.Timer(0.3, claim.release).start()  # the first click's save, still writing
    started = time.monotonic()
    assert store.load(resume) is not None and time.monotonic() - started >= 0.25
    store.claim(store.load(resume)).done()  # sent: a load does not wait for anything
    started = time.monotonic()
    assert store.load(resume) is None and time.monotonic() - started < 1


def test_the_folders_times_are_the_start_of_their_week(version):
    c = start_survey()
    assert c.post("/survey/en/q/1/", _page_one(version)).status_code == 302
    store = drafts.store()
    [path] = store.files()
    week = int(path.parent.name)
    monday = dt.date.fromisocalendar(week // 100, week % 100, 1)
    start = dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC).timestamp()
    assert os.stat(path).st_mtime == start and os.stat(path.parent).st_mtime == start
    now = codes.current_week_number()
    this = dt.datetime.combine(dt.date.fromisocalendar(now // 100, now % 100, 1), dt.time(),
                               tzinfo=dt.UTC).timestamp()
    assert os.stat(store.root).st_mtime == this


def test_a_draft_restored_from_a_backup_after_its_send_is_refused(version):
    c = start_survey()
    q = version.questionnaire
    for i, group in enumerate(q.groups, start=1):
        data = {"version": version.pk}
        for question in q.group_questions(group):
            data[question.key] = "words" if question.text else question.options[0]
        assert c.post(f"/survey/en/q/{i}/", data).status_code == 302
    store = drafts.store()
    backup = {p: p.read_bytes() for p in store.files()}
    resume = c.cookies["vru_survey"].value
    assert c.post("/survey/en/check/", {"version": version.pk}).status_code == 302
    from vru.web.survey.models import Response

    assert Response.objects.count() == 1 and store.files() == []
    markers = list((store.root / drafts.SPENT).rglob("*"))
    assert [p for p in markers if p.is_file()] and all(p.stat().st_size == 0 for p in markers if p.is_file())
    for path, data in backup.items():  # the backup put back
        path.write_bytes(data)
    c.cookies["vru_survey"] = resume  # the flow's end deleted the cookie
    c.cookies["vru_survey"]["path"] = "/survey/"
    assert drafts.store().load(resume) is not None  # the copy opens ...
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 409 and Response.objects.count() == 1
    assert store.files() == []  # the replayed copy went


def test_the_spent_markers_go_with_their_week(version):
    store = drafts.store()
    week = _week(-7)
    folder = store.root / drafts.SPENT / f"{week:06d}"
    folder.mkdir(parents=True)
    (folder / ("e" * 64)).write_bytes(b"")
    store.purge()
    assert not folder.exists()


def test_every_draft_file_has_one_size_whatever_was_answered(version):
    store = drafts.store()
    empty = store.create(codes.new_code(), version.pk, False)
    full = store.create(codes.new_code(), version.pk, True)
    long_text = "\u0001" * 2000  # the costliest characters JSON can be given (6 bytes each)
    store.save(full, lambda answers: {**answers, "comment": long_text, "borough": "E09000001"})
    sizes = {p.stat().st_size for p in store.files()}
    assert len(sizes) == 1 and store.load(empty.code) is not None
