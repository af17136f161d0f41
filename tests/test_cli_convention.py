"""One convention for every `vru` command: the result on standard output unless -o is given, the format
from --format or the file's extension, messages on standard error, a progress bar only on a terminal."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys

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
    primary, secondary = os.openpty()
    try:
        p = _vru("report", "-w", london_warehouse, stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        seen = _read_all(primary)
    finally:
        os.close(primary)
    assert p.returncode == 0 and p.stdout.startswith(b"<!DOCTYPE html>")
    assert b"building the report" in seen and b"7/7" in seen
    # piped standard error: no bar, nothing but the result
    p = _vru("report", "-w", london_warehouse, "-o", tmp_path / "r.html", stdout=subprocess.PIPE,
             stderr=subprocess.PIPE)
    assert p.returncode == 0 and p.stdout == b"" and p.stderr == f"wrote {tmp_path / 'r.html'}\n".encode()


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
    primary, secondary = os.openpty()
    try:
        p = _vru("ingest", "-w", wh, street, stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        seen = _read_all(primary)
    finally:
        os.close(primary)
    assert p.returncode == 0 and p.stdout.count(b"loaded") == 6
    assert b"reading" in seen and b"6/6" in seen
    wh = testing.tiny_warehouse(tmp_path / "b.duckdb", ["unemployment_borough"])
    p = _vru("ingest", "-w", wh, street, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0 and p.stderr == b"" and p.stdout.count(b"loaded") == 6
