"""The settings of Rescue and Response (docs/web-referrals.md, "Settings"), checked at start-up.

- ``VRU_REFERRALS_RETENTION_DAYS`` (default 2190, six years): closed cases (from the closure date) and
  declined referrals (from the decision) are due for erasure after this many days. At least 365: a
  shorter period would erase the history a re-referral within the year needs; at most 36500.
- ``VRU_REFERRALS_DRAFT_DAYS`` (default 30): a draft never submitted is purged (deleted) this many days after
  its referrer last saved it. At least 1, at most 365.
- ``VRU_REFERRALS_MIN_N`` (default 10): the smallest count the reports publish. At least 3 (suppression
  cannot be turned off: figures leave the service only with small cells hidden); at most 1000.

``vru.web.settings`` reads both from the environment through :func:`from_env` (a bad value stops the settings
module with ``ImproperlyConfigured`` naming the variable); ``ReferralsConfig.ready`` checks the final values
with :func:`check`, so a settings module of one's own is held to the same ranges. This module imports nothing
of Django but its exception, so that the settings module may import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

#: name -> (default, smallest, largest, what it is)
SETTINGS: dict[str, tuple[int, int, int, str]] = {
    "VRU_REFERRALS_RETENTION_DAYS": (6 * 365, 365, 36_500, "days a closed or declined referral is kept"),
    "VRU_REFERRALS_DRAFT_DAYS": (30, 1, 365, "days an abandoned draft is kept after it was last saved"),
    "VRU_REFERRALS_MIN_N": (10, 3, 1000, "the smallest count the reports publish"),
}


def _checked(name: str, value) -> int:
    default, lo, hi, what = SETTINGS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ImproperlyConfigured(
            f"{name} ({what}) must be a whole number from {lo} to {hi} (default {default}); got {value!r}"
        )
    return value


def from_env(name: str, environ: Mapping[str, str] | None = None) -> int:
    """The setting ``name`` from the environment (its default when unset or empty), checked."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return SETTINGS[name][0]
    try:
        value = int(raw)
    except ValueError:
        value = raw
    return _checked(name, value)


def _value(settings, name: str) -> int:
    """The setting from the settings module or, where it does not set it, from the environment (a settings
    module written before the setting existed still honours the documented variable)."""
    return getattr(settings, name) if hasattr(settings, name) else from_env(name)


def check(settings) -> None:
    """Raise ``ImproperlyConfigured`` unless every setting of :data:`SETTINGS` is in its range."""
    for name in SETTINGS:
        _checked(name, _value(settings, name))


def retention_days() -> int:
    from django.conf import settings

    return getattr(settings, "VRU_REFERRALS_RETENTION_DAYS", SETTINGS["VRU_REFERRALS_RETENTION_DAYS"][0])


def min_n() -> int:
    from django.conf import settings

    return getattr(settings, "VRU_REFERRALS_MIN_N", SETTINGS["VRU_REFERRALS_MIN_N"][0])


def draft_days() -> int:
    from django.conf import settings

    return _checked("VRU_REFERRALS_DRAFT_DAYS", _value(settings, "VRU_REFERRALS_DRAFT_DAYS"))
