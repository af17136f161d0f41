"""Django set-up for the web tests: SQLite by default, PostgreSQL when VRU_TEST_DATABASE_URL is set.

Django is configured here, at import, rather than in pyproject (which other engineers' tests share), so the
rest of the suite runs without a Django settings module. Settings are read once, so the environment is
fixed before ``django.setup()``: a throwaway secret key and a temporary SQLite path (pytest-django then
creates and destroys a separate test database on whichever backend is chosen).
"""

from __future__ import annotations

import os
import tempfile

_tmp = tempfile.mkdtemp(prefix="vru-web-test-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vru.web.settings")
os.environ["DJANGO_SECRET_KEY"] = "test-only-" + os.urandom(16).hex()
os.environ["VRU_WEB_DB"] = os.path.join(_tmp, "web.sqlite3")
os.environ["VRU_WEB_STATIC_ROOT"] = os.path.join(_tmp, "static")
os.makedirs(os.environ["VRU_WEB_STATIC_ROOT"])  # empty: WhiteNoise warns on every request about a missing one
os.environ["VRU_WEB_CACHE"] = os.path.join(_tmp, "cache")
os.environ["VRU_TAGGING_STORE"] = os.path.join(_tmp, "tagging")
os.environ["VRU_SURVEY_DRAFTS"] = os.path.join(_tmp, "survey-drafts")
# A send is written at once (test_survey_pool.py: K = 10). Unsafe in production (docs/web-survey.md).
os.environ.setdefault("VRU_SURVEY_BATCH", "1")
os.environ.setdefault("VRU_SURVEY_FLUSH_ON_SEND", "1")
os.environ.pop("VRU_WEB_PRODUCTION", None)
if os.environ.get("VRU_TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["VRU_TEST_DATABASE_URL"]
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402
from django.conf import settings as _django_settings  # noqa: E402

if _django_settings.configured:
    # A pytest-xdist worker: pytest-django set Django up before this file was imported, from the
    # environment the worker inherited from the controller (which had imported this file first). Every
    # worker then shared the controller's cache folders (one worker's cleared rate-limit counts reached
    # another's test part-way through) and held a SECRET_KEY other than the one its servers got from
    # the environment. Point this worker's settings at its own folders, and give the servers its key.
    from django.core.cache import caches

    for _alias, _cache in _django_settings.CACHES.items():
        if _cache["BACKEND"].endswith("FileBasedCache"):
            _cache["LOCATION"] = os.path.join(_tmp, "cache" if _alias == "default" else f"cache-{_alias}")
    caches.__dict__.pop("settings", None)  # the cache handler reads CACHES again on first use
    _django_settings.STATIC_ROOT = os.environ["VRU_WEB_STATIC_ROOT"]
    _django_settings.VRU_TAGGING_STORE = os.environ["VRU_TAGGING_STORE"]
    os.environ["DJANGO_SECRET_KEY"] = _django_settings.SECRET_KEY
django.setup()

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_rate_limit_counts():
    """Every test starts with no rate-limit counts (django-ratelimit's cache alias ``ratelimit``, and the
    survey's in-process limiter): the test client's requests all come from one address."""
    from django.core.cache import caches

    from vru.web.survey.ratelimit import LIMITER

    caches["ratelimit"].clear()
    LIMITER.reset()  # the survey's counters live in this process's memory


@pytest.fixture(autouse=True)
def _own_survey_drafts(monkeypatch, tmp_path):
    """Each test has a survey drafts folder (drafts, pool, spent markers) of its own, read from the
    environment on every use and inherited by the servers a test starts: files another test left (under
    another SECRET_KEY, or a batch smaller than K) cannot reach it."""
    monkeypatch.setenv("VRU_SURVEY_DRAFTS", str(tmp_path / "survey-drafts"))


@pytest.fixture
def version(db):
    """The survey's bundled questionnaire, published (``factories.survey_version``)."""
    from factories import survey_version

    return survey_version()


@pytest.fixture
def alice(db):
    """Alice Analyst, a user with no role who signs in as alice@example.org (created as Alice@Example.org)
    with ``factories.PASSWORD`` (the accounts and platform tests)."""
    from factories import PASSWORD, user

    return user("Alice@Example.org", password=PASSWORD, full_name="Alice Analyst")
