"""Error answers: under /api/ a JSON body with the request id (404, 413, 400, 403, 500, and 503 for a
locked database), elsewhere the HTML error pages; each error is one JSON log line and a mail to the
admins, without personal data."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from factories import PASSWORD, signed_in, user
from platform_helpers import Body, asgi, json_lines, wsgi

from vru.web.accounts.models import User

pytestmark = pytest.mark.django_db

PERSON = "pat.person@example.org"


@pytest.fixture
def manager(db) -> User:
    return user(PERSON, "programme manager", password=PASSWORD)


def test_a_locked_database_under_the_api_answers_json_503_and_logs_one_json_line(manager, monkeypatch,
                                                                                   capsys):
    from django.db import OperationalError

    from vru.web.programme import api

    def locked(self):
        raise OperationalError("database is locked")

    monkeypatch.setattr(api.AreaList, "get_queryset", locked)
    c = signed_in(manager, raise_request_exception=False)
    capsys.readouterr()
    r = c.get("/api/v1/programme/areas/?search=secret-query")
    assert r.status_code == 503 and r["Content-Type"] == "application/json"
    assert r["Retry-After"] == "5"
    body = r.json()
    assert body["request_id"] == r["X-Request-ID"] and "Try again" in body["detail"]
    err = capsys.readouterr().err
    errors = [line for line in json_lines(err) if line["level"] == "ERROR"]
    assert len(errors) == 1, err
    line = errors[0]
    assert (line["logger"], line["status"], line["method"], line["path"]) == \
        ("django.request", 503, "GET", "/api/v1/programme/areas/")
    assert line["user_id"] == manager.pk and line["request_id"] == body["request_id"]
    assert "Traceback" in line["exc"] and "OperationalError: database is locked" in line["exc"]
    assert PERSON not in err and "secret-query" not in err


def test_any_other_api_exception_is_json_500_and_every_answer_carries_the_request_id(manager, monkeypatch):
    from vru.web.programme import api

    def broken(self):
        raise KeyError("boom")

    monkeypatch.setattr(api.AreaList, "get_queryset", broken)
    c = signed_in(manager, raise_request_exception=False)
    r = c.get("/api/v1/programme/areas/")
    assert r.status_code == 500 and r.json()["request_id"] == r["X-Request-ID"]
    r = Client().get("/api/v1/programme/areas/")  # DRF's own 403, in its own shape, with the id to quote
    assert r.status_code == 403 and "detail" in r.json() and len(r["X-Request-ID"]) == 32


def test_an_html_page_error_gives_the_500_page_a_json_log_line_and_a_mail_without_personal_data(
        manager, monkeypatch, capsys, settings):
    from django.contrib.auth.forms import AuthenticationForm

    settings.ADMINS = [("Operations", "ops@example.org")]

    def broken(self):
        raise RuntimeError(f"cannot check {self.data.get('username')}")  # a message that quotes a person

    monkeypatch.setattr(AuthenticationForm, "clean", broken)
    c = Client(raise_request_exception=False)
    c.get(reverse("login"))
    capsys.readouterr()
    r = c.post(reverse("login"), {"username": PERSON, "password": "my-secret-passphrase"},
               QUERY_STRING="next=/private/")
    assert r.status_code == 500
    assert b"Sorry, there is a problem with the service" in r.content
    err = capsys.readouterr().err
    [line] = [x for x in json_lines(err) if x["level"] == "ERROR"]
    assert (line["status"], line["method"], line["path"]) == (500, "POST", "/accounts/login/")
    assert "RuntimeError: cannot check [email]" in line["exc"]
    assert PERSON not in err and "my-secret-passphrase" not in err and "/private/" not in err
    [message] = mail.outbox
    assert message.to == ["ops@example.org"] and "/accounts/login/" in message.subject
    assert line["request_id"] in message.body and "RuntimeError" in message.body
    for secret in (PERSON, "my-secret-passphrase", "/private/", "csrftoken", c.cookies["csrftoken"].value):
        assert secret not in message.body and secret not in message.subject
    settings.ADMINS = []
    c.post(reverse("login"), {"username": PERSON, "password": "x"})
    assert len(mail.outbox) == 1  # no admins, no mail


def _json_error(response, status: int) -> dict:
    assert response.status_code == status and response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "request_id"} and body["detail"]
    return body


def test_errors_under_the_api_are_json_with_the_request_id(rf, settings):
    from django.core.exceptions import PermissionDenied

    from vru.web.core import errors

    c = Client(raise_request_exception=False)
    for path in ("/api/v1/nope/", "/api/", "/api"):
        r = c.get(path)
        assert _json_error(r, 404)["request_id"] == r["X-Request-ID"]
    assert c.get("/nope/").status_code == 404 and c.get("/nope/")["Content-Type"].startswith("text/html")
    big = "x" * (settings.VRU_WEB_MAX_BODY_BYTES + 1)
    r = c.post("/api/v1/programme/areas/", data=big, content_type="application/json")
    assert _json_error(r, 413)["request_id"] == r["X-Request-ID"]
    assert c.post("/accounts/login/", data=big, content_type="text/plain")["Content-Type"].startswith(
        "text/plain")
    status, content, _ = wsgi("/api/v1/programme/areas/", Body(10, allowed=0), CONTENT_LENGTH="ten")
    assert status == 400 and set(json.loads(content)) == {"detail", "request_id"}
    status, content, _ = asgi("/api/v1/programme/areas/", [b"x"], [(b"content-length", b"99999999")])
    assert status == 413 and json.loads(content)["detail"].startswith("Request body too large")
    # the handlers Django calls for 403 and 400 raised outside DRF
    assert settings.ROOT_URLCONF == "vru.web.urls"
    from vru.web import urls
    assert (urls.handler403, urls.handler400) == ("vru.web.core.errors.permission_denied",
                                                  "vru.web.core.errors.bad_request")
    for response, status in ((errors.permission_denied(rf.get("/api/v1/x/"), PermissionDenied()), 403),
                             (errors.bad_request(rf.get("/api/v1/x/"), ValueError()), 400)):
        assert response.status_code == status and response["Content-Type"] == "application/json"
        assert set(json.loads(response.content)) == {"detail", "request_id"}
    assert errors.permission_denied(rf.get("/programme/"), PermissionDenied())["Content-Type"].startswith(
        "text/html")
