"""``vru serve``'s preparation (``vru.web.prepare``): the warehouse is built when missing, the database
is migrated, the demo organisations and one user per role exist with passwords generated on this
machine (kept in a private file, never in the repository), and seeding again changes nothing."""

from __future__ import annotations

import io
import stat

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

import vru.web
from vru.web import demo
from vru.web.accounts.models import Organisation, User
from vru.web.accounts.roles import ROLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_settings(settings, tmp_path, london_warehouse):
    settings.VRU_WAREHOUSE = str(london_warehouse)
    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "private" / "demo-users.txt")
    return settings


def _snapshot() -> dict:
    """Every row count of every model, plus each user's password hash, roles and organisation."""
    snap = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    snap["users"] = sorted(
        (u.email, u.password, tuple(u.roles), u.organisation_id, u.is_staff) for u in User.objects.all()
    )
    return snap


def test_prepare_seeds_one_user_per_role_and_a_second_run_changes_nothing(demo_settings):
    """The whole of ``vru serve``'s preparation, every app's demo content included."""
    out = io.StringIO()
    result = vru.web.prepare(stdout=out, warm=False)  # the dashboard's own tests cover its cache
    assert result["accounts"]["users"] == len(demo.USERS) == len(ROLES)
    path = demo.users_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = demo.read_passwords()
    assert set(passwords) == {email for _, email, *_ in demo.USERS}
    assert len(set(passwords.values())) == len(passwords)  # each its own random password
    printed = out.getvalue()
    for role, email, _name, org_name, staff in demo.USERS:
        user = User.objects.get(email=email)
        assert user.roles == [role]
        assert user.organisation.name == org_name
        assert user.is_staff is staff and not user.is_superuser
        assert email.endswith("@demo.vru.test")  # a reserved domain: no email can reach anyone
        assert len(passwords[email]) >= 16
        assert user.check_password(passwords[email])
        assert email in printed and passwords[email] in printed
    provider = User.objects.get(email="provider@demo.vru.test")
    assert provider.organisation.kind == "provider" and provider.organisation.verified
    assert Organisation.objects.filter(name=demo.PROVIDER_ORGANISATION).exists()
    # every installed app's demo ran, and the apps' own demo users are listed with the platform's
    assert set(result) >= {"programme", "opportunities", "tagging", "survey", "referrals"}
    assert result["survey"]["responses"] > 0 and result["referrals"]["referrals"] > 0
    for app in ("tagging", "referrals"):
        path = demo.app_users_file(app)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        own = demo.read_passwords(path)
        assert own and not set(own) & set(passwords)
        for email, password in own.items():
            assert email.endswith("@demo.vru.test") and len(password) >= 16
            assert User.objects.get(email=email).check_password(password)
            assert f"{email}" in printed and password in printed
    app_files = {app: demo.app_users_file(app).read_text() for app in ("tagging", "referrals")}

    before, file_before = _snapshot(), demo.users_file().read_text()
    result = vru.web.prepare(stdout=io.StringIO(), warm=False)
    assert result["accounts"] == {"organisations": 0, "users": 0, "passwords_reset": 0}
    after = _snapshot()
    changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    assert not changed, f"a second seeding changed: {changed}"
    assert demo.users_file().read_text() == file_before
    assert {app: demo.app_users_file(app).read_text() for app in app_files} == app_files


def test_a_lost_password_file_gives_the_demo_users_new_passwords(demo_settings):
    demo.seed(io.StringIO(), apps=False)
    old = demo.read_passwords()
    demo.users_file().unlink()
    result = demo.seed(io.StringIO(), apps=False)
    assert result["accounts"]["passwords_reset"] == len(demo.USERS)
    new = demo.read_passwords()
    for email in old:
        assert new[email] != old[email]
        user = User.objects.get(email=email)
        assert user.check_password(new[email]) and not user.check_password(old[email])


def test_an_apps_demo_user_is_made_once_and_a_lost_file_gives_a_new_password(demo_settings):
    demo.seed(io.StringIO(), apps=False)
    org = Organisation.objects.get(name=demo.PROVIDER_ORGANISATION)
    out = io.StringIO()
    user = demo.app_user("sample", "sample.user@demo.vru.test", "Sam Sample (demo)", org, "analyst", out)
    path = demo.app_users_file("sample")
    assert path.name == "demo-users-sample.txt" and stat.S_IMODE(path.stat().st_mode) == 0o600
    password = demo.read_passwords(path)["sample.user@demo.vru.test"]
    assert user.check_password(password) and user.roles == ["analyst"] and "created" in out.getvalue()
    assert password not in out.getvalue()  # printed by describe_users only
    assert "sample.user@demo.vru.test" not in demo.describe_users()  # not an installed app
    text, hashed = path.read_text(), user.password
    again = demo.app_user("sample", "sample.user@demo.vru.test", "Sam Sample (demo)", org, "analyst")
    assert again.pk == user.pk and path.read_text() == text
    assert User.objects.get(pk=user.pk).password == hashed
    path.unlink()
    demo.app_user("sample", "sample.user@demo.vru.test", "Sam Sample (demo)", org, "analyst", out)
    new = demo.read_passwords(path)["sample.user@demo.vru.test"]
    assert new != password and User.objects.get(pk=user.pk).check_password(new)
    assert "password reset" in out.getvalue()


def test_demo_users_sign_in_and_see_their_home_page(demo_settings):
    demo.seed(io.StringIO(), apps=False)
    passwords = demo.read_passwords()
    c = Client()
    email = "analyst@demo.vru.test"
    r = c.post(reverse("login"), {"username": email, "password": passwords[email]})
    assert r.status_code == 302 and r["Location"] == reverse("home")
    body = c.get(reverse("home")).content.decode()
    assert "Alex Analyst (demo)" in body and "analyst" in body


def test_prepare_builds_the_missing_warehouse_and_migrates(settings, tmp_path):
    settings.VRU_WAREHOUSE = str(tmp_path / "new" / "warehouse.duckdb")
    settings.VRU_DEMO_USERS_FILE = str(tmp_path / "demo-users.txt")
    out = io.StringIO()
    assert vru.web.prepare(demo=False, warm=False, stdout=out) == {}
    assert (tmp_path / "new" / "warehouse.duckdb").exists()
    assert "Building the analysis warehouse" in out.getvalue()
    assert not (tmp_path / "demo-users.txt").exists()  # --no-demo seeds nothing
    assert not User.objects.exists()
    from vru import api

    loaded = api.status(tmp_path / "new" / "warehouse.duckdb")
    assert {"mps_borough_detailed", "iod2019_lsoa"} <= {s["source"] for s in loaded}
