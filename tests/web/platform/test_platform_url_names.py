"""URL names: ``vru.web.core.routes.page`` names a page after its view function, so a renamed view or a
decorator that does not keep the function's name (``functools.wraps``) would rename or clash silently."""

from __future__ import annotations

from collections import Counter

from django.urls import URLPattern, URLResolver, get_resolver

#: names a decorator gives its inner function when it does not copy the view's name
_WRAPPER_NAMES = {"wrapper", "wrapped", "inner", "_wrapped_view", "_view", "view", "decorated", "func"}


def _named(patterns, namespace: str = "", prefix: str = "") -> list[tuple[str, str]]:
    """(namespaced name, full route) of every named URL."""
    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            out += _named(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            out.append((namespace + p.name, prefix + str(p.pattern)))
    return out


def test_no_two_urls_share_a_name_and_none_is_named_after_a_wrapper():
    named = _named(get_resolver().url_patterns)
    assert len(named) > 100  # the apps' pages and API endpoints are all here
    counts = Counter(n for n, _ in named)
    # a name given twice is only allowed as an override of the same URL (the platform's rate-limited
    # password reset before django.contrib.auth's own, at accounts/password_reset/)
    clashes = sorted(n for n, k in counts.items() if k > 1 and len({r for m, r in named if m == n}) > 1)
    assert clashes == []
    names = list(counts)
    wrappers = sorted(n for n in names if n.rsplit(":", 1)[-1] in _WRAPPER_NAMES)
    assert wrappers == []
