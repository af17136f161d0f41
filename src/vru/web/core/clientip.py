"""The client's IP address: the one function the lockout, the rate limits and the audit log use.

Behind a reverse proxy every request comes from the proxy's address (``REMOTE_ADDR``) and the client's
address is in the ``X-Forwarded-For`` header the proxy appends to. Anyone can send that header, so it is
believed only when ``REMOTE_ADDR`` is one of ``settings.VRU_WEB_TRUSTED_PROXIES`` (addresses or CIDR
ranges; empty by default: no proxy trusted, the header is ignored).

With a trusted proxy the client is the right-most address of ``X-Forwarded-For`` that is not itself a
trusted proxy: the proxy appends the address it saw, so whatever a client wrote to the left of it (a
forged ``X-Forwarded-For`` of its own) is never reached. The header is parsed by django-ipware
(python-ipware): ``proxy_count=n`` gives the address *n* hops from the right, so the walk asks for
n = 0, 1, ... until an address is not a trusted proxy. (ipware's own ``proxy_trusted_ips`` compares the
*trailing entries of the header* with an ordered list, and never looks at ``REMOTE_ADDR``, the proxy
that nginx does not write into the header; so it cannot tell a client that forges the header.)

``REMOTE_ADDR`` is empty when the proxy connects through a Unix socket: list ``unix`` among the trusted
proxies to trust that socket. A request with no usable address at all (an empty or malformed
``REMOTE_ADDR`` from an untrusted socket, a trusted one that forwarded nothing) is :data:`NO_ADDRESS`,
``0.0.0.0``: an address no TCP client can have, so the lockout, the rate limits and the audit log always
get an address (django-ratelimit refuses an empty one with an exception) and every such request shares
one count.

:func:`client_ip_for_limits` is the address the lockout and the rate limits count: an IPv6 client is its
/64 (one customer's network: a host can take any of its 2^64 addresses, so counting single addresses
would give each attempt a fresh count); the audit log records the full address (:func:`client_ip`).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from ipware import get_client_ip

# More trusted hops than any real deployment has; a longer forged chain is not walked further.
MAX_PROXY_HOPS = 16
UNIX_SOCKET = "unix"
# The address of a request that has none (see the module's docstring).
NO_ADDRESS = "0.0.0.0"
# An IPv6 client, for the lockout and the rate limits, is its network of this prefix (a customer's /64).
IPV6_LIMIT_PREFIX = 64


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[tuple, bool]:
    nets = []
    unix = False
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if entry.lower() == UNIX_SOCKET:
            unix = True
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"VRU_WEB_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR range") from exc
    return tuple(nets), unix


def parse_trusted_proxies(value: str | list | tuple) -> list[str]:
    """The setting's entries from a comma-separated string; ImproperlyConfigured if one is not an address."""
    entries = [e.strip() for e in (value.split(",") if isinstance(value, str) else value) if e.strip()]
    _networks(tuple(entries))
    return entries


def _address(value: str | None):
    """``value`` as an ip_address (IPv4-mapped IPv6 unwrapped), or None."""
    try:
        ip = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return ipaddress.IPv6Address(int(ip))  # fe80::1%eth0: the zone is no part of who the client is
    return ip


def _trusted(ip, nets) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in nets)


def client_ip(request) -> str:
    """The client's address as text (:data:`NO_ADDRESS` when there is none, e.g. an untrusted Unix
    socket)."""
    remote_raw = request.META.get("REMOTE_ADDR") or ""
    remote = _address(remote_raw)
    nets, unix = _networks(tuple(getattr(settings, "VRU_WEB_TRUSTED_PROXIES", ()) or ()))
    from_trusted_proxy = _trusted(remote, nets) or (unix and not remote_raw)
    if not from_trusted_proxy:
        return str(remote) if remote is not None else NO_ADDRESS
    found = None
    for hops in range(MAX_PROXY_HOPS):
        ip, _routable = get_client_ip(
            request, proxy_count=hops, request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False)
        if ip is None:  # the header is absent, exhausted, or holds no usable address at this hop
            break
        found = _address(ip)
        if not _trusted(found, nets):
            return str(found)
    # Only trusted proxies in the header (or none): the left-most one reached, or the proxy itself.
    if found is not None:
        return str(found)
    return str(remote) if remote is not None else NO_ADDRESS


def client_ip_for_limits(request) -> str:
    """The address the lockout (``AXES_CLIENT_IP_CALLABLE``) and the rate limits (``RATELIMIT_IP_META_KEY``)
    count: :func:`client_ip`, an IPv6 address reduced to its /64 network (``2001:db8::``)."""
    ip = ipaddress.ip_address(client_ip(request))
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip), IPV6_LIMIT_PREFIX), strict=False).network_address)
    return str(ip)
