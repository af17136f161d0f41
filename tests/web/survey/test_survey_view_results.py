"""The results page, /survey/results/ (``survey:results``): published and unsuppressed figures, who may
see them, the audit of each unsuppressed view, the pool and shuffle notices."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import override_settings
from factories import user_and_client
from survey_helpers import filled_draft, send

from vru.web.accounts.models import AuditLog
from vru.web.survey import codes, flow, pool, results
from vru.web.survey.demo import generate, load_and_publish

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_store")]
Y = codes.iso_week()[0] - 1


def test_the_unsuppressed_results_are_a_post_with_a_purpose_and_a_get_writes_nothing(version):
    analyst, ac = user_and_client("an-guard3@example.org", "analyst")
    _, pm = user_and_client("pm-guard3@example.org", "programme manager")
    generate(version, 60, Y, {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6,
                              "stage_treatment": 0.85, "stage_overall": 0.7}, seed=4)
    audited = AuditLog.objects.filter(action="view unsuppressed survey results")
    r = ac.get("/survey/results/", {"purpose": "quality check of the figures"})
    assert r.status_code == 200 and "for use inside the unit only" not in r.content.decode()
    r2 = ac.get("/survey/results/", {"purpose": "quality check of the figures", "period": f"{Y}-Q4"})
    assert r2.status_code == 404  # not published; a GET never shows the unsuppressed figures
    assert audited.count() == 0
    assert 'method="post"' in r.content.decode()
    r = ac.post("/survey/results/", {"period": f"{Y}-Q4"})  # no purpose: a form error, nothing recorded
    assert r.status_code == 200 and "for use inside the unit only" not in r.content.decode()
    assert audited.count() == 0
    r = ac.post("/survey/results/", {"purpose": "quality check of the figures", "period": f"{Y}-Q4"})
    assert "for use inside the unit only" in r.content.decode()
    assert audited.get().purpose.startswith("quality check of the figures")
    assert pm.post("/survey/results/", {"purpose": "quality check of the figures"}).status_code == 403
    assert audited.count() == 1


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
    flow.complete(filled_draft(version), "en")
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




@pytest.mark.django_db(transaction=True)  # the module mark of test_survey_pool.py, where it was
@override_settings(VRU_SURVEY_BATCH=10)
def test_the_results_page_says_how_many_responses_wait_in_the_pool(version):
    for n in range(3):
        send(version, "", n)
    _, c = user_and_client("pm-pool@example.org", "programme manager")
    page = c.get("/survey/results/").content.decode()
    assert 'id="pool-waiting">3 sent responses waiting in the batch pool' in page
    pool.flush(everything=True)
    assert 'id="pool-waiting">0 sent responses waiting' in c.get("/survey/results/").content.decode()


RATES = {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6, "stage_treatment": 0.85,
         "stage_overall": 0.7}
BEFORE = {k: v - 0.1 for k, v in RATES.items()}


@pytest.fixture
def data():
    version = load_and_publish()
    before = generate(version, 300, 2025, BEFORE, seed=11)
    now = generate(version, 400, 2026, RATES, seed=12)
    return version, before, now


def test_results_pages_published_and_unsuppressed_with_audit(data):
    analyst, ac = user_and_client("an@example.org", "analyst")
    results.publish_period("2025-Q4", analyst, dimensions=("sex",))
    _, pm = user_and_client("pm@example.org", "programme manager")
    r = pm.get("/survey/results/")
    assert r.status_code == 200 and "suppressed" in r.content.decode() and "2025-Q4" in r.content.decode()
    assert "Unsuppressed figures (inside the unit)" not in r.content.decode()
    r = pm.post("/survey/results/", {"purpose": "checking the borough figures"})
    assert r.status_code == 403 and "for use inside the unit only" not in r.content.decode()
    r = ac.post("/survey/results/", {"purpose": "quality check of the borough figures", "period": "2026-Q4"})
    assert "for use inside the unit only" in r.content.decode()
    assert AuditLog.objects.filter(user=analyst, action="view unsuppressed survey results").count() == 1
    r = ac.post("/survey/results/", {"purpose": "quality check of the borough figures", "period": "2026-Q9"})
    assert r.status_code == 200 and "like 2026-Q3" in r.content.decode()  # a form error, not a 500
    csv_r = ac.get("/survey/results.csv")
    rows = list(csv.reader(io.StringIO(csv_r.content.decode())))
    assert rows[0] == ["table", "title", "row", "column", "value", "status"] and len(rows) > 100
    _, prov = user_and_client("prov@example.org", "provider")
    assert prov.get("/survey/results/").status_code == 403
