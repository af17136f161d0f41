"""Rescue and Response: the administration site (the allocation rules, councils and providers, the audit log's
search) is audited and opens no case (docs/web-referrals.md)."""

from __future__ import annotations

import pytest
import referrals_base as base
from django.urls import reverse
from factories import signed_in, superuser, user
from referrals_base import BRENT, make_case

from vru.web.accounts.models import AuditLog, Organisation
from vru.web.referrals import services
from vru.web.referrals.models import (
    Allocation,
    AllocationRule,
    Council,
)

pytestmark = pytest.mark.django_db


def test_the_admin_edits_the_rule_table_but_opens_no_case(w):
    admin_user = user("admin@example.org", "administrator", is_staff=True)
    c = signed_in(admin_user)
    assert c.get("/admin/referrals/allocationrule/").status_code == 200
    assert c.get("/admin/referrals/provider/").status_code == 200
    r = make_case(w, provider=w.pa)
    assert c.get(reverse("referrals:case", args=[r.pk])).status_code == 403
    assert c.get("/admin/referrals/referral/").status_code == 404


# ------------------------------------------------------------------------- the audit log, searched
def test_the_administrator_searches_the_audit_log_by_a_cases_reference(w):
    """DPA 2018 s.62: the administrator finds every row of one case (reads, changes, disclosures) by its
    reference in the audit log's admin search, and none of another case's; no row holds the person's name."""
    r = make_case(w, provider=w.pa)
    other = make_case(w, provider=w.pa, name="Someone Else")
    for case in (r, r, other):
        signed_in(w.cw_a).get(reverse("referrals:case", args=[case.pk]))
    signed_in(w.cw_a).post(
        reverse("referrals:need", args=[r.pk]), {"category": "exit", "desired_outcome": "x"}
    )
    admin = user("admin@example.org", "administrator", is_staff=True)
    page = signed_in(admin).get("/admin/accounts/auditlog/", {"q": r.reference})
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 results" in html, html[html.find("result") :][:200]  # two reads, one change of this case only
    assert other.reference not in html and base.NAME not in html
    assert AuditLog.objects.filter(purpose__startswith=r.reference).count() == 3
    # searching by name finds nothing: the log never holds it
    assert "0 results" in signed_in(admin).get("/admin/accounts/auditlog/", {"q": "Zebedee"}).content.decode()


# ------------------------------------------------------------- a council's borough, once it has intelligence
def test_a_councils_borough_is_fixed_once_intelligence_has_been_shared_with_it(w):
    """Changing a council's borough would send one borough's intelligence to another borough's council, which
    keeps the old borough's: read-only in the admin once any is shared (before, a borough set wrongly can be
    corrected; its organisation is fixed from the start, below)."""
    admin = user("admin@example.org", "administrator", is_staff=True)
    brent, lambeth = Council.objects.get(borough=BRENT), Council.objects.get(borough=base.LAMBETH)
    make_case(w, status="submitted", kind="intelligence", borough=BRENT)  # shared with Brent's council
    c = signed_in(admin)
    page = c.get(f"/admin/referrals/council/{brent.pk}/change/")
    assert page.status_code == 200 and 'name="borough"' not in page.content.decode()
    c.post(f"/admin/referrals/council/{brent.pk}/change/", {"borough": "E09000001", "_save": "Save"})
    brent.refresh_from_db()
    assert brent.borough == BRENT
    # a council without intelligence yet: its borough can still be put right
    assert 'name="borough"' in c.get(f"/admin/referrals/council/{lambeth.pk}/change/").content.decode()
    resp = c.post(f"/admin/referrals/council/{lambeth.pk}/change/", {"borough": "E09000001", "_save": "Save"})
    lambeth.refresh_from_db()
    assert resp.status_code == 302 and lambeth.borough == "E09000001"


# ------------------------------------------------------------------ the rule table, changed by the admin
def test_the_administrator_changes_the_allocation_rules_and_the_suggestion_follows(w):
    """Item 2: allocation follows rules the administrator can change. A young woman is suggested provider B
    (the young-women rule); the administrator points that rule at provider A in the admin (an audited
    change): A is suggested; switched off, the fallback rule (any need) decides. A rescue goes by its rule."""
    from vru.web.referrals.models import AllocationRule

    admin = user("admin@example.org", "administrator", is_staff=True)
    r = make_case(w, status="accepted")
    r.gender = "female"
    r.save()
    rescue = make_case(w, status="accepted")
    rescue.need_rescue = True
    rescue.save()
    mgr = signed_in(w.mgr_a)

    def suggested(case) -> str:
        page = mgr.get(reverse("referrals:allocate", args=[case.pk])).content.decode()
        return page.split('id="suggested"')[1].split("</p>")[0]

    assert "Abianda (test)" in suggested(r) and "St Giles (test)" in suggested(rescue)
    rule = AllocationRule.objects.get(need="young_women")
    form = {"priority": "20", "need": "young_women", "gender": "female", "active": "on", "_save": "Save"}
    resp = signed_in(admin).post(
        f"/admin/referrals/allocationrule/{rule.pk}/change/", {**form, "provider": str(w.pa.pk)}
    )
    assert resp.status_code == 302
    assert "St Giles (test)" in suggested(r)
    assert AuditLog.objects.filter(action="change", object_type="referrals.allocationrule").exists()
    resp = signed_in(admin).post(
        f"/admin/referrals/allocationrule/{rule.pk}/change/",
        {**{k: v for k, v in form.items() if k != "active"}, "provider": str(w.pb.pk)},
    )
    assert resp.status_code == 302 and not AllocationRule.objects.get(pk=rule.pk).active
    assert "St Giles (test)" in suggested(r)  # the rule is off: the fallback (any need -> A)
    # the fallback rule pointed at B: B
    fallback = AllocationRule.objects.get(need="any")
    signed_in(admin).post(
        f"/admin/referrals/allocationrule/{fallback.pk}/change/",
        {
            "priority": "90",
            "need": "any",
            "gender": "",
            "provider": str(w.pb.pk),
            "active": "on",
            "_save": "Save",
        },
    )
    assert "Abianda (test)" in suggested(r) and "St Giles (test)" in suggested(rescue)


def test_the_configuration_admin_is_audited_and_an_organisation_is_fixed_once_made(w):

    admin_user = user("admin@example.org", "administrator", is_staff=True)
    c = signed_in(admin_user)
    for url in (
        "/admin/referrals/provider/",
        "/admin/referrals/council/",
        "/admin/referrals/allocationrule/",
    ):
        n = AuditLog.objects.count()
        assert c.get(url).status_code == 200
        assert AuditLog.objects.count() == n + 1 and AuditLog.objects.first().action == "list"
    other = Organisation.objects.create(name="Elsewhere (test)", kind="provider")
    page = c.get(f"/admin/referrals/provider/{w.pa.pk}/change/")
    assert page.status_code == 200 and 'name="organisation"' not in page.content.decode()
    resp = c.post(
        f"/admin/referrals/provider/{w.pa.pk}/change/",
        {"organisation": other.pk, "capacity": "7", "active": "on"},
    )
    assert resp.status_code == 302
    w.pa.refresh_from_db()
    assert (w.pa.organisation.name, w.pa.capacity) == (
        "St Giles (test)",
        7,
    )  # capacity changed, not the owner
    change = AuditLog.objects.filter(action="change", object_id=str(w.pa.pk)).get()
    assert change.user == admin_user and "Capacity" in change.purpose
    council = w.council_brent.organisation.rr_council
    page = c.get(f"/admin/referrals/council/{council.pk}/change/").content.decode()
    assert 'name="organisation"' not in page and 'name="borough"' in page


def test_a_rule_an_allocation_followed_cannot_be_deleted_and_the_admin_says_why(w):
    used = AllocationRule.objects.get(need="any")
    services.allocate(make_case(w), w.pa, w.mgr_a, rule=used)
    admin_user = user("administrator@example.org", "administrator", is_staff=True)
    assert not admin_user.has_perm("referrals.delete_allocationrule")  # rules are switched off, not deleted
    url = reverse("admin:referrals_allocationrule_delete", args=[used.pk])
    assert signed_in(admin_user).post(url, {"post": "yes"}).status_code == 403
    root = superuser()
    resp = signed_in(root).post(url, {"post": "yes"})
    assert resp.status_code == 200 and "protected" in resp.content.decode().lower()
    assert AllocationRule.objects.filter(pk=used.pk).exists() and Allocation.objects.get().rule == used
