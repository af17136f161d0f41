"""Rescue and Response: the app's settings (retention, publication threshold, draft period) are read from the
environment and checked."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pandas as pd
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from referrals_base import make_case

from vru.web.referrals import conf, reports, services
from vru.web.referrals.models import (
    Closure,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------- settings
def test_the_settings_are_read_from_the_environment_and_checked():
    assert conf.from_env("VRU_REFERRALS_RETENTION_DAYS", {}) == 2190
    assert conf.from_env("VRU_REFERRALS_MIN_N", {"VRU_REFERRALS_MIN_N": " "}) == 10
    assert conf.from_env("VRU_REFERRALS_MIN_N", {"VRU_REFERRALS_MIN_N": "25"}) == 25
    assert conf.from_env("VRU_REFERRALS_RETENTION_DAYS", {"VRU_REFERRALS_RETENTION_DAYS": "3650"}) == 3650
    for name, bad in [
        ("VRU_REFERRALS_MIN_N", "2"),
        ("VRU_REFERRALS_MIN_N", "0"),
        ("VRU_REFERRALS_MIN_N", "ten"),
        ("VRU_REFERRALS_MIN_N", "10.5"),
        ("VRU_REFERRALS_RETENTION_DAYS", "30"),
        ("VRU_REFERRALS_RETENTION_DAYS", "-2190"),
        ("VRU_REFERRALS_RETENTION_DAYS", "99999"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=f"^{name} .*got '?{bad}'?$"):
            conf.from_env(name, {name: bad})


def test_the_settings_module_holds_them_and_checks_them(settings):
    assert settings.VRU_REFERRALS_RETENTION_DAYS == 2190 and settings.VRU_REFERRALS_MIN_N == 10
    conf.check(settings)
    for name, bad in [
        ("VRU_REFERRALS_MIN_N", 1),
        ("VRU_REFERRALS_MIN_N", True),
        ("VRU_REFERRALS_MIN_N", "10"),
        ("VRU_REFERRALS_RETENTION_DAYS", 10),
    ]:
        setattr(settings, name, bad)
        with pytest.raises(ImproperlyConfigured, match=name):
            conf.check(settings)
        delattr(settings, name)


def _start(tmp_path, env: dict, module: str = "vru.web.settings") -> subprocess.CompletedProcess:
    """``django.setup()`` in a fresh interpreter (settings are read once per process)."""
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.VRU_REFERRALS_RETENTION_DAYS, settings.VRU_REFERRALS_MIN_N)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VRU_REFERRALS_")}
    full = {**clean, **env, "DJANGO_SETTINGS_MODULE": module, "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)


def test_a_bad_value_stops_start_up(tmp_path):
    ok = _start(tmp_path, {"VRU_REFERRALS_RETENTION_DAYS": "3650", "VRU_REFERRALS_MIN_N": "5"})
    assert ok.returncode == 0 and ok.stdout.split()[-2:] == ["3650", "5"], ok.stderr[-2000:]
    bad = _start(tmp_path, {"VRU_REFERRALS_MIN_N": "1"})
    assert bad.returncode != 0 and "ImproperlyConfigured: VRU_REFERRALS_MIN_N" in bad.stderr
    # a settings module of one's own is held to the same ranges, at django.setup() (ReferralsConfig.ready)
    own_settings = "from vru.web.settings import *  # noqa\nVRU_REFERRALS_RETENTION_DAYS = 7\n"
    (tmp_path / "own_settings.py").write_text(own_settings)
    own = _start(tmp_path, {}, "own_settings")
    assert own.returncode != 0 and "ImproperlyConfigured: VRU_REFERRALS_RETENTION_DAYS" in own.stderr


def test_the_retention_setting_decides_what_is_due(w, settings):
    r = make_case(w, provider=w.pa, days_ago=500)
    Closure.objects.create(
        referral=r, closed_on=timezone.localdate() - timedelta(days=400), reason="completed", engaged=True,
        involvement="ceased", in_eet="yes", fewer_missing="yes", nrm_outcome="none", closed_by=w.cw_a,
    )
    r.status = "closed"
    r.save()
    assert not services.retention_due().exists()  # six years by default
    settings.VRU_REFERRALS_RETENTION_DAYS = 399
    assert list(services.retention_due()) == [r]
    settings.VRU_REFERRALS_RETENTION_DAYS = 400
    assert not services.retention_due().exists()


def test_the_threshold_setting_decides_what_is_published(settings):
    counts = pd.Series({"a": 40, "b": 6, "c": 30})
    assert [c["count"] for c in reports.publish(counts)] == [40, None, None, 76]
    settings.VRU_REFERRALS_MIN_N = 5
    assert [c["count"] for c in reports.publish(counts)] == [40, 6, 30, 76]


@pytest.mark.parametrize("value", [0, 366, "30"])
def test_the_draft_period_is_checked(settings, value):
    settings.VRU_REFERRALS_DRAFT_DAYS = value
    with pytest.raises(ImproperlyConfigured, match="VRU_REFERRALS_DRAFT_DAYS"):
        conf.check(settings)


def test_the_draft_period_is_read_from_the_environment_when_the_settings_do_not_set_it(settings, monkeypatch):
    if hasattr(settings, "VRU_REFERRALS_DRAFT_DAYS"):
        del settings.VRU_REFERRALS_DRAFT_DAYS
    monkeypatch.setenv("VRU_REFERRALS_DRAFT_DAYS", "14")
    assert conf.draft_days() == 14
    monkeypatch.setenv("VRU_REFERRALS_DRAFT_DAYS", "0")
    with pytest.raises(ImproperlyConfigured):
        conf.draft_days()
