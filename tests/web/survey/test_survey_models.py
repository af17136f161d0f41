"""The survey's models (docs/web-survey.md): questionnaire versions go live only through publish and are
never edited after; published releases are checked and never changed; the admin shows them read-only."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from factories import user_and_client

from vru.analysis import disclosure
from vru.web.survey import codes, results
from vru.web.survey.demo import generate
from vru.web.survey.models import PublishedRelease, QuestionnaireVersion, VersionLocked
from vru.web.survey.questionnaire import load_folder

pytestmark = pytest.mark.django_db


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


Y = codes.iso_week()[0] - 1


def _release(user, **over):
    fields = {"slug": "victim-voice", "period": f"{Y}-Q4", "sequence": 1, "published_by": user,
              "ledger": {"format": disclosure.LEDGER_FORMAT, "tables": [
                  {"name": "t", "population": "p", "period": [f"{Y} Q1"],
                   "cells": [{"labels": {"a": "x"}, "n": 12}, {"labels": {"a": "y"}, "n": None}]}]},
              "tables": [{"key": "stages", "title": "t",
                          "columns": ["Stage", "Respondents (base)", "% satisfied"],
                          "rows": [["Contact", 12, 7.5], ["Treatment", "suppressed", "suppressed"]]}]}
    fields.update(over)
    return PublishedRelease(**fields)


def test_a_release_written_through_the_orm_is_checked_and_never_changed(version):
    analyst, _ = user_and_client("an-guard@example.org", "analyst")
    pm, _ = user_and_client("pm-guard@example.org", "programme manager")
    small = {"format": disclosure.LEDGER_FORMAT, "tables": [
        {"name": "t", "population": "p", "period": [f"{Y} Q1"], "cells": [{"labels": {"a": "x"}, "n": 3}]}]}
    for over, message in [
            ({"ledger": small}, "a published count of 3"),
            ({"ledger": {"tables": []}}, "not in the format"),
            ({"tables": [{"key": "k", "columns": ["Stage", "Respondents (base)"], "rows": [["A", 4]]}]},
             "a count of 4"),
            ({"tables": [{"key": "k", "columns": ["Stage", "% satisfied"], "rows": [["A", "TODO"]]}]},
             "'TODO' is not a figure"),
            ({"tables": [{"key": "k", "columns": ["Stage", "% satisfied"], "rows": [["A", None]]}]},
             "None is not a figure"),
            ({"tables": []}, "has its tables"),
            ({"period": f"{Y + 2}-Q1"}, "not a period that has ended"),
            ({"period": "soon"}, "period 'soon'"),
            ({"published_by": pm}, "survey.publish_results")]:
        with pytest.raises(ValidationError, match=message):
            _release(analyst, **over).save()
    assert PublishedRelease.objects.count() == 0
    with pytest.raises(VersionLocked):
        PublishedRelease.objects.bulk_create([_release(analyst)])
    entry = _release(analyst)
    entry.save()  # a well-formed release: percentages under 10 are figures, not counts
    for attempt in (lambda: PublishedRelease.objects.filter(pk=entry.pk).update(period=f"{Y}-Q3"),
                    lambda: PublishedRelease.objects.all().delete(),
                    lambda: PublishedRelease.objects.filter(pk=entry.pk).delete(), entry.delete, entry.save):
        with pytest.raises(VersionLocked):
            attempt()
    assert PublishedRelease.objects.get().period == f"{Y}-Q4"


def test_a_release_published_by_the_platform_passes_its_own_check(version):
    analyst, _ = user_and_client("an-guard2@example.org", "analyst")
    generate(version, 120, Y, {"stage_contact": 0.9, "stage_actions": 0.8, "stage_followup": 0.6,
                               "stage_treatment": 0.85, "stage_overall": 0.7}, seed=3)
    entry = results.publish_period(f"{Y}-Q4", analyst, dimensions=("sex",))
    entry.check_release()
    counts = [v for t in entry.tables for row in t["rows"] for col, v in zip(t["columns"][1:], row[1:],
                                                                              strict=True)
              if col.startswith(("Respondents", "Comments")) and isinstance(v, int | float)]
    assert counts and min(counts) >= 10


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
