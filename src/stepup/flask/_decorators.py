"""``step_up_required``: route protection for views and whole blueprints."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar, overload

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from ..web import Operation, grant_holds, operation_of
from ._extension import request_session, state

__all__ = ["step_up_required"]

P = ParamSpec("P")
R = TypeVar("R")


class _Protection:
    """Protects a view function, or every view of a blueprint.

    :param max_age: seconds since the last second factor that the route accepts.
    :param methods: the methods the route accepts (default: any bound one).
    :param operation: makes each request need its own one-time approval, described by
        an :class:`~stepup.web.Operation` or a template string over form/JSON fields.
    """

    def __init__(self, max_age: float, methods: Iterable[str] | None, operation: Operation | None) -> None:
        self.max_age = max_age
        self.methods = frozenset(methods) if methods is not None else None
        self.operation = operation

    @overload
    def __call__(self, target: Blueprint) -> Blueprint: ...

    @overload
    def __call__(self, target: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, target: Any) -> Any:
        if isinstance(target, Blueprint):
            target.before_request(self.check)
            return target

        @functools.wraps(target)
        def protected(*args: Any, **kwargs: Any) -> Any:
            stop = self.check()
            return target(*args, **kwargs) if stop is None else stop

        return protected

    def check(self) -> BaseResponse | None:
        """``None`` when the request may run; otherwise the response that stops it."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        st = state(app)
        subject = st.subject(app)
        if subject is None:
            login_manager = getattr(app, "login_manager", None)
            if login_manager is not None:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            # Without Flask-Login the web layer answers, as on ASGI: a "sign in" page for
            # browsers, a problem document for JSON clients.
        # The hot path: a fresh grant in the session is a look-up, a clock read and, where
        # the policy switches methods per app or route, a look-up of what this one allows.
        elif self.operation is None and grant_holds(
            st.engine, request_session(), subject, self.max_age, self.methods, _where, None
        ):
            return None
        result = st.engine.run(
            st.web().gate.protect(
                st.web_request(subject), max_age=self.max_age, methods=self.methods, operation=self.operation,
                app=request.blueprint, route=request.endpoint, replay_grant=request.environ.get("stepup.replay_grant"),
            )
        )  # fmt: skip
        return None if result is None else st.respond(result)


def _where(_: None) -> tuple[str | None, str | None]:
    """The policy's app and route of the current request: its blueprint and endpoint."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    return req.blueprint, req.endpoint


def step_up_required(
    max_age: float = 300,
    methods: Iterable[str] | None = None,
    operation: Operation | str | None = None,
    fields: Iterable[str] = (),
) -> _Protection:
    """Require a recent second factor, or a one-time approval of each request.

    ::

        @app.get("/statement")
        @login_required
        @step_up_required(max_age=300)
        def statement(): ...

        @app.post("/transfer")
        @step_up_required(operation="transfer of {amount} to {to}", fields=["to", "amount"])
        def transfer(): ...

        step_up_required(max_age=600)(admin_blueprint)   # every view of a blueprint

    GET requests resume by redirect after the second factor; POST, PUT, PATCH and DELETE
    with a form or JSON body are replayed exactly once. JSON clients get a 401 with
    ``WWW-Authenticate: StepUp error="insufficient_user_authentication"``.

    :param max_age: seconds since the last second factor that the route accepts.
    :param methods: the methods the route accepts (default: any the policy allows).
    :param operation: each request needs its own approval, bound to these fields; the
        string is the text of the message, with ``{field}`` places.
    :param fields: the fields an operation string is bound to (default: those it names).
    """
    return _Protection(max_age, methods, operation_of(operation, fields))
