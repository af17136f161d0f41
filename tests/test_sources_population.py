"""vru.sources.population: hand-made files with hand-computed answers, bad input, and the real
mid-2019 / mid-2020 files checked against data/bundled/population_lsoa/SOURCE.md."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from vru.errors import SourceError
from vru.sources import population, registry

BUNDLED = Path(population.__file__).parents[1] / "data" / "bundled" / "population_lsoa"

HEADER = ["LSOA11CD", "LSOA11NM", "MSOA11CD", "MSOA11NM", "LAD11CD", "LAD11NM"] + [
    f"{s}_{b}" for s in ("Persons", "Males", "Females")
    for b in ("All-Ages", "0-15", "16-29", "30-44", "45-64", "65+")]
# Persons = Males + Females; each sex's bands sum to its All-Ages (checked by hand).
ROW_1 = ["E01000001", "City of London 001A", "E02000001", "City of London 001", "E09000001",
         "City of London",
         "1636", "258", "170", "302", "455", "451",
         "886", "139", "85", "186", "258", "218",
         "750", "119", "85", "116", "197", "233"]
ROW_2 = ["E01000005", "City of London 001E", "E02000001", "City of London 001", "E09000001",
         "City of London",
         "100", "10", "20", "30", "25", "15",
         "60", "6", "12", "18", "15", "9",
         "40", "4", "8", "12", "10", "6"]


def write(tmp_path: Path, rows, header=HEADER, name="london-mid2019-pop.csv", gz=False) -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    p = tmp_path / (name + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return p


def pop(df, code, sex, band) -> int:
    sel = df[(df["area_code"] == code) & (df["sex"] == sex) & (df["age_band"] == band)]
    assert len(sel) == 1
    return int(sel["population"].iloc[0])


def test_hand_made_file(tmp_path):
    p = write(tmp_path, [ROW_1, ROW_2])
    assert population.sniff(p)
    b = population.load(p)
    df = b.tables["population"]
    assert b.source == "ons_mye_lsoa"
    assert len(df) == 2 * 3 * 7
    assert set(df["year"]) == {2019} and set(df["level"]) == {"lsoa"}
    assert set(df["age_band"]) == {"all", "0-15", "16-29", "30-44", "45-64", "65+", "16-64"}
    assert pop(df, "E01000001", "persons", "all") == 1636
    assert pop(df, "E01000001", "males", "65+") == 218
    assert pop(df, "E01000001", "females", "16-29") == 85
    assert pop(df, "E01000001", "persons", "16-64") == 170 + 302 + 455
    assert pop(df, "E01000005", "females", "16-64") == 8 + 12 + 10
    assert df[(df["sex"] == "persons") & (df["age_band"] == "all")]["population"].sum() == 1736


@pytest.mark.parametrize("name, year", [
    ("london-mid2020-pop.csv", 2020), ("sape_mid-2018_lsoa.csv", 2018),
    ("pop_MID_2021.csv", 2021),
])
def test_year_from_file_name(tmp_path, name, year):
    b = population.load(write(tmp_path, [ROW_1], name=name))
    assert set(b.tables["population"]["year"]) == {year}


def test_year_must_be_known(tmp_path):
    p = write(tmp_path, [ROW_1], name="lsoa-pop.csv")
    with pytest.raises(SourceError, match="reference year"):
        population.load(p)
    assert set(population.load(p, year=2017).tables["population"]["year"]) == {2017}
    with pytest.raises(SourceError, match="file name says mid-2019"):
        population.load(write(tmp_path, [ROW_1]), year=2020)


def test_gzipped_and_optional_msoa_columns(tmp_path):
    keep = [i for i, h in enumerate(HEADER) if not h.startswith("MSOA")]
    rows = [[r[i] for i in keep] for r in (ROW_1, ROW_2)]
    b = population.load(write(tmp_path, rows, [HEADER[i] for i in keep], gz=True))
    assert pop(b.tables["population"], "E01000005", "males", "all") == 60


def test_bands_must_sum_to_all_ages(tmp_path):
    row = list(ROW_2)
    row[HEADER.index("Males_30-44")] = "19"
    row[HEADER.index("Persons_30-44")] = "31"  # keep M+F=P so that the band sum is what fails
    with pytest.raises(SourceError, match="age bands sum") as e:
        population.load(write(tmp_path, [ROW_1, row]))
    assert e.value.row == 3 and e.value.column == "Persons_All-Ages"


def test_males_plus_females_must_equal_persons(tmp_path):
    row = list(ROW_2)
    for col in ("Persons_All-Ages", "Persons_65+"):
        row[HEADER.index(col)] = str(int(row[HEADER.index(col)]) + 1)
    with pytest.raises(SourceError, match=r"Males_All-Ages \+ Females_All-Ages") as e:
        population.load(write(tmp_path, [ROW_1, row]))
    assert e.value.row == 3 and e.value.column == "Persons_All-Ages"


@pytest.mark.parametrize("col, bad, message", [
    ("Males_0-15", "six", "not a whole number"),
    ("Males_0-15", "-6", "not a whole number"),
    ("Males_0-15", "6.5", "not a whole number"),
    ("LSOA11CD", "E02000001", "not an LSOA GSS code"),
    ("LSOA11CD", "E01000001", "duplicate LSOA code"),
    ("LAD11CD", "Camden", "not a local authority GSS code"),
    ("LSOA11NM", "", "missing value"),
])
def test_bad_values(tmp_path, col, bad, message):
    row = list(ROW_2)
    row[HEADER.index(col)] = bad
    with pytest.raises(SourceError, match=message) as e:
        population.load(write(tmp_path, [ROW_1, row]))
    assert e.value.row == 3 and e.value.column == col
    assert "london-mid2019-pop.csv" in str(e.value)


def test_missing_column_empty_and_truncated_files(tmp_path):
    header = [h for h in HEADER if h != "Females_65+"]
    with pytest.raises(SourceError, match="Females_65") as e:
        population.load(write(tmp_path, [ROW_1[:-1]], header))
    assert e.value.row == 1
    empty = tmp_path / "london-mid2019-pop.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        population.load(empty)
    with pytest.raises(SourceError, match="missing value") as e:
        population.load(write(tmp_path, [ROW_1, ROW_2[:15]]))
    assert e.value.row == 3 and e.value.column == HEADER[15]
    with pytest.raises(SourceError, match="no data rows"):
        population.load(write(tmp_path, []))
    gz = write(tmp_path, [ROW_1, ROW_2] * 50, gz=True)
    gz.write_bytes(gz.read_bytes()[:-20])
    with pytest.raises(SourceError, match="truncated or corrupt"):
        population.load(gz)


def test_unknown_column(tmp_path):
    with pytest.raises(SourceError, match="unknown column") as e:
        population.load(write(tmp_path, [ROW_1 + ["3"]], HEADER + ["Persons_90+"]))
    assert e.value.column == "Persons_90+"


# --- real files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("year, total, city", [(2019, 8_961_989, 9_721), (2020, 9_002_488, None)])
def test_real_files(year, total, city):
    path = BUNDLED / f"london-mid{year}-pop.csv.gz"
    assert registry.detect(path) is population
    df = population.load(path).tables["population"]
    persons_all = df[(df["sex"] == "persons") & (df["age_band"] == "all")]
    assert len(persons_all) == 4835
    assert persons_all["population"].sum() == total
    assert set(df["year"]) == {year}
    if city is not None:
        # the City of London's six LSOAs (LAD11CD E09000001 in the file)
        city_codes = ["E01000001", "E01000002", "E01000003", "E01000005", "E01032739",
                      "E01032740"]
        assert persons_all[persons_all["area_code"].isin(city_codes)]["population"].sum() == city
    stratford = {2019: 16_004, 2020: 17_274}[year]
    assert pop(df, "E01033583", "persons", "all") == stratford
    if year == 2019:
        assert persons_all["population"].min() == 810
        # the claimant-count denominator (SOURCE.md): E01000001 aged 16-64 = 927
        assert pop(df, "E01000001", "persons", "16-64") == 927
