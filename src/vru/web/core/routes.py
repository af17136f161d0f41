"""The URL tables of the platform's apps: a page is named after its view, an API endpoint after its app."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.urls import URLPattern, path


def page(route: str, view: Callable, name: str | None = None) -> URLPattern:
    """``path()`` of a page: its URL name is the view function's name unless ``name`` gives another."""
    return path(route, view, name=name or view.__name__)


def endpoints(prefix: str, table: Iterable[tuple[str, str, type]],
              decorator: Callable[[Callable], Callable] | None = None) -> list[URLPattern]:
    """``path()`` of each ``(route, name, view class)`` of an app's JSON API, its URL name ``prefix`` +
    ``name``; ``decorator`` (``never_cache``, say) wraps every view."""
    out = []
    for route, name, view_class in table:
        view = view_class.as_view()
        out.append(path(route, decorator(view) if decorator else view, name=prefix + name))
    return out
