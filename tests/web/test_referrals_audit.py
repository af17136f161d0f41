"""Rescue and Response: the append-only records (allocations, change records, break-glass openings,
disclosures) and the audit-log rows the app writes cannot be changed or deleted through the admin, the API or
the ORM's ordinary paths; the app's settings (retention, suppression threshold) are Django settings checked at
start-up.

Fixtures and helpers come from test_referrals.py (the same synthetic world)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pandas as pd
import pytest
import test_referrals as base
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import ProtectedError
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone
from test_referrals import BRENT, PASSWORD, client, make_case

from vru.web.accounts.models import AuditLog, AuditLogImmutable, User
from vru.web.referrals import conf, reports, services
from vru.web.referrals.models import (
    Allocation,
    AppendOnlyImmutable,
    BreakGlass,
    ChangeRecord,
    Closure,
    Disclosure,
    Referral,
)

pytestmark = pytest.mark.django_db
w = base.w  # the fixture: the same synthetic world
APPEND_ONLY = (Allocation, ChangeRecord, BreakGlass, Disclosure)


def _rows(w) -> dict:
    """One case with a row of each append-only kind, each written through the pages, and the audit rows
    they left. Returns the case, the intelligence referral and {model: [rows as dicts]}."""
    r = make_case(w, status="accepted", days_ago=10)
    m = client(w.mgr_a)
    assert m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk}).status_code == 302
    cw = client(w.cw_a)
    data = {"borough": BRENT, "gender": "male", "missing_episodes": "2", "contact": "07700 900999"}
    resp = cw.post(reverse("referrals:update", args=[r.pk]), {**data, "reason": "Moved flat"})
    assert resp.status_code == 302
    Referral.objects.filter(pk=r.pk).update(restricted=True)  # r itself is stale: allocated since
    r.refresh_from_db()
    r.allowed_staff.add(w.cw_a2)
    bg = {"reason": "Police called out of hours"}
    assert cw.post(reverse("referrals:break_glass", args=[r.pk]), bg).status_code == 302
    assert cw.get(reverse("referrals:case", args=[r.pk])).status_code == 200
    intel = make_case(w, status="submitted", kind="intelligence", borough=BRENT)
    council = client(w.council_brent)
    assert council.get(reverse("referrals:intelligence_detail", args=[intel.pk])).status_code == 200
    return r, intel


def _state() -> dict:
    models = (*APPEND_ONLY, AuditLog)
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def _unchanged(before: dict, after: dict) -> bool:
    """Every append-only row as it was, and every earlier audit row (reads may add audit rows)."""
    same = all(after[k] == v for k, v in before.items() if k != "AuditLog")
    return same and after["AuditLog"][: len(before["AuditLog"])] == before["AuditLog"]


def test_the_pages_leave_a_row_of_each_append_only_kind_and_their_audit_rows(w):
    r, intel = _rows(w)
    state = _state()
    assert all(state[m.__name__] for m in APPEND_ONLY), {k: len(v) for k, v in state.items()}
    actions = {a["action"] for a in state["AuditLog"]}
    assert {"allocate case", "change case", "break glass", "view case", "disclose intelligence"} <= actions


def _refused(exc: type[Exception], row, field: str, value) -> None:
    """Every ordinary ORM path that would change or delete ``row`` raises ``exc``."""
    model = type(row)
    setattr(row, field, value)
    for attempt in (
        row.save,
        lambda: row.save(update_fields=[field]),
        row.delete,
        lambda: model.objects.filter(pk=row.pk).update(**{field: value}),
        lambda: model.objects.filter(pk=row.pk).delete(),
        lambda: model.objects.bulk_update([row], [field]),
        lambda: model.objects.update_or_create(pk=row.pk, defaults={field: value}),
        lambda: model._base_manager.filter(pk=row.pk).update(**{field: value}),
        lambda: model._base_manager.filter(pk=row.pk).delete(),
        # a new instance given the existing primary key: Django would UPDATE the row (review 15, finding 3)
        lambda: _forged(row, field, value).save(),
        lambda: model.objects.bulk_create(
            [_forged(row, field, value)], update_conflicts=True, update_fields=[field], unique_fields=["id"]
        ),
    ):
        with pytest.raises(exc):
            attempt()


def _forged(row, field: str, value):
    """A fresh, unsaved instance carrying every value of ``row`` (its primary key too) but ``field``."""
    model = type(row)
    values = {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}
    return model(**{**values, field: value})


def test_not_through_the_orm(w):
    r, intel = _rows(w)
    before = _state()
    for model in APPEND_ONLY:
        row = model.objects.first()
        field = next(f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateTimeField")
        _refused(AppendOnlyImmutable, row, field, timezone.now() - timedelta(days=999))
        related = {Allocation: "allocations", ChangeRecord: "changes", BreakGlass: "break_glass"}
        with pytest.raises(AppendOnlyImmutable):  # through the referral's related manager
            getattr(row.referral, related.get(model, "disclosures")).all().delete()
    rows = AuditLog.objects.filter(object_id__in=[str(r.pk), str(intel.pk)])
    assert rows.count() >= 5
    for row in rows:
        _refused(AuditLogImmutable, row, "purpose", "nothing happened")
    # deleting what they point at is refused too (PROTECT), so no row goes by cascade
    for obj in (r, intel, w.cw_a, w.mgr_a, w.council_brent):
        with pytest.raises(ProtectedError):
            obj.delete()
    with pytest.raises(ProtectedError):
        Referral.objects.filter(pk=r.pk).delete()
    assert _state() == before


def test_not_through_the_admin(w):
    r, intel = _rows(w)
    before = _state()
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    c = client(root)
    for model in APPEND_ONLY:
        # not in the admin at all: the superuser gets nothing to change, delete or even list
        assert not admin.site.is_registered(model)
        name = model._meta.model_name
        row = model.objects.first()
        assert c.get(f"/admin/referrals/{name}/").status_code == 404
        assert c.post(f"/admin/referrals/{name}/{row.pk}/change/", {}).status_code == 404
        assert c.post(f"/admin/referrals/{name}/{row.pk}/delete/", {"post": "yes"}).status_code == 404
    rows = AuditLog.objects.filter(object_id__in=[str(r.pk), str(intel.pk)])
    assert c.get("/admin/accounts/auditlog/").status_code == 200  # searched and read there
    for row in rows[:3]:
        assert c.get(f"/admin/accounts/auditlog/{row.pk}/change/").status_code == 200  # view only
        assert c.post(f"/admin/accounts/auditlog/{row.pk}/change/", {"purpose": "x"}).status_code == 403
        assert c.post(f"/admin/accounts/auditlog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [x.pk for x in rows], "post": "yes"}
    c.post("/admin/accounts/auditlog/", bulk)
    assert c.post("/admin/accounts/auditlog/add/", {"purpose": "x", "action": "x"}).status_code == 403
    assert _unchanged(before, _state())


def _api_urls(r, intel) -> list[str]:
    """Every URL of the app's API, with real ids."""
    out = []
    for p in get_resolver().url_patterns:
        if str(p.pattern) != "api/v1/":
            continue
        for q in p.url_patterns:
            if str(q.pattern).startswith("referrals/"):
                for e in q.url_patterns:
                    name = e.name
                    pk = intel.pk if "intelligence" in name else r.pk
                    out.append(reverse(name, kwargs={"pk": pk} if "<uuid:pk>" in str(e.pattern) else {}))
    return out


def test_not_through_the_api(w):
    r, intel = _rows(w)
    r.allowed_staff.add(w.cw_a)  # so that the case endpoint itself answers
    urls = _api_urls(r, intel)
    assert len(urls) == 6, urls
    assert not [u for u in get_resolver().reverse_dict if isinstance(u, str) and "audit" in u.lower()
                and "api" in u.lower()], "an API route to the audit log"
    before = _state()
    root = User.objects.create_superuser("root@example.org", PASSWORD)
    for u in (root, w.mgr_a, w.cw_a, w.council_brent, w.analyst, w.referrer):
        c = Client()  # no CSRF enforcement: only the method decides
        c.force_login(u)
        for url in urls:
            allow = c.options(url)
            if allow.status_code == 200:
                assert set(allow["Allow"].replace(" ", "").split(",")) <= {"GET", "HEAD", "OPTIONS"}, url
            for method in ("post", "put", "patch", "delete"):
                body = {"purpose": "x", "reason": "x"}
                resp = getattr(c, method)(url, body, content_type="application/json")
                # the superuser holds every permission: only the method itself is refused
                allowed = (405,) if u == root else (403, 404, 405)
                assert resp.status_code in allowed, (u.email, method, url, resp.status_code)
    after = _state()
    assert _unchanged(before, after)


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
