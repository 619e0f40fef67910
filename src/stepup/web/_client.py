"""The client address stepup's per-client limits are charged to, read the same way by
both adapters.

Behind proxies every request arrives from the nearest proxy, so its peer address names
no client: with ``trusted_proxy_hops`` set to the number of proxies that append to
``X-Forwarded-For``, the client is the address that many from the right, as Werkzeug's
``ProxyFix(x_for=N)`` and Uvicorn's proxy headers read it. Addresses further left were
written by the client itself and are never trusted.
"""

from __future__ import annotations

__all__ = ["client_address"]


def client_address(peer: str | None, forwarded_for: str, hops: int) -> str | None:
    """The client's address.

    :param peer: the address the connection came from.
    :param forwarded_for: the ``X-Forwarded-For`` header, several joined by commas.
    :param hops: trusted proxies in front of the app; 0 ignores the header.
    :returns: the ``hops``-th address from the right of the header, or ``peer`` when the
        header has fewer (the request did not come through every proxy).
    """
    if hops <= 0 or not forwarded_for:
        return peer
    values = [v.strip() for v in forwarded_for.split(",")]
    if len(values) < hops or not values[-hops]:
        return peer
    return values[-hops]
