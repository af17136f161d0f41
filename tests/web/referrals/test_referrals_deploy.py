"""Rescue and Response: the retention job ships as a systemd service and timer run by an account that cannot
sign in (docs/deploy)."""

from __future__ import annotations

import configparser
import shlex
from datetime import timedelta
from pathlib import Path

import pytest
import referrals_base as base
from django.core.management import CommandError, get_commands, load_command_class
from django.utils import timezone
from referrals_base import make_case

from vru.web.accounts.models import AuditLog, User
from vru.web.referrals import conf, services

pytestmark = pytest.mark.django_db

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"


# ----------------------------------------------------------------------- 5: unattended retention, units
def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def test_the_retention_job_ships_as_a_systemd_service_and_daily_timer():
    service = _unit(DEPLOY / "vru-referrals-retention.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[:3] == ["/opt/vru/venv/bin/python", "-m", "django"], argv
    assert get_commands().get(argv[3]) == "vru.web.referrals", argv
    cmd = load_command_class("vru.web.referrals", argv[3])
    opts = cmd.create_parser("django", argv[3]).parse_args(argv[4:])  # exits on a bad argument
    assert opts.anonymise and opts.system and not opts.user  # unattended: no person's account
    assert service["Type"] == "oneshot" and service["User"] == "vru"
    assert service["EnvironmentFile"] == "/etc/vru/web.env" and service["WorkingDirectory"] == "/var/lib/vru"
    assert service["ReadWritePaths"] == "/var/lib/vru" and service["NoNewPrivileges"] == "yes"
    assert service["UMask"] == "0077"
    timer = _unit(DEPLOY / "vru-referrals-retention.timer")
    assert timer["Timer"]["Unit"] == "vru-referrals-retention.service"
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")  # daily


def test_the_unattended_run_acts_as_the_retention_jobs_account_which_cannot_sign_in(w):
    r = make_case(w, provider=w.pa)
    base.close_case(w, r, timezone.localdate() - timedelta(days=conf.retention_days() + 1))
    out = base._out("referrals_retention", "--anonymise", "--system")
    assert "1 referral(s) anonymised" in out
    row = AuditLog.objects.get(action="erase referral")
    system = User.objects.get(email=services.SYSTEM_EMAIL)
    assert row.user == system and row.object_id == str(r.pk)
    assert not system.is_active and not system.has_usable_password() and not system.get_all_permissions()
    base._out("referrals_retention", "--anonymise", "--system")  # a second run: the same account
    assert User.objects.filter(email=services.SYSTEM_EMAIL).count() == 1
    with pytest.raises(CommandError, match="with --anonymise"):
        base._out("referrals_retention", "--system")
    with pytest.raises(CommandError):
        base._out("referrals_retention", "--anonymise", "--system", "--user", w.mgr_a.email)
