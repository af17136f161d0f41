"""What the suite needs from the machine, and what happens when it is missing.

On a developer's machine a missing system program (Debian's Chromium, Playwright, a Java runtime) skips
the tests that need it, with a message saying how to get it. Under CI (``CI=true``, which ``.ci/run``
sets) the same tests fail instead: a CI run cannot pass while silently leaving out the browser or
Spark tests. The shared original data folder is different: a clone without ``../shared`` is a normal
way to use the project, so those tests still skip.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Skip the test (developer machine) or fail it (CI) because ``reason`` is missing."""
    if under_ci():
        pytest.fail(f"{reason}; CI must run every test (make test installs it)", pytrace=False)
    pytest.skip(reason)


def chromium() -> str:
    """The path of Debian's Chromium (never a downloaded build)."""
    path = next((p for p in CHROMIUM_PATHS if os.path.exists(p)), None)
    if path is None:
        missing("Debian chromium is not installed (make test installs it)")
    return path


def playwright_sync_api():
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    return sync_api
