"""Finding the stepup of an ASGI app from outside a request (the ``stepup`` command)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from .._errors import ConfigurationError
from ._middleware import StepUpMiddleware
from ._state import StepUpState

__all__ = ["state_of_app"]


def state_of_app(app: Any) -> StepUpState:
    """The stepup state of an ASGI app: the one its :class:`StepUpMiddleware` holds.

    A Starlette or FastAPI app builds its middleware on its first request; this builds it
    once more, apart from the app's own, and follows each layer's ``app`` inwards to the
    middleware. An app wrapped by hand (``StepUpMiddleware(app, ...)``) is found the same way.

    :param app: a Starlette or FastAPI app, or any ASGI app that wraps one.
    :raises ConfigurationError: when no StepUpMiddleware is found.
    """
    node, seen = app, set()
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, StepUpMiddleware):
            return node.state
        node = node.build_middleware_stack() if isinstance(node, Starlette) else getattr(node, "app", None)
    raise ConfigurationError(
        f"{type(app).__name__} has no stepup.asgi.StepUpMiddleware: add it to the app's middleware."
    )
