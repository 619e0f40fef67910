"""Redis URLs, and the redis-py clients (sync and asyncio) they make.

::

    redis://[[user]:password@]host[:port][/db][?socket_timeout=5&prefix=stepup]
    rediss://...                                     the same over TLS
    redis+sentinel://[[user]:password@]host:port[,host:port...]/service_name[?db=0]
    redis+cluster://[[user]:password@]host:port[,host:port...]

Only :mod:`stepup.stores._redis` imports this module, and only when a Redis URL is used,
so redis-py is needed only by apps that use Redis.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.crc import key_slot
from redis.retry import Retry

from .._errors import ConfigurationError

__all__ = ["REDIS_ERRORS", "RedisTarget", "aclose_all", "close_all", "one_slot"]

#: what redis-py raises when the server cannot be reached or refuses a command.
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, redis.exceptions.RedisClusterException)

#: seconds to wait for a connection or a reply unless the URL says otherwise: a Redis that
#: hangs holds each request this long before its 503, so short (a healthy Redis answers in
#: milliseconds).
_TIMEOUT = 1.0
#: retries of a command whose connection failed; the update script is safe to retry.
_RETRIES = 2
#: what is retried: a dropped or refused connection, which shows at once. A timeout is not:
#: each retry of a hung server would wait the whole timeout again (three times in all).
_RETRY_ON = (redis.exceptions.ConnectionError,)
_FLOAT_OPTIONS = ("socket_timeout", "socket_connect_timeout")
Mode = Literal["basic", "sentinel", "cluster"]
_MODES: dict[str, Mode] = {
    "redis": "basic", "rediss": "basic", "redis+sentinel": "sentinel", "redis+cluster": "cluster",
}  # fmt: skip


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.1, base=0.01), _RETRIES, supported_errors=_RETRY_ON)


def _async_retry() -> AsyncRetry:
    return AsyncRetry(ExponentialBackoff(cap=0.1, base=0.01), _RETRIES, supported_errors=_RETRY_ON)


@dataclasses.dataclass(frozen=True)
class RedisTarget:
    """What a Redis URL names, read once.

    :ivar url: the URL for redis-py, without stepup's own parameters.
    :ivar display: the URL without credentials, for messages.
    :ivar prefix: what every key starts with.
    """

    mode: Mode
    url: str
    display: str
    prefix: str
    locations: tuple[tuple[str, int], ...]
    service_name: str = ""
    auth: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> RedisTarget:
        """Read a Redis URL.

        :raises ConfigurationError: for a URL that names no host, a sentinel URL without a
            service name, or an option that is not understood.
        """
        parts = urlsplit(url)
        mode = _MODES.get(parts.scheme)
        if mode is None:
            raise ConfigurationError(f"{parts.scheme}:// is not a Redis URL; use one of {', '.join(_MODES)}.")
        userinfo, _, hosts = parts.netloc.rpartition("@")
        auth: dict[str, str] = {}
        if userinfo:
            user, _, password = userinfo.partition(":")
            auth = {k: unquote(v) for k, v in (("username", user), ("password", password)) if v}
        locations = tuple(_location(h, parts.scheme) for h in hosts.split(",") if h)
        if not locations:
            raise ConfigurationError(f"A {parts.scheme}:// URL needs a host: {parts.scheme}://localhost:6379.")
        query = dict(parse_qsl(parts.query))
        prefix = query.pop("prefix", "stepup")
        display = urlunsplit((parts.scheme, hosts, parts.path, "", ""))
        if mode == "basic":
            rest = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
            return cls(mode, rest, display, prefix, locations, auth=auth)
        options: dict[str, Any] = {}
        for name, value in query.items():
            if name not in (*_FLOAT_OPTIONS, "db"):
                raise ConfigurationError(
                    f"{parts.scheme}:// does not take {name!r}; it takes prefix, db, {', '.join(_FLOAT_OPTIONS)}."
                )
            try:
                options[name] = int(value) if name == "db" else float(value)
            except ValueError as e:
                raise ConfigurationError(f"{name}={value!r} in the Redis URL is not a number.") from e
        service = parts.path.strip("/")
        if mode == "sentinel" and not service:
            raise ConfigurationError("A redis+sentinel:// URL names the service: redis+sentinel://host:26379/mymaster.")
        if mode == "cluster" and "db" in options:
            raise ConfigurationError("A Redis Cluster has only database 0; remove db from the URL.")
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(mode, base, display, prefix, locations, service, auth, options)

    def _kwargs(self, retry: Any) -> dict[str, Any]:
        defaults = {name: _TIMEOUT for name in _FLOAT_OPTIONS}
        return {**defaults, **self.auth, **self.options, "retry": retry}

    def _sentinel_kwargs(self) -> dict[str, Any]:
        # The URL's credentials open the sentinels and the primary.
        timeouts = {name: self.options.get(name, _TIMEOUT) for name in _FLOAT_OPTIONS}
        return {**self.auth, **timeouts}

    # -- clients ------------------------------------------------------------------------

    def client(self) -> Any:
        """A sync redis-py client (connections open on first use, except a cluster's)."""
        if self.mode == "basic":
            return redis.Redis.from_url(
                self.url, retry=_retry(), socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT
            )
        kwargs = self._kwargs(_retry())
        if self.mode == "sentinel":
            sentinel = redis.sentinel.Sentinel(list(self.locations), sentinel_kwargs=self._sentinel_kwargs(), **kwargs)
            return sentinel.master_for(self.service_name)
        # redis-py leaves ClusterNode.__init__ unannotated, so strict mypy calls it untyped.
        nodes = [redis.cluster.ClusterNode(host, port) for host, port in self.locations]  # type: ignore[no-untyped-call]
        return redis.cluster.RedisCluster(startup_nodes=nodes, **kwargs)

    def async_client(self) -> Any:
        """An asyncio redis-py client (connections open on first use)."""
        if self.mode == "basic":
            return redis.asyncio.Redis.from_url(
                self.url, retry=_async_retry(), socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT
            )
        kwargs = self._kwargs(_async_retry())
        if self.mode == "sentinel":
            sentinel = redis.asyncio.sentinel.Sentinel(
                list(self.locations), sentinel_kwargs=self._sentinel_kwargs(), **kwargs
            )
            return sentinel.master_for(self.service_name)
        nodes = [redis.asyncio.cluster.ClusterNode(host, port) for host, port in self.locations]
        return redis.asyncio.cluster.RedisCluster(startup_nodes=nodes, **kwargs)


def _location(host: str, scheme: str) -> tuple[str, int]:
    name, _, port = host.rpartition(":") if host.rsplit(":", 1)[-1].isdigit() else (host, "", "")
    default = 26379 if scheme == "redis+sentinel" else 6379
    return name.strip("[]"), int(port) if port else default


def one_slot(names: list[str]) -> bool:
    """Whether every key in ``names`` is in one cluster hash slot (one script may use them all)."""
    return len({key_slot(name.encode()) for name in names}) <= 1


def _clients(things: tuple[Any, ...]) -> list[Any]:
    """The redis-py clients ``things`` and the sentinels behind sentinel-managed ones; each once."""
    found: list[Any] = []

    def add(client: Any) -> None:
        if client is not None and all(client is not f for f in found):
            found.append(client)

    for thing in things:
        add(thing)
    for client in list(found):
        manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
        for sentinel in getattr(manager, "sentinels", []):
            add(sentinel)
    return found


def close_all(*things: Any) -> None:
    """Close sync clients (and their sentinels)."""
    for client in _clients(things):
        client.close()


async def aclose_all(*things: Any) -> None:
    """Close asyncio clients (and their sentinels)."""
    for client in _clients(things):
        await client.aclose()
