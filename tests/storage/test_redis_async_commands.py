"""The asyncio Redis store writes its commands straight on pooled connections and reads
their replies: a command cut off before its reply came (a request cancelled, a client gone)
must never leave that reply for the next command on the connection to read as its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from stepup.stores import async_store_from_url


def test_a_command_cut_off_before_its_reply_leaves_it_to_no_other(redis_factory: Callable[..., Any]) -> None:
    server = redis_factory()

    async def main() -> list[Any]:
        store = async_store_from_url(server.url)
        try:
            await store.update("subject", "alice", lambda r: ({"who": "alice"}, None))
            await store.update("subject", "bob", lambda r: ({"who": "bob"}, None))
            with server.paused():  # the server takes the GET and answers once resumed
                cut = asyncio.create_task(store.get("subject", "alice"))
                for _ in range(5):
                    await asyncio.sleep(0)
                assert not cut.done()
                cut.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cut
            return [await store.get("subject", "bob") for _ in range(3)]
        finally:
            await store.close()

    assert asyncio.run(main()) == [{"who": "bob"}] * 3
