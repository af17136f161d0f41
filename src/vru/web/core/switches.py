"""Yes-or-no switches of the web apps: a Django setting, else the environment variable of the same name."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def switch(name: str) -> bool:
    """The setting ``name`` (a bool, or text as below), else the environment variable ``name``; unset is
    False. Text other than 1/true/yes/on or 0/false/no/off (any case, or empty) is refused, naming it."""
    raw = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name, "")
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1 or 0), not {raw!r}")
