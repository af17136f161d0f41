"""The drafts of the survey (partial answers under a resume code) in files, not in the database
(docs/web-survey.md, "Drafts").

Why not a table: PostgreSQL keeps every row version until VACUUM, and the transaction ids of a draft's
versions chain from the transaction after an invitation code's burn to the one that writes the response;
the WAL holds the same chain. A file that is replaced on each page and deleted at the send leaves nothing
in the database: no chain of row versions or WAL records joins a burnt code to a response. What remains
in the database is the order of commits; the response is written in a batch of at least
``VRU_SURVEY_BATCH`` verified responses sharing one transaction id (:mod:`.pool`), so that order narrows
a burnt code only to its batch, until the nightly ``survey_shuffle`` gives every row one transaction id.

The store:

- One file per draft in a directory shared by the web workers of a host (``VRU_SURVEY_DRAFTS``, default
  ``survey-drafts`` in the platform's data directory; created 0700, files 0600). The file's name is the
  keyed hash of the resume code (``codes.code_hash(code, "resume")``), in a folder named after the ISO
  week in which the draft expires (``202651``): ``survey_purge`` deletes whole past weeks without opening
  a file (each taken by a rename first, so two purges at once never fail), and a lookup tries the two
  weeks a live draft can be in (this one and the next).
- The content (questionnaire version id, answers, verified flag, a random nonce) is encrypted and
  authenticated with AES-256-GCM under a key derived (HKDF-SHA256) from the resume code itself, salted
  with a key derived from ``SECRET_KEY``; the associated data binds it to its file name. Without the
  resume code the server cannot read a draft; a file changed by anyone is refused (as "not found"). The
  plaintext is padded to one fixed size (:data:`PAD`, larger than any response a loadable
  questionnaire allows), so a file's size says nothing about the answers.
- Writes are atomic (a temporary file in the same folder, fsync, ``os.replace``); a write that fails puts
  the draft back as it was. After each change the mtime of the file and of its folders is set to the
  start of the week (``os.utime``): none keeps the time of a save (the kernel's ctime, which cannot be set,
  does: see the docs).
- A change (a page saved, the send) first *claims* the file, renaming it to a private name: only one of
  two concurrent claims wins, the other waits up to ``CLAIM_WAIT_S`` for it to come back (a load waits the
  same), then finds nothing. A save writes the new version and drops the claimed one; a send records the
  draft's spent marker, writes the response to the batch pool (:mod:`.pool`) and then deletes the claimed
  file, or, if that fails, renames it back so that the respondent can send again. A claim older than
  ``CLAIM_ABANDONED_S`` was left by a worker that died: the next load or claim puts it back; otherwise it
  goes with its week.
- A sent draft leaves a spent marker (a keyed hash of its nonce, an empty file in ``spent/<week>/``): a
  copy of the file restored from a backup is refused at its send.
- Drafts moved out of the old ``survey_draft`` table (migration ``0007``) could not be encrypted, since
  the resume code is not stored: they are written as flagged legacy plaintext files under the same name
  (with a keyed hash under ``SECRET_KEY``, so none can be forged) and re-encrypted the first time their
  resume code opens them (or deleted with their week).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.utils.crypto import salted_hmac

from . import codes
from .files import TEMP, write_private
from .files import fsync_dir as _fsync_dir

MAGIC = b"VRU-SURVEY-DRAFT-1\n"  # then a 12-byte nonce, then AES-GCM's ciphertext and tag
LEGACY = b"VRU-SURVEY-DRAFT-LEGACY-PLAINTEXT\n"  # then JSON: a draft moved from the old table
KEY_INFO = b"vru.survey.draft-key"  # HKDF's info: not the file name's purpose ("vru.survey.resume")
PAD = 64 * 1024  # every draft's plaintext is padded to this one size (vru.web.survey.pool.SIZE)
CLAIMED = ".claimed-"  # a file being changed or sent: ".claimed-<name>-<random>"
SPENT = "spent"  # spent/<week>/<keyed hash of a sent draft's nonce>
PURGING = ".purging-"  # a past week's folder taken by one purge: ".purging-<week>-<random>"
# While a file is claimed by a page being saved (milliseconds), another change or a load waits this long.
CLAIM_WAIT_S = 2.0
# A claim older than this (seconds since the rename, the file's ctime) was left by a worker that died (the
# web server kills a request after 120 s): the next load or claim of that draft puts it back.
CLAIM_ABANDONED_S = 300.0


class DraftError(Exception):
    """A draft file that cannot be read: tampered with, truncated, or for another resume code."""


@dataclass
class Draft:
    """A respondent's partial answers; ``version`` (the ``QuestionnaireVersion``) is set by the flow."""

    version_id: int
    answers: dict = field(default_factory=dict)
    verified: bool = False
    key: str = field(default="", repr=False)  # the file name: the resume code's keyed hash
    code: str = field(default="", repr=False)  # the resume code, in memory only
    version: object = field(default=None, repr=False)
    # random, inside the encrypted draft: its send leaves a keyed hash of it in spent/ (see spend())
    nonce: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    def content(self) -> dict:
        return {"version": self.version_id, "answers": self.answers, "verified": bool(self.verified),
                "nonce": self.nonce}

    @classmethod
    def of(cls, content: dict, key: str, code: str, version=None) -> Draft:
        # a draft moved from the old table has no nonce until re-encrypted: its name stands for one
        return cls(version_id=content["version"], answers=content["answers"], verified=content["verified"],
                   key=key, code=codes.normalise(code), version=version,
                   nonce=str(content.get("nonce") or key))


def default_root() -> Path:
    from django.conf import settings

    configured = os.environ.get("VRU_SURVEY_DRAFTS") or getattr(settings, "VRU_SURVEY_DRAFTS", "")
    if configured:
        return Path(configured).expanduser()
    from vru.web.settings import data_dir

    return data_dir() / "survey-drafts"


def is_week(week: int) -> bool:
    """Whether ``week`` (``year * 100 + week``) is a real ISO week."""
    try:
        dt.date.fromisocalendar(week // 100, week % 100, 1)
    except ValueError:
        return False
    return True


def _week_start(week: int) -> float:
    """The first second (UTC) of ISO week ``week`` (``year * 100 + week``), as a POSIX time."""
    monday = dt.date.fromisocalendar(week // 100, week % 100, 1)
    return dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC).timestamp()


def _key(code: str) -> bytes:
    salt = salted_hmac("vru.survey.draft-salt", "", algorithm="sha256").digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=KEY_INFO).derive(
        codes.normalise(code).encode())


def encrypt(content: dict, code: str, name: str) -> bytes:
    """The bytes of a draft file: ``content`` as JSON, padded, under the resume code's key, bound to its
    file name ``name``."""
    plain = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    if len(plain) > PAD:  # questionnaire.load_folder refuses a questionnaire whose answers could not fit
        raise ValueError(f"a draft of {len(plain)} bytes does not fit a draft file ({PAD} bytes)")
    plain += b" " * (PAD - len(plain))
    nonce = secrets.token_bytes(12)
    return MAGIC + nonce + AESGCM(_key(code)).encrypt(nonce, plain, MAGIC + name.encode())


def decrypt(data: bytes, code: str, name: str) -> dict:
    """The content of a draft file (``DraftError`` if it is not one this code and name can open)."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 12 + 16:
        raise DraftError("not a draft file")
    nonce, body = data[len(MAGIC):len(MAGIC) + 12], data[len(MAGIC) + 12:]
    try:
        plain = AESGCM(_key(code)).decrypt(nonce, body, MAGIC + name.encode())
    except InvalidTag:
        raise DraftError("the draft does not open with this resume code (or it was changed)") from None
    return _checked(plain)


def _checked(plain: bytes) -> dict:
    try:
        content = json.loads(plain)
    except ValueError:
        raise DraftError("a draft's content is not JSON") from None
    if not (isinstance(content, dict) and isinstance(content.get("version"), int)
            and isinstance(content.get("answers"), dict) and isinstance(content.get("verified"), bool)):
        raise DraftError("a draft's content is not a draft")
    return content


def _legacy_mac(name: str, plain: bytes) -> bytes:
    return salted_hmac("vru.survey.draft-legacy", name.encode() + b"\n" + plain,
                       algorithm="sha256").hexdigest().encode()


def legacy_bytes(content: dict, name: str) -> bytes:
    """A draft moved from the old table (migration 0007), in clear, flagged as such, and authenticated by
    a keyed hash (under ``SECRET_KEY``) of its name and content: a legacy file cannot be forged or put
    in place of an encrypted draft without the settings."""
    plain = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    return LEGACY + _legacy_mac(name, plain) + b"\n" + plain


def legacy_content(data: bytes, name: str) -> dict:
    mac, _, plain = data[len(LEGACY):].partition(b"\n")
    if not hmac.compare_digest(mac, _legacy_mac(name, plain)):
        raise DraftError("a legacy draft whose keyed hash does not match")
    return _checked(plain)


def read(data: bytes, code: str, name: str) -> dict:
    """The content of a draft file of either kind (``DraftError`` if it does not open)."""
    return legacy_content(data, name) if data.startswith(LEGACY) else decrypt(data, code, name)


class DraftStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    # --- paths ---------------------------------------------------------------------------------------

    def _ensure(self, week: int) -> Path:
        """The folder of ``week``, created if need be (two requests may create it at once)."""
        if not self.root.exists():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.root.stat().st_mode & 0o077:  # the drafts are the service's only
            os.chmod(self.root, 0o700)
        folder = self.root / f"{week:06d}"
        if not folder.is_dir():
            folder.mkdir(mode=0o700, exist_ok=True)
            _blur(self.root, codes.current_week_number())
        return folder

    def _live_weeks(self) -> list[int]:
        """The expiry weeks a live draft can be in, latest first."""
        return sorted({codes.draft_expiry(), codes.current_week_number()}, reverse=True)

    def _find(self, key: str) -> Path | None:
        for week in self._live_weeks():
            path = self.root / f"{week:06d}" / key
            if path.is_file():
                return path
        return None

    def _write(self, folder: Path, name: str, data: bytes, week: int) -> Path:
        """Write ``data`` to ``folder/name`` atomically, its mtime the start of ``week``."""
        write_private(folder, name, data, _week_start(week))
        _blur(folder, week)
        _fsync_dir(folder)
        return folder / name

    # --- drafts --------------------------------------------------------------------------------------

    def create(self, code: str, version_id: int, verified: bool) -> Draft:
        draft = Draft(version_id=version_id, answers={}, verified=verified,
                      key=codes.code_hash(code, "resume"), code=codes.normalise(code))
        week = codes.draft_expiry()
        self._write(self._ensure(week), draft.key, encrypt(draft.content(), draft.code, draft.key), week)
        return draft

    def load(self, code: str, wait: float = CLAIM_WAIT_S) -> Draft | None:
        """The draft of resume code ``code``, or None (no such code, expired, or a file that does not
        open: changed by someone, or for another code). A legacy plaintext file is encrypted now."""
        if not codes.looks_valid(code):
            return None
        key = codes.code_hash(code, "resume")
        deadline = time.monotonic() + wait
        while True:  # a page being saved (a double click) has the file claimed for a moment: wait for it
            path = self._find(key)
            if path is not None:
                try:
                    data = path.read_bytes()
                    break
                except FileNotFoundError:  # claimed or purged meanwhile
                    pass
            if not self._claimed(key) or time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        try:
            if data.startswith(LEGACY):
                content = legacy_content(data, key)
                self._reencrypt(path, content, code, key)
            else:
                content = decrypt(data, code, key)
        except DraftError:
            return None
        return Draft.of(content, key, code)

    def _reencrypt(self, path: Path, content: dict, code: str, key: str) -> None:
        """Replace a legacy plaintext file by its encrypted form (same name, same week), unless it was
        claimed meanwhile."""
        claimed = self._claim_path(path)
        if claimed is None:
            return
        week = int(path.parent.name)
        content = {**content, "nonce": content.get("nonce") or key}  # the marker its send leaves is the same
        try:
            self._write(path.parent, key, encrypt(content, code, key), week)
        except OSError:  # disk full or the like: keep the legacy file, encrypt it next time
            Claim(self, path, claimed, None).release()
            return
        claimed.unlink(missing_ok=True)

    def _claim_path(self, path: Path) -> Path | None:
        target = path.parent / f"{CLAIMED}{path.name}-{secrets.token_hex(8)}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        _blur(path.parent, int(path.parent.name))
        return target

    def _claimed(self, key: str) -> bool:
        """Whether the draft ``key`` is claimed now (a page being saved, a send). A claim older than
        ``CLAIM_ABANDONED_S`` was left by a worker that died: it is put back under the draft's name here
        (then True: the draft is there again)."""
        found = False
        for week in self._live_weeks():
            folder = self.root / f"{week:06d}"
            try:
                names = [e.name for e in os.scandir(folder) if e.name.startswith(f"{CLAIMED}{key}-")]
            except FileNotFoundError:
                continue
            for name in names:
                claimed = folder / name
                try:
                    age = time.time() - claimed.stat().st_ctime
                except FileNotFoundError:  # released or done meanwhile
                    found = True
                    continue
                found = True
                if age > CLAIM_ABANDONED_S:
                    try:
                        os.link(claimed, folder / key)  # never over a newer version
                    except FileExistsError:
                        pass
                    except FileNotFoundError:
                        continue
                    claimed.unlink(missing_ok=True)
                    _blur(folder, week)
        return found

    def claim(self, draft: Draft, wait: float = CLAIM_WAIT_S) -> Claim | None:
        """Take the draft's file for a change (rename it to a private name). None when it is not there:
        sent or expired (after waiting up to ``wait`` seconds for a page being saved to put it back)."""
        deadline = time.monotonic() + wait
        while True:
            path = self._find(draft.key)
            claimed = self._claim_path(path) if path is not None else None
            if claimed is not None:
                break
            if (path is None and not self._claimed(draft.key)) or time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        try:
            content = read(claimed.read_bytes(), draft.code, draft.key)
        except DraftError:
            os.rename(claimed, path)
            return None
        return Claim(self, path, claimed, Draft.of(content, draft.key, draft.code, draft.version))

    def save(self, draft: Draft, update) -> bool:
        """Replace the draft's answers by ``update(answers)`` (applied to the answers as stored now, so two
        pages saved at once both count), and move it to this week's expiry folder. False when the draft
        is gone (sent, expired)."""
        claim = self.claim(draft)
        if claim is None:
            return False
        week = codes.draft_expiry()
        updated = claim.draft
        try:
            answers = updated.answers = update(dict(updated.answers))
            data = encrypt(updated.content(), draft.code, draft.key)
            self._write(self._ensure(week), draft.key, data, week)
        except BaseException:  # a write that fails (disk full) puts the draft back as it was
            claim.release()
            raise
        claim.done()
        draft.answers = answers
        return True

    # --- spent markers ------------------------------------------------------------------------------

    def _marker(self, draft: Draft) -> tuple[Path, str]:
        """The spent marker of ``draft``: a keyed hash (under ``SECRET_KEY``) of the nonce inside it, as a
        file name in ``spent/<week>/``, the week the latest version of the draft expires in (a copy of any
        older version of the file expires no later)."""
        name = salted_hmac("vru.survey.spent", draft.nonce, algorithm="sha256").hexdigest()
        return self.root / SPENT / f"{codes.draft_expiry():06d}", name

    def spent(self, draft: Draft) -> bool:
        """Whether this draft was sent already (a copy restored from a backup, say)."""
        return any((self.root / SPENT / f"{week:06d}" / self._marker(draft)[1]).exists()
                   for week in self._live_weeks())

    def spend(self, draft: Draft) -> Path | None:
        """Record that ``draft`` is being sent (an empty file, created exclusively); None if it was
        already."""
        if self.spent(draft):
            return None
        folder, name = self._marker(draft)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.close(os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return None
        _blur(folder, int(folder.name))
        _blur(folder.parent, codes.current_week_number())
        _fsync_dir(folder)
        return folder / name

    def purge(self) -> int:
        """Delete every folder of a week that has passed (drafts, and files claimed by a send that never
        finished), without opening a file; returns how many drafts went."""
        current = codes.current_week_number()
        n = 0
        try:
            entries = [e for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.name.isdigit() and int(entry.name) < current:
                # Taken by a rename first: of two purges at once (two starts), one takes the folder and
                # the other finds nothing; a purge that died half-way leaves ".purging-..." for the next.
                taken = self.root / f"{PURGING}{entry.name}-{secrets.token_hex(8)}"
                try:
                    os.rename(entry.path, taken)
                except FileNotFoundError:
                    continue
                n += sum(1 for f in os.scandir(taken) if not f.name.startswith(TEMP))
                shutil.rmtree(taken, ignore_errors=True)
            elif entry.name.startswith(PURGING):
                shutil.rmtree(entry.path, ignore_errors=True)
        if n:
            _blur(self.root, current)
        if (self.root / SPENT).is_dir():
            DraftStore(self.root / SPENT).purge()  # the spent markers of past weeks, the same way
        return n

    def files(self) -> list[Path]:
        """Every file in the store's week folders (the tests read them); not the batch pool's (``pool/``)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p.parent.name.isdigit()
                      and p.parent.parent == self.root)

    def count(self) -> int:
        """The drafts stored (files under a draft's name, not claimed or temporary)."""
        return sum(1 for p in self.files() if not p.name.startswith((CLAIMED, TEMP)))


class Claim:
    """A draft's file taken for a change: :meth:`done` deletes it, :meth:`release` puts it back."""

    def __init__(self, store: DraftStore, path: Path, claimed: Path, draft: Draft):
        self.store, self.path, self.claimed, self.draft = store, path, claimed, draft

    def done(self) -> None:
        self.claimed.unlink(missing_ok=True)
        _blur(self.claimed.parent, int(self.claimed.parent.name))
        with contextlib.suppress(FileNotFoundError):
            _fsync_dir(self.claimed.parent)

    def release(self) -> None:
        try:
            os.rename(self.claimed, self.path)
        except FileNotFoundError:  # its week ended and survey_purge took the folder meanwhile
            return
        _blur(self.path.parent, int(self.path.parent.name))


def _blur(folder: Path, week: int) -> None:
    """Set ``folder``'s mtime (which the kernel sets to the time of each change in it: a draft saved, a
    send) to the start of ``week``. Its ctime cannot be set: it keeps the time of the last change of any
    draft in the folder."""
    stamp = _week_start(week)
    with contextlib.suppress(FileNotFoundError):
        os.utime(folder, (stamp, stamp))


def store() -> DraftStore:
    return DraftStore()
