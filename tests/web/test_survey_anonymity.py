"""Anonymity fixes from review 14 (docs/web-survey.md, "Anonymity"): the CSRF cookie, the rate-limit keys,
the cache, and the database's own metadata (PostgreSQL xmin)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from vru.web.survey.demo import load_and_publish

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"
UA = "Mozilla/5.0 (AnonTest2) UA-77e1"


@pytest.fixture
def version():
    return load_and_publish()


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)


def test_the_csrf_cookie_is_a_browser_session_cookie(version):
    """Finding 6: the survey's CSRF cookie must not outlive the browser session (it used to last a year)."""
    r = client().get("/survey/en/")
    assert r.status_code == 200
    cookie = r.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == "", (cookie["max-age"], cookie["expires"])
