"""One convention for every `vru` command: the result on standard output unless -o is given, the format
from --format or the file's extension, messages on standard error, a progress bar only on a terminal."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from vru import testing
from vru.cli import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return testing.tiny_warehouse(tmp_path_factory.mktemp("tiny") / "tiny.duckdb")


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_status_goes_to_standard_output_or_to_the_file_in_the_format_of_its_extension(tiny, tmp_path):
    r = run("status", "-w", tiny)
    assert r.exit_code == 0 and "police_uk_street: 6 file(s)" in r.stdout and r.stderr == ""
    out = tmp_path / "status.json"
    r = run("status", "-w", tiny, "-o", out)
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == f"wrote {out}\n"
    assert {s["source"] for s in json.loads(out.read_text())["sources"]} >= {"police_uk_street"}
    r = run("status", "-w", tiny, "--format", "json")
    assert json.loads(r.stdout)["warehouse"] == str(tiny)


@pytest.mark.parametrize("command", [("status",), ("confidence",), ("drivers",), ("target",), ("evaluate",),
                                     ("synthetic-survey",), ("report",), ("hotspots",)])
def test_an_extension_that_names_no_format_of_the_command_is_refused_before_any_work(command, tiny,
                                                                                      tmp_path):
    out = tmp_path / "result.xlsx"
    r = run(*command, "-w", tiny, "-o", out)
    assert r.exit_code == 2 and "result.xlsx" in r.output and not out.exists()
    assert "error" in r.output.lower() or "invalid value" in r.output.lower()


def test_synthetic_survey_writes_csv_to_standard_output_and_gzip_to_a_gz_file(tmp_path):
    r = run("synthetic-survey", "-w", tmp_path / "none.duckdb", "--quarters", "2023-Q4", "--per-borough", 5)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert len(df) == 5 * 32 and r.stderr.strip() == "(synthetic data)"
    gz = tmp_path / "s.csv.gz"
    r = run("synthetic-survey", "-w", tmp_path / "none.duckdb", "--quarters", "2023-Q4", "--per-borough", 5,
            "-o", gz)
    assert r.exit_code == 0 and r.stdout == ""
    assert pd.read_csv(io.BytesIO(gzip.decompress(gz.read_bytes()))).equals(df)


def _vru(*args, stdout, stderr):
    code = "import sys; from vru.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], stdout=stdout, stderr=stderr,
                          timeout=600, env={**os.environ, "COLUMNS": "100"})


def test_the_report_is_not_written_to_a_terminal(tiny):
    primary, secondary = os.openpty()
    try:
        p = _vru("report", "-w", tiny, stdout=secondary, stderr=subprocess.PIPE)
    finally:
        os.close(secondary)
        os.close(primary)
    assert p.returncode == 2 and b"not written to a terminal" in p.stderr


@pytest.mark.slow
def test_the_report_goes_to_a_pipe_with_a_progress_bar_on_the_terminal(london_warehouse, tmp_path):
    p, seen = _stderr_on_a_terminal("report", "-w", london_warehouse)
    assert p.returncode == 0 and p.stdout.startswith(b"<!DOCTYPE html>")
    assert b"building the report" in seen and b"7/7" in seen
    # piped standard error: no bar, nothing but the result
    p = _vru("report", "-w", london_warehouse, "-o", tmp_path / "r.html", stdout=subprocess.PIPE,
             stderr=subprocess.PIPE)
    assert p.returncode == 0 and p.stdout == b"" and p.stderr == f"wrote {tmp_path / 'r.html'}\n".encode()


def _stderr_on_a_terminal(*args) -> tuple[subprocess.CompletedProcess, bytes]:
    """``vru *args`` with standard output piped and standard error on a terminal: the process and
    what the terminal showed."""
    primary, secondary = os.openpty()
    try:
        p = _vru(*args, stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        return p, _read_all(primary)
    finally:
        os.close(primary)


def _read_all(fd: int) -> bytes:
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return seen
        if not chunk:
            return seen
        seen += chunk


@pytest.mark.slow
def test_an_ingest_of_many_files_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path):
    from vru.warehouse.ingest import bundled_dir

    street = bundled_dir() / "police_uk_street_city_of_london_2023"
    wh = testing.tiny_warehouse(tmp_path / "a.duckdb", ["unemployment_borough"])
    p, seen = _stderr_on_a_terminal("ingest", "-w", wh, street)
    assert p.returncode == 0 and p.stdout.count(b"loaded") == 6
    assert b"reading" in seen and b"6/6" in seen
    wh = testing.tiny_warehouse(tmp_path / "b.duckdb", ["unemployment_borough"])
    p = _vru("ingest", "-w", wh, street, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0 and p.stderr == b"" and p.stdout.count(b"loaded") == 6


@pytest.mark.slow
@pytest.mark.parametrize(("args", "label", "stages"), [
    (["drivers"], b"analysing drivers", 4),
    (["target"], b"choosing areas", 7),
    (["evaluate", "--draws", "20", "--rings", "0"], b"evaluating", 5),
])
def test_the_analyses_show_progress_on_a_terminal_and_nothing_when_piped(london_warehouse, args, label,
                                                                         stages):
    p, seen = _stderr_on_a_terminal(*args, "-w", london_warehouse)
    assert p.returncode == 0 and json.loads(p.stdout)
    assert label in seen and f"{stages}/{stages}".encode() in seen
    piped = _vru(*args, "-w", london_warehouse, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert piped.returncode == 0 and piped.stderr == b"" and piped.stdout == p.stdout


@pytest.mark.slow
def test_an_error_after_some_stages_is_on_a_line_of_its_own_not_after_the_bar(london_warehouse):
    # 40 areas, one per borough, cannot be chosen: the targeting fails after its first stages
    p, seen = _stderr_on_a_terminal("target", "--areas", "40", "-w", london_warehouse)
    assert p.returncode == 2 and p.stdout == b""
    assert b"choosing areas" in seen
    lines = seen.replace(b"\r", b"\n").split(b"\n")
    errors = [line for line in lines if b"error:" in line]
    assert errors and all(line.startswith(b"error: ") for line in errors), seen


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, tiny):
    """Files for the bad invocations: an empty file, a CSV of no known kind, valid device activations,
    an empty positions store, a DuckDB warehouse (the tiny one) and a path that does not exist."""
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "garbage.csv").write_text("hello,world\n1,2\n")
    (d / "activations.csv").write_text("device_id,wearer_ref,active_from,active_to\n"
                                       "D1,W1,2024-03-04T00:00:00Z,2024-03-05T00:00:00Z\n")
    (d / "crimes-bad-time.csv").write_text("crime_version_id,crime_ref,force,crime_type,time_from,time_to,"
                                           "easting,northing\nV1,C1,Metropolitan,RB,soon,later,530000,180000\n")
    (d / "store").mkdir()
    return {"dir": d, "wh": tiny, "empty": d / "empty.csv", "garbage": d / "garbage.csv",
            "act": d / "activations.csv", "store": d / "store", "badtime": d / "crimes-bad-time.csv",
            "missing": d / "missing.csv"}


# (arguments, a fragment the message must hold): every option given a value it refuses (zero, negative,
# huge, text for a number, an unknown choice, a missing, empty or unreadable file); {name} is a file of
# `bad_files`. Each must end in exit status 1 or 2 with a one-line message naming the option or file.
BAD_INVOCATIONS = [
    ("init -w {dir}", "is a directory"),
    ("init -w {garbage}", "garbage.csv is not a VRU warehouse (not a DuckDB database file)"),
    ("ingest -w {wh} {missing}", "does not exist"),
    ("ingest -w {wh} {empty}", "empty.csv: file is empty"),
    ("ingest -w {wh} {garbage}", "unknown data format"),
    ("ingest -w {wh} {garbage} --backend spark", "--backend"),
    ("ingest -w {wh} {garbage} --category-map {empty}", "empty category map"),
    ("drivers -w {wh} --top 0", "--top"),
    ("drivers -w {wh} --top 33", "--top"),
    ("drivers -w {wh} --top many", "--top"),
    ("drivers -w {wh} --start 2099-13", "error: --start:"),
    ("drivers -w {wh} --categories nonsense", "error: --categories:"),
    ("target -w {wh} --areas 0", "--areas"),
    ("target -w {wh} --budget 0", "--budget"),
    ("target -w {wh} --budget 1e300", "--budget"),
    ("target -w {wh} --budget nan", "--budget"),
    ("target -w {wh} --cap nan", "--cap"),
    ("hotspots -w {wh} --rule knn --k 0", "--k"),
    ("hotspots -w {wh} --rule distance --distance nan", "--distance"),
    ("hotspots -w {wh} --time-lag -1", "--time-lag"),
    ("target -w {wh} --cap -1", "--cap"),
    ("target -w {wh} --years 1000", "--years"),
    ("target -w {wh} --max-per-borough 0", "--max-per-borough"),
    ("target -w {wh} --min-population -1", "--min-population"),
    ("target -w {wh} --seed x", "--seed"),
    ("target -w {wh} --level street", "--level"),
    ("evaluate -w {wh} --draws 0", "--draws"),
    ("evaluate -w {wh} --draws 10000000000000000000000", "--draws"),
    ("evaluate -w {wh} --rings -1", "--rings"),
    ("evaluate -w {wh} --rings 1000000", "--rings"),
    ("evaluate -w {wh} --seed -1", "--seed"),
    ("evaluate -w {wh} --window-end 1900-01", "error: --window-end: 1900-01 is before --window-start"),
    ("evaluate -w {wh} --start soon", "error: --start:"),
    ("evaluate -w {wh} --treated Atlantis", "error: --treated:"),
    ("evaluate -w {wh} --category nonsense", "error: --category:"),
    ("evaluate -w {wh} --treated-csv {empty}", "empty.csv, row 1"),
    ("confidence -w {wh} --min-n 0", "--min-n"),
    ("confidence -w {wh} --as-of soon", "error: --as-of:"),
    ("confidence -w {wh} --measure happiness", "--measure"),
    ("confidence -w {wh} --format xml", "--format"),
    ("confidence -w {wh} --microdata {empty}", "empty.csv: file is empty"),
    ("confidence -w {wh} --microdata {garbage}", "garbage.csv, row 1"),
    ("synthetic-survey -w {wh} --per-borough 0", "--per-borough"),
    ("synthetic-survey -w {wh} --per-borough 10000000000000000000000", "--per-borough"),
    ("synthetic-survey -w {wh} --seed -1", "--seed"),
    ("synthetic-survey -w {wh} --quarters soon", "--quarters"),
    ("synthetic-survey -w {wh} --quarters ,", "--quarters"),
    ("serve --port 0", "--port"),
    ("serve --port 70000", "--port"),
    ("serve --port http", "--port"),
    ("status -w {wh} --format xml", "--format"),
    ("status -w {empty}", "empty.csv is not a VRU warehouse"),
    ("status -w {garbage}", "garbage.csv is not a VRU warehouse"),
    ("status -w {missing}", "no warehouse at"),
    ("status -w {wh} -o {garbage}/status.json", "garbage.csv is not a folder"),
    ("drivers -w {wh} -o {garbage}/sub/drivers.json", "garbage.csv is not a folder"),
    ("confidence -w {wh} -o {garbage}/confidence.csv", "garbage.csv is not a folder"),
    ("synthetic-survey -w {wh} -o {garbage}/survey.csv.gz", "garbage.csv is not a folder"),
    ("fetch --archive {dir}/a --no-ingest --retries -1", "--retries"),
    ("fetch --archive {dir}/a --no-ingest --timeout 0", "--timeout"),
    ("fetch --archive {dir}/a --no-ingest --max-download 1e9", "--max-download"),
    ("fetch --archive {dir}/a --no-ingest --month soon", "--month"),
    ("fetch --archive {dir}/a --no-ingest --sources {garbage}", "not valid TOML"),
    ("fetch --archive {dir}/a --no-ingest --only nonsense", "unknown source key"),
    ("fetch --archive {dir}/a -w {missing}", "no warehouse at"),
    ("tagging simulate -o {dir}/sim --wearers 0", "--wearers"),
    ("tagging simulate -o {dir}/sim --days 0", "--days"),
    ("tagging simulate -o {dir}/sim --days 1e9", "--days"),
    ("tagging simulate -o {dir}/sim --wearers 10000000000", "--wearers"),
    ("tagging simulate -o {dir}/sim --seed -1", "--seed"),
    ("tagging simulate -o {dir}/sim --start soon", "--start"),
    ("tagging simulate -o {dir}/sim --start 2024-03-04", "--start"),
    ("tagging simulate -o {dir}/sim --crimes -1", "--crimes"),
    ("tagging simulate -o {dir}/sim --format xml", "--format"),
    ("tagging import-positions {empty} -a {empty} -s {store}", "empty.csv, row 1"),
    ("tagging import-positions {garbage} -a {act} -s {store} --max-errors 0", "--max-errors"),
    ("tagging purge-positions -s {store} --before soon", "--before"),
    ("tagging purge-positions -s {store} --before 2024-01-01", "--before"),
    ("tagging purge-positions -s {store} --before 2024-01-01T00:00Z --keep {empty}", "empty.csv"),
    ("tagging check-batch {missing}", "does not exist"),
    ("tagging check-batch {empty}", "INVALID_ATTACHMENT"),
    ("tagging records-to-batch {empty} -f Metropolitan -o {dir}/b.csv", "empty.csv"),
    ("tagging records-to-batch {garbage} -f Nowhere -o {dir}/b.csv", "--force"),
    ("tagging records-to-batch {garbage} -f Metropolitan -o {dir}/b.txt", "--out"),
    ("tagging match -s {store} -a {act} -c {garbage} -o {dir}/m --radius 0", "--radius"),
    ("tagging match -s {store} -a {act} -c {garbage} -o {dir}/m --tolerance -1", "--tolerance"),
    ("tagging match -s {store} -a {act} -c {garbage} -o {dir}/m --backend polars", "--backend"),
    ("tagging match -s {store} -a {act} -c {empty} -o {dir}/m", "empty.csv"),
    ("tagging match -s {store} -a {act} -c {garbage} -o {dir}/m",
     "garbage.csv: no column(s) crime_version_id"),
    ("tagging match -s {store} -a {act} -c {badtime} -o {dir}/m", "column time_from: not a time"),
    ("tagging report {dir} -c V1 -w W1 --reviewer R --reason because --html {dir}/r.html --qualified-at soon",
     "--qualified-at"),
]


@pytest.mark.parametrize("command,says", BAD_INVOCATIONS, ids=[c for c, _ in BAD_INVOCATIONS])
def test_a_bad_value_of_any_option_is_refused_by_name_without_a_traceback(command, says, bad_files):
    args = [a.format(**bad_files) for a in command.split()]
    r = CliRunner().invoke(main, args)
    assert isinstance(r.exception, SystemExit) and r.exit_code in (1, 2), (r.exception, r.output)
    assert "Traceback" not in r.output and says in r.output, r.output
    message = [line for line in r.output.splitlines() if line.startswith(("error:", "Error:"))]
    assert message or r.exit_code == 1, r.output  # check-batch: the batch report, exit status 1


def test_an_api_parameter_in_a_message_is_named_by_its_option():
    from vru.cli_util import name_options

    options = {"n_draws": "--draws", "window_start": "--window-start", "window_end": "--window-end",
               "start": "--start", "n": "--top"}
    assert name_options("n_draws: a whole number >= 1, not 0", options) \
        == "--draws: a whole number >= 1, not 0"
    assert name_options("n must be at least 1, not 0", options) == "--top must be at least 1, not 0"
    assert name_options("window_end: 2018-01 is before window_start 2018-07", options) \
        == "--window-end: 2018-01 is before --window-start 2018-07"
    # a word that is only English is left alone
    assert name_options("no start month in the data", options) == "no start month in the data"


def test_records_to_batch_says_what_it_wrote_on_standard_error_and_writes_the_file_whole(tmp_path):
    src = tmp_path / "records.csv"
    src.write_text("crime_ref,crime_type,time_from,time_to,easting,northing\n"
                   "R1,RB,2024-03-04T10:00:00Z,2024-03-04T11:00:00Z,530000,180000\n", encoding="utf-8")
    out = tmp_path / "batch.csv"
    r = run("tagging", "records-to-batch", src, "--force", "Metropolitan", "-o", out)
    assert r.exit_code == 0 and "SUCCESSFUL" in r.stdout and "wrote" not in r.stdout
    assert r.stderr == f"wrote {out}: 1 record(s)\n" and out.is_file()
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc, where no file can be made")
def test_a_file_that_cannot_be_written_is_a_one_line_error():
    import click

    from vru.cli_util import write_file

    with pytest.raises(click.FileError) as e:
        write_file(Path("/proc/vru-result.json"), "{}")
    assert e.value.format_message().startswith("Could not open file '/proc/vru-result.json': ")
