"""The survey's private files (drafts, the batch pool, its week record): one way to write them.

Each is written whole or not at all (a temporary file in the same folder, fsynced, renamed into place),
readable by the service's user only (0600), and its mtime set to a given time (the start of a week) so that
the file keeps no time finer than that (its ctime cannot be set: docs/web-survey.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TEMP = ".tmp-"  # a file being written; never read as a draft or a pooled response


def write_private(folder: Path, name: str, data: bytes, mtime: float) -> Path:
    """``data`` into ``folder/name`` atomically, mode 0600, its mtime ``mtime``. Returns the path."""
    tmp = folder / f"{TEMP}{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.utime(tmp, (mtime, mtime))
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return folder / name


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, an unlink) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
