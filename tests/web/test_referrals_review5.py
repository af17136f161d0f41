"""Issue 15, re-review 5: the hub moves a restricted case at another provider, invisible Hangul fillers are no
reason, the hub's moves are told to the losing provider, drafts saved before the upgrade keep their date, a
restricted case's access page stays open to its provider's manager, and the demo seed stays idempotent."""

from __future__ import annotations

import pytest
import test_referrals as base
from django.urls import reverse

from vru.web.accounts.models import AuditLog
from vru.web.core import text as T
from vru.web.referrals import services
from vru.web.referrals.models import BreakGlass, Referral


@pytest.mark.parametrize("filler", ["\u3164", "\u115f", "\u1160", "\uffa0"])
def test_hangul_fillers_are_not_letters_of_a_reason(filler):
    assert T.letters(filler * 12) == 0
    assert T.reason_problem(filler * 12) is not None
    assert T.reason_problem(filler * 12 + "ab") is not None
    # other default-ignorable characters are marks or format characters: never letters either
    assert T.letters("\u180b\u180c\u180d\u180e\u180f\u034f\ufe0f\U000e0041") == 0
    # a real Hangul reason still counts
    assert T.letters("사건 번호 확인") == 6
    assert T.reason_problem("사건 번호 확인") is None


# ------------------------------------------------------------- 1: the hub moves a restricted case elsewhere
w = base.w  # the fixture
client, make_case = base.client, base.make_case

REASON = "Need to move this case to the hub for the family's safety"


def _restricted_at_b(w):
    r = make_case(w, provider=w.pb)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_b)
    return r


@pytest.mark.django_db
def test_hub_moves_restricted_case_at_other_provider(w):
    r = _restricted_at_b(w)
    c = client(w.mgr_a)
    page = c.get(reverse("referrals:allocate", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "is a restricted record" in body
    assert 'name="then" value="allocate"' in body
    # before the glass is broken, the move is refused
    assert c.post(reverse("referrals:allocate", args=[r.pk]),
                  {"provider": w.pa.pk, "reason": "Closer to the family home"}).status_code == 403
    # an empty reason is sent back, nothing recorded
    bad = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "\u3164" * 12, "then": "allocate"})
    assert bad.status_code == 400 and not BreakGlass.objects.filter(referral=r).exists()
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "allocate"})
    assert bg.status_code == 302 and bg["Location"] == reverse("referrals:allocate", args=[r.pk])
    opening = BreakGlass.objects.get(referral=r, user=w.mgr_a)
    assert opening.reason == REASON
    assert AuditLog.objects.filter(action="break glass", user=w.mgr_a).exists()
    # reported to the hub's managers as any break-glass opening is
    assert services.openings_of_organisation(w.mgr_a).filter(pk=opening.pk).exists()
    again = c.get(reverse("referrals:allocate", args=[r.pk]))
    assert again.status_code == 200 and "is a restricted record" not in again.content.decode()
    moved = c.post(reverse("referrals:allocate", args=[r.pk]),
                   {"provider": w.pa.pk, "reason": "Closer to the family home"})
    assert moved.status_code == 302
    assert Referral.objects.get(pk=r.pk).current_provider_id == w.pa.pk


@pytest.mark.django_db
def test_hub_break_glass_without_then_lands_on_the_allocation_page(w):
    r = _restricted_at_b(w)
    bg = client(w.mgr_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON})
    assert bg["Location"] == reverse("referrals:allocate", args=[r.pk])


@pytest.mark.django_db
def test_hub_break_glass_with_a_forged_return_to_the_access_page_lands_on_the_allocation_page(w):
    r = _restricted_at_b(w)
    c = client(w.mgr_a)
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:allocate", args=[r.pk])
    assert c.get(bg["Location"]).status_code == 200


@pytest.mark.django_db
def test_other_provider_manager_cannot_break_glass_on_a_case_not_theirs(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    resp = client(w.mgr_b).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON})
    assert resp.status_code == 404 and not BreakGlass.objects.exists()


# ------------------------------------------------ 5: a restricted case naming no one at its provider
@pytest.mark.django_db
def test_manager_reaches_the_access_page_of_a_case_naming_no_one_of_theirs(w):
    r = _restricted_at_b(w)  # named: cw_b, at B
    c = client(w.mgr_a)
    c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "allocate"})
    c.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Closer to home"})
    r.refresh_from_db()
    assert r.current_provider_id == w.pa.pk
    # a manager of A without an opening in this session: the access page asks for break-glass, not a 403
    m = client(w.mgr_a)
    page = m.get(reverse("referrals:restrict", args=[r.pk]))
    assert page.status_code == 200 and 'name="then" value="restrict"' in page.content.decode()
    assert m.post(reverse("referrals:restrict", args=[r.pk]), {"restricted": "on"}).status_code == 403
    bg = m.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:restrict", args=[r.pk])
    page = m.get(reverse("referrals:restrict", args=[r.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and 'id="access-notice"' in body and "No one at" in body
    saved = m.post(reverse("referrals:restrict", args=[r.pk]),
                   {"restricted": "on", "allowed_staff": [w.cw_a.pk]})
    assert saved.status_code == 302
    assert set(r.allowed_staff.values_list("pk", flat=True)) == {w.cw_a.pk, w.cw_b.pk}
    assert 'id="access-notice"' not in m.get(reverse("referrals:restrict", args=[r.pk])).content.decode()


@pytest.mark.django_db
def test_a_caseworker_still_cannot_break_glass_to_the_access_page(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    c = client(w.cw_a)
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "restrict"})
    assert bg["Location"] == reverse("referrals:case", args=[r.pk])
    assert c.get(reverse("referrals:restrict", args=[r.pk])).status_code == 403


# --------------------------------------------------------- 4: drafts saved before 0011 keep their date
def _migration(name):
    import importlib

    return importlib.import_module(f"vru.web.referrals.migrations.{name}")


@pytest.mark.django_db
def test_drafts_from_before_the_upgrade_are_not_purged_on_the_first_night(w):
    from datetime import timedelta

    from django.apps import apps
    from django.utils import timezone

    old = make_case(w, status="draft", days_ago=90)
    Referral.objects.filter(pk=old.pk).update(saved_at=None, created=timezone.now() - timedelta(days=90))
    submitted = make_case(w, provider=w.pa)
    assert services.drafts_due().filter(pk=old.pk).exists()  # what the first run would have deleted
    _migration("0012_drafts_saved_at_backfill").backfill_saved_at(apps, None)
    old.refresh_from_db()
    assert old.saved_at is not None and timezone.now() - old.saved_at < timedelta(minutes=1)
    assert not services.drafts_due().exists()
    assert services.drafts_due(timezone.now() + timedelta(days=31)).filter(pk=old.pk).exists()
    assert Referral.objects.get(pk=submitted.pk).saved_at is None  # only drafts are given a date


@pytest.mark.django_db
def test_going_back_before_0011_is_refused_in_words_once_a_case_is_erased(w):
    from django.apps import apps

    back = _migration("0011_erasure_unlinks_referrer_draft_saved_at").refuse_back_once_erased
    r = make_case(w, provider=w.pa)
    back(apps, None)  # no erased case: nothing to refuse
    Referral.objects.filter(pk=r.pk).update(referrer=None)  # as the erasure leaves it
    with pytest.raises(RuntimeError, match=r"cannot migrate back before 0011: 1 erased case"):
        back(apps, None)


# ------------------------------------------------------ 6: the demo is not made again once it is erased
@pytest.mark.django_db
def test_the_demo_seed_is_not_made_again_once_retention_erased_it(settings, tmp_path, monkeypatch):
    import io

    from vru.web.accounts.models import Organisation
    from vru.web.referrals import demo

    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "private" / "demo-users.txt")
    (tmp_path / "private").mkdir()
    Organisation.objects.create(name=demo.CASEWORK_ORGANISATION, kind="provider")
    real = demo.generate
    monkeypatch.setattr(demo, "generate", lambda seed=2021: real(seed=seed, total=20))  # small, same code
    assert demo.seed(io.StringIO())["referrals"] == 20
    assert demo.seed(io.StringIO())["referrals"] == 0
    for r in Referral.objects.all():
        services.anonymise(r)
    assert not Referral.objects.filter(referrer__email=demo.SYNTHETIC_REFERRER).exists()  # what it looked for
    assert demo.seed(io.StringIO())["referrals"] == 0
    assert Referral.objects.count() == 20


# ------------------------------------------------- 3: the losing provider's managers are told of a move
@pytest.mark.django_db
def test_the_losing_providers_managers_see_the_move_away_on_their_caseload_page(w):
    r = make_case(w, provider=w.pb)
    fresh = make_case(w, provider=None)  # accepted, waiting for its first allocation
    hub = client(w.mgr_a)
    hub.post(reverse("referrals:allocate", args=[fresh.pk]), {"provider": w.pb.pk})
    assert Referral.objects.get(pk=fresh.pk).current_provider_id == w.pb.pk
    assert services.recent_moves_away(w.mgr_b).count() == 0  # a first allocation takes nothing away
    hub.post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk, "reason": "Closer to home"})
    assert Referral.objects.get(pk=r.pk).current_provider_id == w.pa.pk
    page = client(w.mgr_b).get(reverse("referrals:cases")).content.decode()
    assert 'id="moves-away"' in page and r.reference in page and str(w.pa) in page
    assert "Closer to home" not in page  # the reason stays with the case
    assert 'id="moves-away"' not in client(w.mgr_a).get(reverse("referrals:cases")).content.decode()
    assert 'id="moves-away"' not in client(w.cw_b).get(reverse("referrals:cases")).content.decode()


@pytest.mark.django_db
def test_hub_break_glass_on_a_restricted_referral_waiting_for_a_decision_returns_to_the_decision(w):
    r = make_case(w, status="submitted")
    r.restricted = True
    r.save()
    c = client(w.mgr_a)
    page = c.get(reverse("referrals:decide", args=[r.pk]))
    assert page.status_code == 200 and 'name="then" value="decide"' in page.content.decode()
    bg = c.post(reverse("referrals:break_glass", args=[r.pk]), {"reason": REASON, "then": "decide"})
    assert bg["Location"] == reverse("referrals:decide", args=[r.pk])
    again = c.get(bg["Location"])
    assert again.status_code == 200 and "is a restricted record" not in again.content.decode()
