"""`vru tagging match --batch`: a police crime batch in the MoJ contract, checked and matched at once."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from vru.tagging.cli import tagging


def _moj_row(crime, ref: str) -> str:
    fmt = "%Y%m%d%H%M%S"
    return ",".join(["Metropolitan", "RB", "Robbery", "MPS20240304", ref,
                     crime["time_from"].strftime(fmt), crime["time_to"].strftime(fmt),
                     f"{crime['easting']:.0f}", f"{crime['northing']:.0f}", "", "", "OSGB36", "planted"])


@pytest.mark.slow
def test_match_takes_a_moj_batch_matches_its_valid_rows_and_lists_the_bad_ones(tmp_path):
    out = tmp_path / "trails"
    r = CliRunner().invoke(tagging, ["simulate", "-n", "3", "-d", "1", "--seed", "5", "--out", str(out),
                                     "--crimes", "4"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(tagging, ["import-positions", str(out / "positions.csv"), "-a",
                                     str(out / "activations.csv"), "-s", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    planted = pd.read_csv(out / "planted_crimes.csv", parse_dates=["time_from", "time_to"])
    true = planted[planted["expected"].astype(bool)].iloc[0]
    batch = tmp_path / "batch.csv"
    bad = "Metropolitan,RB,Robbery,MPS20240304,CR-BAD,20240304120000,20240305120000,530000,180000,,,OSGB36,x"
    batch.write_text(_moj_row(true, "CR-1") + "\n" + bad + "\n", encoding="utf-8")

    args = ["match", "-s", str(tmp_path / "store"), "-a", str(out / "activations.csv"), "-o",
            str(tmp_path / "m")]
    r = CliRunner().invoke(tagging, [*args, "--batch", str(batch)])
    assert r.exit_code == 0, r.output
    assert "PARTIAL" in r.output and "CRIME_DATE_TIME_EXCEEDS_WINDOW" in r.output and "CR-BAD" in r.output
    summary = pd.read_csv(tmp_path / "m" / "summary.csv")
    assert list(summary["crime_version_id"].unique()) == ["Metropolitan:CR-1:v1"]
    assert true["wearer_ref"] in set(summary["wearer_ref"])

    batch.write_text(bad + "\n", encoding="utf-8")  # every row bad: nothing matched, exit 1
    r = CliRunner().invoke(tagging, [*args, "--batch", str(batch)])
    assert r.exit_code == 1 and "FAILED" in r.output
    r = CliRunner().invoke(tagging, args)
    assert r.exit_code == 2 and "either --crimes or --batch" in r.output


@pytest.mark.slow
def test_report_writes_the_html_and_pdf_of_a_match_from_the_match_output(tmp_path):
    """`vru tagging report`: from the folder `vru tagging match` wrote, the evidential report of one match
    (HTML with the map, the positions and the disclaimer, and nothing it could fetch; a PDF); a match that
    is not there, or a folder that is not a match output, is an error naming the file."""
    out = tmp_path / "trails"
    runner = CliRunner()
    assert runner.invoke(tagging, ["simulate", "-n", "3", "-d", "1", "--seed", "5", "--out", str(out),
                                   "--crimes", "2"]).exit_code == 0
    r = runner.invoke(tagging, ["import-positions", str(out / "positions.csv"), "-a",
                                str(out / "activations.csv"), "-s", str(tmp_path / "store")])
    assert r.exit_code == 0, r.output
    planted = pd.read_csv(out / "planted_crimes.csv", parse_dates=["time_from", "time_to"])
    true = planted[planted["expected"].astype(bool)].iloc[0]
    batch = tmp_path / "batch.csv"
    batch.write_text(_moj_row(true, "CR-7") + "\n", encoding="utf-8")
    m = tmp_path / "m"
    r = runner.invoke(tagging, ["match", "-s", str(tmp_path / "store"), "-a", str(out / "activations.csv"),
                                "-o", str(m), "--batch", str(batch)])
    assert r.exit_code == 0, r.output
    crimes = pd.read_csv(m / "crimes.csv")
    assert list(crimes["crime_version_id"]) == ["Metropolitan:CR-7:v1"]
    assert crimes["batch_id"][0] == "MPS20240304"

    html, pdf = tmp_path / "r" / "report.html", tmp_path / "r" / "report.pdf"
    args = ["report", str(m), "-c", "Metropolitan:CR-7:v1", "-w", true["wearer_ref"],
            "--reviewer", "A. Analyst", "--reason", "Corroborated by CCTV",
            "--qualified-at", "2024-03-05T10:00:00Z"]
    r = runner.invoke(tagging, [*args, "--html", str(html), "--pdf", str(pdf)])
    assert r.exit_code == 0, r.output
    text = html.read_text()
    points = pd.read_csv(m / "points.csv")
    n = int((points["wearer_ref"] == true["wearer_ref"]).sum())
    assert f"{n} position(s)" in r.output and n >= 1
    assert "does not confirm that the tag wearer perpetrated or witnessed" in text
    assert all(x in text for x in ("CR-7", "MPS20240304", "Corroborated by CCTV", "A. Analyst"))
    assert text.count("<svg") == 2 and "<script" not in text
    assert "default-src 'none'" in text and "http" not in text.replace("http://www.w3.org", "").replace(
        'http-equiv', "")
    assert pdf.read_bytes().startswith(b"%PDF")

    r = runner.invoke(tagging, [*args[:2], "-c", "Metropolitan:NOPE:v1", *args[4:], "--html", str(html)])
    assert r.exit_code == 2 and "summary.csv: no match of crime version 'Metropolitan:NOPE:v1'" in r.output
    r = runner.invoke(tagging, ["report", str(out), *args[2:], "--html", str(html)])
    assert r.exit_code == 2 and "no points.csv, summary.csv, crimes.csv, run.json" in r.output
    r = runner.invoke(tagging, args)
    assert r.exit_code == 2 and "--html and/or --pdf" in r.output
    r = runner.invoke(tagging, [*args[:-2], "--qualified-at", "yesterday", "--html", str(html)])
    assert r.exit_code == 2 and "--qualified-at" in r.output
