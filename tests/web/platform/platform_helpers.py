"""Helpers shared by the platform-wide web test modules: a request body that counts what is read,
the WSGI and ASGI applications called as a server calls them, JSON log lines, and staff accounts and
the admin's user change form."""

from __future__ import annotations

import io
import json
import time

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, user

from vru.web.accounts.models import User


class Body(io.RawIOBase):
    """A request body of ``size`` bytes that fails the test if more than ``allowed`` are read."""

    def __init__(self, size: int, allowed: int):
        self.size, self.allowed, self.read_bytes = size, allowed, 0

    def readable(self):
        return True

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        if self.read_bytes + n > self.allowed:
            raise AssertionError(f"read past {self.allowed} bytes of the body")
        self.read_bytes += n
        return b"a" * n

    def readline(self, n=-1):
        return self.read(n)


def wsgi(path: str, body: Body, **environ):
    """The request through the whole WSGI application, as a server hands it over."""
    env = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "REMOTE_ADDR": "192.0.2.1", "wsgi.url_scheme": "http", "wsgi.input": body,
        "wsgi.errors": io.StringIO(), "CONTENT_TYPE": "application/x-www-form-urlencoded",
        **environ,
    }
    status = []
    # as Django's test client does: the test's database connection stays open across the request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        start = time.monotonic()
        response = WSGIHandler()(env, lambda s, h, exc_info=None: status.append(s))
        content = b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), content, time.monotonic() - start


def asgi(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """Call the ASGI application (``vru.web.asgi.application``) with ``chunks`` as the body; return the
    status, the body sent back and how many body chunks the server was asked for."""
    import asyncio

    from vru.web.asgi import application

    sent, asked = [], [0]
    pending = list(chunks)

    async def receive():
        if not pending:
            await asyncio.sleep(3600)  # the whole body sent: the client waits for the answer
        asked[0] += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 80)}
    asyncio.run(asyncio.wait_for(application(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, asked[0]


def json_lines(err: str) -> list[dict]:
    """The JSON log lines among ``err``."""
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def staff(email: str, role: str | None = "administrator", **extra) -> User:
    """A staff member in ``role`` (none when None) with ``factories.PASSWORD``."""
    return user(email, role, password=PASSWORD, is_staff=True, **extra)


def _change_form(user: User, **changes) -> dict:
    """The admin's user change form as a browser would post it, with ``changes`` on top."""
    joined = timezone.localtime(user.date_joined).replace(microsecond=0)  # the form shows whole seconds
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    data = {
        "email": user.email, "full_name": user.full_name, "organisation": user.organisation_id or "",
        "groups": [g.pk for g in user.groups.all()],
        "date_joined_0": joined.strftime("%d/%m/%Y"), "date_joined_1": joined.strftime("%H:%M:%S"),
        # the hidden initial value a callable default comes with
        "initial-date_joined_0": joined.strftime("%d/%m/%Y"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "", "last_login_1": "", "_save": "Save",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def change_user(client: Client, user: User, **changes):
    """``client`` posts the admin's change form of ``user`` with ``changes``."""
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), _change_form(user, **changes))


def superuser(email: str = "root@example.org") -> User:
    """A superuser (staff too) with ``factories.PASSWORD``."""
    return user(email, password=PASSWORD, is_staff=True, is_superuser=True)
