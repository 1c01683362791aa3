"""Whether a host or URL names this machine only.

One answer for every caller: a crawl or recheck of a loopback ``--base-url`` (a local replica) drops the
politeness delays, and ``grayscan serve`` on a loopback address needs no password and answers only to
loopback Host headers. A name is compared whole, never as a substring (``127.0.0.1.evil.com`` and
``localhost.example`` are other machines).
"""

from __future__ import annotations

import ipaddress
import urllib.parse


def is_loopback(host: str) -> bool:
    """Whether ``host`` — a name or an IP literal, IPv6 with or without brackets — is this machine only:
    ``localhost``, 127.0.0.0/8, ``::1`` or an IPv4-mapped 127.x address."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def is_loopback_url(url: str | None) -> bool:
    """Whether ``url`` is an URL whose host is loopback (see ``is_loopback``)."""
    try:
        host = urllib.parse.urlsplit(url or "").hostname
    except ValueError:
        return False
    return bool(host) and is_loopback(host)
