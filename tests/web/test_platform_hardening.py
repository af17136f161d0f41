"""The platform core: the client's address behind a proxy (lockout, rate limits, audit),
private database files, request size limits, JSON logs and API errors, and the admin's rules."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from vru.web.accounts.audit import audit
from vru.web.accounts.models import AuditLog, User
from vru.web.core.clientip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PROXY = "10.9.9.9"
CLIENT_A = "203.0.113.10"
CLIENT_B = "198.51.100.20"


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice@example.org", PASSWORD)


def _login(client: Client, password: str, ip: str, xff: str | None = None):
    extra = {"REMOTE_ADDR": ip}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return client.post(reverse("login"), {"username": "alice@example.org", "password": password}, **extra)


# --- 5. the client's address: lockout, rate limits and audit behind a proxy -----------------------------


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(alice, rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = []
    request = rf.get("/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR=CLIENT_A)
    assert client_ip(request) == "192.0.2.7"
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == "192.0.2.7"
    # the lockout counts the connection's address, whatever each attempt claims to forward for
    c = Client()
    for i in range(5):
        _login(c, "wrong", "192.0.2.7", xff=f"203.0.113.{i}")
    assert _login(c, PASSWORD, "192.0.2.7", xff="203.0.113.99").status_code == 429
    assert _login(Client(), PASSWORD, "192.0.2.8").status_code == 302


def test_behind_a_trusted_proxy_locking_one_client_out_leaves_the_others(alice, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    a, b = Client(), Client()
    for _ in range(5):
        _login(a, "wrong", PROXY, xff=CLIENT_A)
    assert _login(a, PASSWORD, PROXY, xff=CLIENT_A).status_code == 429
    # A forges a left-most entry; the proxy appends A's real address, which is what counts
    assert _login(a, PASSWORD, PROXY, xff=f"{CLIENT_B}, {CLIENT_A}").status_code == 429
    # B, behind the same proxy, signs in
    assert _login(b, PASSWORD, PROXY, xff=CLIENT_B).status_code == 302


def test_behind_a_trusted_proxy_the_audit_log_records_the_real_client(alice, rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = ["10.9.0.0/16"]
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT_A}")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == CLIENT_A
    # a chain of trusted proxies is skipped from the right; forged entries left of the client are not read
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {CLIENT_B}, 10.9.1.1")
    assert client_ip(request) == CLIENT_B
    # the proxy's own request (no header) is the proxy's
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY
    # a client that is not the proxy cannot forward for anyone
    assert client_ip(rf.get("/", REMOTE_ADDR=CLIENT_B, HTTP_X_FORWARDED_FOR=CLIENT_A)) == CLIENT_B


def test_audit_rows_written_by_a_page_record_the_client_behind_the_proxy(settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    admin = User.objects.create_superuser("root@example.org", PASSWORD)
    c = Client()
    c.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    r = c.get(reverse("admin:accounts_user_changelist"), REMOTE_ADDR=PROXY,
              HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT_A}")
    assert r.status_code == 200
    assert AuditLog.objects.latest("id").ip_address == CLIENT_A


def test_rate_limits_count_each_client_behind_the_proxy(rf, settings):
    settings.VRU_WEB_TRUSTED_PROXIES = [PROXY]
    group = f"test-{uuid.uuid4()}"

    def limited(xff):
        request = rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)
        return is_ratelimited(request, group=group, key="ip", rate="2/h", increment=True)

    assert not limited(CLIENT_A) and not limited(CLIENT_A)
    assert limited(CLIENT_A)
    assert limited(f"{CLIENT_B}, {CLIENT_A}")  # a forged left-most entry does not reset the count
    assert not limited(CLIENT_B)


def test_a_bad_trusted_proxy_setting_stops_the_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_WEB", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="vru.web.settings",
               VRU_WEB_TRUSTED_PROXIES="10.0.0.1, nginx")
    r = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "VRU_WEB_TRUSTED_PROXIES: 'nginx'" in r.stderr


# --- 6. the database and the data directory are the owner's only --------------------------------------

WRITE_AND_STAT = """
import json, os
import django
django.setup()
from django.conf import settings
from django.db import connection
db = settings.DATABASES["default"]["NAME"]
modes = {}
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS t (x)")
    c.execute("BEGIN")
    c.execute("INSERT INTO t VALUES (1)")
    modes["journal"] = os.stat(db + "-journal").st_mode & 0o777  # a rollback journal while writing
    c.execute("COMMIT")
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("INSERT INTO t VALUES (2)")
    modes["wal"] = os.stat(db + "-wal").st_mode & 0o777
data = os.path.dirname(settings.VRU_DEMO_USERS_FILE)
modes["db"] = os.stat(db).st_mode & 0o777
modes["dir"] = os.stat(data).st_mode & 0o777
modes["key"] = os.stat(os.path.join(data, "web-secret-key")).st_mode & 0o777
print(json.dumps(modes))
"""


def _run_settings(tmp_path: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_WEB", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp_path / "xdg"), DJANGO_SETTINGS_MODULE="vru.web.settings")
    return subprocess.run([sys.executable, "-c", WRITE_AND_STAT], env=env, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(umask))


def test_a_new_database_its_journals_and_the_data_directory_are_the_owners_only(tmp_path):
    r = _run_settings(tmp_path, umask=0)  # even with a umask that lets everyone read
    assert r.returncode == 0, r.stderr
    modes = json.loads(r.stdout)
    assert modes == {"dir": 0o700, "db": 0o600, "journal": 0o600, "wal": 0o600, "key": 0o600}


def test_an_existing_world_readable_database_and_directory_are_tightened_with_a_warning(tmp_path):
    data = tmp_path / "xdg" / "vru"
    data.mkdir(parents=True)
    data.chmod(0o755)
    (data / "web.sqlite3").touch()
    (data / "web.sqlite3").chmod(0o644)
    r = _run_settings(tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"dir": 0o700, "db": 0o600, "journal": 0o600, "wal": 0o600, "key": 0o600}
    assert f"{data / 'web.sqlite3'} was readable by other local users (mode 0644)" in r.stderr
    assert f"{data} was readable by other local users (mode 0755)" in r.stderr
    again = _run_settings(tmp_path)  # nothing more to say once they are private
    assert "readable by other local users" not in again.stderr


# --- 11. request size --------------------------------------------------------------------------------


class _Body(io.RawIOBase):
    """A request body of ``size`` bytes that fails the test if more than ``allowed`` are read."""

    def __init__(self, size: int, allowed: int):
        self.size, self.allowed, self.read_bytes = size, allowed, 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        if self.read_bytes + n > self.allowed:
            raise AssertionError(f"read past {self.allowed} bytes of the body")
        self.read_bytes += n
        return b"a" * n

    def readline(self, n=-1):
        return self.read(n)


def _wsgi(path: str, body: _Body, **environ):
    """The request through the whole WSGI application, as a server hands it over."""
    env = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "REMOTE_ADDR": "192.0.2.1", "wsgi.url_scheme": "http", "wsgi.input": body,
        "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/x-www-form-urlencoded",
        **environ,
    }
    status = []
    # as Django's test client does: the test's database connection stays open across the request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        start = time.monotonic()
        response = WSGIHandler()(env, lambda s, h, exc_info=None: status.append(s))
        content = b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), content, time.monotonic() - start


@pytest.mark.parametrize("path", ["/accounts/login/", "/opportunities/sign-up/", "/programme/import/"])
def test_an_anonymous_50_mb_body_is_refused_before_it_is_read(path):
    size = 50 * 1024 * 1024
    body = _Body(size, allowed=0)  # reading one byte of it fails the test: no timing needed
    status, content, _ = _wsgi(path, body, CONTENT_LENGTH=str(size))
    assert status == 413 and b"too large" in content and body.read_bytes == 0


@pytest.mark.parametrize(("path", "size", "expected"), [
    ("/accounts/login/", 5 * 1024 * 1024, 413),  # over the page's limit, under the proxy's
    ("/programme/import/", 10 * 1024 * 1024, 403),  # under the page's limit, no CSRF token: 403 unread
])
def test_a_refused_body_the_proxy_let_through_is_read_to_its_end_before_the_answer(path, size, expected):
    """gunicorn closing a socket with unread bytes makes the kernel send a reset, and nginx then shows
    "502 Bad Gateway" instead of the page's answer (seen in CI, tests/web/test_deployment.py): a refused
    body no longer than the largest page limit is read and dropped, whatever refused it."""
    body = _Body(size, allowed=size)
    status, _, _ = _wsgi(path, body, CONTENT_LENGTH=str(size), CONTENT_TYPE="application/octet-stream")
    assert status == expected and body.read_bytes == size


def test_a_chunked_body_is_read_at_most_one_byte_past_the_limit(settings):
    limit = settings.VRU_WEB_MAX_BODY_BYTES
    body = _Body(50 * 1024 * 1024, allowed=limit + 1)
    status, _, _ = _wsgi("/accounts/login/", body, HTTP_TRANSFER_ENCODING="chunked",
                         **{"wsgi.input_terminated": True})
    assert status == 413 and body.read_bytes == limit + 1
    # a server that cannot end a chunked body: refused without reading
    status, _, _ = _wsgi("/accounts/login/", _Body(10, allowed=0), HTTP_TRANSFER_ENCODING="chunked")
    assert status == 411


def test_a_small_chunked_form_still_reaches_the_view(alice):
    token = Client().get(reverse("login")).cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&username=alice%40example.org&password=wrong".encode()
    status, content, _ = _wsgi("/accounts/login/", io.BytesIO(body), HTTP_TRANSFER_ENCODING="chunked",
                               HTTP_COOKIE=f"csrftoken={token}", **{"wsgi.input_terminated": True})
    assert status == 200 and b"did not match" in content  # the form was read and checked


def _asgi(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """Call the ASGI application (``vru.web.asgi.application``) with ``chunks`` as the body; return the
    status, the body sent back and how many body chunks the server was asked for."""
    import asyncio

    from vru.web.asgi import application

    sent, asked = [], [0]
    pending = list(chunks)

    async def receive():
        if not pending:
            await asyncio.sleep(3600)  # the whole body sent: the client waits for the answer
        asked[0] += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 80)}
    asyncio.run(asyncio.wait_for(application(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, asked[0]


def test_under_asgi_a_body_over_the_limit_is_refused_while_it_arrives(settings):
    """Django's ASGI handler reads the whole body before any middleware: vru.web.asgi.BodyLimit applies
    the same per-page limits around it, on Content-Length before reading and on a chunked body as soon
    as it passes the limit."""
    limit = settings.VRU_WEB_MAX_BODY_BYTES
    size = 50 * 1024 * 1024
    status, body, asked = _asgi("/accounts/login/", [b"x" * 1024], [(b"content-length", str(size).encode())])
    assert status == 413 and b"too large" in body and asked == 0
    chunk = b"x" * (256 * 1024)
    many = [chunk] * (size // len(chunk))
    status, body, asked = _asgi("/accounts/login/", many, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and asked == limit // len(chunk) + 1  # stopped one chunk past the limit
    # the import page takes its own, larger limit; a small form reaches Django (403: no CSRF token)
    status, _, _ = _asgi("/programme/import/", [b"x" * (limit + 1)], [])
    assert status != 413
    status, _, _ = _asgi("/accounts/login/", [b"username=a&password=b"],
                         [(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 403


def test_the_upload_pages_accept_their_forms_own_limits(settings):
    from vru.web.programme import csvio, forms
    limits = settings.VRU_WEB_UPLOAD_LIMITS
    assert limits["programme:import"] > csvio.MAX_BYTES
    assert limits["programme:area_create"] == limits["programme:area_edit"] > forms.MAX_GEOJSON_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > forms.MAX_GEOJSON_BYTES  # a pasted boundary
    assert max(limits.values()) <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE  # uploads never touch the disk


def test_a_5_mb_upload_reaches_the_import_form_and_a_5_mb_boundary_the_area_form():
    pm = User.objects.create_user("pm@example.org", None)
    pm.groups.add(Group.objects.get(name="programme manager"))
    c = Client()
    c.force_login(pm)
    f = io.BytesIO(b"name\n" + b"x" * (5 * 1024 * 1024) + b"\n")
    f.name = "areas.csv"
    r = c.post(reverse("programme:import"), {"table": "areas", "file": f})
    assert r.status_code == 200
    assert "nothing was imported" in r.content.decode()  # the import's own checks answered
    big = json.dumps({"type": "Polygon", "coordinates": [[[0.0, 51.5]] * 380_000]})
    assert 4.5 * 1024 * 1024 < len(big) < 5 * 1024 * 1024
    r = c.post(reverse("programme:area_create"), {"name": "Big", "kind": "estate", "geometry": big})
    assert r.status_code == 200 and "govuk-error-summary" in r.content.decode()
    # every other page: the default limit
    r = c.post(reverse("login"), {"username": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413


# --- 7. logs and error answers --------------------------------------------------------------------------

PERSON = "pat.person@example.org"


def _json_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.fixture
def manager(db) -> User:
    pm = User.objects.create_user(PERSON, PASSWORD)
    pm.groups.add(Group.objects.get(name="programme manager"))
    return pm


def test_a_locked_database_under_the_api_answers_json_503_and_logs_one_json_line(manager, monkeypatch,
                                                                                   capsys):
    from django.db import OperationalError

    from vru.web.programme import api

    def locked(self):
        raise OperationalError("database is locked")

    monkeypatch.setattr(api.AreaList, "get_queryset", locked)
    c = Client(raise_request_exception=False)
    c.force_login(manager)
    capsys.readouterr()
    r = c.get("/api/v1/programme/areas/?search=secret-query")
    assert r.status_code == 503 and r["Content-Type"] == "application/json"
    assert r["Retry-After"] == "5"
    body = r.json()
    assert body["request_id"] == r["X-Request-ID"] and "Try again" in body["detail"]
    err = capsys.readouterr().err
    errors = [line for line in _json_lines(err) if line["level"] == "ERROR"]
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
    c = Client(raise_request_exception=False)
    c.force_login(manager)
    r = c.get("/api/v1/programme/areas/")
    assert r.status_code == 500 and r.json()["request_id"] == r["X-Request-ID"]
    r = Client().get("/api/v1/programme/areas/")  # DRF's own 403, in its own shape, with the id to quote
    assert r.status_code == 403 and "detail" in r.json() and len(r["X-Request-ID"]) == 32


def test_an_html_page_error_gives_the_500_page_a_json_log_line_and_a_mail_without_personal_data(
        manager, monkeypatch, capsys, settings):
    from django.contrib.auth.forms import AuthenticationForm
    from django.core import mail

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
    [line] = [x for x in _json_lines(err) if x["level"] == "ERROR"]
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


def test_the_log_level_comes_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_WEB", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="vru.web.settings")
    code = "import django, logging; django.setup(); print(logging.getLogger('django').level)"

    def run(level):
        return subprocess.run([sys.executable, "-c", code], env={**env, "VRU_WEB_LOG_LEVEL": level},
                              capture_output=True, text=True)

    assert run("warning").stdout.strip() == str(30)
    assert run("").stdout.strip() == str(20)
    bad = run("loud")
    assert bad.returncode != 0 and "VRU_WEB_LOG_LEVEL" in bad.stderr


# --- 9. administration: no one grants more than they hold; every look at a person is audited ------------


def _staff(email: str, role: str | None = "administrator", **extra) -> User:
    u = User.objects.create_user(email, PASSWORD, is_staff=True, **extra)
    if role:
        u.groups.add(Group.objects.get(name=role))
    return u


def _admin_client(user: User) -> Client:
    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return c


def _change_form(user: User, **changes) -> dict:
    """The admin's user change form as a browser would post it, with ``changes`` on top."""
    joined = timezone.localtime(user.date_joined).replace(microsecond=0)  # the form shows whole seconds
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    data = {
        "email": user.email, "full_name": user.full_name, "organisation": user.organisation_id or "",
        "groups": [g.pk for g in user.groups.all()],
        "date_joined_0": joined.strftime("%d/%m/%Y"), "date_joined_1": joined.strftime("%H:%M:%S"),
        # the hidden initial value a callable default comes with
        "initial-date_joined_0": joined.strftime("%d/%m/%Y"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "", "last_login_1": "", "_save": "Save",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _change(client: Client, user: User, **changes):
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), _change_form(user, **changes))


def test_an_administrator_cannot_make_anyone_superuser_or_staff_by_a_crafted_post():
    admin = _staff("admin@example.org")
    other = User.objects.create_user("someone@example.org", PASSWORD)
    c = _admin_client(admin)
    r = c.get(reverse("admin:accounts_user_change", args=[admin.pk]))
    assert r.status_code == 200 and 'name="is_superuser"' not in r.content.decode()  # read-only
    r = _change(c, admin, is_superuser="on", full_name="Ad Min")
    assert r.status_code == 302
    admin.refresh_from_db()
    assert admin.full_name == "Ad Min" and not admin.is_superuser  # the rest of the form was saved
    r = _change(c, other, is_superuser="on", is_staff="on")
    other.refresh_from_db()
    assert not other.is_superuser and not other.is_staff
    r = _change(c, admin, is_staff=None)  # nor take staff status away
    admin.refresh_from_db()
    assert admin.is_staff


def test_a_superuser_grants_superuser_status_and_it_is_audited():
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    other = _staff("other@example.org")
    r = _change(_admin_client(root), other, is_superuser="on")
    assert r.status_code == 302
    other.refresh_from_db()
    assert other.is_superuser
    entry = AuditLog.objects.filter(action="change_roles").get()
    assert (entry.user, entry.object_type, entry.object_id) == (root, "accounts.user", str(other.pk))
    assert entry.purpose == "administration: roles and status of a user changed: superuser: no -> yes"


def test_roles_are_given_only_by_those_who_hold_their_permissions_and_each_change_is_audited():
    admin = _staff("admin@example.org")
    other = User.objects.create_user("someone@example.org", PASSWORD)
    c = _admin_client(admin)
    analyst, caseworker = Group.objects.get(name="analyst"), Group.objects.get(name="caseworker")
    r = _change(c, other, groups=[analyst.pk])  # the administrator holds every permission of analysts
    assert r.status_code == 302
    assert other.roles == ["analyst"]
    entry = AuditLog.objects.get(action="change_roles")
    assert entry.purpose == "administration: roles and status of a user changed: roles: [] -> [analyst]"
    # caseworkers see personal data, which the administrator role does not: refused, nothing written
    r = _change(c, other, groups=[analyst.pk, caseworker.pk])
    assert r.status_code == 200 and "You cannot give or take away the role caseworker" in r.content.decode()
    assert User.objects.get(pk=other.pk).roles == ["analyst"]
    assert AuditLog.objects.filter(action="change_roles").count() == 1
    # deactivating is a change of status, audited with before and after
    r = _change(c, other, is_active=None)
    assert r.status_code == 302
    assert AuditLog.objects.filter(action="change_roles").latest("id").purpose.endswith("active: yes -> no")


def test_an_administrator_cannot_take_over_an_account_that_holds_more_than_they_do():
    admin = _staff("admin@example.org")
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    caseworker = _staff("case@example.org", role="caseworker", is_active=False)  # inactive, still guarded
    c = _admin_client(admin)
    for target in (root, caseworker):
        r = _change(c, target, email="mine@example.org")
        assert r.status_code == 403
        pw = "a brand new passphrase"
        r = c.post(reverse("admin:auth_user_password_change", args=[target.pk]),
                   {"password1": pw, "password2": pw})
        assert r.status_code == 403
        r = c.post(reverse("admin:accounts_user_delete", args=[target.pk]), {"post": "yes"})
        assert r.status_code == 403
        target.refresh_from_db()
        assert target.email != "mine@example.org" and not target.check_password(pw)


def test_a_role_cannot_be_given_permissions_its_editor_does_not_hold():
    from django.contrib.auth.models import Permission

    admin = _staff("admin@example.org")
    admin.user_permissions.add(Permission.objects.get(codename="change_group"))
    administrator = Group.objects.get(name="administrator")
    c = _admin_client(admin)
    url = reverse("admin:auth_group_change", args=[administrator.pk])
    everything = list(Permission.objects.values_list("pk", flat=True))
    r = c.post(url, {"name": "administrator", "permissions": everything})
    assert r.status_code == 200 and "You cannot give or take away permissions you do not hold" in \
        r.content.decode()
    assert administrator.permissions.count() < len(everything)
    # a role carrying permissions the editor lacks cannot be edited at all
    caseworker = Group.objects.get(name="caseworker")
    r = c.post(reverse("admin:auth_group_change", args=[caseworker.pk]),
               {"name": "caseworker", "permissions": []})
    assert r.status_code == 403 and caseworker.permissions.exists()
    # a superuser may, and it is audited
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    keep = list(administrator.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(codename="view_personal_data")
    r = _admin_client(root).post(url, {"name": "administrator", "permissions": [*keep, extra.pk]})
    assert r.status_code == 302
    entry = AuditLog.objects.get(action="change_group_permissions")
    assert "accounts.view_personal_data" in entry.purpose.split("->")[1]


def test_every_admin_look_at_a_person_is_audited():
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    young = User.objects.create_user("young.person@example.org", PASSWORD)
    c = _admin_client(root)
    assert c.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert c.get(reverse("admin:accounts_user_change", args=[young.pk])).status_code == 200
    assert c.get(reverse("admin:accounts_user_history", args=[young.pk])).status_code == 200
    r = _change(c, young, full_name="Young Person")
    assert r.status_code == 302
    assert c.post(reverse("admin:accounts_user_delete", args=[young.pk]), {"post": "yes"}).status_code == 302
    assert c.get(reverse("admin:opportunities_moderationevent_changelist")).status_code == 200
    rows = [(e.action, e.object_type, e.object_id, e.purpose)
            for e in AuditLog.objects.filter(user=root).order_by("id")]
    uid = str(young.pk)
    assert rows == [
        ("list", "", "", "administration: list users"),
        ("view", "accounts.user", uid, "administration: view user"),
        ("view history", "accounts.user", uid, "administration: history of a user"),
        ("change", "accounts.user", uid, "administration: change user (Full name)"),
        ("delete", "accounts.user", uid, "administration: delete user"),
        ("list", "", "", "administration: list moderation events"),
    ]


def test_every_list_endpoint_pages_within_bounds_a_database_can_take(rf, settings):
    """An offset past a 64-bit integer was a 500 from SQLite: the platform's default pagination (and the
    dashboard's and the programme's list endpoints) cap it, and the limit."""
    from rest_framework.request import Request

    from vru.web.core.pagination import BoundedPagination
    from vru.web.dashboard import api as dashboard_api
    from vru.web.programme import api as programme_api

    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "vru.web.core.pagination.BoundedPagination"
    assert dashboard_api.HotspotsView.pagination_class is BoundedPagination
    assert programme_api.InterventionList.pagination_class is BoundedPagination
    p = BoundedPagination()
    req = Request(rf.get("/api/v1/x/", {"offset": "9" * 30, "limit": "9" * 30}))
    assert p.get_offset(req) == 2**31 - 1 and p.get_limit(req) == 2**31 - 1


# --- the lockout's addresses, no address, the admin's rules, API errors, gunicorn -----


def _login_as(email: str, password: str, ip: str, path: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=ip).post(path, {"username": email, "password": password})


def test_rotating_ipv6_addresses_within_one_64_does_not_escape_the_lockout(alice, rf):
    codes = [_login_as(alice.email, "wrong", f"2001:db8:0:7::{i}").status_code for i in range(1, 6)]
    assert codes == [200, 200, 200, 200, 429]  # five addresses of one customer's /64: locked at the 5th
    assert _login_as(alice.email, PASSWORD, "2001:db8:0:7:ffff::1").status_code == 429
    assert _login_as(alice.email, PASSWORD, "2001:db8:0:8::1").status_code == 302  # another network
    # the audit log keeps the whole address
    request = rf.get("/", REMOTE_ADDR="2001:db8:0:7::abcd")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == "2001:db8:0:7::abcd"


def test_many_addresses_together_lock_an_account_at_the_ceiling_for_everyone(alice, settings):
    assert settings.VRU_WEB_LOCKOUT_USERNAME_LIMIT == 50
    settings.VRU_WEB_LOCKOUT_USERNAME_LIMIT = 12  # the same rule, fewer slow password checks
    bob = User.objects.create_user("bob@example.org", PASSWORD)
    for i in range(12):  # 3 tries from each of 4 addresses: no pair reaches axes's 5
        assert _login_as("Alice@Example.org", "wrong", f"198.51.100.{i // 3}").status_code == 200
    r = _login_as(alice.email, PASSWORD, "192.0.2.200")  # the right password, from a fresh address
    assert r.status_code == 429 and b"Account locked" in r.content
    assert _login_as(alice.email, PASSWORD, "192.0.2.201", path="/admin/login/").status_code == 429
    assert _login_as(bob.email, PASSWORD, "198.51.100.0").status_code == 302  # other accounts are not
    from django.core.management import call_command
    call_command("axes_reset")
    assert _login_as(alice.email, PASSWORD, "192.0.2.200").status_code == 302


def test_a_connection_without_an_address_is_0_0_0_0_and_nothing_crashes(alice, rf):
    from django.core import mail

    from vru.web.core.clientip import NO_ADDRESS, client_ip_for_limits

    assert NO_ADDRESS == "0.0.0.0"
    for remote in ("", "not an address"):
        request = rf.get("/", REMOTE_ADDR=remote)
        assert client_ip(request) == client_ip_for_limits(request) == NO_ADDRESS
    c = Client(REMOTE_ADDR="", raise_request_exception=False)
    r = c.post(reverse("opportunities:signup"), {"email": "kid@example.org", "nickname": "Kid",
                                                  "birth_year": timezone.localdate().year - 15})
    assert r.status_code == 302
    r = c.post(reverse("password_reset"), {"email": alice.email})
    assert r.status_code == 302 and len(mail.outbox) == 2
    assert c.post(reverse("login"), {"username": alice.email, "password": "wrong"}).status_code == 200
    assert c.post(reverse("login"), {"username": alice.email, "password": PASSWORD}).status_code == 302
    request = rf.get("/", REMOTE_ADDR="")
    request.user = alice
    assert audit(request, "view", None, "test").ip_address == NO_ADDRESS


def _person(email: str, role: str) -> User:
    u = User.objects.create_user(email, PASSWORD)
    u.groups.add(Group.objects.get(name=role))
    return u


ROLES = ["administrator", "analyst", "programme manager", "provider", "caseworker", "offender manager",
         "young person"]


@pytest.mark.parametrize("role", ROLES)
def test_an_administrator_manages_every_account_that_is_not_staff(role):
    """Name, organisation, active status: every non-staff account; the address and the password only of
    an account that holds no permission the administrator does not."""
    from vru.web.accounts.admin import permissions_of
    from vru.web.accounts.models import Organisation

    admin = _staff("admin@example.org")
    person = _person("person@example.org", role)
    org = Organisation.objects.create(name="Riverside Youth Collective", kind="provider")
    c = _admin_client(admin)
    page = c.get(reverse("admin:accounts_user_change", args=[person.pk])).content.decode()
    assert 'name="full_name"' in page and 'name="is_active"' in page
    r = _change(c, person, full_name="Pat Person", organisation=org.pk, is_active=None,
                email="taken.over@example.org")
    assert r.status_code == 302
    person.refresh_from_db()
    assert (person.full_name, person.organisation, person.is_active) == ("Pat Person", org, False)
    assert person.roles == [role]  # the roles the form showed are kept
    holds_more = not permissions_of(person) <= permissions_of(admin)
    if role == "administrator":  # both cases are tried: an account holding nothing more...
        assert not holds_more
    if role in {"provider", "caseworker", "offender manager", "young person"}:  # ... and these, more
        assert holds_more
    password_page = reverse("admin:auth_user_password_change", args=[person.pk])
    pw = "a brand new passphrase"
    r = c.post(password_page, {"password1": pw, "password2": pw, "usable_password": "true"})
    person.refresh_from_db()
    if holds_more:  # a takeover would give the administrator what this account sees
        assert person.email == "person@example.org" and 'name="email"' not in page
        assert r.status_code == 403 and person.check_password(PASSWORD)
        assert password_page not in page and "../password/" not in page
        assert _change(c, person, is_active="on").status_code == 302  # reactivated
        assert User.objects.get(pk=person.pk).is_active
    else:
        assert person.email == "taken.over@example.org"
        assert r.status_code == 302 and person.check_password(pw)


def test_an_administrator_cannot_take_over_a_fellow_administrators_account():
    a, b = _staff("a@example.org"), _staff("b@example.org")
    c = _admin_client(a)
    page = c.get(reverse("admin:accounts_user_change", args=[b.pk])).content.decode()
    assert 'name="email"' not in page
    r = _change(c, b, email="attacker@example.org", full_name="B")
    assert r.status_code == 302
    b.refresh_from_db()
    assert b.email == "b@example.org" and b.full_name == "B"
    pw = "a brand new passphrase"
    assert c.post(reverse("admin:auth_user_password_change", args=[b.pk]),
                  {"password1": pw, "password2": pw, "usable_password": "true"}).status_code == 403
    assert c.post(reverse("admin:accounts_user_delete", args=[b.pk]), {"post": "yes"}).status_code == 403
    b.refresh_from_db()
    assert not b.check_password(pw)
    # their own account, they may; a superuser may change anyone's
    assert _change(c, a, email="a.new@example.org").status_code == 302
    assert User.objects.get(pk=a.pk).email == "a.new@example.org"
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    assert _change(_admin_client(root), b, email="b.new@example.org").status_code == 302
    assert User.objects.get(pk=b.pk).email == "b.new@example.org"


def test_deleting_a_role_audits_the_change_for_each_member():
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    u1, u2 = _person("u1@example.org", "analyst"), _person("u2@example.org", "analyst")
    u2.groups.add(Group.objects.get(name="provider"))
    analyst = Group.objects.get(name="analyst")
    c = _admin_client(root)
    r = c.post(reverse("admin:auth_group_delete", args=[analyst.pk]), {"post": "yes"})
    assert r.status_code == 302 and not Group.objects.filter(name="analyst").exists()
    rows = {e.object_id: e.purpose for e in AuditLog.objects.filter(action="change_roles", user=root)}
    assert rows == {
        str(u1.pk): "administration: roles and status of a user changed (role deleted): "
                    "roles: [analyst] -> []",
        str(u2.pk): "administration: roles and status of a user changed (role deleted): "
                    "roles: [analyst, provider] -> [provider]",
    }
    # the changelist's bulk delete too
    pm = Group.objects.get(name="programme manager")
    u3 = _person("u3@example.org", "programme manager")
    r = c.post(reverse("admin:auth_group_changelist"),
               {"action": "delete_selected", "_selected_action": [pm.pk], "post": "yes"})
    assert r.status_code == 302 and not Group.objects.filter(pk=pm.pk).exists()
    assert AuditLog.objects.get(action="change_roles", object_id=str(u3.pk)).purpose.endswith(
        "roles: [programme manager] -> []")


def test_admin_pages_that_show_a_person_are_audited_and_a_search_without_its_words():
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    young = _person("young.person@example.org", "young person")
    for i in range(3):
        User.objects.create_user(f"y{i}@example.org", PASSWORD)
    c = _admin_client(root)
    assert c.get(reverse("admin:auth_user_password_change", args=[young.pk])).status_code == 200
    assert c.get(reverse("admin:accounts_user_delete", args=[young.pk])).status_code == 200
    r = c.get(reverse("admin:accounts_user_changelist"), {"q": "y1@example"})
    assert r.status_code == 200
    rows = [(e.action, e.object_id, e.purpose) for e in AuditLog.objects.filter(user=root).order_by("id")]
    uid = str(young.pk)
    assert rows == [
        ("view", uid, "administration: password page of a user"),
        ("view", uid, "administration: deletion page of a user"),
        ("search", "", "administration: search users, 1 found"),
    ]
    assert not AuditLog.objects.filter(purpose__contains="y1").exists()


def test_history_inlines_name_staff_by_id_and_organisation_not_by_email():
    from decimal import Decimal

    from factories import opportunity

    from vru.web.accounts.models import Organisation
    from vru.web.opportunities.models import ModerationEvent
    from vru.web.programme.models import Consortium, Grant, GrantStatusChange, ProgrammeArea

    root = User.objects.create_superuser("root@example.org", PASSWORD)
    vru = Organisation.objects.create(name="Demo VRU", kind="vru")
    moderator = User.objects.create_user("moderator.person@example.org", PASSWORD, organisation=vru)
    opp = opportunity()
    ModerationEvent.objects.create(opportunity=opp, from_status="pending", to_status="published",
                                   by=moderator)
    area = ProgrammeArea.objects.create(name="Estate", kind="estate", borough="E09000022", selected_year=2024)
    consortium = Consortium.objects.create(name="C", area=area, lead=opp.provider)
    grant = Grant.objects.create(reference="G-1", consortium=consortium, amount_requested=Decimal("1000"))
    GrantStatusChange.objects.create(grant=grant, from_status="", to_status=grant.status,
                                     changed_by=moderator)
    c = _admin_client(root)
    for url in (reverse("admin:opportunities_opportunity_change", args=[opp.pk]),
                reverse("admin:programme_grant_change", args=[grant.pk])):
        page = c.get(url).content.decode()
        assert f"user {moderator.pk} (Demo VRU)" in page and "moderator.person" not in page


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
    status, content, _ = _wsgi("/api/v1/programme/areas/", _Body(10, allowed=0), CONTENT_LENGTH="ten")
    assert status == 400 and set(json.loads(content)) == {"detail", "request_id"}
    status, content, _ = _asgi("/api/v1/programme/areas/", [b"x"], [(b"content-length", b"99999999")])
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


def test_a_boundary_over_1_mb_is_saved_from_the_admin(settings):
    import math

    from vru.web.middleware import limit_for_path
    from vru.web.programme.models import ProgrammeArea

    add = reverse("admin:programme_programmearea_add")
    assert limit_for_path(add) == settings.VRU_WEB_UPLOAD_LIMITS["programme:area_create"]
    ring = [[round(-0.1156 + 0.01 * math.cos(2 * math.pi * i / 90_000), 6),
             round(51.4613 + 0.006 * math.sin(2 * math.pi * i / 90_000), 6)] for i in range(90_000)]
    geometry = json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert 1.5 * 1024 * 1024 < len(geometry) < 5 * 1024 * 1024
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    c = _admin_client(root)
    r = c.post(add, {"name": "Big estate", "kind": "estate", "borough": "E09000022", "lsoa_codes": "[]",
                     "geometry": geometry, "selected_year": 2024, "funding_round": 1, "_save": "Save"})
    assert r.status_code == 302, r.content.decode()[:2000]
    area = ProgrammeArea.objects.get(name="Big estate")
    assert len(area.geometry["coordinates"][0]) > 80_000
    change = reverse("admin:programme_programmearea_change", args=[area.pk])
    assert limit_for_path(change) == limit_for_path(add)
    r = c.post(change, {"name": "Big estate", "kind": "estate", "borough": "E09000022", "lsoa_codes": "[]",
                        "geometry": geometry, "selected_year": 2025, "funding_round": 1, "_save": "Save"})
    assert r.status_code == 302 and ProgrammeArea.objects.get(pk=area.pk).selected_year == 2025


def test_gunicorn_writes_json_lines_and_no_access_log(tmp_path):
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VRU_WEB", "DATABASE_URL"))}
    env.update(XDG_DATA_HOME=str(tmp_path), DJANGO_SECRET_KEY="test-only-gunicorn")
    err = tmp_path / "stderr"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:vru.web.gunicorn_conf",
             "-b", f"127.0.0.1:{port}", "-w", "1", "--access-logfile", "-", "vru.web.wsgi:application"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=stderr)
    try:
        deadline = time.monotonic() + 180  # a start-up on a loaded 2-core machine (CI) can take a while
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/?next=/secret-query/",
                                       timeout=30)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline and proc.poll() is None, err.read_text()
                time.sleep(0.2)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    lines = [line for line in err.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is JSON
    assert {"gunicorn.error"} <= {p["logger"] for p in parsed}
    assert any(p["message"].startswith("Starting gunicorn") for p in parsed)
    assert "secret-query" not in err.read_text() and b"secret-query" not in out  # no access log


def test_paths_in_log_lines_carry_no_email_address_or_link_token(capsys):
    """A 404 logs its path: an address typed into a URL, or a reset or sign-up link's token, must not reach
    the log (found by the second review)."""
    c = Client(raise_request_exception=False)
    capsys.readouterr()
    assert c.get("/opportunities/alice.smith@example.org/").status_code == 404
    assert c.get("/accounts/reset/MTIz/cd1234-0123456789abcdef0123456789abcdef/extra/").status_code == 404
    err = capsys.readouterr().err
    lines = [line for line in _json_lines(err) if line.get("status") == 404]
    assert len(lines) == 2, err
    assert "alice.smith" not in err and "0123456789abcdef" not in err and "MTIz" not in err
    assert lines[0]["path"] == "/opportunities/[email]/"
    assert lines[1]["path"] == "/accounts/reset/[token]/extra/"
