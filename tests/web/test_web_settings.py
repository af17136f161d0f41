"""Settings from the environment, and ``vru.web.serve`` end to end (each in a fresh interpreter,
since Django reads its settings once per process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PRINT_SETTINGS = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "vru.web.settings"
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "pg_options": db.get("OPTIONS", {}).get("options"),
    "debug": settings.DEBUG, "secret": settings.SECRET_KEY,
    "session_secure": settings.SESSION_COOKIE_SECURE, "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS, "ssl_redirect": settings.SECURE_SSL_REDIRECT,
}))
"""


def _env(tmp_path: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "VRU_WEB", "VRU_PG", "DATABASE_URL"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env.update(extra)
    return env


def _settings(tmp_path: Path, **extra) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], env=_env(tmp_path, **extra), capture_output=True, text=True
    )
    if r.returncode:
        raise RuntimeError(r.stderr)
    return json.loads(r.stdout)


def test_development_defaults(tmp_path):
    s = _settings(tmp_path)
    data = tmp_path / "xdg" / "vru"
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(data / "web.sqlite3")
    assert s["debug"] is False
    assert s["session_secure"] is False and s["hsts"] == 0
    # a per-install random key, kept private in the data directory and reused
    key_file = data / "web-secret-key"
    assert key_file.read_text() == s["secret"] and len(s["secret"]) >= 50
    assert key_file.stat().st_mode & 0o077 == 0
    assert _settings(tmp_path)["secret"] == s["secret"]
    assert _settings(tmp_path / "other")["secret"] != s["secret"]


def test_environment_overrides(tmp_path):
    s = _settings(tmp_path, VRU_WEB_DB=str(tmp_path / "x.sqlite3"), DJANGO_SECRET_KEY="from-env")
    assert s["name"] == str(tmp_path / "x.sqlite3") and s["secret"] == "from-env"
    assert not (tmp_path / "xdg" / "vru" / "web-secret-key").exists()
    s = _settings(tmp_path, DATABASE_URL="postgres://u:p@db.example:5433/vru")
    assert (s["engine"], s["name"], s["host"]) == ("django.db.backends.postgresql", "vru", "db.example")
    # SSD planner costs by default (the keyword search's trigram index is used), overridable
    assert s["pg_options"] == "-c random_page_cost=1.1"
    pg = "postgres://u:p@db.example:5433/vru"
    assert _settings(tmp_path, DATABASE_URL=pg, VRU_PG_RANDOM_PAGE_COST="2")["pg_options"] == \
        "-c random_page_cost=2"
    assert _settings(tmp_path, DATABASE_URL=pg, VRU_PG_RANDOM_PAGE_COST="")["pg_options"] is None
    with pytest.raises(RuntimeError, match="could not convert"):
        _settings(tmp_path, DATABASE_URL=pg, VRU_PG_RANDOM_PAGE_COST="fast")


def test_production_needs_a_secret_key_and_turns_on_https_settings(tmp_path):
    with pytest.raises(RuntimeError, match="DJANGO_SECRET_KEY"):
        _settings(tmp_path, VRU_WEB_PRODUCTION="1")
    s = _settings(tmp_path, VRU_WEB_PRODUCTION="1", DJANGO_SECRET_KEY="k" * 50, DJANGO_DEBUG="1")
    assert s["session_secure"] and s["csrf_secure"] and s["ssl_redirect"]
    assert s["hsts"] == 365 * 24 * 3600
    assert s["debug"] is False  # never in production


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_vru_serve_prepares_the_demo_and_answers(tmp_path, london_warehouse):
    """`vru serve` end to end: migrates a new database, seeds the demo users (passwords printed and
    kept in a private file in the data directory), serves pages with the CSP, and sends anonymous
    visitors of protected pages to sign in."""
    port = _free_port()
    db = tmp_path / "serve.sqlite3"
    log = tmp_path / "serve.log"
    code = "import sys; from vru.cli import main; sys.exit(main())"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_env(tmp_path, VRU_WEB_DB=str(db), VRU_WAREHOUSE=str(london_warehouse)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        body = None
        deadline = time.monotonic() + 300  # migrating and seeding every app's demo users on a loaded machine
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30) as r:
                    body = r.read()
                    headers = r.headers
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
        assert body is not None, "the server did not answer: " + log.read_text()
        assert b"Sign in" in body and b"csrfmiddlewaretoken" in body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        # anonymous visitors are sent to sign in
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/accounts/auditlog/", timeout=30) as r:
            assert r.geturl().endswith("/admin/login/?next=/admin/accounts/auditlog/")
        # static files are served by the platform itself
        css = f"http://127.0.0.1:{port}/static/govuk/govuk-frontend.min.css"
        with urllib.request.urlopen(css, timeout=30) as r:
            assert r.status == 200 and len(r.read()) > 10_000
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    import sqlite3

    with sqlite3.connect(db) as con:
        groups = {r[0] for r in con.execute("select name from auth_group")}
        users = {r[0] for r in con.execute("select email from accounts_user")}
    assert groups >= {"administrator", "analyst", "programme manager", "provider", "caseworker",
                      "offender manager"}
    assert {"analyst@demo.vru.test", "caseworker@demo.vru.test"} <= users
    secrets_file = tmp_path / "xdg" / "vru" / "demo-users.txt"
    assert secrets_file.stat().st_mode & 0o077 == 0
    line = next(x for x in secrets_file.read_text().splitlines() if x.startswith("analyst@"))
    password = line.split("\t")[1]
    printed = log.read_text()
    assert "analyst@demo.vru.test" in printed and password in printed
