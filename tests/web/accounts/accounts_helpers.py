"""Helpers shared by the accounts' web test modules: the sign-in form posted as a browser would, and
whether a client is signed in."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def login(client: Client, email: str, password: str, ip: str = "10.0.0.1", path: str | None = None):
    """``client`` posts ``email`` and ``password`` to the sign-in form (``path``: another sign-in page, such
    as the admin's) from the address ``ip``."""
    return client.post(path or reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session
