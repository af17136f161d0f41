"""The survey under concurrent work: a response completed while the shuffle runs is kept."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from survey_helpers import filled_draft

from vru.web.survey import flow

pytestmark = pytest.mark.django_db


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
        flow.complete(filled_draft(version), "en")
    late = filled_draft(version)
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
