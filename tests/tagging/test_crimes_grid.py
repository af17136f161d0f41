"""Rows that pass the MoJ's latitude/longitude ranges but fall off the British National Grid, and
datums too long to be one, are row errors, not crashes further on."""

from __future__ import annotations

import pytest

from vru.tagging import crimes


def _row(lat, lon, datum="WGS84", ref="R1") -> bytes:
    return (f"Metropolitan,RB,,MPS20240304,{ref},20240304100000,20240304110000,,,{lat},{lon},{datum},x\n"
            ).encode()


@pytest.mark.parametrize("lat, lon, fields", [
    ("49.6", "-8.4", {"longitude", "latitude"}),  # easting -62 km, northing -23 km
    ("49.6", "2.5", {"latitude"}),  # northing -23.6 km
])
def test_a_point_off_the_grid_is_an_invalid_location_range(lat, lon, fields):
    r = crimes.parse_batch(_row(lat, lon) + _row("51.5", "-0.1", ref="R2"))
    assert r.outcome is crimes.Outcome.PARTIAL
    assert list(r.records["crime_ref"]) == ["R2"]
    bad = {(e.field, e.value) for e in r.errors if e.code is crimes.ErrorCode.INVALID_LOCATION_DATA_RANGE}
    assert {f for f, _ in bad} >= fields
    assert all(e.row == 1 and e.crime_reference == "R1" for e in r.errors)
    assert (r.records["easting"] >= 0).all() and (r.records["northing"] >= 0).all()


def test_points_on_the_grid_near_its_edges_are_kept():
    # Lowestoft (easting ~654 km, above the MoJ's easting range for submitted eastings) and St Kilda
    data = _row("52.48", "1.75") + _row("57.81", "-8.57", ref="R2") + _row("61.4", "-8.4", ref="R3")
    r = crimes.parse_batch(data)
    assert [e.value for e in r.errors] == ["-8.57"]  # below the MoJ's longitude range, not the grid
    assert list(r.records["crime_ref"]) == ["R1", "R3"]


def test_a_datum_longer_than_a_datum_is_invalid_text():
    data = _row("51.5", "-0.1", datum="W" * 60) + _row("51.5", "-0.1", ref="R2", datum="OSGB36")
    r = crimes.parse_batch(data)
    assert [(e.field, e.code) for e in r.errors] == [("datum", crimes.ErrorCode.INVALID_TEXT)]
    assert r.errors[0].required_action == crimes.ErrorCode.INVALID_TEXT.required_action
    assert list(r.records["crime_ref"]) == ["R2"]
