"""Fixtures of the security suite alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any, redis_factory: Callable[..., Any]) -> str:
    """Each store, since each runs a step (a charge, a check, a write) in its own atomic
    way: memory, a SQLite file, a real Redis."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/stepup.sqlite3"
    return str(redis_factory().url)
