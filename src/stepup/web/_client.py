"""The client address stepup's per-client limits are charged to, read the same way by
both adapters.

Behind proxies every request arrives from the nearest proxy, so its peer address names
no client: with ``trusted_proxy_hops`` set to the number of proxies that append to
``X-Forwarded-For``, the client is the address that many from the right, as Werkzeug's
``ProxyFix(x_for=N)`` and Uvicorn's proxy headers read it. Addresses further left were
written by the client itself and are never trusted.

The address is then written in one canonical form (:func:`client_key`), since limits
are keyed on the string: an IPv6 host is usually given a whole /64, and would otherwise
be as many clients as it has addresses.
"""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["client_address", "client_key"]

#: the longest client string kept as it is when it is not an IP address.
_MAX_OTHER = 64


def client_address(peer: str | None, forwarded_for: str, hops: int, ipv6_prefix: int = 64) -> str | None:
    """The client's address, as per-client limits key it.

    :param peer: the address the connection came from.
    :param forwarded_for: the ``X-Forwarded-For`` header, several joined by commas.
    :param hops: trusted proxies in front of the app; 0 ignores the header.
    :param ipv6_prefix: leading bits that name one IPv6 client (``client_ipv6_prefix``).
    :returns: the ``hops``-th address from the right of the header, or ``peer`` when the
        header has fewer (the request did not come through every proxy), by
        :func:`client_key`.
    """
    if hops <= 0 or not forwarded_for:
        return client_key(peer, ipv6_prefix)
    values = [v.strip() for v in forwarded_for.split(",")]
    if len(values) < hops or not values[-hops]:
        return client_key(peer, ipv6_prefix)
    return client_key(values[-hops], ipv6_prefix)


def client_key(address: str | None, ipv6_prefix: int = 64) -> str | None:
    """One client's address in one spelling: IPv4 as it is (an IPv4-mapped IPv6 address
    too), IPv6 as its network of ``ipv6_prefix`` bits (``2001:db8:1:2::/64``), without the
    port some proxies append (``203.0.113.6:40001``, ``[2001:db8::1]:40001``: a new source
    port is not a new client), anything else (a Unix socket, a test client's name) as it is,
    cut to a bounded length.

    :param address: the address, as the server or a proxy wrote it.
    :param ipv6_prefix: leading bits that name one IPv6 client, 1 to 128.
    """
    if address is None:
        return None
    if len(address) > _MAX_OTHER:  # not an address: not worth remembering
        return _client_key(address, ipv6_prefix)
    return _remembered_key(address, ipv6_prefix)


def _client_key(address: str, ipv6_prefix: int) -> str:
    try:
        ip = ipaddress.ip_address(_without_port(address.strip()).split("%", 1)[0])
    except ValueError:
        return address[:_MAX_OTHER]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))


#: every request of a client asks for its key again: remembered for the last addresses seen.
_remembered_key = functools.lru_cache(maxsize=1024)(_client_key)


def _without_port(address: str) -> str:
    """``address`` without a ``:port`` a proxy appended: ``[v6]:port``, or ``v4:port`` (an
    IPv6 address without brackets has several colons and no port)."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, colon, port = address.rpartition(":")
    return host if colon and port.isdigit() and host.count(":") == 0 else address
