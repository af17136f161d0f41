"""The Victim Voice survey (docs/web-survey.md): questionnaires as data, the respondent's flow, invitations,
bad input, and anonymity."""

from __future__ import annotations

import copy
import html
import io
import json
import re

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from factories import (
    answer_survey,
    complete_survey,
    send_survey,
    start_survey,
    survey_page,
    user,
    user_and_client,
)

from vru.geography.boroughs import BOROUGHS
from vru.taxonomy import categories
from vru.web.accounts.models import AuditLog
from vru.web.survey import codes, drafts, invitations, pool
from vru.web.survey.models import Answer, Invitation, QuestionnaireVersion, Response, VersionLocked
from vru.web.survey.questionnaire import Questionnaire, QuestionnaireError, load_folder
from vru.web.survey.ratelimit import LIMITER, Limiter

pytestmark = pytest.mark.django_db

IP = "203.0.113.77"
UA = "Mozilla/5.0 (AnonTest) UA-9f3c"
REFERER = "https://referrer.example/secret-page"


def n_drafts() -> int:
    return drafts.store().count()



@pytest.fixture
def police(version):
    return user("police@example.org", "police analyst")


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA, HTTP_REFERER=REFERER)


# --- questionnaires as data ---------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["victim-voice-1", "victim-voice-2", "victim-voice-3"])
def test_the_questionnaire_is_data_with_the_platforms_taxonomy_and_boroughs(folder):
    d = load_folder(folder)
    q = Questionnaire(d)
    assert set(q.questions["crime_type"].options) <= set(categories()["code"])
    assert list(q.questions["borough"].options) == list(BOROUGHS) and len(BOROUGHS) == 33
    stages = [k for k, x in q.questions.items() if x.stage]
    assert stages == ["stage_contact", "stage_actions", "stage_followup", "stage_treatment", "stage_overall"]
    assert q.questions["stage_overall"].options == (
        "completely_satisfied", "very_satisfied", "fairly_satisfied", "neither", "fairly_dissatisfied",
        "very_dissatisfied", "completely_dissatisfied", "dont_know")
    rights = [x for x in q.questions.values() if x.right]
    assert [x.right for x in rights] == list(range(1, 13))
    assert all(x.options == ("yes", "no", "not_applicable", "dont_know") for x in rights)
    for key in ("age_band", "sex", "ethnic_group", "disability", "sexual_orientation"):
        assert not q.questions[key].required and "prefer_not_to_say" in q.questions[key].options
    assert q.questions["comment"].text and not q.questions["comment"].required
    assert len(q.languages) >= 7 and {"ar", "ur"} <= set(q.languages)
    assert q.direction("ar") == q.direction("ur") == "rtl" and q.direction("en") == "ltr"
    assert all(q.review(lang) == "not_reviewed" for lang in q.languages if lang != "en")
    assert q.missing_strings() == {}


def test_the_first_page_promises_only_what_is_true_in_every_language(version):
    """Version 3 says, in every language, that the partial answers are kept under the resume code until the
    end, and that for some days whoever runs the database server, its transaction log or its backups could
    tell which code went with which answers (version 2 said only "someone with full access to the database,
    on a quiet day, until the nightly reordering": the heap's row versions and the transaction log keep the
    order and times of the writes longer than that). Versions 1 and 2, which earlier responses were given
    under, are unchanged; every translation of the new strings is marked not reviewed."""
    v1, v2 = (Questionnaire(load_folder(f"victim-voice-{n}")) for n in (1, 2))
    new = version.questionnaire
    assert version.number == 3 and new.languages == v2.languages == v1.languages
    for lang in new.languages:
        page = Client().get(f"/survey/{lang}/").content.decode()
        for key in ("ui.store_3", "ui.notstore_3"):
            assert html.escape(new.text(lang, key)) in page, (lang, key)  # Django escapes quotes too
        assert html.escape(v2.text(lang, "ui.notstore_3"), quote=False) not in page, lang
        assert new.text(lang, "ui.notstore_3") != v2.text(lang, "ui.notstore_3"), lang
        assert lang == "en" or new.review(lang) == "not_reviewed", lang
        for key in ("ui.your_code_text", "err.code_used"):
            assert new.text(lang, key) == v2.text(lang, key) != v1.text(lang, key), (lang, key)
    en = new.text("en", "ui.notstore_3")
    assert "whoever runs the database server, its transaction log or its backups" in en
    assert "which code went with which answers, and roughly when" in en and "restrict" in en
    assert "deleted when you send them, or at the end of next week" in new.text("en", "ui.store_3")
    assert "until the answers are reordered each night" in v2.text("en", "ui.notstore_3")
    assert "when you finish, the code is only marked as used" in v1.text("en", "ui.notstore_3")


def test_a_bad_questionnaire_folder_is_refused_naming_file_and_key(tmp_path):
    from vru.web.survey.questionnaire import data_root

    folder = tmp_path / "v"
    folder.mkdir()
    for f in (data_root() / "victim-voice-1").iterdir():
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    spec = json.loads((folder / "questionnaire.json").read_text())
    spec["option_sets"]["crime_type"].append("shoplifting_by_dragons")
    (folder / "questionnaire.json").write_text(json.dumps(spec))
    with pytest.raises(QuestionnaireError, match=r"questionnaire.json: option_sets.crime_type.*dragons"):
        load_folder(folder)


def test_publishing_is_refused_while_a_language_lacks_a_string():
    d = load_folder("victim-voice-1")
    d = copy.deepcopy(d)
    d["number"] = 2
    del d["strings"]["pl"]["q.right_7"]
    d["strings"]["ar"]["ui.submit"] = "  "
    v = QuestionnaireVersion.objects.create(slug="victim-voice", number=2, definition=d)
    with pytest.raises(ValidationError, match=r"ar: 1 missing \(ui.submit\).*pl: 1 missing \(q.right_7\)"):
        v.publish()
    v.refresh_from_db()
    assert v.status == "draft"


def test_a_live_version_is_never_edited_and_a_new_version_retires_it(version):
    version.definition = {**version.definition, "title": "changed"}
    with pytest.raises(VersionLocked):
        version.save()
    with pytest.raises(VersionLocked):
        QuestionnaireVersion.objects.filter(pk=version.pk).update(number=9)
    with pytest.raises(VersionLocked):
        QuestionnaireVersion.objects.get(pk=version.pk).delete()
    with pytest.raises(VersionLocked):
        QuestionnaireVersion.objects.filter(pk=version.pk).delete()
    d = copy.deepcopy(QuestionnaireVersion.objects.get(pk=version.pk).definition)
    d["number"] = version.number + 1
    v2 = QuestionnaireVersion.objects.create(slug="victim-voice", number=version.number + 1, definition=d)
    v2.publish()
    assert QuestionnaireVersion.objects.get(pk=version.pk).status == "retired"
    assert QuestionnaireVersion.objects.get(pk=v2.pk).status == "live"


def test_the_admin_shows_a_live_version_read_only(version):
    from django.contrib.admin.sites import site

    admin = site._registry[QuestionnaireVersion]
    assert set(admin.get_readonly_fields(None, version)) >= {"definition", "slug", "number"}
    assert not admin.has_delete_permission(None, version)


# --- the respondent's flow ----------------------------------------------------------------------------


def test_an_invitation_link_opened_by_a_preview_records_nothing(version, police):
    _, issued = invitations.issue(police, 20)
    before = (n_drafts(), Invitation.objects.filter(used=True).count(), Response.objects.count())
    c = client()
    for url in (f"/survey/?c={issued[0]}", f"/survey/ar/?c={issued[0]}"):
        r = c.get(url)
        assert r.status_code == 200
    assert issued[0][:4] in r.content.decode()  # the code is carried into the form
    after = (n_drafts(), Invitation.objects.filter(used=True).count(), Response.objects.count())
    assert after == before


def test_a_verified_response_burns_its_code_and_the_code_refuses_a_second(version, police):
    _, issued = invitations.issue(police, 20)
    c = client()
    last = complete_survey(c, version, lang="ar", code=issued[0])
    r = Response.objects.get()
    assert r.verified and r.language == "ar" and r.version == version
    assert (r.iso_year, r.iso_week) == codes.iso_week()
    assert Answer.objects.filter(response=r).count() == len(version.questionnaire.questions)
    assert all(a.version_id == version.pk for a in Answer.objects.all())
    assert Invitation.objects.filter(used=True).count() == 1 and n_drafts() == 0
    # the flow's cookies are gone
    for cookie in ("vru_survey", settings.CSRF_COOKIE_NAME):
        assert last.cookies[cookie].value == "" and last.cookies[cookie]["max-age"] == 0, cookie
    assert "تم إرسال إجاباتك" in c.get("/survey/ar/done/").content.decode()
    # the same code again: refused, nothing written
    c2 = client()
    r = c2.post("/survey/ar/", {"code": issued[0]})
    assert r.status_code == 409
    assert "سبق استخدام هذا الرمز" in r.content.decode()
    assert n_drafts() == 0 and Response.objects.count() == 1


def test_a_code_starts_one_survey_and_is_burnt_at_the_start(version, police):
    _, issued = invitations.issue(police, 20)
    a, b = client(), client()
    complete_survey(a, version, lang="en", code=issued[0])
    assert b.post("/survey/en/", {"code": issued[0]}).status_code == 409
    assert Response.objects.count() == 1
    # the second code: burnt when its survey starts, so a second start is refused while the first is open
    assert a.post("/survey/en/", {"code": issued[1]}).status_code == 302
    assert Invitation.objects.filter(used=True).count() == 2
    assert drafts.store().load(a.cookies["vru_survey"].value).verified
    r = b.post("/survey/en/", {"code": issued[1]})
    assert r.status_code == 409 and "carry on with your resume code" in r.content.decode()
    assert n_drafts() == 1


def test_an_open_link_response_is_unverified(version):
    complete_survey(client(), version, lang="pl")
    assert Response.objects.get().verified is False


def test_an_invented_code_is_refused_with_a_clear_message(version):
    c = client()
    for code in ("ACDE-FGHJ-KMNP", "hello", "0000-0000-0000"):
        r = c.post("/survey/en/", {"code": code})
        assert r.status_code == 400
        assert "This code is not valid" in r.content.decode()
    assert n_drafts() == 0


def test_wrong_codes_are_rate_limited_per_network_without_storing_it(version):
    c = client()
    statuses = [c.post("/survey/en/", {"code": codes.new_code()}).status_code for _ in range(22)]
    assert statuses[:20] == [400] * 20 and statuses[-1] == 429, statuses
    # another network is not limited
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post("/survey/en/", {"code": "ACDE-FGHJ-KMNP"}).status_code == 400


def test_one_code_is_rate_limited_from_any_network(version):
    code = codes.new_code()
    statuses = [Client(REMOTE_ADDR=f"198.51.{i}.1").post("/survey/en/", {"code": code}).status_code
                for i in range(12)]
    assert statuses[:10] == [400] * 10 and statuses[-1] == 429, statuses


def test_each_page_is_in_the_chosen_language_and_direction(version):
    c = client()
    r = c.get("/survey/")
    html = r.content.decode()
    for lang in version.questionnaire.languages:
        assert f'href="/survey/{lang}/"' in html
    assert c.post("/survey/ur/", {"code": ""}).status_code == 302
    for url in ("/survey/ur/", "/survey/ur/code/", "/survey/ur/q/1/", "/survey/ur/q/6/",
                "/survey/ur/resume/"):
        html = c.get(url).content.decode()
        assert '<html lang="ur" dir="rtl"' in html, url
        assert 'id="translation-status" data-review="not_reviewed"' in html, url
        assert 'href="/survey/en/' in html, url  # the language can be changed on every page
    assert '<html lang="en" dir="ltr"' in c.get("/survey/en/q/1/").content.decode()
    assert "translation-status" not in c.get("/survey/en/q/1/").content.decode()


def test_resume_code_brings_back_the_answers_on_another_device(version):
    a = client()
    a.post("/survey/en/", {"code": ""})
    resume_code = a.cookies["vru_survey"].value
    page = a.get("/survey/en/code/").content.decode()
    assert codes.display(resume_code) in page
    data = survey_page(version, "incident")
    data["version"] = version.pk
    assert a.post("/survey/en/q/1/", data).status_code == 302
    b = client()
    r = b.post("/survey/en/resume/", {"resume_code": codes.display(resume_code).lower()})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/q/2/")
    assert 'value="E09000001" selected' in b.get("/survey/en/q/1/").content.decode()
    files = drafts.store().files()
    assert [p.name for p in files] == [codes.code_hash(resume_code, "resume")]
    assert not [p for p in files if resume_code.encode() in p.read_bytes() or resume_code in str(p)]
    bad = client().post("/survey/en/resume/", {"resume_code": "ACDE-FGHJ-KMNP"})
    assert bad.status_code == 400 and "not known" in bad.content.decode()


# --- bad input: refused with a clear message, nothing half-written -------------------------------------


@pytest.fixture
def started(version):
    c = client()
    c.post("/survey/en/", {"code": ""})
    return c


def _draft_state():
    """Every draft file's name and bytes (a write, even of the same answers, changes the bytes)."""
    return {str(p): p.read_bytes() for p in drafts.store().files()}


def test_an_answer_outside_the_scale_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data.update(version=version.pk, stage_overall="ecstatic")
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 400
    assert "Choose one of the answers shown" in r.content.decode()
    assert _draft_state() == before


def test_an_unknown_question_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data.update(version=version.pk, favourite_colour="blue")
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 400 and "not in this survey" in r.content.decode()
    assert _draft_state() == before


def test_a_stale_questionnaire_version_is_refused(version, started):
    before = _draft_state()
    data = survey_page(version, "stages")
    data["version"] = version.pk + 1000
    r = started.post("/survey/en/q/2/", data)
    assert r.status_code == 409 and "The survey has changed" in r.content.decode()
    assert _draft_state() == before
    # a new version published while the draft is open: its answers are refused too, nothing written
    d = copy.deepcopy(version.definition)
    d["number"] = version.number + 1
    QuestionnaireVersion.objects.create(slug="victim-voice", number=d["number"], definition=d).publish()
    data["version"] = version.pk
    assert started.post("/survey/en/q/2/", data).status_code == 409
    assert started.post("/survey/en/check/", {"version": version.pk}).status_code == 409
    assert _draft_state() == before and Response.objects.count() == 0


def test_a_missing_required_answer_and_too_long_text_are_refused(version, started):
    before = _draft_state()
    r = started.post("/survey/en/q/1/", {"version": version.pk, "crime_type": "robbery"})
    assert r.status_code == 400 and "Choose an answer" in r.content.decode()
    r = started.post("/survey/en/q/6/", {"version": version.pk, "comment": "x" * 2001})
    assert r.status_code == 400 and "too long" in r.content.decode()
    assert _draft_state() == before and len(before) == 1
    assert drafts.store().load(started.cookies["vru_survey"].value).answers == {}


def test_sending_before_every_page_is_answered_goes_back_to_the_first_gap(version, started):
    r = started.post("/survey/en/check/", {"version": version.pk})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/q/1/")
    assert Response.objects.count() == 0


def test_pages_without_a_draft_say_so(version):
    r = client().get("/survey/en/q/1/")
    assert r.status_code == 404 and "could not find your answers" in r.content.decode()
    assert client().get("/survey/xx/").status_code == 404


# --- invitations ----------------------------------------------------------------------------------------


def test_police_issue_a_batch_shown_once_and_stored_only_as_keyed_hashes(version, police):
    c = Client()
    c.force_login(police, backend="django.contrib.auth.backends.ModelBackend")
    assert c.get("/survey/staff/invitations/").status_code == 200
    assert Invitation.objects.count() == 0  # a GET issues nothing
    r = c.post("/survey/staff/invitations/", {"count": 20, "note": "week 12 letters"})
    html = r.content.decode()
    shown = re.findall(r'survey-code[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})<', html)
    assert len(shown) == 20 and html.count("data:image/svg+xml") == 20
    assert "no-store" in r["Cache-Control"]
    hashes = set(Invitation.objects.values_list("code_hash", flat=True))
    assert hashes == {codes.code_hash(s, "invitation") for s in shown}
    assert not any(codes.normalise(s) in h for s in shown for h in hashes)
    assert AuditLog.objects.filter(action="issue survey invitations", user=police).count() == 1
    # an analyst may not issue codes
    _, c2 = user_and_client("analyst@example.org", "analyst")
    assert c2.post("/survey/staff/invitations/", {"count": 20}).status_code == 403


def test_the_invitation_command_writes_letters_sms_and_qr_codes(version, police, tmp_path):
    out = tmp_path / "codes.csv"
    call_command("survey_invite", count=20, issued_by=police.email, base_url="https://vru.example/survey/",
                 out=str(out), qr_dir=str(tmp_path / "qr"), stdout=io.StringIO())
    rows = out.read_text().splitlines()
    assert len(rows) == 21 and rows[0] == '"code","link","letter","sms"'
    assert "used up when you start" in rows[1] and "cannot be linked" not in rows[1]
    assert len(list((tmp_path / "qr").glob("*.svg"))) == 20
    assert Invitation.objects.count() == 20
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="exists"):
        call_command("survey_invite", count=20, issued_by=police.email, base_url="https://x/", out=str(out))


# --- anonymity --------------------------------------------------------------------------------------------


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


@pytest.fixture
def _record_keys(monkeypatch):
    """The keys written to any cache during the test (the backends store only a hash of each key)."""
    written: list[str] = []
    for name in ("set", "add", "incr", "set_many", "touch"):
        for cls in {type(caches["default"]), type(caches["ratelimit"])}:
            original = getattr(cls, name)
            if getattr(original, "_recording", False):
                continue

            def wrapper(self, key, *args, _original=original, **kwargs):
                written.extend(key.keys() if isinstance(key, dict) else [key])
                return _original(self, key, *args, **kwargs)

            wrapper._recording = True
            monkeypatch.setattr(cls, name, wrapper)
    return written


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


def test_rate_limits_write_no_cache_keep_no_time_and_end_with_their_window(version, _record_keys):
    """Review 14, finding 3: the counters are in the process's memory, not in a cache whose files outlive
    their expiry and carry the time they were written; a counter holds a count and nothing else, and all of
    a window's counters go when it ends."""
    caches["ratelimit"].clear()
    c = client()
    for _ in range(3):
        assert c.post("/survey/en/", {"code": codes.new_code()}).status_code == 400
    assert _record_keys == [] and not caches["ratelimit"]._list_cache_files()
    held = LIMITER.entries()
    assert sorted(n for _, _, n in held) == [1, 1, 1, 3, 3]  # 3 starts, 3 wrong codes, 3 codes once each
    assert all(set(key) <= set("0123456789abcdef") and len(key) == 64 for _, key, _ in held)
    now = [1000.0]
    limiter = Limiter(clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("g", "k", "2/h")
    assert limiter.hit("g", "k", "2/h", increment=False) and limiter.entries() == [("g", "k", 3)]
    now[0] += 3600
    assert not limiter.hit("g", "k", "2/h", increment=False) and limiter.entries() == []
    full = Limiter(max_keys=2)
    assert [full.hit("g", k, "1/h") for k in "abc"] == [False, False, False]  # loosens, never locks out
    assert len(full.entries()) == 2
    with pytest.raises(ValueError, match="like 300/h"):
        Limiter().hit("g", "k", "300 an hour")


def test_the_rate_limit_key_is_a_keyed_hash_of_the_network():
    from django.test import RequestFactory

    req = RequestFactory().get("/", REMOTE_ADDR="203.0.113.77")
    key = codes.network_key("g", req)
    assert "203.0.113" not in key and len(key) == 64
    assert key == codes.network_key("g", RequestFactory().get("/", REMOTE_ADDR="203.0.113.200"))
    assert key != codes.network_key("g", RequestFactory().get("/", REMOTE_ADDR="203.0.114.1"))
