"""The `vru` command line, end to end on the real bundled data: init, ingest, report, and every
kind of bad input refused with a clear error and an unchanged warehouse."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru.cli import main
from vru.warehouse.store import Warehouse

BUNDLED = Path(__file__).resolve().parents[1] / "src/vru/data/bundled"
MPS_FILE = BUNDLED / "mps_crime_borough/mps_borough_crime_detailed_202112_202311.csv.gz"
STREET = BUNDLED / "police_uk_street_city_of_london_2023/2023-01-city-of-london-street.csv.gz"


def fingerprint(path: Path) -> dict:
    with Warehouse.open(path, read_only=True) as wh:
        return {**wh.fingerprint(), "loads": len(wh.table("loads"))}


@pytest.fixture
def warehouse(london_warehouse, tmp_path) -> Path:
    """A private copy of the London warehouse that a test may try to damage."""
    dst = tmp_path / "copy.duckdb"
    shutil.copy(london_warehouse, dst)
    return dst


def run(*args, env=None):
    return CliRunner().invoke(main, list(map(str, args)), env=env, catch_exceptions=False)


@pytest.mark.slow
def test_entry_point_is_installed():
    exe = shutil.which("vru", path=str(Path(sys.executable).parent))
    assert exe, "the vru console script is not installed"
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for cmd in ("init", "ingest", "report", "status"):
        assert cmd in r.stdout


def test_init_twice_is_idempotent(warehouse):
    before = fingerprint(warehouse)
    r = run("init", "--warehouse", warehouse)
    assert r.exit_code == 0, r.output
    assert "0 file(s) loaded" in r.output
    assert fingerprint(warehouse) == before


def test_warehouse_from_environment(warehouse, tmp_path):
    r = run("status", env={"VRU_WAREHOUSE": str(warehouse)})
    assert r.exit_code == 0
    assert "mps_borough_detailed: 2 file(s)" in r.output


def test_ingest_same_file_again_changes_nothing(warehouse, tmp_path):
    before = fingerprint(warehouse)
    copy = tmp_path / MPS_FILE.name
    shutil.copy(MPS_FILE, copy)
    r = run("ingest", "--warehouse", warehouse, copy)
    assert r.exit_code == 0 and "unchanged" in r.output
    assert fingerprint(warehouse) == before


def test_report_without_warehouse_is_a_clear_error(tmp_path):
    r = run("report", "--warehouse", tmp_path / "none.duckdb", "--out", tmp_path / "r.html")
    assert r.exit_code == 2
    assert "vru init" in r.output
    assert not (tmp_path / "r.html").exists()


def _mps_lines() -> list[str]:
    return gzip.open(MPS_FILE, "rt", newline="").read().splitlines()


def _street_lines() -> list[str]:
    return gzip.open(STREET, "rt", newline="").read().splitlines()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def bad_missing_column(d):
    lines = _mps_lines()
    lines[0] = lines[0].replace("MinorText", "Minor")
    return _write(d / "mps_borough_crime_bad.csv", lines), ["row 1", "MinorText"]


def bad_unknown_category(d):
    lines = _mps_lines()
    major, rest = lines[5].split(",", 1)
    assert "\"" not in major
    lines[5] = "Burglarly," + rest
    return _write(d / "mps_borough_crime_bad.csv", lines), ["row 6", "MajorText", "Burglarly"]


def bad_month(d):
    lines = _mps_lines()
    lines[0] = lines[0].replace("202301", "2023-1")
    return _write(d / "mps_borough_crime_bad.csv", lines), ["2023-1"]


def bad_truncated(d):
    lines = _mps_lines()[:40]
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
    return _write(d / "mps_borough_crime_bad.csv", lines), ["row 40"]


def bad_empty(d):
    p = d / "mps_borough_crime_empty.csv"
    p.write_text("")
    return p, ["empty"]


def bad_coordinates(d):
    lines = _street_lines()
    f = lines[3].split(",")
    f[5] = "91.5"  # latitude beyond the pole
    lines[3] = ",".join(f)
    return _write(d / "2023-01-city-of-london-street.csv", lines), ["row 4", "Latitude"]


def bad_street_month(d):
    lines = _street_lines()
    f = lines[7].split(",")
    f[1] = "2023-13"
    lines[7] = ",".join(f)
    return _write(d / "2023-01-city-of-london-street.csv", lines), ["row 8", "Month"]


@pytest.mark.parametrize("make_bad", [
    bad_missing_column, bad_unknown_category, bad_month, bad_truncated, bad_empty,
    bad_coordinates, bad_street_month,
], ids=lambda f: f.__name__)
def test_bad_input_is_refused_and_the_warehouse_is_unchanged(make_bad, warehouse, tmp_path):
    bad, expected = make_bad(tmp_path)
    # a good new file in the same call must not be stored either (all or nothing)
    good = tmp_path / "2023-02-city-of-london-street.csv"
    good.write_text("\n".join(
        gzip.open(STREET.with_name("2023-02-city-of-london-street.csv.gz"), "rt").read()
        .splitlines()[:30]) + "\n")
    before = fingerprint(warehouse)
    r = run("ingest", "--warehouse", warehouse, "--force", good, bad)
    assert r.exit_code == 2, r.output
    msg = r.output
    assert bad.name in msg
    for part in expected:
        assert part in msg, msg
    assert fingerprint(warehouse) == before


def test_unknown_format_is_refused(warehouse, tmp_path):
    f = tmp_path / "notes.csv"
    f.write_text("name,value\nx,1\n")
    before = fingerprint(warehouse)
    r = run("ingest", "--warehouse", warehouse, f)
    assert r.exit_code == 2 and "unknown data format" in r.output
    assert fingerprint(warehouse) == before


@pytest.mark.slow
def test_report_command_writes_one_offline_file(warehouse, tmp_path):
    out = tmp_path / "sub" / "na.html"
    r = run("report", "--warehouse", warehouse, "--out", out)
    assert r.exit_code == 0, r.output
    assert out.exists() and out.stat().st_size > 100_000
    assert not list(out.parent.glob("*.tmp"))


@pytest.mark.slow
def test_target_command_gives_a_shortlist_and_an_exact_budget(warehouse, tmp_path):
    import json

    out = tmp_path / "t.json"
    r = run("target", "--warehouse", warehouse, "--areas", 6, "--budget", 1234567.89,
            "--years", 2, "--cap", 150000, "--out", out)
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert len(d["shortlist"]) == 6
    assert d["allocation_total_pence"] == 123_456_789
    assert sum(d["allocation_by_year_pence"].values()) == 123_456_789
    boroughs = [a["borough"] for a in d["shortlist"]]
    assert len(set(boroughs)) == 6  # at most one per borough by default


def test_target_command_refuses_infeasible_caps(warehouse):
    r = run("target", "--warehouse", warehouse, "--areas", 8, "--budget", 9_000_000,
            "--cap", 100_000)
    assert r.exit_code == 2
    assert "exceeds 8 areas x cap" in r.output


@pytest.mark.slow
def test_drivers_command_states_the_city_hall_measures(warehouse):
    import json

    r = run("drivers", "--warehouse", warehouse)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["caveat"] and "causation" in d["caveat"]
    assert d["unemployment_statement"]


def test_confidence_by_borough_with_significance(warehouse):
    import io

    import pandas as pd

    r = run("confidence", "--warehouse", warehouse, "--measure", "trust_mps")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert len(df) == 32
    assert (df["change_1y_label"] == "no significant change").any()
    assert ((df["ci_low"] <= df["value"]) & (df["value"] <= df["ci_high"])).all()


def test_synthetic_survey_round_trip(warehouse, tmp_path):
    """Synthetic respondents -> grouped, suppressed shares; and they ingest into the warehouse."""
    import io

    import pandas as pd

    f = tmp_path / "synthetic-pas.csv"
    r = run("synthetic-survey", "--warehouse", warehouse, "--out", f, "--quarters", "2023-Q4",
            "--per-borough", 60)
    assert r.exit_code == 0 and "synthetic" in r.output
    r = run("confidence", "--microdata", f, "--by", "sex", "--min-n", 50)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))  # the table alone: the no-ledger warning goes to stderr
    assert "--ledger" in r.stderr and "--ledger" not in r.stdout
    shown = df[~df["suppressed"]]
    assert (shown["n"] >= 50).all()
    r = run("ingest", "--warehouse", warehouse, f)
    assert r.exit_code == 0, r.output
    with Warehouse.open(warehouse, read_only=True) as wh:
        n = wh.sql("SELECT count(DISTINCT respondent_id) AS n FROM survey_responses")["n"][0]
    assert n == 60 * 32


@pytest.mark.slow
@pytest.mark.parametrize("suffix", ["csv", "geojson", "json", "stdout"])
def test_hotspots_command_writes_each_format(warehouse, tmp_path, suffix):
    import io
    import json

    import pandas as pd

    out = tmp_path / f"hs.{suffix}"
    r = run("hotspots", "--warehouse", warehouse, *(("--out", out) if suffix != "stdout" else ()))
    assert r.exit_code == 0, r.output
    assert "Persistent Hot Spot" in r.stderr  # the summary; standard output holds only the result
    if suffix == "stdout":
        df = pd.read_csv(io.StringIO(r.stdout))
        assert len(df) == 4829 and "category" in df
    elif suffix == "csv":
        df = pd.read_csv(out)
        assert len(df) == 4829 and {"code", "ward_name", "borough_name", "category"} <= set(df)
    elif suffix == "geojson":
        d = json.loads(out.read_text())
        assert d["type"] == "FeatureCollection" and len(d["features"]) == 4829
        lon, lat = d["features"][0]["geometry"]["coordinates"][0][0][:2]
        assert -0.6 < lon < 0.4 and 51.2 < lat < 51.8  # WGS 84, as GeoJSON requires
    else:
        d = json.loads(out.read_text())
        assert len(d["areas"]) == 4829 and d["parameters"]["weighting"] == "count"


def test_hotspots_chi_without_a_table_is_a_clear_error(warehouse, tmp_path):
    r = run("hotspots", "--warehouse", warehouse, "--weighting", "chi", "--out", tmp_path / "x.csv")
    assert r.exit_code == 2 and "--chi-file" in r.output
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_evaluate_command_with_staggered_starts_from_csv(warehouse, tmp_path):
    import json

    f = tmp_path / "treated.csv"
    f.write_text("area,start\nLambeth,2021-07\nSouthwark,2021-07\nE09000012,2022-01\n")
    r = run("evaluate", "--warehouse", warehouse, "--treated-csv", f, "--draws", 100)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["parameters"]["treated_codes"] == ["E09000022", "E09000028", "E09000012"]
    assert d["parameters"]["starts"]["E09000012"] == "2022-01"
    assert d["rate"]["statement"] and d["limits"]


@pytest.mark.parametrize("text,expected", [
    ("area,start\nLambeth,2021-13\n", ["row 2", "start", "2021-13"]),
    ("borough,when\nLambeth,2021-07\n", ["row 1", "area,start"]),
    ("area,start\nAtlantis,2021-07\n", ["Atlantis"]),
    ("area,start\nLambeth,2031-07\n", ["2031"]),
])
def test_evaluate_refuses_bad_treated_input(warehouse, tmp_path, text, expected):
    f = tmp_path / "treated.csv"
    f.write_text(text)
    r = run("evaluate", "--warehouse", warehouse, "--treated-csv", f, "--draws", 50)
    assert r.exit_code == 2, r.output
    for part in expected:
        assert part in r.output, r.output
