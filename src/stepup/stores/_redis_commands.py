"""The four commands the Redis store sends (``GET``, ``MGET``, ``DEL`` and its script), on
any redis-py client, and on a plain server's sync client without redis-py's command path.

redis-py's ``execute_command`` is general: it looks up response callbacks, wraps the
call in its retry object, records observability metrics and checks the connection's
health, about 20 µs of CPU a command here against 12 µs for the round trip itself
(``benchmarks/``, docs/BENCHMARKS.md). The store needs none of that on the way there: its
commands' replies are used raw, and its script is safe to send twice. So on one server
(``redis://``, ``rediss://``) the sync store writes each command on a connection taken
from the client's own pool (and kept for the next command) and reads the reply, and so
does the asyncio store, awaiting each (:class:`AsyncDirectCommands`: on asyncio the
client's path costs more still, with its pool's locks and timeout scopes). A connection
that fails is handed to the client's full path, which retries it as configured; a timeout
is not retried (see :mod:`stepup.stores._redis_client`). Everything else (a cluster, a
sentinel) goes through the client's own methods.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import redis
from redis.exceptions import NoScriptError

__all__ = ["AsyncDirectCommands", "ClientCommands", "DirectCommands"]

try:
    #: the command's bytes, from hiredis (the store's arguments are only str, bytes and
    #: int): a third of what redis-py's packer costs, which encodes each argument in Python.
    from hiredis import pack_command as _pack
except ImportError:  # redis-py without its [hiredis] extra: its own packer
    _pack = None  # type: ignore[assignment]


class ClientCommands:
    """The store's commands through the client's own methods; each returns what the client
    returns: a reply, or for an asyncio client an awaitable of it.

    :param client: a redis-py client (sync or asyncio, one server or a cluster).
    :param script: the Lua source of the store's compare-and-set.
    :param cluster: read several keys slot by slot (``mget_nonatomic``).
    """

    def __init__(self, client: Any, script: str, *, cluster: bool) -> None:
        self.client = client
        self._mget = client.mget_nonatomic if cluster else client.mget
        self._script = client.register_script(script)

    def get(self, name: str) -> Any:
        """``GET name``."""
        return self.client.get(name)

    def mget(self, names: list[str]) -> Any:
        """``MGET *names`` (on a cluster, slot by slot)."""
        return self._mget(names)

    def delete(self, name: str) -> Any:
        """``DEL name``."""
        return self.client.delete(name)

    def script(self, names: list[str], args: list[Any]) -> Any:
        """Run the script over the keys ``names`` with ``args`` (``EVALSHA``, ``EVAL`` once
        when the server has not got it)."""
        return self._script(names, args)


class DirectCommands(ClientCommands):
    """:class:`ClientCommands` on one server's sync client, written straight on a pooled
    connection."""

    def __init__(self, client: Any, script: str) -> None:
        super().__init__(client, script, cluster=False)
        self._pool = client.connection_pool
        # Connections this store holds between commands, taken from the pool once: taking
        # and giving one back costs about as much CPU as the command itself. A list, whose
        # pop and append are atomic, so threads never share one; each process its own.
        self._idle: list[Any] = []
        self._pid = os.getpid()

    def get(self, name: str) -> Any:
        """``GET name``."""
        return self.send("GET", name)

    def mget(self, names: list[str]) -> Any:
        """``MGET *names``."""
        return self.send("MGET", *names)

    def script(self, names: list[str], args: list[Any]) -> Any:
        """See :meth:`ClientCommands.script`."""
        try:
            return self.send("EVALSHA", self._script.sha, len(names), *names, *args)
        except NoScriptError:  # a new or flushed server: the client's path loads it
            return self._script(names, args)

    def send(self, *args: Any) -> Any:
        """One command and its raw reply.

        :raises redis.RedisError: as the client would (a failed connection once it has
            been retried by the client's own path).
        """
        if self._pid != os.getpid():  # a forked child: the parent's sockets are not its own
            self._idle, self._pid = [], os.getpid()
        idle = self._idle
        try:
            connection = idle.pop()
        except IndexError:
            connection = self._pool.get_connection()
        try:
            packed = [_pack(args)] if _pack is not None else connection.pack_command(*args)
            connection.send_packed_command(packed, check_health=False)
            reply = connection.read_response()
        except redis.ConnectionError:
            # The connection dropped (a restarted server, an idle link cut): the client's
            # path reconnects and retries, as it does for every other command.
            self._give_back(connection)
            return self.client.execute_command(*args)
        except BaseException:
            self._give_back(connection)
            raise
        idle.append(connection)
        return reply

    def _give_back(self, connection: Any) -> None:
        connection.disconnect()
        self._pool.release(connection)


class AsyncDirectCommands(DirectCommands):
    """:class:`DirectCommands` on one server's asyncio client: each command returns an
    awaitable of its raw reply. Used from one event loop, whose coroutines never share a
    connection: each takes one from the idle list (or the pool) and puts it back when its
    reply is read; one cut off meanwhile (a cancelled request) is disconnected instead,
    since its reply may still be on the way.

    The client's socket timeout bounds each command as a whole (its write and its reply),
    in one ``asyncio.timeout`` scope. The connections held here have none of their own:
    on Python 3.11 redis-py bounds each write with ``asyncio.wait_for``, a task per
    command. A connection given back to the pool gets its timeout back, for the client's
    own path.
    """

    def __init__(self, client: Any, script: str) -> None:
        super().__init__(client, script)
        #: seconds a command may take, write and reply, before it fails (``None``: no bound).
        self._timeout: float | None = self._pool.connection_kwargs.get("socket_timeout")

    async def script(self, names: list[str], args: list[Any]) -> Any:
        """See :meth:`ClientCommands.script`."""
        try:
            return await self.send("EVALSHA", self._script.sha, len(names), *names, *args)
        except NoScriptError:  # a new or flushed server: the client's path loads it
            return await self._script(names, args)

    async def send(self, *args: Any) -> Any:
        """See :meth:`DirectCommands.send`.

        :raises redis.TimeoutError: when the write and the reply took longer than the
            client's socket timeout (not retried, as on the client's path).
        """
        idle = self._idle
        if idle:
            connection = idle.pop()
        else:
            connection = await self._pool.get_connection()
            connection.socket_timeout = None  # bounded below, in one scope
        try:
            packed = [_pack(args)] if _pack is not None else connection.pack_command(*args)
            async with asyncio.timeout(self._timeout):
                await connection.send_packed_command(packed, check_health=False)
                reply = await connection.read_response()
        except redis.ConnectionError:
            await self._drop(connection)
            return await self.client.execute_command(*args)
        except TimeoutError:
            await self._drop(connection)
            raise redis.TimeoutError(f"Timeout: Redis did not answer within {self._timeout} s") from None
        except BaseException:
            await self._drop(connection)
            raise
        idle.append(connection)
        return reply

    async def _drop(self, connection: Any) -> None:
        connection.socket_timeout = self._timeout
        try:
            await connection.disconnect()
        finally:
            await self._pool.release(connection)
