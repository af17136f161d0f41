"""A batch whose rows the MoJ ranges accept but the database could not hold is a list of row errors,
never a 500 (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from test_tagging_util import client, make_world

from vru.web.tagging import services
from vru.web.tagging.models import BatchError, CrimeBatch, CrimeVersion

pytestmark = pytest.mark.django_db


def _upload(world, data: bytes):
    f = SimpleUploadedFile("b.csv", data, "text/csv")
    return client(world.pa).post(reverse("tagging:batches"), {"file": f})


@pytest.fixture
def world(settings, tmp_path):
    return make_world(settings, tmp_path)


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
    body = client(world.pa).get(r.url).content.decode()
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
