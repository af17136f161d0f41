"""The database and the data directory are the owner's only: a new SQLite database, its journals, the
data folder and the secret key are created private, and existing readable ones are tightened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


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
