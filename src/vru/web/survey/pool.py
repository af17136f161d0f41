"""The pool of sent responses waiting to be written to the database in batches (docs/web-survey.md,
"The batch pool").

Why: on PostgreSQL every row carries the id of the transaction that wrote it (``xmin``). A response
written by its own transaction when it is sent can be put in order with the used invitations (the burn's
``xmax``) and with any dated row (users, the audit log): "the first verified response written after a
burn" was the burnt code's response. So a send no longer writes to the database: it writes the complete
response (its UUID, version, language, ISO week of completion, verified flag, answers) to a file of this
pool, and responses move to the database in *batches*, each in one transaction, in a random order: every
response of a batch has the same ``xmin``. A batch is written only when the pool holds at least ``K``
verified responses (then all the verified ones go), and, separately, at least ``K`` unverified ones;
``K`` is ``VRU_SURVEY_BATCH`` (default 10, the disclosure threshold; at least 1). Every response of a batch
is stored with one ISO week: the latest week of completion among them. A burnt code can then be narrowed
only to a batch of at least ``K`` verified responses.

Responses enter the database only in the *weekly* flush (``survey_flush``, :meth:`Pool.flush` with
``weekly``): at most once per ISO week, whatever the pool holds; the pool folder keeps the ISO week of the
last such flush (:data:`WEEK_FILE`: a week, nothing finer). So a batch's ``xmin``, between dated rows,
dates its responses only to the week between two weekly flushes. A send writes nothing to the database
unless ``VRU_SURVEY_FLUSH_ON_SEND`` is set (:func:`flush_on_send`; for the test suite, unsafe in
production: each batch would be dated to its last send's second).

The files:

- in ``<drafts dir>/pool/`` (``VRU_SURVEY_DRAFTS``), created 0700, files 0600, each under a random name;
- encrypted and authenticated with AES-256-GCM under a key derived (HKDF-SHA256, its own ``info``) from
  ``SECRET_KEY``, the file name as associated data; padded to one fixed size (:data:`SIZE`), so a file's
  size says nothing about the answers;
- written atomically (temporary file, fsync, ``os.replace``, fsync of the folder); the folder's and the
  file's mtime are set to the start of the current ISO week after each change (the kernel's ctime, which
  cannot be set, still holds the time of the folder's last change: see the docs).

A flush (:func:`flush`) holds an ``fcntl`` lock on ``pool/.lock``, so two never run at once; it first
deletes the files whose response is in the table already (left by a crash after a batch's commit and
before its files were deleted: they duplicate nothing and never count toward ``K``), then writes the
batches, then deletes their files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from . import codes
from .files import TEMP, write_private
from .files import fsync_dir as _fsync_dir

MAGIC = b"VRU-SURVEY-POOL-1\n"  # then a 12-byte nonce, then AES-GCM's ciphertext and tag
KEY_INFO = b"vru.survey.pool-key"
# Every pool file's plaintext is padded to this size (bytes): larger than any response a questionnaire
# whose bound (plain_bound) fits can give; a questionnaire that does not fit is refused at the send.
SIZE = 64 * 1024
LOCK = ".lock"
# The ISO week of the last weekly flush ("2026-W49"), in the pool folder; mtime set to that week's start.
WEEK_FILE = ".flushed-week"
DEFAULT_BATCH = 10


class PoolError(Exception):
    """A pool file that does not open (changed by someone, truncated, or under another SECRET_KEY)."""


def batch_size() -> int:
    """``K``: the ``VRU_SURVEY_BATCH`` setting or environment variable (default 10; at least 1)."""
    from django.conf import settings

    raw = getattr(settings, "VRU_SURVEY_BATCH", None)
    if raw is None:
        raw = os.environ.get("VRU_SURVEY_BATCH", str(DEFAULT_BATCH))
    try:
        k = int(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"VRU_SURVEY_BATCH must be a whole number (at least 1), not {raw!r}") \
            from None
    if k < 1:
        raise ImproperlyConfigured(f"VRU_SURVEY_BATCH must be at least 1, not {k}")
    return k


def flush_on_send() -> bool:
    """``VRU_SURVEY_FLUSH_ON_SEND`` (setting or environment variable; default False): a send that makes a
    batch writes it at once. For the test suite only: in production each batch's ``xmin``, between dated
    rows, would date its responses to the second of their last send."""
    from vru.web.core.switches import switch

    return switch("VRU_SURVEY_FLUSH_ON_SEND")


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def plain_bound(definition: dict) -> int:
    """An upper bound of the plaintext of a response to a questionnaire of ``definition``, in bytes: every
    question answered, a free text at its ``max_length`` of characters JSON writes as 6 bytes (control
    characters as ``\\u00XX``; no character takes more)."""
    from .questionnaire import Questionnaire

    q = Questionnaire(definition)
    n = 400  # the fixed fields: id, version, language, week, verified, and the brackets
    for question in q.questions.values():
        longest = question.max_length * 6 if question.text else max((len(o) * 6 for o in question.options),
                                                                     default=0)
        n += 3 * (len(question.key) * 6 + 8) + longest
    return n


def _key() -> bytes:
    from django.conf import settings

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
        settings.SECRET_KEY.encode())


def encrypt(content: dict, name: str) -> bytes:
    plain = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    if len(plain) > SIZE:
        raise ValueError(f"a response of {len(plain)} bytes does not fit a pool file ({SIZE} bytes)")
    plain += b" " * (SIZE - len(plain))
    nonce = secrets.token_bytes(12)
    return MAGIC + nonce + AESGCM(_key()).encrypt(nonce, plain, MAGIC + name.encode())


def decrypt(data: bytes, name: str) -> dict:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 12 + 16:
        raise PoolError(f"pool file {name}: not a pool file")
    nonce, body = data[len(MAGIC):len(MAGIC) + 12], data[len(MAGIC) + 12:]
    try:
        plain = AESGCM(_key()).decrypt(nonce, body, MAGIC + name.encode())
    except InvalidTag:
        raise PoolError(f"pool file {name}: does not open under this SECRET_KEY (or it was changed)") \
            from None
    try:
        content = json.loads(plain)
        uuid.UUID(content["id"])
        if not (isinstance(content["version"], int) and isinstance(content["verified"], bool)
                and isinstance(content["answers"], list)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise PoolError(f"pool file {name}: its content is not a response") from None
    return content


def _week_start() -> float:
    year, week = codes.iso_week()
    monday = dt.date.fromisocalendar(year, week, 1)
    return dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC).timestamp()


@dataclass
class Pooled:
    path: Path
    content: dict


class Pool:
    def __init__(self, root: str | os.PathLike | None = None):
        if root is None:
            from .drafts import default_root

            root = default_root() / "pool"
        self.root = Path(root)

    def _ensure(self) -> Path:
        if not self.root.is_dir():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            stamp = _week_start()  # the drafts folder's mtime would hold the time of the first send
            with contextlib.suppress(FileNotFoundError):
                os.utime(self.root.parent, (stamp, stamp))
        if self.root.stat().st_mode & 0o077:
            os.chmod(self.root, 0o700)
        return self.root

    def _blur(self) -> None:
        """Set the folder's mtime to the start of this week (it would hold the time of the last change)."""
        stamp = _week_start()
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.root, (stamp, stamp))

    def put(self, content: dict) -> Path:
        """Write one response to the pool, durably (atomic write, fsync of the file and the folder)."""
        folder = self._ensure()
        name = secrets.token_hex(16)
        data = encrypt(content, name)
        write_private(folder, name, data, _week_start())
        self._blur()
        _fsync_dir(folder)
        return folder / name

    def paths(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir()
                      if p.is_file() and not p.name.startswith((TEMP, LOCK, WEEK_FILE)))

    def waiting(self) -> int:
        """How many responses are waiting (a count of files; nothing is opened)."""
        return len(self.paths())

    @contextlib.contextmanager
    def locked(self):
        """The pool's lock (``fcntl.flock`` on ``pool/.lock``): one flush at a time, across processes."""
        folder = self._ensure()
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read_all(self) -> tuple[list[Pooled], list[str]]:
        """Every response in the pool, and the errors of the files that do not open (left in place)."""
        out, errors = [], []
        for path in self.paths():
            try:
                out.append(Pooled(path, decrypt(path.read_bytes(), path.name)))
            except FileNotFoundError:
                continue
            except PoolError as err:
                errors.append(str(err))
        return out, errors

    def last_week(self) -> tuple[int, int] | None:
        """The ISO week of the last weekly flush (None: none yet); a file that holds none: PoolError."""
        path = self.root / WEEK_FILE
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (UnicodeDecodeError, OSError) as err:
            raise PoolError(f"pool file {WEEK_FILE}: cannot be read ({err})") from None
        m = re.fullmatch(r"(\d{4})-W(\d{2})\n?", text)
        if not m:
            raise PoolError(f"pool file {WEEK_FILE}: does not hold an ISO week such as 2026-W49 "
                            "(survey_flush --force-week writes it again)")
        return int(m[1]), int(m[2])

    def _record_week(self, year: int, week: int) -> None:
        """Write the week of this flush to :data:`WEEK_FILE` atomically, its mtime the week's start."""
        write_private(self.root, WEEK_FILE, (week_label(year, week) + "\n").encode("ascii"), _week_start())

    def _drop_stored(self, pooled: list[Pooled]) -> tuple[list[Pooled], int]:
        """Delete the files whose response is in the table already (a crash after a batch's commit, before
        its files went); returns the others and how many were deleted."""
        from .models import Response

        ids = [uuid.UUID(p.content["id"]) for p in pooled]
        stored = set()
        for i in range(0, len(ids), 1000):
            stored.update(Response.objects.filter(id__in=ids[i:i + 1000]).values_list("id", flat=True))
        fresh = []
        for p in pooled:
            if uuid.UUID(p.content["id"]) in stored:
                p.path.unlink(missing_ok=True)
            else:
                fresh.append(p)
        return fresh, len(pooled) - len(fresh)

    def flush(self, everything: bool = False, k: int | None = None, *, weekly: bool = False,
              force: bool = False) -> FlushResult:
        """Write the pool's responses to the database: all the verified ones when there are at least ``K``
        of them, and all the unverified ones when there are at least ``K`` of those (``everything``: all,
        whatever their number), each batch in one transaction, in random order. Files of responses already
        in the table are deleted first and never count toward ``K``.

        ``weekly``: the once-a-week rule. Nothing is written when the last weekly flush was in this ISO week
        (``result.already`` says which), unless ``force``. This week is recorded BEFORE the first batch is
        written (and even when none is), so a flush that fails half-way is not run again this week (what
        it did not write waits for next week's) and the time of a flush never depends on how many
        responses wait. A recorded week later than this one (a clock that was wrong) is an error: nothing
        is written until ``force`` records this week again."""
        k = batch_size() if k is None else k
        result = FlushResult()
        with self.locked():
            pooled, result.errors = self.read_all()
            pooled, result.stale = self._drop_stored(pooled)
            this_week = codes.iso_week()
            if weekly and not force:
                try:
                    last = self.last_week()
                except PoolError as err:
                    result.errors.append(str(err))
                    last = this_week  # not known: do nothing rather than risk a second flush this week
                if last is not None and last > this_week:
                    result.errors.append(
                        f"the last weekly flush is recorded in week {week_label(*last)}, after this week "
                        f"({week_label(*this_week)}): a clock was wrong; nothing is written until "
                        "survey_flush --force-week records this week")
                    result.already = week_label(*last)
                elif last is not None and last >= this_week:
                    result.already = week_label(*last)
            if result.already is None:
                if weekly:
                    self._record_week(*this_week)  # first: a failure below does not make a second flush
                for verified in (True, False):
                    group = [p for p in pooled if p.content["verified"] is verified]
                    if group and (everything or len(group) >= k):
                        result.written += _write_batch(group)
                        for p in group:
                            p.path.unlink(missing_ok=True)
                        result.batches += 1
            self._blur()
            _fsync_dir(self.root)
            result.waiting = self.waiting()
        return result


@dataclass
class FlushResult:
    written: int = 0
    batches: int = 0
    waiting: int = 0
    errors: list | None = None
    stale: int = 0  # files of responses already in the table (a crash after a commit), deleted
    already: str | None = None  # weekly: the ISO week ("2026-W49") of this week's flush, which ran already


def _write_batch(group: list[Pooled]) -> int:
    """Insert one batch in one transaction, in random order: the responses not in the table yet, with
    their answers, every one with the batch's week (the latest ISO week of completion among them: a
    response's stored week is never finer than its batch's, and a batch is never split by week). Returns
    how many were inserted."""
    from .models import Answer, QuestionnaireVersion, Response

    rng = secrets.SystemRandom()
    rows = list(group)
    rng.shuffle(rows)
    with transaction.atomic():
        ids = [uuid.UUID(p.content["id"]) for p in rows]
        present = set(Response.objects.filter(id__in=ids).values_list("id", flat=True))
        fresh = [p.content for p in rows if uuid.UUID(p.content["id"]) not in present]
        year, week = max(((c["iso_year"], c["iso_week"]) for c in fresh), default=(0, 0))
        versions = QuestionnaireVersion.objects.in_bulk({c["version"] for c in fresh})
        responses, answers = [], []
        for c in fresh:
            version = versions.get(c["version"])
            if version is None:
                raise PoolError(f"a pooled response of questionnaire version {c['version']}, which no longer "
                                "exists")
            responses.append(Response(id=uuid.UUID(c["id"]), version=version, language=c["language"],
                                      iso_year=year, iso_week=week, verified=c["verified"]))
            answers.extend(Answer(response_id=uuid.UUID(c["id"]), version=version, question=question,
                                  value=value, text=text) for question, value, text in c["answers"])
        rng.shuffle(answers)
        Response.objects.bulk_create(responses, batch_size=1000)
        Answer.objects.bulk_create(answers, batch_size=1000)
    return len(fresh)


def pool() -> Pool:
    return Pool()


def flush(everything: bool = False, k: int | None = None, *, weekly: bool = False,
          force: bool = False) -> FlushResult:
    return pool().flush(everything=everything, k=k, weekly=weekly, force=force)
