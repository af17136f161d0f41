"""`vru ingest --backend pyspark` without the spark extra: a plain message saying how to install
it and Java, not a traceback; nothing stored. PySpark is installed here, so its absence is
simulated."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import vru
from vru.cli import main
from vru.sources import engine
from vru.warehouse.store import Warehouse

STREET = (Path(vru.__file__).parent / "data" / "bundled" / "police_uk_street_city_of_london_2023"
          / "2023-01-city-of-london-street.csv.gz")


@pytest.fixture
def no_pyspark(monkeypatch):
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ModuleNotFoundError


def test_engine_says_how_to_install(no_pyspark):
    with pytest.raises(engine.SparkUnavailableError) as e:
        engine.street_scan([STREET], "pyspark")
    msg = str(e.value)
    assert "pip install 'vru[spark]'" in msg and "Java 17" in msg


def test_cli_ingest_pyspark_without_pyspark(no_pyspark, tmp_path):
    w = tmp_path / "w.duckdb"
    Warehouse.create(w).close()
    r = CliRunner().invoke(main, ["ingest", "-w", str(w), "--backend", "pyspark", str(STREET)])
    assert r.exit_code == 2, r.output
    assert "pip install 'vru[spark]'" in r.output and "Java 17" in r.output
    assert "Traceback" not in r.output and "ModuleNotFoundError" not in r.output
    with Warehouse.open(w, read_only=True) as wh:
        assert wh.counts()["crime"] == 0 and wh.table("loads").empty


def test_the_extra_named_is_the_real_one():
    import tomllib

    pyproject = Path(vru.__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert "spark" in extras and any(d.startswith("pyspark") for d in extras["spark"])
