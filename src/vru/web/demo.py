"""Demo content for ``vru serve``: fictional organisations, one demo user per role, then each app's
own demo content and the dashboard's cache.

Idempotent: seeding twice changes nothing. The demo users' passwords are generated at random the first
time and kept in ``settings.VRU_DEMO_USERS_FILE`` (``<data dir>/demo-users.txt``, mode 0600), never in
the repository; ``vru serve`` prints them. Addresses use the reserved ``.test`` domain, so no email
can ever reach anybody. Every person is fictional.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.db import transaction

# (name, kind, verified, description): fictional organisations.
ORGANISATIONS = [
    ("Demo Violence Reduction Unit", "vru", True, "A fictional violence reduction unit for the demo."),
    ("Demo Probation Service", "probation", True, "A fictional probation service."),
    ("Demo County Lines Casework Service", "other", True, "A fictional casework service."),
    ("Riverside Youth Collective (demo)", "provider", True,
     "A fictional youth organisation: after-school activities, mentoring and sport."),
    ("Northgate Boxing and Mentoring Club (demo)", "provider", True,
     "A fictional boxing club with mentoring for young people."),
]
PROVIDER_ORGANISATION = "Riverside Youth Collective (demo)"

# (role, email, full name, organisation, may use the admin site)
USERS = [
    ("administrator", "admin@demo.vru.test", "Ada Administrator (demo)",
     "Demo Violence Reduction Unit", True),
    ("analyst", "analyst@demo.vru.test", "Alex Analyst (demo)", "Demo Violence Reduction Unit", False),
    ("programme manager", "programme.manager@demo.vru.test", "Pat Programme-Manager (demo)",
     "Demo Violence Reduction Unit", False),
    ("provider", "provider@demo.vru.test", "Priya Provider (demo)", PROVIDER_ORGANISATION, False),
    ("caseworker", "caseworker@demo.vru.test", "Casey Caseworker (demo)",
     "Demo County Lines Casework Service", False),
    ("offender manager", "offender.manager@demo.vru.test", "Olu Offender-Manager (demo)",
     "Demo Probation Service", False),
]

HEADER = "# vru demo users: email<TAB>password<TAB>role. Generated at random on this machine; keep private.\n"


def users_file() -> Path:
    return Path(settings.VRU_DEMO_USERS_FILE)


def read_passwords(path: Path | None = None) -> dict[str, str]:
    """``{email: password}`` from the demo-users file (empty when there is none)."""
    path = path or users_file()
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) >= 2:
                    out[parts[0]] = parts[1]
    return out


def _write_passwords(path: Path, passwords: dict[str, str]) -> None:
    roles = {email: role for role, email, *_ in USERS}
    text = HEADER + "".join(f"{e}\t{passwords[e]}\t{roles[e]}\n" for _, e, *_ in USERS if e in passwords)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _seed_accounts() -> dict:
    from django.contrib.auth.models import Group

    from vru.web.accounts.models import Organisation, User

    created = {"organisations": 0, "users": 0, "passwords_reset": 0}
    orgs = {}
    for name, kind, verified, description in ORGANISATIONS:
        org, new = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "verified": verified, "description": description}
        )
        created["organisations"] += new
        orgs[name] = org
    path = users_file()
    passwords = read_passwords(path)
    changed = False
    for role, email, full_name, org_name, staff in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            password = passwords.get(email) or secrets.token_urlsafe(12)
            user = User.objects.create_user(
                email, password, full_name=full_name, organisation=orgs[org_name], is_staff=staff
            )
            created["users"] += 1
        elif email not in passwords:
            # The file was lost: the old password is unknown, so give the demo user a new one.
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            created["passwords_reset"] += 1
        else:
            password = passwords[email]
        if passwords.get(email) != password:
            passwords[email] = password
            changed = True
        group = Group.objects.get(name=role)
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
    if changed or not path.exists():
        _write_passwords(path, passwords)
    return created


def _app_modules(suffix: str):
    """``vru.web.<app>.<suffix>`` for each installed platform app that has one, in INSTALLED_APPS order."""
    for app in settings.INSTALLED_APPS:
        if not app.startswith("vru.web.") or app in ("vru.web.accounts", "vru.web.core"):
            continue
        name = f"{app}.{suffix}"
        if importlib.util.find_spec(name) is not None:
            yield app.rsplit(".", 1)[1], importlib.import_module(name)


def warm_cache(stdout=None):
    """``vru.web.dashboard.cache.warm(stdout)`` when that app and module exist (else None)."""
    if "vru.web.dashboard" not in settings.INSTALLED_APPS:
        return None
    if importlib.util.find_spec("vru.web.dashboard.cache") is None:
        return None
    warm = getattr(importlib.import_module("vru.web.dashboard.cache"), "warm", None)
    return warm(stdout or sys.stdout) if callable(warm) else None


def seed(stdout=None, *, apps: bool = True, warm: bool = True) -> dict:
    """Create the demo organisations and users, then each app's demo content (``vru.web.<app>.demo
    .seed(stdout)``), in one transaction; then (``warm``) fill the dashboard's cache
    (``vru.web.dashboard.cache.warm(stdout)``) when that module exists.
    ``apps=False`` seeds the accounts only. Returns what was created, per part."""
    stdout = stdout or sys.stdout
    with transaction.atomic():
        result = {"accounts": _seed_accounts()}
        for app, module in _app_modules("demo") if apps else ():
            result[app] = module.seed(stdout)
    if apps and warm:
        result["dashboard.cache"] = warm_cache(stdout)
    return result


def describe_users() -> str:
    """The demo users, their roles and passwords, as ``vru serve`` prints them."""
    passwords = read_passwords()
    lines = [f"Demo users (passwords generated on this machine, kept in {users_file()}):"]
    for role, email, *_ in USERS:
        lines.append(f"  {role:<18} {email:<34} {passwords.get(email, '?')}")
    return "\n".join(lines)
