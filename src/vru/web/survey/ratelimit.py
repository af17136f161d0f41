"""The survey's rate limits (docs/web-survey.md, "Anonymity"): counters in this process's memory, in fixed
windows, that keep no time.

The counters are keyed by an HMAC under a key that is random per process (``codes.rate_key``), so they
mean nothing to another process: keeping them in a shared cache (django-ratelimit's file cache) gave no
shared limit, and its entries stayed on disk after they expired, each file and each key dated by the time
it was written. Here each group of counters holds only the current window: when a window ends its counters
are dropped together (at the next request), so no counter carries a time of its own, nothing is written to
disk, and a restart forgets everything. A window's length is the rate's period; the window is numbered by
the process's monotonic clock, not the time of day.

A process that has counted ``MAX_KEYS`` networks and codes in one window counts no new one until the
window ends (the limits loosen, they never lock anyone out); that needs more distinct networks or codes in
an hour than the survey will ever see.
"""

from __future__ import annotations

import threading
import time

MAX_KEYS = 100_000
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"300/h"`` -> (300, 3600); also ``"20/30m"``. A malformed rate is a configuration error."""
    try:
        count, per = rate.strip().split("/")
        number = per[:-1] or "1"
        return int(count), int(number) * UNITS[per[-1]]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"rate {rate!r}: write it as a count per period, like 300/h or 20/30m") from exc


class Limiter:
    """Counters per group and key for the current window of each period (thread-safe)."""

    def __init__(self, clock=time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self._clock, self._max_keys = clock, max_keys
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[int, dict[tuple[str, str], int]]] = {}  # period -> (window, counts)

    def _counts(self, period: int) -> dict[tuple[str, str], int]:
        window = int(self._clock() // period)
        current = self._windows.get(period)
        if current is None or current[0] != window:
            current = (window, {})
            self._windows[period] = current  # the ended window's counters are dropped, all at once
        return current[1]

    def hit(self, group: str, key: str, rate: str, increment: bool = True) -> bool:
        """Count one for ``key`` in ``group`` (unless ``increment`` is false) and say whether it is over the
        rate: true from the request after the limit."""
        limit, period = parse_rate(rate)
        with self._lock:
            counts = self._counts(period)
            n = counts.get((group, key), 0)
            if increment and ((group, key) in counts or len(counts) < self._max_keys):
                n += 1
                counts[(group, key)] = n
            return n > limit

    def count(self, group: str, key: str, rate: str) -> int:
        limit, period = parse_rate(rate)
        with self._lock:
            return self._counts(period).get((group, key), 0)

    def entries(self) -> list[tuple[str, str, int]]:
        """Every counter held (group, key, count): what a memory dump of the process would show."""
        with self._lock:
            return [(g, k, n) for _, counts in self._windows.values() for (g, k), n in counts.items()]

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


LIMITER = Limiter()
