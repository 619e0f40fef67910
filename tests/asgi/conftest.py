"""The ASGI adapter's own tests: the sites of tests/support run on Starlette only here;
small apps built in a test are served by :func:`serve` and closed at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.sites import Outboxes, StarletteSite


@pytest.fixture
def adapter() -> str:
    """Every ``bank`` and ``lab`` of this folder is the Starlette one."""
    return "starlette"


@pytest.fixture
def anyio_backend() -> str:
    """``@pytest.mark.anyio`` tests run on asyncio, as Starlette apps usually do."""
    return "asyncio"


@pytest.fixture
def engine_options(outboxes: Outboxes) -> dict[str, Any]:
    """Keyword arguments of an in-memory :class:`stepup.AsyncEngine` on the suite's clock
    and outboxes."""
    return {
        "secret_key": "asgi-suite-secret-key-0123456789abcdef",
        "store_url": "memory://",
        **outboxes.async_engine_options(),
    }


@pytest.fixture
def serve(outboxes: Outboxes) -> Iterator[Callable[..., StarletteSite]]:
    """``serve(app, **site_options)``: an ASGI app with a StepUpMiddleware, served in
    process by a ``TestClient`` (lifespan run); closed with its engine at teardown."""
    served: list[StarletteSite] = []

    def make(app: Any, **options: Any) -> StarletteSite:
        site = StarletteSite(app, outboxes, **options)
        served.append(site)
        return site

    yield make
    for site in served:
        site.close()
