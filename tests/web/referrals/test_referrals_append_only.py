"""Rescue and Response: the append-only records (allocations, change records, break-glass openings,
disclosures) are left by the pages and refused through the ORM, the admin and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.urls import get_resolver, reverse
from django.utils import timezone
from factories import signed_in, superuser
from referrals_base import BRENT, make_case

from vru.web.accounts.models import AuditLog, AuditLogImmutable
from vru.web.referrals.models import (
    Allocation,
    AppendOnlyImmutable,
    BreakGlass,
    ChangeRecord,
    Disclosure,
    Referral,
)

pytestmark = pytest.mark.django_db

APPEND_ONLY = (Allocation, ChangeRecord, BreakGlass, Disclosure)


def _rows(w) -> dict:
    """One case with a row of each append-only kind, each written through the pages, and the audit rows
    they left. Returns the case, the intelligence referral and {model: [rows as dicts]}."""
    r = make_case(w, status="accepted", days_ago=10)
    m = signed_in(w.mgr_a)
    assert m.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk}).status_code == 302
    cw = signed_in(w.cw_a)
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
    council = signed_in(w.council_brent)
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
    root = superuser()
    c = signed_in(root)
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
    root = superuser()
    for u in (root, w.mgr_a, w.cw_a, w.council_brent, w.analyst, w.referrer):
        c = signed_in(u)  # no CSRF enforcement: only the method decides
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
