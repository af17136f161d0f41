"""Shared fixtures: paths to the bundled data, the shared originals, and a London warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "vru" / "data" / "bundled"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def bundled() -> Path:
    return BUNDLED


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip(f"the original source files are not at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def london_warehouse(tmp_path_factory) -> Path:
    """A warehouse built by `vru init` from the bundled data (built once per test session)."""
    from vru import api

    path = tmp_path_factory.mktemp("wh") / "london.duckdb"
    api.init(path)
    return path


@pytest.fixture(scope="module")
def wh(london_warehouse):
    """The London warehouse opened read-only (one connection per test module).

    Test modules that need a different warehouse (e.g. test_warehouse.py) define their own ``wh``.
    """
    from vru.warehouse.store import Warehouse

    w = Warehouse.open(london_warehouse, read_only=True)
    yield w
    w.close()
