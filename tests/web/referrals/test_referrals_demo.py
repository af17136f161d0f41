"""Rescue and Response: the demo data, its users' journey, and its command seeding once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from factories import user
from referrals_base import _out, referral_post

from vru.web.accounts.models import Organisation, User
from vru.web.referrals import demo, reports, services
from vru.web.referrals.models import (
    Allocation,
    Council,
    Provider,
    Referral,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------- reports
def test_the_demo_data_recovers_the_published_rates(w):
    made = demo.generate(seed=7)
    assert made.referrals == 593
    rep = reports.service_report()
    assert rep["total"] == 593
    assert rep["rates"]["acceptance"]["rate"] == pytest.approx(41, abs=0.5)
    assert rep["rates"]["engagement"]["rate"] == pytest.approx(62, abs=0.5)
    assert rep["rates"]["reduced_or_ceased"]["rate"] == pytest.approx(88, abs=0.5)
    assert rep["first_contact"]["median"] is not None and 2 <= rep["first_contact"]["median"] <= 21
    kinds = {c["label"]: c["count"] for c in rep["by_kind"]}
    assert kinds["Intelligence"] == 60 and kinds["Total"] == 593
    months = [c for c in rep["by_month"] if c["label"] != "Total"]
    assert len(months) == 12 and sum(c["count"] or 0 for c in months) <= 593


# ------------------------------------------------------------------------------------- vru serve's demo
def _sign_in(email: str, password: str) -> Client:
    """A client signed in through the login form (the demo users' generated passwords are under test)."""
    c = Client()
    r = c.post(reverse("login"), {"username": email, "password": password})
    assert r.status_code == 302, f"{email} could not sign in"
    return c


def test_the_demo_users_walk_the_journey_and_a_second_seeding_changes_nothing(settings, tmp_path):
    """``demo.seed`` (as ``vru serve`` runs it, after the platform's users): the synthetic data once, and
    demo users who sign in with the generated passwords: a referrer refers, the provider manager accepts and
    allocates to their organisation, the platform's caseworker there works the case (and nobody else's),
    the council user reads the intelligence of their borough."""
    import io
    import stat

    from vru.web import demo as platform_demo

    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    platform_demo.seed(io.StringIO(), apps=False)
    old = user(demo.OLD_SYNTHETIC_REFERRER, full_name="Demo referrer")  # before
    out = io.StringIO()
    made = demo.seed(out)
    assert made["referrals"] == demo.TOTAL and made["shared"] > 0
    old.refresh_from_db()
    assert old.email == demo.SYNTHETIC_REFERRER and not old.has_usable_password()
    assert not User.objects.filter(email__endswith="example.org").exists()
    assert all(e.endswith(".test") for e in User.objects.values_list("email", flat=True))
    path = platform_demo.app_users_file("referrals")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = platform_demo.read_passwords(path)
    assert set(passwords) == {email for _, email, *_ in demo.JOURNEY_USERS}
    listed = platform_demo.describe_users()
    for role, email, _name, org_name in demo.JOURNEY_USERS:
        u = User.objects.get(email=email)
        assert u.roles == [role] and u.organisation.name == org_name and "(demo)" in u.full_name
        assert f"{email}" in listed and passwords[email] in listed and email in out.getvalue()
    before = {m: m.objects.count() for m in (Referral, Provider, Council, Organisation, User, Allocation)}
    hashes = sorted(User.objects.values_list("email", "password"))
    assert demo.seed(io.StringIO()) == {"referrals": 0, "shared": 0}
    assert {m: m.objects.count() for m in before} == before
    assert sorted(User.objects.values_list("email", "password")) == hashes
    assert platform_demo.read_passwords(path) == passwords

    caseworker_pw = platform_demo.read_passwords()["caseworker@demo.vru.test"]
    referrer, manager, council = (_sign_in(e, passwords[e]) for _, e, *_ in demo.JOURNEY_USERS)
    caseworker = _sign_in("caseworker@demo.vru.test", caseworker_pw)
    r = referrer.post(reverse("referrals:new"), referral_post(borough=demo.COUNCIL_BOROUGH, concerns="Demo"))
    assert r.status_code == 302
    ref = Referral.objects.get(referrer__email="referrer@demo.vru.test")
    assert ref.reference in manager.get(reverse("referrals:triage")).content.decode()
    assert manager.post(reverse("referrals:decide", args=[ref.pk]), {"decision": "accept"}).status_code == 302
    own = Provider.objects.get(organisation__name=demo.CASEWORK_ORGANISATION)
    assert manager.post(reverse("referrals:allocate", args=[ref.pk]), {"provider": own.pk}).status_code == 302
    ref.refresh_from_db()
    assert ref.status == "accepted" and ref.current_provider == own
    assert ref.reference in caseworker.get(reverse("referrals:cases")).content.decode()
    assert caseworker.get(reverse("referrals:case", args=[ref.pk])).status_code == 200
    elsewhere = Referral.objects.exclude(current_provider=own).filter(current_provider__isnull=False).first()
    assert caseworker.get(reverse("referrals:case", args=[elsewhere.pk])).status_code == 404
    assert referrer.get(reverse("referrals:case", args=[ref.pk])).status_code == 403
    shared = Referral.objects.filter(shared_with__borough=demo.COUNCIL_BOROUGH, kind="intelligence")
    assert shared.exists() and not shared.exclude(borough=demo.COUNCIL_BOROUGH).exists()
    listing = council.get(reverse("referrals:intelligence")).content.decode()
    assert all(s.reference in listing for s in shared[:5])
    other = Referral.objects.filter(kind="intelligence").exclude(borough=demo.COUNCIL_BOROUGH).first()
    assert council.get(reverse("referrals:intelligence_detail", args=[other.pk])).status_code == 404


def test_the_referrals_demo_command_seeds_once(settings, tmp_path):
    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    first = _out("referrals_demo")
    assert "593 synthetic referrals" in first and "demo-users-referrals.txt" in first
    assert "nothing generated" in _out("referrals_demo", "--seed", "5")
    assert Referral.objects.count() == demo.TOTAL


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
