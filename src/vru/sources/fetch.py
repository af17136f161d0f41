"""Download the publishers' current releases into a local archive: the work behind ``vru fetch``.

The addresses come from :data:`vru.sources.catalogue.DOWNLOADS` (one place), which a user overrides
with a small TOML file (``key = "url"``, :func:`read_overrides`). For each download:

1. A London Datastore address (``.../api/dataset/<slug>``) is resolved through the Datastore's
   dataset API to the current address of the resource with the catalogue's title (the Datastore
   gives each release a new address, so none is written down).
2. The request is conditional (``If-None-Match`` / ``If-Modified-Since`` from the manifest): a
   ``304 Not Modified`` downloads nothing.
3. The body goes to ``<archive>/.parts/<key>.part``. A download cut off part-way is resumed with an
   HTTP ``Range`` request (guarded by ``If-Range``; without an ``ETag`` or ``Last-Modified`` to
   guard it, the download restarts from zero), within the same run (``retries``) or the next one; a
   server that answers a range request with the whole file (200) is read from the start. A body
   whose end cannot be checked (no ``Content-Length``, not chunked), one over the size cap
   (:data:`MAX_DOWNLOAD`), and a redirect to anything but http(s) are refused.
4. What arrived is verified before anything is kept: its length against ``Content-Length`` (or
   ``Content-Range``), a ZIP (the police.uk archive, an xlsx workbook) must open and list its
   members, and the file must be recognised by its content by the loader the catalogue names (the
   registry's sniffers, as for ``vru ingest``). A file that fails is deleted and reported; nothing is stored.
5. A file whose SHA-256 equals the one last fetched for that key is ``unchanged`` (for servers that
   ignore conditional requests). Otherwise it is moved into the archive, in a folder named after
   its release date, so releases accumulate; the data.police.uk archive is unpacked instead: the
   street files of the chosen forces go, gzipped, to ``police_uk_street/<force>/``, one per month.
6. The manifest ``<archive>/manifest.json`` records, per key, the address, ``ETag``,
   ``Last-Modified``, SHA-256, size, time, and each kept file with its SHA-256 and whether it has
   been ingested.

Ingesting is the caller's (``vru.fetch_cli``), through the ordinary ``vru ingest`` path; this module
never touches the warehouse. Only the standard library's ``urllib`` is used (no HTTP library is a
dependency of the platform).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from vru import __version__
from vru.errors import VRUError
from vru.sources import registry
from vru.sources.catalogue import DOWNLOADS, Download

MANIFEST = "manifest.json"
PARTS = ".parts"
CHUNK = 1 << 16
GIB = 1 << 30
# Size caps (over a cap a download is refused and nothing is kept). A download: the data.police.uk
# monthly archive, the largest file fetched, is about 2 GB; ``vru fetch --max-download`` changes it.
MAX_DOWNLOAD = 10 * GIB
# A ZIP member once unpacked (a force's street file for a month is tens of megabytes), and all the
# members unpacked from one archive together.
MAX_MEMBER = 2 * GIB
MAX_UNPACKED = 16 * GIB
# A London Datastore dataset description (a few kilobytes of JSON).
MAX_JSON = 16 << 20
FORCE_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MONTH_RE = re.compile(r"latest|\d{4}-(0[1-9]|1[0-2])")
_STREET_MEMBER = re.compile(r"(?:.*/)?(\d{4}-\d{2})-([a-z0-9-]+)-street\.csv")


class FetchError(VRUError):
    """A download failed or was refused; nothing from it was stored."""


class NoNetworkError(FetchError):
    """The publisher could not be reached at all (no network, a closed port, an unknown host)."""


class _Interrupted(FetchError):
    """The connection broke after it was made (retried, then reported)."""


# Progress: called as progress(label, total_bytes_or_None) -> an object with update(n) and close().
Progress = Callable[[str, int | None], object]


@dataclass
class Outcome:
    key: str
    status: str  # downloaded | unchanged | failed | skipped
    url: str = ""
    files: list[Path] = field(default_factory=list)  # files newly kept in the archive
    message: str = ""
    bytes: int = 0


# ---------------------------------------------------------------------------- addresses


def read_overrides(path: str | Path) -> dict[str, str]:
    """Read a TOML file of ``key = "url"`` overrides, validated: every key must be a catalogue
    download and every value an http(s) address (errors name the file and the key)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FetchError(f"{p}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise FetchError(f"{p}: not valid TOML: {e}") from None
    known = [d.key for d in DOWNLOADS]
    out: dict[str, str] = {}
    for key, url in data.items():
        if key not in known:
            raise FetchError(f"{p}: unknown source key {key!r}; known keys: {', '.join(known)}")
        if not isinstance(url, str):
            raise FetchError(f"{p}: {key}: the address must be a quoted string, not {url!r}")
        check_url(url, f"{p}: {key}")
        out[key] = url
    return out


def check_url(url: str, where: str) -> None:
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise FetchError(f"{where}: {url!r} is not an http(s) address")


def is_datastore(url: str) -> bool:
    return "/api/dataset/" in urllib.parse.urlsplit(url).path


def plan(*, only: Iterable[str] = (), overrides: dict[str, str] | None = None,
         forces: Iterable[str] = ()) -> list[tuple[Download, str]]:
    """(download, address) pairs to fetch. ``only`` restricts to some keys (validated)."""
    only = list(only)
    known = [d.key for d in DOWNLOADS]
    for k in only:
        if k not in known:
            raise FetchError(f"unknown source key {k!r}; known keys: {', '.join(known)}")
    for f in forces:
        if not FORCE_RE.fullmatch(f):
            raise FetchError(f"--police-force {f!r}: a force is named as in data.police.uk file names, "
                             "e.g. metropolitan, city-of-london, west-midlands")
    overrides = overrides or {}
    return [(d, overrides.get(d.key, d.url)) for d in DOWNLOADS if not only or d.key in only]


# ---------------------------------------------------------------------------- HTTP


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows http(s) redirects only, and remembers where it was sent."""

    def __init__(self):
        self.visited: list[str] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError(f"{req.full_url} redirects to {newurl!r}: only http(s) redirects are "
                             "followed; nothing was downloaded")
        self.visited.append(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _request(url: str, headers: dict[str, str], timeout: float):
    """Open ``url``; 304 comes back as the HTTPError (a response); other HTTP errors raise
    FetchError; an unreachable host raises NoNetworkError, unless a redirect led there (then it is
    the source's failure, FetchError, and the other sources go on)."""
    req = urllib.request.Request(url, headers={"User-Agent": f"vru/{__version__}", **headers})
    redirects = _Redirects()
    opener = urllib.request.build_opener(redirects)
    try:
        return opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code in (304, 416):
            return e
        e.close()
        raise FetchError(f"{url} answered HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        reason = e.reason.strerror if isinstance(e.reason, OSError) and e.reason.strerror else e.reason
        if redirects.visited:
            raise FetchError(f"{url} redirects to {redirects.visited[-1]}, which cannot be reached: "
                             f"{reason}; nothing was downloaded") from None
        host = urllib.parse.urlsplit(url).netloc
        raise NoNetworkError(f"cannot reach {host}: {reason} (no network connection?); "
                             "nothing was downloaded") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as e:
        # connected, then lost before the answer: worth another try
        raise _Interrupted(f"{url}: the connection was lost ({e or type(e).__name__})") from None


def _length(value: str | None, url: str) -> int | None:
    """A ``Content-Length``: None if absent; ASCII digits only, else the answer is refused."""
    if value is None:
        return None
    v = value.strip()
    if not re.fullmatch(r"[0-9]{1,19}", v):
        raise FetchError(f"{url}: the server sent an invalid Content-Length {value!r}; "
                         "nothing was stored")
    return int(v)


def resolve(url: str, title: str, timeout: float = 60) -> str:
    """The current address of the resource titled ``title`` in a London Datastore dataset, from
    the dataset API (JSON with a ``resources`` mapping of id -> {title, url, ...})."""
    with _request(url, {"Accept": "application/json"}, timeout) as resp:
        body = resp.read(MAX_JSON + 1)
    if len(body) > MAX_JSON:
        raise FetchError(f"{url}: the dataset description is larger than {MAX_JSON:,} bytes: "
                         "refused, not a London Datastore answer")
    try:
        resources = json.loads(body)["resources"]
        items = resources.values() if isinstance(resources, dict) else resources
        matches = [r for r in items if str(r.get("title", "")).strip().lower() == title.lower()]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise FetchError(f"{url}: not a London Datastore dataset description (no 'resources')") \
            from None
    if not matches:
        titles = sorted(str(r.get("title", "")) for r in items)
        raise FetchError(f"{url}: no resource titled {title!r} (the dataset lists: "
                         f"{'; '.join(titles) or 'nothing'}); give the file's address with --sources")
    best = max(matches, key=lambda r: str(r.get("check_timestamp") or r.get("created") or ""))
    if not isinstance(best.get("url"), str) or not best["url"].strip():
        raise FetchError(f"{url}: resource {title!r} has no address; give the file's address "
                         "with --sources")
    address = urllib.parse.urljoin(url, best["url"])
    check_url(address, f"{url}: resource {title!r}")
    return address


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", (value or "").strip())
    if not m:
        return None
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def download(url: str, part: Path, *, conditional: dict[str, str] | None = None, retries: int = 3,
             timeout: float = 60, progress: Progress | None = None, label: str = "",
             max_bytes: int | None = None) -> dict | None:
    """Download ``url`` into ``part``, resuming what is there. None if the server says 304.

    Returns {"etag", "last_modified", "size"}. An interrupted transfer is resumed up to ``retries``
    times; after that the ``.part`` file is kept (for the next run) and FetchError is raised. A
    partial file is resumed only when the server gave a validator (``ETag`` or ``Last-Modified``)
    to guard the ``Range`` request with ``If-Range``; without one it is read again from the start.
    Refused, with nothing kept: a body larger than ``max_bytes`` (default :data:`MAX_DOWNLOAD`), an
    invalid ``Content-Length``, and a body whose end cannot be checked (no ``Content-Length`` and
    not chunked: a connection closed early would look like a whole file).
    """
    cap = MAX_DOWNLOAD if max_bytes is None else max_bytes
    side = part.with_name(part.name + ".json")
    state = {}
    if part.exists() and side.exists():
        with contextlib.suppress(ValueError, OSError):
            state = json.loads(side.read_text())
    if (state.get("url") != url or not state.get("validator")) and part.exists():
        part.unlink()  # a partial download of another address, or one that cannot be resumed safely
    part.parent.mkdir(parents=True, exist_ok=True)

    def refuse(message: str) -> FetchError:
        part.unlink(missing_ok=True)
        side.unlink(missing_ok=True)
        return FetchError(f"{url}: {message}; nothing was stored")

    err: BaseException | None = None
    total: int | None = None
    for _attempt in range(retries + 1):
        offset = part.stat().st_size if part.exists() else 0
        headers: dict[str, str] = {}
        if offset and state.get("validator"):
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = state["validator"]
        else:
            offset = 0
            part.unlink(missing_ok=True)
            if conditional:
                headers.update(conditional)
        try:
            resp = _request(url, headers, timeout)
        except _Interrupted as e:
            err = e
            continue
        with resp:
            code = resp.status if hasattr(resp, "status") else resp.code
            if code == 304:
                return None
            if code == 416:  # our partial is no prefix of what the server has: start again
                part.unlink(missing_ok=True)
                err = FetchError(f"{url}: the server refused to resume; starting again")
                continue
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            length = _length(resp.headers.get("Content-Length"), url)
            chunked = "chunked" in (resp.headers.get("Transfer-Encoding") or "").lower()
            if code == 206:
                cr = _content_range(resp.headers.get("Content-Range"))
                if cr is None or cr[0] != offset:
                    part.unlink(missing_ok=True)
                    err = FetchError(f"{url}: the server answered a resumed download with bytes "
                                     "from the wrong place; starting again")
                    continue
                total, mode = cr[1], "ab"
            else:  # 200: the whole file (a server that ignores Range restarts it)
                offset, mode = 0, "wb"
                total = length
                if total is None and not chunked:
                    raise refuse("the server sent neither a Content-Length nor a chunked body, so "
                                 "a download cut short could not be told from a whole one: refused")
            if total is not None and total > cap:
                raise refuse(f"the file is {total:,} bytes, over the limit of {cap:,} "
                             "(vru fetch --max-download)")
            validator = etag if etag and not etag.startswith("W/") else modified
            state = {"url": url, "validator": validator, "etag": etag, "last_modified": modified}
            side.write_text(json.dumps(state))
            bar = progress(label, total) if progress else None
            if bar is not None and offset:
                bar.update(offset)
            try:
                with open(part, mode) as out:
                    _copy_capped(resp, out, cap, lambda: refuse(
                        f"the body is over the limit of {cap:,} bytes (vru fetch --max-download)"),
                        done=offset, tick=bar.update if bar is not None else None)
            except (ConnectionError, TimeoutError, http.client.HTTPException) as e:
                err = e
                continue
            finally:
                if bar is not None:
                    bar.close()
        size = part.stat().st_size
        if total is not None and size != total:
            err = FetchError(f"got {size:,} of {total:,} bytes")
            if size > total:
                part.unlink()
            continue
        side.unlink(missing_ok=True)
        return {"etag": state.get("etag"), "last_modified": state.get("last_modified"), "size": size}
    have = part.stat().st_size if part.exists() else 0
    of = f" of {total:,}" if total else ""
    again = ("run vru fetch again to resume it" if state.get("validator") and have
             else "run vru fetch again to download it")
    raise FetchError(f"{url}: download interrupted after {have:,}{of} bytes "
                     f"({type(err).__name__}: {err}); {again}")


# ---------------------------------------------------------------------------- archive lock

_HELD: dict[Path, list] = {}  # archive -> [folder descriptor, depth]: re-entrant per process


@contextlib.contextmanager
def archive_lock(archive: str | Path):
    """Hold the archive for one ``vru fetch`` (``fcntl.flock`` on the archive folder itself, so
    no lock file is left in it; a second run on the same archive is refused, not made to wait).
    Re-entrant within the process. A folder made here that is still empty when the run ends (no
    network, every download failed) is removed again: a run that fetched nothing leaves nothing."""
    import fcntl

    archive = Path(archive).resolve()
    if archive in _HELD:
        _HELD[archive][1] += 1
        try:
            yield archive
        finally:
            _HELD[archive][1] -= 1
        return
    if archive.exists() and not archive.is_dir():
        raise FetchError(f"--archive {archive}: is a file, not a folder")
    created = not archive.exists()
    archive.mkdir(parents=True, exist_ok=True)
    fd = os.open(archive, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise FetchError(f"another vru fetch is using the archive {archive}: wait for it to "
                         "finish, then run this again") from None
    _HELD[archive] = [fd, 1]
    try:
        yield archive
    finally:
        del _HELD[archive]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                archive.rmdir()  # only if empty


# ---------------------------------------------------------------------------- manifest


def read_manifest(archive: Path) -> dict:
    p = archive / MANIFEST
    if not p.exists():
        return {"version": 1, "downloads": {}}
    try:
        data = json.loads(p.read_text())
        if not isinstance(data.get("downloads"), dict):
            raise ValueError("no 'downloads' object")
        return data
    except (ValueError, OSError, AttributeError) as e:
        raise FetchError(f"{p}: not a vru fetch manifest ({e}); move it aside to start afresh") \
            from None


def write_manifest(archive: Path, data: dict) -> None:
    archive.mkdir(parents=True, exist_ok=True)
    tmp = archive / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, archive / MANIFEST)


def _entry_files(entry: dict) -> list[dict]:
    """A download's file records in release order: those of its earlier releases (oldest first),
    then the current release's."""
    out = [f for rel in entry.get("releases", []) for f in rel.get("files", [])]
    return out + list(entry.get("files", []))


def pending(archive: str | Path) -> list[Path]:
    """Files in the archive's manifest not yet ingested (after ``--no-ingest`` or a refused
    ingest), earlier releases included, each download's in release order (oldest first): ingested
    in that order, the newer release's figures for the months both restate are the ones kept."""
    archive = Path(archive)
    out: list[Path] = []
    for entry in read_manifest(archive)["downloads"].values():
        for f in _entry_files(entry):
            p = archive / f["path"]
            if not f.get("ingested") and p.exists() and p not in out:
                out.append(p)
    return out


def mark_ingested(archive: str | Path, paths: Iterable[Path]) -> None:
    archive = Path(archive)
    done = {Path(p).resolve() for p in paths}
    data = read_manifest(archive)
    for entry in data["downloads"].values():
        for f in _entry_files(entry):
            if (archive / f["path"]).resolve() in done:
                f["ingested"] = True
    write_manifest(archive, data)


# ---------------------------------------------------------------------------- verification


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# What zipfile raises on a damaged or hostile archive: an encrypted member (RuntimeError), an unknown
# compression method (NotImplementedError), a bad CRC or header (BadZipFile), a truncated stream.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, RuntimeError,
               NotImplementedError, ValueError, KeyError)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def safe_name(url: str) -> str:
    """The file name to store a download under: the address's last path segment, percent-decoded.
    Refused (FetchError) if it could leave its folder or is unprintable: empty, ``.``/``..``, a
    path separator, a control character."""
    raw = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    name = urllib.parse.unquote(raw)
    if (name in ("", ".", "..") or "/" in name or "\\" in name or ".." in name
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise FetchError(f"{url}: the address does not end in a plain file name ({name!r}); "
                         "give an address whose last part is the file's name")
    return name


def _copy_capped(src, out, cap: int, too_big: Callable[[], Exception], *, done: int = 0,
                 tick: Callable[[int], object] | None = None) -> int:
    """Copy ``src`` to ``out`` chunk by chunk, raising ``too_big()`` as soon as ``done`` (bytes already
    there) plus the bytes copied passes ``cap``: a body or a ZIP member is never trusted to be as large as
    it said (a ZIP's declared sizes can lie). ``tick`` is told each chunk's size. Returns the bytes copied."""
    n = 0
    while chunk := src.read(CHUNK):
        n += len(chunk)
        if done + n > cap:
            raise too_big()
        out.write(chunk)
        if tick is not None:
            tick(len(chunk))
    return n


def _neutral_name(path: Path) -> str:
    """A file name that no loader claims by name, with ``path``'s extension (``.csv``,
    ``.csv.gz``, ``.xlsx``): detection under it looks at the content only."""
    suffix = path.suffix if path.suffix[1:].isalnum() else ""
    if suffix == ".gz":
        inner = Path(path.stem).suffix
        suffix = (inner if inner[1:].isalnum() else "") + suffix
    return "vru-fetch-check" + suffix.lower()


def verify_file(path: Path, d: Download) -> None:
    """Refuse a file that is not what the catalogue says: a zip-based format must open and list its
    members; the loader named by the catalogue must recognise the file by its content.

    Loaders also claim a file by its published name (so that a damaged column is named), so the
    check runs under a neutral name: the same sniffers as ``vru ingest`` decide, and every layout a
    loader reads (the MPS ``Group, SubGroup, BOCU`` borough file, say) is accepted."""
    if d.kind in ("xlsx", "police_uk_archive"):
        try:
            with zipfile.ZipFile(path) as z:
                if not z.namelist():
                    raise FetchError(f"{d.key}: the ZIP file holds no members")
        except _ZIP_ERRORS as e:
            raise FetchError(f"{d.key}: not a valid ZIP file ({_one_line(e)}); nothing was stored") \
                from None
    if d.kind == "police_uk_archive":
        return  # its members are checked one by one when unpacked
    neutral = path.with_name(_neutral_name(path))
    os.replace(path, neutral)
    try:
        mod = registry.detect(neutral)
    except VRUError as e:
        raise FetchError(f"{d.key}: refused, not the expected format: "
                         f"{str(e).replace(str(neutral), path.name)}; nothing was stored") from None
    finally:
        os.replace(neutral, path)
    if d.loader and mod.__name__ != d.loader:
        raise FetchError(f"{d.key}: refused: the file is read by {mod.__name__}, expected "
                         f"{d.loader}; nothing was stored")


def _release_dir(base: Path, modified: str | None) -> Path:
    when = datetime.now(UTC)
    if modified:
        with contextlib.suppress(TypeError, ValueError):
            when = parsedate_to_datetime(modified).astimezone(UTC)
    name = when.strftime("%Y-%m-%d")
    out, n = base / name, 1
    while out.exists():
        n += 1
        out = base / f"{name}-{n}"
    return out


def _unpack_police(zpath: Path, d: Download, forces: list[str], archive: Path, staging: Path,
                   manifest_files: dict[str, str]) -> tuple[list[Path], list[str]]:
    """Gzip the chosen forces' street files out of a data.police.uk archive into staging.
    Returns (staged files, notes); files identical to those already archived are left out."""
    staged: list[Path] = []
    notes: list[str] = []
    unpacked = 0
    with zipfile.ZipFile(zpath) as z:
        members = [(m, _STREET_MEMBER.fullmatch(m.filename)) for m in z.infolist()]
        street = [(m, g) for m, g in members if g]
        if not street:
            raise FetchError(f"{d.key}: the ZIP holds no '*-street.csv' file: not a data.police.uk "
                             "archive; nothing was stored")
        for force in forces:
            mine = [(m, g) for m, g in street if g.group(2) == force]
            if not mine:
                notes.append(f"no street files for force {force!r} in this archive")
                continue
            for m, g in mine:
                name = f"{g.group(1)}-{force}-street.csv"
                target = staging / force / name
                target.parent.mkdir(parents=True, exist_ok=True)
                raw = target.with_suffix(".csv.raw")
                what = f"{d.key}: {m.filename}"
                if m.file_size > MAX_MEMBER:
                    raise FetchError(f"{what} is {m.file_size:,} bytes unpacked, over the limit of "
                                     f"{MAX_MEMBER:,}: refused; nothing was stored")
                try:
                    limit = min(MAX_MEMBER, MAX_UNPACKED - unpacked)
                    over = what if limit == MAX_MEMBER else f"{d.key}: the archive's street files"
                    too_big = functools.partial(FetchError, f"{over} unpacks to more than {limit:,} bytes: "
                                                "refused (a ZIP bomb?); nothing was stored")
                    with z.open(m) as src, open(raw, "wb") as out:
                        unpacked += _copy_capped(src, out, limit, too_big)
                except _ZIP_ERRORS as e:
                    raise FetchError(f"{what} cannot be unpacked ({_one_line(e)}): damaged in the ZIP "
                                     "or in a form it cannot read; nothing was stored") from None
                raw.rename(target)
                verify_file(target, Download(d.key, d.source, d.url, kind="csv", loader=d.loader))
                gz = target.with_name(name + ".gz")
                with open(target, "rb") as src, open(gz, "wb") as fo, \
                        gzip.GzipFile(filename="", mode="wb", fileobj=fo, mtime=0) as out:
                    shutil.copyfileobj(src, out, CHUNK)
                target.unlink()
                rel = f"{d.key}/{force}/{gz.name}"
                if manifest_files.get(rel) == _sha256(gz) and (archive / rel).exists():
                    gz.unlink()
                    continue
                staged.append(gz)
    return staged, notes


# ---------------------------------------------------------------------------- one run


def fetch(archive: str | Path, *, forces: Iterable[str] = (), only: Iterable[str] = (),
          overrides: dict[str, str] | None = None, month: str = "latest", retries: int = 3,
          timeout: float = 60, keep_zip: bool = False, progress: Progress | None = None,
          max_download: int | None = None) -> list[Outcome]:
    """Fetch every catalogue download (or ``only`` those) into ``archive``; see the module text.

    A download that fails is reported in its Outcome and the others go on; an unreachable host
    (no network) raises NoNetworkError at once. ``max_download``: the largest body accepted, in
    bytes (default :data:`MAX_DOWNLOAD`).
    """
    archive = Path(archive)
    forces = list(dict.fromkeys(forces))
    if not MONTH_RE.fullmatch(month):
        raise FetchError(f"--month {month!r}: give latest or YYYY-MM")
    items = plan(only=only, overrides=overrides, forces=forces)
    with archive_lock(archive):
        return _fetch_all(archive, items, forces, month, retries, timeout, keep_zip, progress,
                          max_download)


def _fetch_all(archive: Path, items, forces, month, retries, timeout, keep_zip, progress,
               max_download) -> list[Outcome]:
    manifest = read_manifest(archive)
    outcomes: list[Outcome] = []
    for d, url in items:
        if d.kind == "police_uk_archive":
            if not forces:
                outcomes.append(Outcome(d.key, "skipped", message="no --police-force given"))
                continue
            url = url.replace("{month}", month)
        if not url:
            outcomes.append(Outcome(d.key, "skipped", message="no address: " + d.note))
            continue
        try:
            outcomes.append(_fetch_one(archive, manifest, d, url, forces, month, retries, timeout,
                                       keep_zip, progress, max_download))
        except NoNetworkError as e:
            if any(o.status == "downloaded" for o in outcomes):
                raise NoNetworkError(str(e).replace(
                    "nothing was downloaded", "what was fetched before is in the archive, and "
                    "the next vru fetch ingests it")) from None
            raise
        except FetchError as e:
            outcomes.append(Outcome(d.key, "failed", url, message=str(e)))
    return outcomes


def _fetch_one(archive: Path, manifest: dict, d: Download, url: str, forces: list[str], month: str,
               retries: int, timeout: float, keep_zip: bool, progress,
               max_download: int | None = None) -> Outcome:
    check_url(url, d.key)
    mkey = d.key if d.kind != "police_uk_archive" else f"{d.key}/{month}"
    if is_datastore(url):
        url = resolve(url, d.resource, timeout)
    name = safe_name(d.resource or url)  # checked before anything is downloaded
    entry = manifest["downloads"].get(mkey, {})
    have = all((archive / f["path"]).exists() for f in entry.get("files", []))
    same_forces = set(forces) <= set(entry.get("forces", forces))
    conditional: dict[str, str] = {}
    if entry.get("url") == url and have and same_forces:
        if entry.get("etag"):
            conditional["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            conditional["If-Modified-Since"] = entry["last_modified"]
    parts = archive / PARTS
    safe = mkey.replace("/", "-")
    part = parts / f"{safe}.part"
    try:
        meta = download(url, part, conditional=conditional, retries=retries, timeout=timeout,
                        progress=progress, label=d.key, max_bytes=max_download)
    except FetchError:
        _cleanup(parts)  # a part kept for resuming keeps the folder
        raise
    if meta is None:
        _cleanup(parts)
        return Outcome(d.key, "unchanged", url, message="not modified since the last fetch")
    staging = parts / f"{safe}.staging"
    try:
        sha = _sha256(part)
        if sha == entry.get("sha256") and have and same_forces and d.kind != "police_uk_archive":
            part.unlink()
            entry.update(etag=meta["etag"], last_modified=meta["last_modified"], url=url)
            manifest["downloads"][mkey] = entry
            write_manifest(archive, manifest)
            return Outcome(d.key, "unchanged", url, message="same SHA-256 as the last fetch")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        staged_file = staging / name
        os.replace(part, staged_file)
        verify_file(staged_file, d)
        files: list[tuple[Path, Path]] = []  # (staged, final)
        message = ""
        if d.kind == "police_uk_archive":
            known = {f["path"]: f["sha256"] for e in manifest["downloads"].values()
                     for f in e.get("files", [])}
            staged, notes = _unpack_police(staged_file, d, forces, archive, staging / "out", known)
            message = "; ".join(notes)
            files = [(s, archive / d.key / s.parent.name / s.name) for s in staged]
            if keep_zip:
                zdir = archive / d.key / "zips"
                files.append((staged_file, zdir / f"{month}.zip"))
        else:
            dest = _release_dir(archive / d.key, meta["last_modified"])
            files = [(staged_file, dest / staged_file.name)]
        records = []
        for src, dst in files:
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            rel = dst.relative_to(archive).as_posix()
            records.append({"path": rel, "sha256": _sha256(dst),
                            "ingested": dst.suffix == ".zip"})
        old = [f for f in entry.get("files", []) if f["path"] not in {r["path"] for r in records}]
        manifest["downloads"][mkey] = {
            "url": url, "etag": meta["etag"], "last_modified": meta["last_modified"], "sha256": sha,
            "size": meta["size"], "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": (old if d.kind == "police_uk_archive" else []) + records,
            **({"forces": sorted(set(forces) | set(entry.get("forces", [])))}
               if d.kind == "police_uk_archive" else {}),
        }
        # earlier releases stay on disk (the archive accumulates) and stay listed in "releases"
        if d.kind != "police_uk_archive" and entry.get("files"):
            manifest["downloads"][mkey]["releases"] = entry.get("releases", []) + [
                {k: entry.get(k) for k in ("fetched_at", "sha256", "last_modified")}
                | {"files": entry["files"]}]
        write_manifest(archive, manifest)
        kept = [archive / r["path"] for r in records if not r["ingested"]]
        status = "downloaded" if kept or d.kind != "police_uk_archive" else "unchanged"
        return Outcome(d.key, status, url, kept, message, meta["size"])
    except BaseException:
        part.unlink(missing_ok=True)
        part.with_name(part.name + ".json").unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _cleanup(parts)


def _cleanup(parts: Path) -> None:
    """Remove the parts folder when nothing in it is left to resume."""
    with contextlib.suppress(OSError):
        parts.rmdir()
