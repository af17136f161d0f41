"""Codes and keyed hashes (docs/web-survey.md, "Invitations" and "Anonymity").

- Invitation and resume codes are random (``secrets``), 12 characters from an alphabet without look-alike
  characters (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), shown in groups of four: about 55.7 bits each (25^12).
  They are never derived from anything about the person or the crime.
- Only a keyed hash of a code is stored (HMAC-SHA256 under a key derived from ``SECRET_KEY`` with Django's
  ``salted_hmac``): a stolen database does not give the codes, and the hashes cannot be recomputed from a
  guessed code without the key. Changing ``SECRET_KEY`` invalidates outstanding codes and drafts.
- The rate limits count a network (an IPv4 /24 or an IPv6 /48) and an invitation code under an HMAC whose
  key is random, made when the process starts and kept only in its memory (:data:`_RATE_KEY`,
  :func:`rate_key`): nothing in the database, the cache or the settings (``SECRET_KEY``) lets anyone
  recompute a counter's key from a code hash or from a guessed network. A restart (or another worker
  process) starts with a new key, which only loosens the limits.
- Times are ISO weeks (:func:`iso_week`); nothing finer is stored for a response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets

from django.utils import timezone
from django.utils.crypto import salted_hmac

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 12
DRAFT_WEEKS = 1  # a draft is kept to the end of the week after the one it was last saved in
# The rate limits' key: random, per process, never stored (see the module's docstring).
_RATE_KEY = secrets.token_bytes(32)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def looks_valid(code: str) -> bool:
    c = normalise(code)
    return len(c) == LENGTH and all(ch in ALPHABET for ch in c)


def display(code: str) -> str:
    c = normalise(code)
    return "-".join(c[i:i + 4] for i in range(0, len(c), 4))


def code_hash(code: str, purpose: str) -> str:
    """The keyed hash of a code (``purpose``: ``invitation`` or ``resume``), 64 hex digits."""
    return salted_hmac(f"vru.survey.{purpose}", normalise(code), algorithm="sha256").hexdigest()


def iso_week(when: dt.date | None = None) -> tuple[int, int]:
    d = when or timezone.localdate()
    year, week, _ = d.isocalendar()
    return year, week


def week_number(year: int, week: int) -> int:
    return year * 100 + week


def draft_expiry(today: dt.date | None = None) -> int:
    d = (today or timezone.localdate()) + dt.timedelta(weeks=DRAFT_WEEKS)
    return week_number(*iso_week(d))


def current_week_number(today: dt.date | None = None) -> int:
    return week_number(*iso_week(today))


def network(address: str) -> str:
    """The network an address belongs to, for the rate limits: IPv4 /24, IPv6 /48."""
    ip = ipaddress.ip_address(address)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network((int(ip), prefix), strict=False))


def rate_key(kind: str, value: str) -> str:
    """The rate-limit counter's key for ``value`` (a network, or a normalised code), under the process's
    random key: not computable from the database or ``SECRET_KEY``."""
    return hmac.new(_RATE_KEY, f"vru.survey.{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def code_rate_key(code: str) -> str:
    return rate_key("code", normalise(code))


def network_key(group: str, request) -> str:
    """The rate limits' key of the client's network (``survey.ratelimit``): a keyed hash of it under the
    process's random key. The address itself goes nowhere. (``group`` is unused: the signature of a
    django-ratelimit key function.)"""
    from vru.web.core.clientip import client_ip

    return rate_key("network", network(client_ip(request)))
