"""Two data.police.uk street files of one force and month in one call are refused (issue 17).

Read together, two releases of a force-month would be merged: anti-social behaviour rows (no
Crime ID) counted twice, crimes the newer release dropped kept. Identical bytes stay a
``duplicate`` (loaded once)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru.cli import main
from vru.errors import SourceError
from vru.sources import police_uk
from vru.synthetic import police_uk_national
from vru.warehouse.ingest import ingest
from vru.warehouse.store import Warehouse

NAME = "2023-03-city-of-london-street.csv"


@pytest.fixture
def releases(bundled, tmp_path) -> tuple[Path, Path]:
    """The bundled March 2023 file as two releases: dupA/ as published, dupB/ with one more
    line ending (other bytes, same force-month)."""
    text = gzip.decompress((bundled / "police_uk_street_city_of_london_2023" / f"{NAME}.gz")
                           .read_bytes())
    a, b = tmp_path / "dupA" / NAME, tmp_path / "dupB" / NAME
    for p, extra in ((a, b""), (b, b"\n")):
        p.parent.mkdir()
        p.write_bytes(text + extra)
    return a, b


def _crime_rows(wh: Warehouse) -> int:
    return int(wh.sql("SELECT count(*) AS n FROM crime")["n"].iloc[0])


def test_two_releases_of_one_force_month_refused_before_anything_is_stored(releases, tmp_path):
    a, b = releases
    wh = Warehouse.create(tmp_path / "wh.duckdb")
    try:
        with pytest.raises(SourceError) as e:
            ingest(wh, [a, b])
        msg = str(e.value)
        assert str(a) in msg and str(b) in msg
        assert "city-of-london for 2023-03" in msg and "Ingest one" in msg
        assert _crime_rows(wh) == 0
        assert wh.sql("SELECT count(*) AS n FROM loads")["n"].iloc[0] == 0
        # one of them alone loads; the other in a later call restates the month (newest wins)
        one = ingest(wh, [a])
        n_one = _crime_rows(wh)
        assert [r.status for r in one] == ["loaded"] and n_one > 0
        assert [r.status for r in ingest(wh, [b])] == ["loaded"]
        assert _crime_rows(wh) == n_one
    finally:
        wh.close()


def test_refused_on_load_many_too(releases, tmp_path):
    a, b = releases
    for backend_files in ([a, b], [b, a]):
        with pytest.raises(SourceError, match="two releases of one force-month"):
            police_uk.load_many(backend_files)
    # files not named YYYY-MM-<force>-street.csv may be parts of one month (a file split in
    # two) and are read together: tests/test_loads_per_file.py
    # the same name, one compressed: the name says it is the same force-month
    gz = tmp_path / "gz" / f"{NAME}.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(b.read_bytes()))
    e = pytest.raises(SourceError, police_uk.load_many, [a, gz]).value
    assert e.path == str(gz) and str(a) in e.reason


def test_identical_bytes_still_a_duplicate(releases, tmp_path):
    a, _ = releases
    c = tmp_path / "copy" / NAME
    c.parent.mkdir()
    shutil.copy(a, c)
    wh = Warehouse.create(tmp_path / "wh.duckdb")
    try:
        res = ingest(wh, [a, c])
        assert sorted(r.status for r in res) == ["duplicate", "loaded"]
        n_two = _crime_rows(wh)
    finally:
        wh.close()
    wh = Warehouse.create(tmp_path / "wh1.duckdb")
    try:
        ingest(wh, [a])
        assert _crime_rows(wh) == n_two
    finally:
        wh.close()


def test_other_months_of_one_force_still_load_together(bundled, tmp_path):
    folder = bundled / "police_uk_street_city_of_london_2023"
    batch = police_uk.load_many(sorted(folder.glob("2023-0[12]-*.csv.gz")))
    assert set(batch.tables["crime"]["month"].dt.strftime("%Y-%m")) == {"2023-01", "2023-02"}


@pytest.mark.parametrize("rows", ["-5", "0"])
def test_national_generator_refuses_bad_rows(rows, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        police_uk_national.main(["--out", str(tmp_path / "out"), "--rows", rows])
    assert e.value.code == 2
    assert "--rows must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="--rows"):
        police_uk_national.generate(tmp_path / "out", rows=-5)


def test_cli_one_london_option_applies(tmp_path):
    r = CliRunner().invoke(main, ["hotspots", "--warehouse", str(tmp_path / "wh.duckdb"),
                                  "--source", "police_uk", "--rates"])
    assert r.exit_code == 2 and "--rates applies to the London data" in r.output, r.output
    r = CliRunner().invoke(main, ["hotspots", "--warehouse", str(tmp_path / "wh.duckdb"),
                                  "--source", "police_uk", "--rates", "--weighting", "css"])
    assert r.exit_code == 2 and "apply to the London data" in r.output, r.output
