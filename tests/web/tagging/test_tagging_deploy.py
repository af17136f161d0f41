"""The systemd units of the tagging jobs under docs/deploy: each runs an existing command with arguments
it accepts, with its timer."""

from __future__ import annotations

import configparser
import re
import shlex
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"
SERVICES = sorted(DEPLOY.glob("vru-tagging-*.service"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_the_three_jobs_are_there():
    assert [p.stem for p in SERVICES] == ["vru-tagging-breaches", "vru-tagging-match", "vru-tagging-purge"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.stem)
def test_each_service_runs_an_existing_command_with_arguments_it_accepts(path):
    service = _unit(path)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[1:3] == ["-m", "django"], argv
    assert get_commands().get(argv[3]) == "vru.web.tagging", argv
    cmd = load_command_class("vru.web.tagging", argv[3])
    cmd.create_parser("django", argv[3]).parse_args(argv[4:])  # exits (SystemExit) on a bad argument
    assert service["User"] == "vru" and service["EnvironmentFile"] == "/etc/vru/web.env"
    assert service["ReadWritePaths"] == "/var/lib/vru" and service["NoNewPrivileges"] == "yes"


@pytest.mark.parametrize("name", ["vru-tagging-breaches", "vru-tagging-purge"])
def test_each_periodic_job_has_its_timer(name):
    assert _unit(DEPLOY / f"{name}.service")["Service"]["Type"] == "oneshot"
    timer = _unit(DEPLOY / f"{name}.timer")
    assert timer["Timer"]["Unit"] == f"{name}.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"
    assert re.fullmatch(r"(\*:0/\d+|\*-\*-\* \d\d:\d\d(:\d\d)?)", timer["Timer"]["OnCalendar"])


def test_breach_windows_overlap_so_no_fix_is_missed():
    """The timer's period (5 minutes) is shorter than the window the service reads (--last 15)."""
    every = int(_unit(DEPLOY / "vru-tagging-breaches.timer")["Timer"]["OnCalendar"].split("/")[1])
    argv = shlex.split(_unit(DEPLOY / "vru-tagging-breaches.service")["Service"]["ExecStart"])
    last = int(argv[argv.index("--last") + 1])
    assert every < last


@pytest.mark.django_db
def test_breaches_last_minutes_reads_the_minutes_up_to_now(monkeypatch):
    from vru.web.tagging.management.commands import tagging_breaches

    now = datetime(2024, 3, 31, 1, 10, tzinfo=UTC)  # the night the clocks go forward
    monkeypatch.setattr(tagging_breaches.timezone, "now", lambda: now)
    seen = []
    monkeypatch.setattr(tagging_breaches, "detect_breaches", lambda a, b: seen.append((a, b)) or [])
    call_command("tagging_breaches", "--last", "15", stdout=StringIO())
    assert seen == [(pd.Timestamp(now - timedelta(minutes=15)), pd.Timestamp(now))]
    for bad in (["--last", "0"], ["--last", "20000"], ["--last", "5", "--start", "2024-03-04"], []):
        with pytest.raises(CommandError):
            call_command("tagging_breaches", *bad, stdout=StringIO())


@pytest.mark.django_db
def test_the_worker_ships_as_a_systemd_service_running_the_command():
    from django.core.management import get_commands

    unit = _unit(DEPLOY / "vru-tagging-match.service")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[1:5] == ["-m", "django", "tagging_match", "--pending"], argv
    assert "--loop" in argv and get_commands().get(argv[3]) == "vru.web.tagging"
    assert service["Restart"] in ("always", "on-failure") and service["User"] == "vru"
    assert service["EnvironmentFile"] == "/etc/vru/web.env"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
