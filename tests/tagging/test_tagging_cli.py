"""`vru tagging match --batch`: a police crime batch in the MoJ contract, checked and matched at once."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from vru.tagging.cli import tagging


def _moj_row(crime, ref: str) -> str:
    fmt = "%Y%m%d%H%M%S"
    return ",".join(["Metropolitan", "RB", "Robbery", "MPS20240304", ref,
                     crime["time_from"].strftime(fmt), crime["time_to"].strftime(fmt),
                     f"{crime['easting']:.0f}", f"{crime['northing']:.0f}", "", "", "OSGB36", "planted"])


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
