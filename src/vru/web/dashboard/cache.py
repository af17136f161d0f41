"""Cached analysis results for the dashboard pages and its JSON API (one implementation for both).

Every result the dashboard shows is computed by :mod:`vru.web.dashboard.data` from the warehouse
(``settings.VRU_WAREHOUSE``, opened read-only) with the existing analysis and report code, and kept
in Django's ``default`` cache (a file cache shared by every worker process):

- the key is the result's name, its validated parameters (JSON) and the **warehouse version**
  (the file's modification time and size, plus the write-ahead log's if there is one, plus the
  platform version). Loading new data changes the file, hence the version, hence every key: stale
  results are never served, and no explicit invalidation is needed;
- charts (matplotlib SVG from :mod:`vru.outputs.charts`) are taken out of the HTML and stored
  under their SHA-256; the HTML refers to them as ``<img src="/dashboard/chart/<sha>.svg"
  alt="...">`` with the chart's own text alternative. The site's Content-Security-Policy forbids
  inline ``style`` attributes, which matplotlib's SVG uses, so inline SVG cannot be shown;
  an SVG loaded as an image is a separate document, and pages stay small;
- a cached result whose charts have been culled from the cache is recomputed;
- a refusal of the analysis (its message, for parameters it cannot run with) is cached too.

:func:`warm` precomputes the default view of every page (``vru serve`` calls it).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

import vru

PREFIX = "vru-dashboard"
_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
_LABEL = re.compile(r'aria-label="([^"]*)"')
_COMPUTE_LOCK = threading.Lock()
_VIEWBOX = re.compile(r'viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"')


class DashboardError(Exception):
    """Base class: something the page shows as a message instead of a result."""


class WarehouseMissing(DashboardError):
    def __init__(self, path: Path):
        self.path = path
        super().__init__(
            f"There is no analysis warehouse at {path}. Build it from the bundled London data "
            f"with `vru init` (or point the platform at another one with the VRU_WAREHOUSE "
            f"environment variable), then reload this page.")


class WarehouseUnavailable(DashboardError):
    """The warehouse exists but cannot be opened (not a warehouse, or locked by a writer)."""


class AnalysisError(DashboardError):
    """The analysis refused the chosen parameters (the message says why)."""


def warehouse_path() -> Path:
    return Path(settings.VRU_WAREHOUSE).expanduser()


def warehouse_version() -> str | None:
    """A string that changes whenever the warehouse file changes; None if there is no warehouse."""
    p = warehouse_path()
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    parts = [vru.__version__, str(p.resolve()), f"{st.st_mtime_ns}:{st.st_size}"]
    wal = p.with_name(p.name + ".wal")
    if wal.exists():
        w = wal.stat()
        parts.append(f"{w.st_mtime_ns}:{w.st_size}")
    return "|".join(parts)


def key(name: str, params: dict, version: str) -> str:
    blob = json.dumps(params, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{version}\n{name}\n{blob}".encode()).hexdigest()
    return f"{PREFIX}:{name}:{digest}"


def chart_key(sha: str) -> str:
    return f"{PREFIX}:chart:{sha}"


def chart_url(sha: str) -> str:
    from django.urls import reverse

    return reverse("dashboard:chart", args=[sha])


def _img(svg: str, shas: list[str]) -> str:
    """Store one SVG chart and return the ``<img>`` that shows it (alt = the chart's label)."""
    sha = hashlib.sha256(svg.encode()).hexdigest()
    cache.set(chart_key(sha), svg, None)
    shas.append(sha)
    m = _LABEL.search(svg[:2000])
    alt = html.unescape(m.group(1)) if m else "Chart"
    size = ""
    vb = _VIEWBOX.search(svg[:2000])
    if vb:
        size = f' width="{round(float(vb.group(1)))}" height="{round(float(vb.group(2)))}"'
    return (f'<img class="vru-chart" src="{html.escape(chart_url(sha))}" '
            f'alt="{html.escape(alt)}"{size}>')


def imagify(value, shas: list[str]):
    """Replace every inline SVG chart in the strings of ``value`` (nested dicts and lists) by an
    ``<img>`` of the stored chart; the stored charts' hashes are appended to ``shas``."""
    if isinstance(value, str):
        if "<svg" not in value:
            return value
        return _SVG.sub(lambda m: _img(m.group(0), shas), value)
    if isinstance(value, dict):
        return {k: imagify(v, shas) for k, v in value.items()}
    if isinstance(value, list):
        return [imagify(v, shas) for v in value]
    return value


def open_warehouse():
    """The warehouse, read-only; a clear error if it is missing or cannot be opened."""
    import duckdb

    from vru.errors import VRUError
    from vru.warehouse.store import Warehouse

    p = warehouse_path()
    if not p.exists():
        raise WarehouseMissing(p)
    try:
        return Warehouse.open(p, read_only=True)
    except VRUError as e:
        raise WarehouseUnavailable(str(e)) from None
    except duckdb.Error as e:
        raise WarehouseUnavailable(
            f"The analysis warehouse at {p} cannot be opened just now ({e}). If data is being "
            f"loaded (`vru ingest`), try again when it has finished.") from None


def cached(name: str, params: dict, compute: Callable) -> dict:
    """``compute(wh)`` (a dict) for these parameters, from the cache or computed and stored.

    Errors the analysis raises for the parameters (``ValueError``, ``TypeError``, the platform's
    ``VRUError``) become :class:`AnalysisError`; the refusal is cached like a result (the same
    choices on the same warehouse are refused again with the same message).
    """
    version = warehouse_version()
    if version is None:
        raise WarehouseMissing(warehouse_path())
    k = key(name, params, version)
    hit = _lookup(k)
    if hit is not None:
        return hit
    # One computation at a time per process: matplotlib's pyplot is not thread-safe, and the
    # threaded development server or the warm-up thread would otherwise draw concurrently.
    with _COMPUTE_LOCK:
        hit = _lookup(k)  # computed by another thread while this one waited
        if hit is not None:
            return hit
        return _compute(k, compute)


#: Results this worker process has already read: keys carry the warehouse version, so an entry can
#: never be stale, and a page served twice by the same worker skips reading and unpickling the file
#: cache (the largest cost of a cached page: the London-wide hot spot and targeting tables).
_LOCAL: OrderedDict[str, dict] = OrderedDict()
_LOCAL_MAX = 128
_LOCAL_LOCK = threading.Lock()


def _remember(k: str, value: dict) -> dict:
    with _LOCAL_LOCK:
        _LOCAL[k] = value
        _LOCAL.move_to_end(k)
        while len(_LOCAL) > _LOCAL_MAX:
            _LOCAL.popitem(last=False)
    return value


def _charts_present(value: dict) -> bool:
    return all(cache.has_key(chart_key(s)) for s in value.get("_charts", ()))


def _lookup(k: str) -> dict | None:
    local = _LOCAL.get(k)
    if local is not None and _charts_present(local):
        return local
    hit = cache.get(k)
    if hit is not None and "_refused" in hit:
        raise AnalysisError(hit["_refused"])
    if hit is not None and _charts_present(hit):
        return _remember(k, hit)
    return None


def _compute(k: str, compute: Callable) -> dict:
    from vru.errors import VRUError

    with open_warehouse() as wh:
        try:
            value = compute(wh)
        except (ValueError, TypeError, VRUError) as e:
            msg = str(e)
            cache.set(k, {"_refused": msg}, None)  # the same choices on the same data: same answer
            raise AnalysisError(msg) from e
    shas: list[str] = []
    value = imagify(value, shas)
    value["_charts"] = shas
    cache.set(k, value, None)
    return _remember(k, value)


def warm(stdout=None) -> dict[str, int]:
    """Precompute the default view of every dashboard page (and the API's default results).

    Returns ``{"computed": n, "failed": m}``; progress and failures go to ``stdout`` if given.
    A missing warehouse is reported and nothing is computed.
    """
    import time

    from vru.web.dashboard import data

    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg + "\n")

    if warehouse_version() is None:
        say(str(WarehouseMissing(warehouse_path())))
        return {"computed": 0, "failed": 0}
    done = failed = 0
    for label, job in data.default_jobs():
        t = time.perf_counter()
        try:
            job()
        except DashboardError as e:
            failed += 1
            say(f"dashboard: {label}: not available ({e})")
            continue
        done += 1
        say(f"dashboard: {label} ready ({time.perf_counter() - t:.1f} s)")
    return {"computed": done, "failed": failed}
