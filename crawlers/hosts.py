"""Which URLs a source may fetch: its declared hosts and ports, on addresses they stand for.

Pure functions; the downloader middleware (`crawlers.middlewares.DeclaredHostsMiddleware`) applies
them to every request, redirect hops included, and `crawlers.links.keep_links` to every link.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

# A host and its port; the port is None when it is a default one (80 or 443), so that an
# http -> https upgrade stays on the same origin.
Origin = tuple[str, int | None]


def url_origin(url: str) -> Origin:
    """The (host, port) a URL is fetched from; raises ValueError for an unreadable port."""
    parts = urlsplit(url)
    port = parts.port
    return (parts.hostname or "").lower(), None if port in (None, *DEFAULT_PORTS.values()) else port


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """A declared host, its www. twin, or one of its subdomains."""
    host = host.lower()
    bare = host.removeprefix("www.")
    return any(host == h or bare == h.removeprefix("www.") or host.endswith("." + h.removeprefix("www."))
               for h in allowed)


def origin_allowed(origin: Origin, declared: Iterable[Origin]) -> bool:
    """A URL's (host, port) is declared: a declared host (as `host_allowed` reads it) on the same port."""
    host, port = origin
    return any(port == declared_port and host_allowed(host, (declared_host,))
               for declared_host, declared_port in declared)


def url_allowed(url: str, declared: Iterable[Origin]) -> bool:
    """An http(s) URL on a declared host and port."""
    if urlsplit(url).scheme not in DEFAULT_PORTS:
        return False
    try:
        return origin_allowed(url_origin(url), declared)
    except ValueError:  # a port that is not a number, or out of range
        return False


def internal_address(address: str) -> bool:
    """An address inside the machine or its network: private, loopback, link-local or reserved."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or \
        ip.is_multicast or ip.is_unspecified


def address_allowed(address: str, declared_addresses: Iterable[str]) -> bool:
    """A request may go to a public address, or to an internal one that a declared host itself
    resolves to (a regulator on an intranet, a test web on loopback)."""
    return not internal_address(address) or address in set(declared_addresses)
