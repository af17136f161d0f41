"""The synthetic national data.police.uk archive: its quirks, and the engine reading it."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from vru.sources.engine import street_scan
from vru.synthetic import police_uk_national as nat


def test_months_and_crime_types_over_time():
    assert nat.months("2010-12", "2011-02") == ["2010-12", "2011-01", "2011-02"]
    with pytest.raises(ValueError, match="after end"):
        nat.months("2011-02", "2010-12")
    names = {m: [t for t, _ in nat.crime_types(m)] for m in ("2010-12", "2011-05", "2013-05")}
    assert set(names["2010-12"]) == {"Anti-social behaviour", "Burglary", "Robbery",
                                     "Vehicle crime", "Violent crime", "Other crime"}
    assert "Public disorder and weapons" in names["2011-05"]
    assert "Violence and sexual offences" not in names["2011-05"]
    assert {"Violence and sexual offences", "Public order", "Possession of weapons",
            "Bicycle theft"} <= set(names["2013-05"])
    assert "Violent crime" not in names["2013-05"]
    for m in ("2010-12", "2015-06", "2026-10"):
        assert sum(p for _, p in nat.crime_types(m)) == pytest.approx(1.0)
    assert nat.asb_share("2011-01") > 0.3 > nat.asb_share("2023-01") == pytest.approx(0.145)
    assert nat.asb_share("2020-05") > nat.asb_share("2019-05")


def _files(folder):
    return sorted(folder.glob("*/*-street.csv"))


@pytest.mark.slow
def test_gaps_btp_and_the_lsoa_switch(tmp_path):
    out = tmp_path / "arch"
    stats = nat.generate(out, rows=60_000, start="2019-06", end="2019-07", lsoa_switch="2019-07",
                         seed=5)
    files = _files(out)
    # Greater Manchester has no file from July 2019 (GAPS); BTP has one every month
    assert stats["missing_files"] == ["2019-07-greater-manchester"]
    assert len(files) == stats["files"] == 44 + 43
    assert (out / "2019-07" / "2019-07-btp-street.csv").exists()
    assert not (out / "2019-07" / "2019-07-greater-manchester-street.csv").exists()
    head = (out / "2019-06" / "2019-06-btp-street.csv").read_text().splitlines()[0]
    assert head == nat.HEADER
    result = street_scan(files)
    assert result.rows == stats["rows"]
    assert result.crimes == stats["rows"] - stats["repeated"]
    crime = result.crime
    asb = crime.loc[crime["category"] == "anti_social_behaviour", "count"].sum()
    assert asb == stats["asb"]
    per_month = crime.groupby(crime["month"].dt.strftime("%Y-%m"))["source"].nunique()
    assert per_month.to_dict() == {"2019-06": 44, "2019-07": 43}
    assert "police_uk_street/British Transport Police" in set(crime["source"])
    # 2021 vintage from the switch: split LSOAs' parents vanish, their children appear
    lsoas = pd.read_csv(out / "lsoas.csv")
    only_2011 = set(lsoas.loc[lsoas["last_vintage"] == 2011, "code"])
    only_2021 = set(lsoas.loc[lsoas["first_vintage"] == 2021, "code"])
    assert only_2011 and only_2021
    june = set(crime.loc[crime["month"] == "2019-06-01", "area_code"])
    july = set(crime.loc[crime["month"] == "2019-07-01", "area_code"])
    assert june & only_2011 and not june & only_2021
    assert july & only_2021 and not july & only_2011
    # BTP's LSOAs lie inside the territorial forces' areas, and a fifth of its rows have none
    btp = crime[crime["source"] == "police_uk_street/British Transport Police"]
    located = btp[btp["area_code"] != "X-NO-LOCATION"]
    assert set(located["area_code"]) <= set(lsoas.loc[lsoas["btp"], "code"])
    share = btp.loc[btp["area_code"] == "X-NO-LOCATION", "count"].sum() / btp["count"].sum()
    assert 0.1 < share < 0.3
    # anti-social behaviour rows carry no Crime ID and no outcome; crimes do
    raw = pd.read_csv(out / "2019-06" / "2019-06-metropolitan-street.csv", dtype=str,
                      keep_default_na=False)
    is_asb = raw["Crime type"] == "Anti-social behaviour"
    assert (raw.loc[is_asb, "Crime ID"] == "").all()
    assert (raw.loc[is_asb, "Last outcome category"] == "").all()
    assert (raw.loc[~is_asb, "Crime ID"].str.len() == 64).all()
    assert raw.loc[~is_asb, "Crime ID"].duplicated().any()  # repeated Crime IDs
    assert (raw["Location"] == "No Location").any()
    assert json.loads((out / "stats.json").read_text())["rows"] == stats["rows"]


@pytest.mark.slow
def test_renamed_crime_types_and_city_of_london_gap(tmp_path):
    out = tmp_path / "arch"
    nat.generate(out, rows=20_000, start="2013-04", end="2013-05", seed=9)
    april = pd.read_csv(out / "2013-04" / "2013-04-metropolitan-street.csv", dtype=str)
    may = pd.read_csv(out / "2013-05" / "2013-05-metropolitan-street.csv", dtype=str)
    assert "Violent crime" in set(april["Crime type"])
    assert "Violence and sexual offences" in set(may["Crime type"])
    panel = street_scan(_files(out)).crime
    # the old and new names of violent crime read as one harmonised series
    viol = panel[panel["category"] == "violence_and_sexual_offences"]
    assert set(viol["month"].dt.strftime("%Y-%m")) == {"2013-04", "2013-05"}
    gap = tmp_path / "gap"
    stats = nat.generate(gap, rows=5_000, start="2017-08", end="2018-03", seed=9, btp=False)
    col = sorted(p.name[:7] for p in gap.glob("*/*-city-of-london-street.csv"))
    assert col == ["2017-08", "2018-03"]
    assert len(stats["missing_files"]) == 6


@pytest.mark.slow
def test_seeded(tmp_path):
    def digest(folder):
        return hashlib.sha256(b"".join(p.read_bytes() for p in _files(folder))).hexdigest()

    a = nat.generate(tmp_path / "a", rows=3_000, start="2024-01", end="2024-01", seed=3)
    b = nat.generate(tmp_path / "b", rows=3_000, start="2024-01", end="2024-01", seed=3)
    nat.generate(tmp_path / "c", rows=3_000, start="2024-01", end="2024-01", seed=4)
    assert a == b
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
