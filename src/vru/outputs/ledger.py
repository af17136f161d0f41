"""The disclosure ledger on disk: read, write (atomically) and lock the JSON file of the cells earlier
releases published.

:mod:`vru.analysis.disclosure` holds the ledger (:class:`~vru.analysis.disclosure.Ledger`: its document,
checked by :meth:`~vru.analysis.disclosure.Ledger.from_json`) and reads no file; this module is where
the file is read and written.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vru.analysis.disclosure import Ledger


@contextmanager
def ledger_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the ledger file ``path`` (on ``<path>.lock``, ``fcntl.flock``) from
    reading it to writing it back: two releases protected at once would each be protected without the
    other, and the second write would drop the first's cells. A second writer waits for the first."""
    lock = Path(path).with_name(Path(path).name + ".lock")
    with open(lock, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_ledger(path: str | Path) -> Ledger:
    """Read a ledger file; a file that does not exist yet is an empty ledger. ``ValueError`` naming the
    file when it is not a ledger."""
    p = Path(path)
    if not p.exists():
        return Ledger.empty()
    return Ledger.from_json(p.read_bytes(), where=str(p))


def write_ledger(ledger: Ledger, path: str | Path) -> None:
    """Write atomically (a temporary file renamed over the old one)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(ledger.to_json(), encoding="utf-8")
    os.replace(tmp, p)
