"""Review of issue 17, the national side: emerging hot spots on the police.uk LSOA-month panel
from the warehouse (``vru hotspots --source police_uk``), on a small synthetic national slice."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from vru import api
from vru.cli import main
from vru.errors import VRUError
from vru.synthetic import police_uk_national as nat
from vru.warehouse.store import Warehouse


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    root = tmp_path_factory.mktemp("nat")
    data = root / "archive"
    nat.generate(data, rows=8_000, start="2023-01", end="2023-05", seed=11)
    wh = root / "wh.duckdb"
    Warehouse.create(wh).close()
    api.ingest(sorted(p for p in data.iterdir() if p.name.startswith("20")), wh)
    return {"data": data, "wh": wh, "lsoas": data / "lsoas.csv"}


def test_police_uk_panel_without_lsoa_geometry_is_refused_naming_what_is_missing(national):
    with pytest.raises(VRUError, match=r"LSOAs of the police_uk panel have no geometry .* "
                                       r"pass areas="):
        api.hotspots(national["wh"], source="police_uk")


def test_centroids_with_a_border_rule_are_refused(national):
    with pytest.raises(VRUError, match="are points .* use rule='knn'"):
        api.hotspots(national["wh"], source="police_uk", areas=national["lsoas"])


def test_emerging_hot_spots_on_the_police_uk_panel(national):
    res = api.hotspots(national["wh"], source="police_uk", areas=national["lsoas"], rule="knn",
                       k=6)
    gdf = res.areas
    with Warehouse.open(national["wh"], read_only=True) as wh:
        cells = wh.sql("SELECT area_code, strftime(month, '%Y-%m') AS m, sum(count) AS n FROM crime "
                       "WHERE source LIKE 'police_uk_street/%' AND area_code <> 'X-NO-LOCATION' "
                       "AND category <> 'anti_social_behaviour' GROUP BY ALL")
        lsoas = wh.sql("SELECT count(DISTINCT area_code) AS n FROM crime "
                       "WHERE area_code <> 'X-NO-LOCATION'")["n"][0]
    assert len(gdf) == lsoas  # every LSOA of the panel, once
    assert res.periods == ("2023-01", "2023-02", "2023-03", "2023-04", "2023-05")
    assert gdf["n_periods"].eq(5).all()
    last = cells[cells["m"] == "2023-05"].set_index("area_code")["n"]
    got = gdf.set_index("code")["last_value"]
    expected = last.reindex(got.index).fillna(0)  # no crime that month: zero, not a gap
    assert (got.to_numpy() == expected.to_numpy()).all()
    assert got.sum() == last.sum() > 0
    # a category narrows the panel: robbery only
    rob = api.hotspots(national["wh"], source="police_uk", areas=national["lsoas"], rule="knn",
                       k=6, categories=("robbery",), start="2023-02")
    assert rob.periods[0] == "2023-02"
    assert rob.areas["mean_value"].sum() < gdf["mean_value"].sum()


def test_cli_hotspots_source_police_uk(national, tmp_path):
    out = tmp_path / "hs.csv"
    r = CliRunner().invoke(main, ["hotspots", "--warehouse", str(national["wh"]), "--source",
                                  "police_uk", "--areas", str(national["lsoas"]), "--rule", "knn",
                                  "--k", "6", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(out)) > 100
    r = CliRunner().invoke(main, ["hotspots", "--warehouse", str(national["wh"]), "--source",
                                  "police_uk", "--rates"])
    assert r.exit_code == 2 and "--rates applies to the London data" in r.output
    r = CliRunner().invoke(main, ["hotspots", "--warehouse", str(national["wh"]), "--source",
                                  "police_uk", "--categories", "knife_offences"])
    assert r.exit_code == 2 and "police_uk has no knife_offences crime" in r.output


def test_generator_refuses_a_folder_that_is_not_its_archive(tmp_path, capsys):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit):
        nat.main(["--out", str(victim), "--rows", "1000", "--start", "2024-01", "--end", "2024-01"])
    assert "is not empty and is not an archive this generator wrote" in capsys.readouterr().err
    assert (victim / "thesis.tex").read_text() == "years of work"
    with pytest.raises(ValueError, match="not an archive this generator wrote"):
        nat.generate(victim, rows=1000, start="2024-01", end="2024-01")
    assert (victim / "thesis.tex").exists()
    # its own archive is replaced; an empty folder is used
    own = tmp_path / "own"
    nat.generate(own, rows=1000, start="2024-01", end="2024-01", seed=1)
    assert (own / nat.MARKER).is_file()
    nat.generate(own, rows=1000, start="2024-02", end="2024-02", seed=1)
    assert not (own / "2024-01").exists() and (own / "2024-02").is_dir()


@pytest.mark.parametrize("start", ["2023-13", "2023-00", "23-01", "2023-1"])
def test_generator_month_is_validated(tmp_path, capsys, start):
    with pytest.raises(SystemExit):
        nat.main(["--out", str(tmp_path / "x"), "--start", start, "--end", "2024-01"])
    assert f"start '{start}': give a month as YYYY-MM (month 01 to 12)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_ingesting_the_generators_folder_skips_its_side_files(national):
    from vru.warehouse.ingest import expand

    files = expand([national["data"]])
    assert files and not {f.name for f in files} & {"lsoas.csv", "stats.json"}
    assert all(f.parent.parent == national["data"] for f in files)  # the month files only


def _street_file(tmp_path):
    import gzip

    from vru.warehouse.ingest import bundled_dir

    src = bundled_dir() / "police_uk_street_city_of_london_2023" / "2023-01-city-of-london-street.csv.gz"
    f = tmp_path / "2023-01-city-of-london-street.csv"
    f.write_bytes(gzip.decompress(src.read_bytes()))
    return f


def test_stale_spools_are_removed_at_the_next_ingest_but_not_one_in_use(tmp_path):
    import os
    import subprocess
    import sys

    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    stale, busy = tmp_path / ".vru-spool-killed", tmp_path / ".vru-spool-running"
    for d in (stale, busy):
        (d / "street-x").mkdir(parents=True)
        (d / "street-x" / "part-00000.parquet").write_bytes(b"x" * 100)
        os.utime(d, (1_600_000_000, 1_600_000_000))
    code = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(busy)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert api.ingest([_street_file(tmp_path)], wh)[0].status == "loaded"
        assert not stale.exists()
        assert busy.exists()  # another ingest's, in use
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert [p.name for p in tmp_path.glob(".vru-spool-*")] == [busy.name]


def test_spool_dir_that_is_a_file_is_named(tmp_path, monkeypatch):
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    notadir = tmp_path / "notadir"
    notadir.write_text("x")
    monkeypatch.setenv("VRU_SPOOL_DIR", str(notadir))
    with pytest.raises(VRUError, match=rf"\$VRU_SPOOL_DIR={notadir}: is a file, not a folder"):
        api.ingest([_street_file(tmp_path)], wh)


def test_a_full_spool_disk_is_reported_as_such_not_as_a_bad_file(tmp_path, monkeypatch):
    import duckdb

    from vru.sources import engine

    def full(self, expr, part):
        raise duckdb.IOException(f'Could not write file "{part}/data_0.parquet": No space left on device')

    monkeypatch.setattr(engine._DuckDB, "write", full)
    wh = tmp_path / "wh.duckdb"
    Warehouse.create(wh).close()
    with pytest.raises(VRUError) as e:
        api.ingest([_street_file(tmp_path)], wh)
    msg = str(e.value)
    assert msg.startswith("no space left in the spool folder ") and str(tmp_path) in msg
    assert "set $VRU_SPOOL_DIR to a folder on a disk with room" in msg
    assert "cannot read" not in msg
