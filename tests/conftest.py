"""Shared fixtures: paths to the bundled data, the shared originals, and a London warehouse."""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright, one per test module (tests/needs.py says what
    happens when either is missing)."""
    from needs import CHROMIUM_ARGS, chromium, playwright_sync_api

    sync_api = playwright_sync_api()
    path = chromium()
    # Playwright's sync API runs an event loop in this thread; a Django test's own ORM calls (creating
    # users) are still synchronous and safe there.
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            try:
                yield b
            finally:
                b.close()
    finally:
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin" / "java").exists()))


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores, 1 GB) for the tests marked ``spark``, one for the whole run; a
    missing Java runtime is a skip here and a failure under CI (tests/needs.py)."""
    from needs import missing

    if not _java():
        missing("no Java runtime (java not on PATH, JAVA_HOME unset): Spark cannot start")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("vru-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


_WEB = Path(__file__).resolve().parent / "web"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/web ``web`` before ``-m`` selects: `make test` runs them on PostgreSQL
    (scripts/test-web-postgres.sh) and then keeps only the browser tests and the ``sqlite`` ones when the
    main suite runs on SQLite (scripts/test-all.sh). Mark ``warehouse`` every test that needs the London
    warehouse built from the bundled data (a minute's work once per process), which `make test-fast` skips."""
    for item in items:
        if _WEB in item.path.parents:
            item.add_marker(pytest.mark.web)
        if "london_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.warehouse)
