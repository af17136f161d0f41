"""The per-view layout of the web tests: every URL name of an app has its test module,
``tests/web/<app>/test_<app>_view_<urlname>.py``, so a view with no test is visible instead of lost in a
module named after whoever wrote it. Each app's ``test_<app>_layout.py`` calls :func:`problems` with its
URL names and its commented allow-list of views still without a module."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def view_modules(folder: Path, app: str) -> set[str]:
    """The URL names that have a ``test_<app>_view_<name>.py`` in ``folder``."""
    prefix = f"test_{app}_view_"
    return {p.stem.removeprefix(prefix) for p in folder.glob(f"{prefix}*.py")}


def problems(folder: Path, app: str, url_names: Iterable[str], without_a_module: Iterable[str]) -> list[str]:
    """What breaks the layout: a URL name with no module (and not allow-listed), a module named after no
    URL name, an allow-listed name that is no URL name, or one that has its module now."""
    names, allowed, modules = set(url_names), set(without_a_module), view_modules(folder, app)
    out = []
    if missing := names - modules - allowed:
        out.append(f"no test_{app}_view_<name>.py for: {sorted(missing)}")
    if strays := modules - names:
        out.append(f"test_{app}_view_<name>.py named after no URL name: {sorted(strays)}")
    if stale := allowed - names:
        out.append(f"allow-listed but not a URL name: {sorted(stale)}")
    if written := allowed & modules:
        out.append(f"has a module now, take it off the allow-list: {sorted(written)}")
    return out
