"""Demo content for ``vru serve``: fictional organisations, one demo user per role, then each app's
own demo content and the dashboard's cache.

Idempotent: seeding twice changes nothing. The demo users' passwords are generated at random the first
time and kept in ``settings.VRU_DEMO_USERS_FILE`` (``<data dir>/demo-users.txt``, mode 0600), never in
the repository; ``vru serve`` prints them (:func:`describe_users`). An app's own demo users (a role the app
adds, such as tagging's police analyst or referrals' referrer) are made by its ``demo.seed`` through
:func:`app_user`, the same mechanism, with their passwords in ``demo-users-<app>.txt`` beside that file.
Addresses use the reserved ``.test`` domain, so no email can ever reach anybody. Every person is fictional.
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


def app_users_file(app: str) -> Path:
    """The private passwords file of ``app``'s own demo users, beside the platform's:
    ``demo-users-<app>.txt`` (mode 0600)."""
    path = users_file()
    return path.with_name(f"{path.stem}-{app}{path.suffix}")


def _read(path: Path) -> dict[str, tuple[str, str]]:
    """``{email: (password, role)}`` from a demo-users file, in its order (empty when there is none)."""
    out: dict[str, tuple[str, str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) >= 2:
                    out[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return out


def read_passwords(path: Path | None = None) -> dict[str, str]:
    """``{email: password}`` from a demo-users file (the platform's by default; empty when there is none)."""
    return {email: password for email, (password, _) in _read(path or users_file()).items()}


def _write(path: Path, rows: dict[str, tuple[str, str]]) -> None:
    """Write ``{email: (password, role)}`` to ``path`` with mode 0600 (a private temporary file, then an
    atomic rename: no moment where the passwords are readable by others or half written)."""
    text = HEADER + "".join(f"{e}\t{password}\t{role}\n" for e, (password, role) in rows.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _demo_user(email: str, full_name: str, organisation, role: str, rows: dict, *, staff: bool = False):
    """Make sure the demo user ``email`` exists, holds ``role`` and has the password kept in ``rows``
    (``{email: (password, role)}``, updated in place). Returns (user, what happened: "created",
    "password reset" or ""). A user whose password is not in ``rows`` (the file was lost) gets a new one."""
    from django.contrib.auth.models import Group

    from vru.web.accounts.models import User

    user = User.objects.filter(email=email).first()
    known = rows.get(email, (None, ""))[0]
    what = ""
    if user is None:
        password = known or secrets.token_urlsafe(12)
        user = User.objects.create_user(email, password, full_name=full_name, organisation=organisation,
                                        is_staff=staff)
        what = "created"
    elif known is None:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        what = "password reset"
    else:
        password = known
    rows[email] = (password, role)
    group = Group.objects.get(name=role)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
    return user, what


def app_user(app: str, email: str, full_name: str, organisation, role: str, stdout=None):
    """An app's own demo user (a role the app adds, or a platform role at one of the app's organisations):
    made once, with a password generated at random into ``app_users_file(app)`` (mode 0600), listed by
    :func:`describe_users`. Idempotent; the one mechanism every app's ``demo.seed`` uses. Returns the user."""
    path = app_users_file(app)
    rows = _read(path)
    before = dict(rows)
    user, what = _demo_user(email, full_name, organisation, role, rows)
    if rows != before or not path.exists():
        _write(path, rows)
    if what and stdout:
        stdout.write(f"{app} demo user {email} ({role}): {what}\n")
    return user


def _seed_accounts() -> dict:
    from vru.web.accounts.models import Organisation

    created = {"organisations": 0, "users": 0, "passwords_reset": 0}
    orgs = {}
    for name, kind, verified, description in ORGANISATIONS:
        org, new = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "verified": verified, "description": description}
        )
        created["organisations"] += new
        orgs[name] = org
    path = users_file()
    known = _read(path)
    rows: dict[str, tuple[str, str]] = {}
    for role, email, full_name, org_name, staff in USERS:
        if email in known:
            rows[email] = known[email]
        _, what = _demo_user(email, full_name, orgs[org_name], role, rows, staff=staff)
        created["users"] += what == "created"
        created["passwords_reset"] += what == "password reset"
    if rows != known or not path.exists():
        _write(path, rows)
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
    """Every demo user, its role and password, as ``vru serve`` prints them: the platform's, then each
    installed app's own (``app_users_file``)."""
    lines = [f"Demo users (passwords generated on this machine, kept in {users_file()}):"]
    rows = _read(users_file())
    for role, email, *_ in USERS:
        lines.append(f"  {role:<18} {email:<34} {rows.get(email, ('?',))[0]}")
    for app in settings.INSTALLED_APPS:
        name = app.rsplit(".", 1)[-1]
        own = _read(app_users_file(name)) if app.startswith("vru.web.") else {}
        if own:
            lines.append(f"  ({name}: kept in {app_users_file(name)})")
            lines.extend(f"  {role:<18} {email:<34} {password}" for email, (password, role) in own.items())
    return "\n".join(lines)
