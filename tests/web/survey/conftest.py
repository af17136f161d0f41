"""Fixtures shared by several of the survey's test modules: a police analyst who issues invitation codes,
a respondent who has started the survey (on the open link), the keys written to any cache, and an empty
drafts store."""

from __future__ import annotations

import shutil

import pytest
from django.core.cache import caches
from factories import user
from survey_helpers import client

from vru.web.survey import drafts


@pytest.fixture
def police(version):
    return user("police@example.org", "police analyst")


@pytest.fixture
def started(version):
    c = client()
    c.post("/survey/en/", {"code": ""})
    return c


@pytest.fixture
def _record_keys(monkeypatch):
    """The keys written to any cache during the test (the backends store only a hash of each key)."""
    written: list[str] = []
    for name in ("set", "add", "incr", "set_many", "touch"):
        for cls in {type(caches["default"]), type(caches["ratelimit"])}:
            original = getattr(cls, name)
            if getattr(original, "_recording", False):
                continue

            def wrapper(self, key, *args, _original=original, **kwargs):
                written.extend(key.keys() if isinstance(key, dict) else [key])
                return _original(self, key, *args, **kwargs)

            wrapper._recording = True
            monkeypatch.setattr(cls, name, wrapper)
    return written


@pytest.fixture
def empty_store():
    """The drafts store emptied before and after the test."""
    shutil.rmtree(drafts.store().root, ignore_errors=True)
    yield
    shutil.rmtree(drafts.store().root, ignore_errors=True)
