"""The survey's scheduled jobs ship as systemd units (docs/deploy/vru-survey-*.service and *.timer): each
service runs an existing management command, each timer starts its service daily (the purge before the
shuffle) or, the batch pool's flush, weekly."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"
JOBS = {"vru-survey-purge": "survey_purge", "vru-survey-shuffle": "survey_shuffle"}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


@pytest.mark.parametrize("name", sorted(JOBS))
def test_each_nightly_job_runs_an_existing_command_daily(name):
    from django.core.management import get_commands

    service = _unit(DEPLOY / f"{name}.service")
    argv = shlex.split(service["Service"]["ExecStart"])
    assert argv[1:3] == ["-m", "django"], argv
    assert argv[3] == JOBS[name] and get_commands().get(argv[3]) == "vru.web.survey", argv
    assert service["Service"]["Type"] == "oneshot"
    timer = _unit(DEPLOY / f"{name}.timer")
    assert timer["Timer"]["Unit"] == f"{name}.service"
    assert re.fullmatch(r"(daily|\*-\*-\* \d\d:\d\d(:\d\d)?)", timer["Timer"]["OnCalendar"]), timer["Timer"]
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"


def test_the_shuffle_runs_after_the_purge_as_the_owner_but_not_as_the_web_user():
    purge = _unit(DEPLOY / "vru-survey-purge.timer")["Timer"]["OnCalendar"]
    shuffle = _unit(DEPLOY / "vru-survey-shuffle.timer")["Timer"]["OnCalendar"]
    assert purge.split()[-1] < shuffle.split()[-1], (purge, shuffle)
    text = (DEPLOY / "vru-survey-shuffle.service").read_text()
    service = _unit(DEPLOY / "vru-survey-shuffle.service")["Service"]
    assert "vru-survey-purge.service" in _unit(DEPLOY / "vru-survey-shuffle.service")["Unit"]["After"]
    # VACUUM needs the tables' owner; the web service's user must not be able to read its password
    assert text.index("EnvironmentFile=/etc/vru/web.env") < text.index("EnvironmentFile=/etc/vru/owner.env")
    assert service["DynamicUser"] == "yes" and "User" not in service


def test_the_batch_pool_is_flushed_weekly_by_a_unit_of_its_own_as_the_web_user():
    """The shuffle runs as a user of its own that cannot read the pool: a unit of its own (the web
    service's user) runs survey_flush every Monday, whether or not the purge succeeds (no ExecStartPost
    of the purge), before the shuffle."""
    from django.core.management import get_commands

    service = _unit(DEPLOY / "vru-survey-flush.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[1:] == ["-m", "django", "survey_flush"], argv
    assert get_commands().get("survey_flush") == "vru.web.survey"
    assert service["Type"] == "oneshot" and service["User"] == "vru"
    assert "/var/lib/vru" in service["ReadWritePaths"]
    assert "ExecStartPost" not in _unit(DEPLOY / "vru-survey-purge.service")["Service"]
    timer = _unit(DEPLOY / "vru-survey-flush.timer")
    assert timer["Timer"]["Unit"] == "vru-survey-flush.service"
    assert timer["Timer"]["OnCalendar"] == "Mon *-*-* 02:45:00", timer["Timer"]  # once a week, nothing finer
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"
    assert "vru-survey-flush.service" in _unit(DEPLOY / "vru-survey-shuffle.service")["Unit"]["After"]
