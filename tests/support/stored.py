"""What a store keeps, read raw: for tests that no code or secret is stored in the clear."""

from __future__ import annotations

from typing import Any

import stepup


def raw_strings(engine: stepup.Engine) -> list[str]:
    """Every string stored anywhere in the engine's (memory) store, keys included."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                found.append(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            found.append(value)

    for kind, key in list(engine.store._data):  # type: ignore[attr-defined]
        found += [kind, key]
        walk(engine.store.get(kind, key))
    return found
