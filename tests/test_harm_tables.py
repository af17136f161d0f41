"""vru.data.harm_tables: the harm weighting's tables, read and validated outside the analysis layer."""

from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from vru import taxonomy
from vru.analysis import harm
from vru.data import harm_tables as t
from vru.errors import SourceError


def test_the_bundled_tables_are_the_files():
    offences, reps = t.offence_categories(), t.representatives()
    assert len(offences) == 132 and len(reps) == 28
    b = t.bundled()
    assert dict(b.offences) == offences and dict(b.representatives) == reps
    assert b.css.equals(t.css_table()) and b.volumes.equals(t.london_volumes(2019)) and b.volume_year == 2019
    assert offences["10D"] == "possession_of_article_with_blade_or_point"
    assert reps["miscellaneous_crimes_against_society"][0] is None  # empty code: the median
    assert set(offences.values()) <= set(taxonomy.leaves())
    # every offence of the bundled CSS table is mapped (the aggregate homicide row aside)
    assert set(t.css_table()["code"]) - {t.AGGREGATE_ROW} == set(offences)


def test_the_analysis_takes_a_table_passed_in():
    bundled = t.bundled()
    css = t.css_table()
    css.loc[css["code"] == "34B", "weight"] = 1000.0  # a robbery of personal property weighs 1000
    mine = dataclasses.replace(bundled, css=css)
    ow = harm.offence_weights(mine)
    assert ow.loc[ow["code"] == "34B", "weight"].item() == 1000.0
    assert harm.offence_weights(t.bundled()).loc[lambda d: d["code"] == "34B", "weight"].item() != 1000.0
    assert harm.css_weights(tables=mine).at["robbery_of_personal_property", "weight"] == 1000.0
    crime = pd.DataFrame({"category": ["robbery_of_personal_property"], "count": [2.0]})
    assert harm.harm_weighted(crime, "css", tables=mine).table["harm"].item() == 2000.0
    assert harm.harm_weighted(crime, "css", tables=bundled).table["harm"].item() == 2 * harm.css_weights(
        tables=bundled).at["robbery_of_personal_property", "weight"]
    # each call gives fresh copies: changing one changes nothing else
    bundled.css.loc[:, "weight"] = 0.0
    assert (t.bundled().css["weight"] > 0).all()


def test_the_tables_object_checks_its_shape():
    b = t.bundled()
    with pytest.raises(ValueError, match="no 'weight' column"):
        dataclasses.replace(b, css=b.css.drop(columns="weight"))
    with pytest.raises(TypeError, match="pandas Series"):
        dataclasses.replace(b, volumes={"robbery": 1.0})
    with pytest.raises(ValueError, match="keyed by one of category, offence_code"):
        harm.ChiTable("offence", pd.DataFrame({"key": [], "days": []}))


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the two offence tables that a test may break; the loader reads it instead."""
    real = t._data
    for name in ("harm_offences.csv", "harm_representatives.csv"):
        shutil.copy(real(name), tmp_path / name)
    monkeypatch.setattr(t, "_data", lambda name: tmp_path / name)
    t._offence_categories.cache_clear()
    t._representatives.cache_clear()
    yield tmp_path
    t._offence_categories.cache_clear()
    t._representatives.cache_clear()


@pytest.mark.parametrize("name,old,new,at,column,message", [
    ("harm_offences.csv", "10D,possession_of_article_with_blade_or_point", "10D,knives", "10D,",
     "category", "'knives' is not a leaf"),
    ("harm_offences.csv", "10D,possession_of_article_with_blade_or_point", "10D,robbery", "10D,",
     "category", "'robbery' is not a leaf"),  # a parent: weights are given to leaves
    # 44 becomes a second 46: the error is on the later of the two lines
    ("harm_offences.csv", "44,bicycle_theft", "46,bicycle_theft", "46,shoplifting", "offence_code",
     "'46' empty or given twice"),
    ("harm_offences.csv", "offence_code,category", "code,category", "code,", None, "header must be"),
    ("harm_representatives.csv", "bicycle_theft,44,", "bicycle_theft,46,", "bicycle_theft,",
     "offence_code", "not one of 'bicycle_theft'"),
])
def test_a_broken_table_names_file_line_and_column(data_copy, name, old, new, at, column, message):
    path = data_copy / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    line = 1 + next(i for i, x in enumerate(path.read_text().splitlines()) if x.startswith(at))
    with pytest.raises(SourceError, match=message) as e:
        t.representatives()  # reads both tables
    assert str(e.value).startswith(f"{path}, row {line}")
    if column:
        assert f"column {column!r}" in str(e.value)


def test_the_weights_do_not_depend_on_the_hash_seed():
    """Parents' weights are sums over leaves: summed in a fixed order, to the last digit."""
    import subprocess
    import sys

    code = ("from vru.analysis import harm; from vru.data import harm_tables; "
            "print(harm.comparison_table(harm_tables.bundled()).to_csv())")
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
           for seed in ("1", "2", "3")}
    assert len(out) == 1
