"""Which of a store's optional methods the engine may use: those that stand for the
methods the store has, not ones a subclass or a wrapper has replaced."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["AFTER_CONSISTENT", "own_method"]


def own_method(store: Any, name: str, *consistent: str) -> Any:
    """``store.name``, when the class that gives it gives the ``consistent`` methods the
    store has too; else ``None``. A subclass that overrides ``get_many`` (to put keys under
    a tenant, say) but inherits a ``read_now`` or an ``update_after`` would have its
    override bypassed by them: it goes without, and the engine calls what it overrides.
    So does a wrapper that hands out the wrapped store's methods (its ``__getattr__``) but
    defines one of ``consistent`` itself (to count calls or inject faults, say)."""
    found = getattr(store, name, None)
    if found is None:
        return None
    kind: Any = type(store)
    # Methods set on the instance (``store.update = f``, a fault injected): ``name`` among
    # them is the instance's own choice; a method it stands for among them, without it, is
    # replaced under it.
    replaced = getattr(store, "__dict__", {})
    if name in replaced:
        return found
    if not replaced.keys().isdisjoint(consistent):
        return None
    inner = getattr(found, "__self__", None)
    if inner is store or _defines(kind, name):
        return found if _consistent(kind, name, consistent) else None
    # handed out by a wrapper (its ``__getattr__``): the wrapped store's bound method, or a
    # function that calls it (a closure, a timing wrapper), which is the wrapper's to vouch for
    if any(_defines(kind, n) for n in consistent):
        return None
    return own_method(inner, name, *consistent) if inner is not None else found


def _defines(cls: Any, name: str) -> bool:
    return any(name in c.__dict__ for c in cls.__mro__ if c is not object)


@functools.lru_cache(maxsize=256)
def _consistent(cls: Any, name: str, consistent: tuple[str, ...]) -> bool:
    owner = next((c for c in cls.__mro__ if name in c.__dict__), None)
    if owner is None:  # the instance's own attribute, bound to it
        return True
    return all(getattr(cls, n, None) is getattr(owner, n, None) for n in consistent)


#: what a store's own ``update_after`` stands for, which a subclass may override.
AFTER_CONSISTENT = ("get", "get_many", "update", "update_many")
