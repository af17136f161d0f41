"""Second review of the survey (docs/web-survey.md): the nightly shuffle loses nothing written while it runs,
the logs hold no respondent page, a version goes live only through ``publish()``, and wrong codes on a
shared network do not lock out valid ones."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from factories import user, user_and_client

from vru.web.survey import flow

pytestmark = pytest.mark.django_db



def _filled_draft(version, code: str = ""):
    q = version.questionnaire
    _, draft = flow.start(version, code)
    answers = {k: question.options[0] for k, question in q.questions.items()
               if not question.text and (question.required or question.stage)}
    flow.save_page(draft, answers)
    return draft


@pytest.mark.django_db(transaction=True)
def test_a_response_completed_while_the_shuffle_runs_is_kept(version):
    """The shuffle reads every row, deletes the tables and writes back what it read: a response completed
    between its reads and its deletes used to be deleted with them. It now locks the survey's tables first,
    so the completion waits for the shuffle and is stored after it."""
    from vru.web.survey.management.commands import survey_shuffle
    from vru.web.survey.models import Answer, Response

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite lets one writer at a time)")
    for _ in range(3):
        flow.complete(_filled_draft(version), "en")
    late = _filled_draft(version)
    answers_each = Answer.objects.count() // 3
    done, thread = {}, None
    original = survey_shuffle._shuffled

    def complete_late():
        try:
            done["pk"] = flow.complete(late, "ar").pk
        finally:
            connection.close()

    def shuffled(rows):
        nonlocal thread
        if thread is None:  # after the shuffle's first read, before its deletes
            thread = threading.Thread(target=complete_late)
            thread.start()
            thread.join(timeout=2)
            done["waited"] = thread.is_alive()
        return original(rows)

    survey_shuffle._shuffled = shuffled
    try:
        assert survey_shuffle.shuffle() == (3, 3 * answers_each)
    finally:
        survey_shuffle._shuffled = original
    thread.join(timeout=30)
    assert done["waited"], "the completion did not wait for the shuffle"
    assert Response.objects.count() == 4 and Response.objects.filter(pk=done["pk"], language="ar").exists()
    assert Answer.objects.count() == 4 * answers_each


def test_a_version_goes_live_only_through_publish(version):
    """``publish()`` refuses a version that lacks a string; setting the status any other way used to pass
    that check: ``save()`` after ``status = "live"``, the queryset's ``update`` and ``create``. Each is
    refused, and the database holds one live version per questionnaire whatever writes it."""
    import copy

    from django.db import IntegrityError, transaction

    from vru.web.survey.models import QuestionnaireVersion as QV
    from vru.web.survey.models import VersionLocked

    broken = copy.deepcopy(version.definition)
    broken["strings"]["ar"].pop(next(iter(broken["strings"]["ar"])))
    draft = QV.objects.create(slug=version.slug, number=99, definition=broken)
    draft.status = QV.LIVE
    with pytest.raises(VersionLocked, match="publish"):
        draft.save()
    with pytest.raises(VersionLocked, match="publish"):
        QV.objects.filter(pk=draft.pk).update(status=QV.LIVE)
    with pytest.raises(VersionLocked, match="publish"):
        QV.objects.create(slug=version.slug, number=98, definition=broken, status=QV.LIVE)
    with pytest.raises(VersionLocked, match="publish"):
        QV.objects.bulk_create([QV(slug=version.slug, number=97, definition=broken, status=QV.LIVE)])
    with pytest.raises(VersionLocked, match="publish"):
        QV.objects.create(slug=version.slug, number=96, definition=broken, status=QV.RETIRED)
    assert list(QV.objects.filter(slug=version.slug, status=QV.LIVE)) == [version]
    assert QV.objects.get(pk=draft.pk).status == QV.DRAFT
    # below the ORM's checks, the database itself refuses a second live version
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE survey_questionnaireversion SET status = 'live' WHERE id = %s", [draft.pk])
    # publish() still works: it checks the strings, retires the live version and makes the new one live
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="missing"):
        QV.objects.get(pk=draft.pk).publish()
    good = QV.objects.create(slug=version.slug, number=95, definition=copy.deepcopy(version.definition))
    good.publish()
    assert list(QV.objects.filter(slug=version.slug, status=QV.LIVE)) == [good]


def test_wrong_codes_on_a_shared_network_do_not_lock_out_valid_codes(version):
    """Many people share one address behind a mobile carrier's NAT: someone there typing 20 wrong codes
    used to lock everyone on the network out, valid invitation and resume codes included, for the hour.
    The network's wrong-code limit now counts and refuses failed lookups only."""
    from django.test import Client

    from vru.web.survey import codes, invitations

    _, issued = invitations.issue(user("police-nat@example.org", "police analyst"), 20)
    resume_code, _ = flow.start(version)
    guesser = Client(REMOTE_ADDR="100.64.7.10")
    statuses = [guesser.post("/survey/en/", {"code": codes.new_code()}).status_code for _ in range(21)]
    statuses += [guesser.post("/survey/en/resume/", {"resume_code": codes.new_code()}).status_code]
    assert statuses[:20] == [400] * 20 and statuses[20:] == [429, 429], statuses
    neighbour = Client(REMOTE_ADDR="100.64.7.99")  # the same /24
    assert neighbour.post("/survey/en/", {"code": codes.new_code()}).status_code == 429
    assert neighbour.post("/survey/en/", {"code": issued[0]}).status_code == 302
    assert neighbour.post("/survey/en/resume/", {"resume_code": resume_code}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_results_page_warns_when_the_shuffle_is_overdue(version):
    """Until survey_shuffle runs, the day's responses can be ordered: the results page says so when it has
    not run for two days (PostgreSQL's statistics keep the last manual VACUUM; nothing is stored)."""
    import datetime as dt

    from django.core.management import call_command

    from vru.web.survey.management.commands import survey_shuffle

    if connection.vendor != "postgresql":
        pytest.skip("the time of the last VACUUM is PostgreSQL's")
    _, c = user_and_client("analyst-shuffle@example.org", "analyst")
    assert survey_shuffle.overdue() is None  # no response yet: nothing to order
    flow.complete(_filled_draft(version), "en")
    with connection.cursor() as cursor:  # a fresh database: no VACUUM yet, or one from before
        cursor.execute("SELECT pg_stat_reset_single_table_counters('survey_response'::regclass)")
    assert "survey_shuffle has not run" in c.get("/survey/results/").content.decode()
    call_command("survey_shuffle")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert survey_shuffle.overdue() is None
    assert 'id="shuffle-overdue"' not in c.get("/survey/results/").content.decode()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2, minutes=1)
    assert "has not run for 2 days (last on" in survey_shuffle.overdue(now=later)


def test_the_demo_servers_request_lines_for_respondent_pages_are_dropped():
    """``vru serve`` (Django's development server) logs every request line with its time: none for a
    respondent page, whatever the status; the staff pages and other apps are logged as before."""
    import logging

    from vru.web.survey.logfilter import SurveyPathFilter

    logger = logging.getLogger("django.server")
    assert any(isinstance(f, SurveyPathFilter) for f in logger.filters)

    def kept(line: str, status: str = "200") -> bool:
        record = logger.makeRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s',
                                   (line, status, "512"), None)
        return all(f.filter(record) for f in logger.filters)

    assert not kept("POST /survey/ar/q/1/ HTTP/1.1", "302")
    assert not kept("GET /survey/?c=ACDEFGHJKMNP HTTP/1.1")
    assert not kept("GET /survey/ACDE-FGHJ-KMNP/ HTTP/1.1", "404")
    assert kept("GET /survey/results/ HTTP/1.1") and kept("GET /accounts/login/ HTTP/1.1", "404")
