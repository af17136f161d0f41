"""The ``tagging:batches`` page, /tagging/batches/:
its answers, who may open it, its audit rows and form errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import signed_in
from tagging_util import planted

from vru.web.tagging import demo, services
from vru.web.tagging.models import BatchError, CrimeBatch, CrimeVersion

pytestmark = pytest.mark.django_db


def _upload(world, data: bytes):
    f = SimpleUploadedFile("b.csv", data, "text/csv")
    return signed_in(world.pa).post(reverse("tagging:batches"), {"file": f})


def _row(lat, lon, datum="WGS84", ref="R1") -> bytes:
    return (f"Metropolitan,RB,,MPS20240304,{ref},20240304100000,20240304110000,,,{lat},{lon},{datum},x\n"
            ).encode()


def test_an_upload_with_a_point_off_the_grid_lists_the_row_and_keeps_the_rest(world):
    data = _row("49.6", "-8.4") + _row("49.6", "2.5", ref="R2") + _row("51.5", "-0.1", ref="R3")
    r = _upload(world, data)
    assert r.status_code == 302
    batch = CrimeBatch.objects.get()
    assert batch.outcome == "PARTIAL"
    assert {(e.crime_ref, e.code) for e in BatchError.objects.filter(batch=batch)} >= {
        ("R1", "INVALID_LOCATION_DATA_RANGE"), ("R2", "INVALID_LOCATION_DATA_RANGE")}
    assert [v.crime.crime_ref for v in CrimeVersion.objects.all()] == ["R3"]
    body = signed_in(world.pa).get(r.url).content.decode()
    assert "INVALID_LOCATION_DATA_RANGE" in body


def test_a_long_datum_is_a_row_error_not_a_database_error(world):
    data = _row("51.5", "-0.1", datum="W" * 60) + _row("51.5", "-0.1", ref="R2")
    r = _upload(world, data)
    assert r.status_code == 302
    err = BatchError.objects.get()
    assert (err.crime_ref, err.field, err.code) == ("R1", "datum", "INVALID_TEXT")
    assert [v.crime.crime_ref for v in CrimeVersion.objects.all()] == ["R2"]
    b = services.ingest_batch(_row("51.5", "-0.1", datum="OSGB36", ref="R4"), "c.csv", user=world.pa,
                              force="Metropolitan")
    assert b.versions.get().datum == "OSGB36"


@pytest.mark.world("pages")
def test_a_partial_batch_upload_shows_every_row_error_and_matches_the_valid_rows(world):
    data = demo.batch_csv(planted(1, decoys=0), batch_id="MPS20240305") + (
        b"Metropolitan,RB,,MPS20240305,BAD-9,20240304100000,20240305100000,530000,180000,,,OSGB36,x\n")
    c = signed_in(world.pa)
    r = c.post(reverse("tagging:batches"), {"file": SimpleUploadedFile("b.csv", data)})
    assert r.status_code == 302
    batch = CrimeBatch.objects.latest("pk")
    page = c.get(r["Location"]).content.decode()
    assert "PARTIAL" in page and "BAD-9" in page
    err = batch.errors.get()
    assert err.code in page and err.action in page
    assert batch.runs.get().trigger == "AUTO"


@pytest.mark.world("pages")
def test_a_batch_of_another_force_is_refused_next_to_the_field(world):
    data = demo.batch_csv(planted(1, decoys=0), force="Kent", batch_id="KNT20240304")
    r = signed_in(world.pa).post(reverse("tagging:batches"), {"file": SimpleUploadedFile("k.csv", data)})
    assert r.status_code == 200 and "you may only send batches for Metropolitan" in r.content.decode()
    assert CrimeBatch.objects.count() == 1  # the fixture's


@pytest.mark.world("pages")
def test_a_failed_batch_says_nothing_was_ingested(world):
    r = signed_in(world.pa).post(reverse("tagging:batches"),
                                 {"file": SimpleUploadedFile("f.csv", b"a,b,c\n")})
    page = signed_in(world.pa).get(r["Location"]).content.decode()
    assert "FAILED" in page and "Nothing from this file was ingested" in page


@pytest.mark.world("pages")
def test_a_batch_with_nul_and_odd_bytes_is_reported_not_a_crash(world):
    data = (b"Metropolitan,RB,,MPS20240304,REF\x00X,20240304100000,20240304110000,530000,180000,,,OSGB36,a\n"
            b"\xff\xfe,\x00,,,,,,,,,,,\n")
    r = signed_in(world.pa).post(reverse("tagging:batches"),
                                 {"file": SimpleUploadedFile("n\x00ul.csv", data)})
    assert r.status_code in (200, 302)
    batch = CrimeBatch.objects.latest("pk")
    assert batch.outcome in ("FAILED", "PARTIAL")
    assert all("\x00" not in (e.value + e.crime_ref) for e in batch.errors.all())
