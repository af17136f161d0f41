"""The survey's drafts as encrypted files, not rows (docs/web-survey.md, "Drafts"): what a file holds, who
can open it, a changed file, concurrent sends, a failed send, the purge, and the migration out of the
database."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import stat
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from factories import answer_survey, start_survey

from vru.web.survey import codes, drafts, flow
from vru.web.survey.models import Answer, Response

pytestmark = pytest.mark.django_db
FREE_TEXT = "Zebra-crossing 7741 officer Quixley never rang back"


def _answer_all(c: Client, version, lang: str = "en") -> None:
    answer_survey(c, version, lang=lang, text=FREE_TEXT)


def _answered(version) -> tuple[Client, str, Path]:
    """A respondent who answered every page: their client, resume code and draft file."""
    c = start_survey()
    _answer_all(c, version)
    [path] = drafts.store().files()
    return c, c.cookies["vru_survey"].value, path


def test_a_draft_file_holds_neither_the_answers_nor_the_resume_code_in_clear(version):
    _, resume, path = _answered(version)
    data = path.read_bytes()
    assert path.name == codes.code_hash(resume, "resume")
    assert data.startswith(drafts.MAGIC)
    for clear in (FREE_TEXT, "Quixley", resume, codes.display(resume), '"answers"', "E09000001"):
        assert clear.encode() not in data and clear not in str(path), clear
    assert (len(data) - len(drafts.MAGIC) - 12 - 16) % drafts.PAD == 0  # padded: the size says little
    # it opens with the resume code only, and holds what was answered
    draft = drafts.store().load(resume)
    assert draft.answers["comment"] == FREE_TEXT and draft.version_id == version.pk
    # private to the service's user; the file's time is the start of its expiry week, not when it was saved
    assert stat.S_IMODE(drafts.store().root.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    week = codes.draft_expiry()
    assert path.parent.name == f"{week:06d}"
    monday = dt.date.fromisocalendar(week // 100, week % 100, 1)
    assert path.stat().st_mtime == dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC).timestamp()


def test_a_wrong_resume_code_cannot_open_a_draft(version):
    _, resume, path = _answered(version)
    other = codes.new_code()
    with pytest.raises(drafts.DraftError):
        drafts.decrypt(path.read_bytes(), other, path.name)
    with pytest.raises(drafts.DraftError):  # bound to its name: the right code under another name fails
        drafts.decrypt(path.read_bytes(), resume, codes.code_hash(other, "resume"))
    # the file copied under another code's name does not open with that code either
    shutil.copy(path, path.parent / codes.code_hash(other, "resume"))
    assert drafts.store().load(other) is None
    assert drafts.store().load(resume).answers["comment"] == FREE_TEXT


@pytest.mark.parametrize("damage", ["flip", "truncate", "legacy-forged", "legacy-garbage", "empty"])
def test_a_changed_draft_file_is_refused_cleanly(version, damage):
    c, resume, path = _answered(version)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(drafts.MAGIC) + 20] ^= 0x01
    elif damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "legacy-forged":  # a clear file put in place of the encrypted one, without the key
        plain = b'{"answers": {"comment": "forged"}, "verified": true, "version": %d}' % version.pk
        data = bytearray(drafts.LEGACY + b"0" * 64 + b"\n" + plain)
    elif damage == "legacy-garbage":
        data = bytearray(drafts.legacy_bytes({"answers": {}}, path.name))
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert drafts.store().load(resume) is None
    # the respondent gets "not found or expired", never a server error
    for url in ("/survey/en/code/", "/survey/en/q/2/", "/survey/en/check/"):
        r = c.get(url)
        assert r.status_code == 404 and "We could not find your answers" in r.content.decode(), url
    r = c.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 404 and Response.objects.count() == 0
    r = Client().post("/survey/en/resume/", {"resume_code": resume})
    assert r.status_code == 400 and "not known, or it has expired" in r.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_of_one_draft_store_exactly_one_response(version):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises them anyway)")
    for _ in range(5):
        c = start_survey()
        _answer_all(c, version)
        resume = c.cookies["vru_survey"].value
        barrier = threading.Barrier(2)
        outcomes = []

        def send(resume=resume, barrier=barrier, outcomes=outcomes):
            try:
                draft = flow.find_draft(resume)
                barrier.wait(10)
                flow.complete(draft, "en")
                outcomes.append("sent")
            except flow.Refused as refused:
                outcomes.append(refused.message_id)
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["err.no_draft", "sent"], outcomes
    assert Response.objects.count() == 5 and drafts.store().files() == []
    assert Answer.objects.count() == 5 * len(version.questionnaire.questions)


def test_a_page_saved_after_the_send_does_not_bring_the_draft_back(version):
    c = start_survey()
    _answer_all(c, version)
    draft = flow.find_draft(c.cookies["vru_survey"].value)
    assert c.post("/survey/en/check/", {"version": version.pk}).status_code == 302
    with pytest.raises(flow.Refused):
        flow.save_page(draft, {"comment": "again"})
    assert drafts.store().files() == [] and Response.objects.count() == 1
    with pytest.raises(flow.Refused):  # nor a second send of the same draft object
        flow.complete(draft, "en")
    assert Response.objects.count() == 1


def test_two_tabs_saving_pages_keep_both_pages(version):
    """Each save applies its page to the draft as stored at that moment, not to the copy its request
    loaded: two tabs open on one draft, each saving a page, lose neither."""
    c = start_survey()
    resume = c.cookies["vru_survey"].value
    tab_a, tab_b = flow.find_draft(resume), flow.find_draft(resume)
    flow.save_page(tab_a, {"borough": "E09000001"})
    flow.save_page(tab_b, {"comment": FREE_TEXT})
    assert drafts.store().load(resume).answers == {"borough": "E09000001", "comment": FREE_TEXT}
    flow.save_page(tab_a, {"comment": ""})  # an emptied answer is removed
    assert drafts.store().load(resume).answers == {"borough": "E09000001"}
    assert drafts.store().count() == 1


def _week(days: int) -> int:
    return codes.current_week_number(dt.date.today() + dt.timedelta(days=days))


def test_survey_purge_removes_past_weeks_and_claimed_files_and_keeps_current_ones(version):
    store = drafts.store()
    live = [store.create(codes.new_code(), version.pk, False) for _ in range(2)]
    this_week, last_week, older = codes.current_week_number(), _week(-7), _week(-14)
    # an expired draft, and files a send claimed and a write left behind when their process died
    for week, name in ((last_week, "a" * 64), (older, "b" * 64),
                       (last_week, f"{drafts.CLAIMED}{'c' * 64}-0123456789abcdef"),
                       (last_week, f"{drafts.TEMP}0123456789abcdef")):
        store._write(store._ensure(week), name, b"x", week)
    claimed_now = store._ensure(this_week) / f"{drafts.CLAIMED}{'d' * 64}-0123456789abcdef"
    claimed_now.write_bytes(b"x")  # a send in progress this week: left alone
    (store.root / "lost+found").mkdir()  # not a week: left alone
    out = io.StringIO()
    with mock.patch.object(drafts.Path, "read_bytes", side_effect=AssertionError("purge opened a file")), \
            mock.patch("builtins.open", side_effect=AssertionError("purge opened a file")):
        call_command("survey_purge", stdout=out)
    assert out.getvalue().strip() == "3 expired drafts deleted"
    weeks = sorted(p.name for p in store.root.iterdir())
    assert weeks == sorted({"lost+found", f"{codes.draft_expiry():06d}", f"{this_week:06d}"})
    assert claimed_now.exists()
    assert all(store.load(d.code) is not None for d in live)
    assert os.listdir(store.root / "lost+found") == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_drafts_to_flagged_files_that_their_resume_code_encrypts():
    """0007: each live ``Draft`` row becomes a legacy plaintext file under the same keyed-hash name in its
    expiry week's folder (it cannot be encrypted: the resume code was never stored); the table goes; the
    first access by the resume code encrypts it; an expired row is not moved."""
    import uuid

    from django.db.migrations.executor import MigrationExecutor

    before, after = [("survey", "0006_one_live_version")], [("survey", "0007_drafts_out_of_the_database")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    version = old.get_model("survey", "QuestionnaireVersion").objects.create(
        slug="victim-voice", number=99, status="draft", definition={})
    Draft = old.get_model("survey", "Draft")
    resume = {name: codes.new_code() for name in ("live", "next", "odd", "expired")}
    weeks = {"live": codes.current_week_number(), "next": codes.draft_expiry(), "odd": 999999,
             "expired": _week(-7)}
    for name, code in resume.items():
        Draft.objects.create(id=uuid.uuid4(), key_hash=codes.code_hash(code, "resume"), version=version,
                             answers={"comment": f"{FREE_TEXT} {name}"}, verified=name == "next",
                             expires=weeks[name])
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    assert "survey_draft" not in connection.introspection.table_names()
    store = drafts.store()
    files = {p.name: p for p in store.files()}
    assert codes.code_hash(resume["expired"], "resume") not in files
    for name in ("live", "next", "odd"):
        path = files[codes.code_hash(resume[name], "resume")]
        week = codes.draft_expiry() if name == "odd" else weeks[name]
        assert path.parent.name == f"{week:06d}" and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(drafts.LEGACY)  # flagged as what it is
        draft = store.load(resume[name])  # the resume code opens it ...
        assert draft.answers == {"comment": f"{FREE_TEXT} {name}"} and draft.verified == (name == "next")
        assert draft.version_id == version.pk
        data = path.read_bytes()  # ... and encrypts it
        assert data.startswith(drafts.MAGIC) and FREE_TEXT.encode() not in data
        assert store.load(resume[name]).answers == draft.answers
    # back to the latest schema, for the tests that follow
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("survey"))
