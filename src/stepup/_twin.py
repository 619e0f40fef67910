"""Sync and async twins from one piece of code: a generator of calls, run or awaited.

stepup writes every operation that does I/O once, as a generator that yields a
:class:`Call` for each call it needs made and gets the call's result back (or its error,
raised at the ``yield``). :func:`run` makes the calls on plain objects, :func:`arun`
awaits them on async ones, so the engine's flows, the stores' multi-step updates and the
senders' requests each have one body for both twins::

    def read_twice(store: Any) -> Steps[int]:
        first = yield from Call[Record | None](store, "get", "kind", "a")
        second = yield from Call[Record | None](store, "get", "kind", "b")
        return len([r for r in (first, second) if r])

    run(read_twice(sync_store))           # calls store.get
    await arun(read_twice(async_store))   # awaits store.get

``yield from`` gives the call's result its type: ``Call[T]`` is a one-step generator
returning ``T``. A generator called without ``yield from`` (or a runner) runs nothing;
``tests/test_structure.py`` scans the source for that mistake.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Generic, TypeVar

__all__ = ["Call", "Steps", "arun", "run"]

T = TypeVar("T")


class Call(Generic[T]):
    """One call a generator needs made: ``target.name(*args)``, whose result is a ``T``.

    :param target: the object to call (a store, a sender, a client); its kind (plain or
        async) is the runner's to match.
    :param name: the method to call on it.
    """

    __slots__ = ("args", "name", "target")

    def __init__(self, target: object, name: str, *args: Any) -> None:
        self.target = target
        self.name = name
        self.args = args

    def __iter__(self) -> Generator[Call[Any], Any, T]:
        result: T = yield self
        return result

    def __repr__(self) -> str:
        return f"Call({type(self.target).__name__}.{self.name})"


#: A generator of :class:`Call` steps whose return value is a ``T``.
Steps = Generator[Call[Any], Any, T]


def run(steps: Steps[T]) -> T:
    """Run ``steps``, making each call on its (plain) target.

    An exception a call raises is thrown into the generator at its ``yield``, which
    decides what it means; what the generator raises comes out of here. A
    ``BaseException`` (a cancelled task, ``SystemExit``) closes the generator first, so its
    ``finally`` blocks run in this thread and context, not whenever it is collected.
    """
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            value, error = getattr(call.target, call.name)(*call.args), None
        except Exception as e:  # handed to the generator, which decides
            value, error = None, e
        except BaseException:  # a cancel, an exit: the generator's ``finally`` runs now, here
            steps.close()
            raise


async def arun(steps: Steps[T]) -> T:
    """:func:`run` for async targets: each call is awaited."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        try:
            value, error = await getattr(call.target, call.name)(*call.args), None
        except Exception as e:  # handed to the generator, which decides
            value, error = None, e
        except BaseException:  # a cancelled task, an exit: the generator's ``finally`` runs now, here
            steps.close()
            raise
