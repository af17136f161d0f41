"""Logs: JSON lines at the level the environment asks for, gunicorn's too and no access log, and no
email address or link token in a logged path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.test import Client
from platform_helpers import json_lines

pytestmark = pytest.mark.django_db


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
    lines = [line for line in json_lines(err) if line.get("status") == 404]
    assert len(lines) == 2, err
    assert "alice.smith" not in err and "0123456789abcdef" not in err and "MTIz" not in err
    assert lines[0]["path"] == "/opportunities/[email]/"
    assert lines[1]["path"] == "/accounts/reset/[token]/extra/"
