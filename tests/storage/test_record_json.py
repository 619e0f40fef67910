"""The stores that keep records as JSON text (SQLite, Redis) give back what the json module
would: they write with orjson, and the standard library's answer stands wherever orjson's
would differ (see ``stepup.stores._json``). Lone surrogates and what JSON cannot write are
in the store contract (``stepup.testing``), for every store."""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from stepup.stores import store_from_url


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


#: what an app or stepup may hand a store, and what every store gives back.
CASES: list[tuple[Any, Any]] = [
    ({"text": "plain", "n": 3, "f": 0.1, "none": None, "yes": True}, None),
    ({"accents": "Zoë, naïve", "cjk": "认证码", "emoji": "🔐"}, None),
    ({"keys": {1: "one", 2.5: "x"}}, {"keys": {"1": "one", "2.5": "x"}}),
    ({"purpose": Colour.RED, "level": Level.HIGH}, {"purpose": "red", "level": 3}),
    (
        {"pair": (1, "two"), "times": [1733540000.123, 1e16, -0.0]},
        {"pair": [1, "two"], "times": [1733540000.123, 1e16, -0.0]},
    ),
    ({"big": 2**64 + 1, "negative": -(2**70) - 3, "id": "12345678901234567890123"}, None),
]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("redis_url")
    opened = store_from_url(url)
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("record", "read_back"), CASES, ids=["plain", "non-ascii", "keys", "enums", "numbers", "big-integers"]
)
def test_a_record_reads_back_as_json_would_have_it(store: Any, record: Any, read_back: Any) -> None:
    store.update("test", "k", lambda _: (record, None))
    got = store.get("test", "k")
    assert got == (record if read_back is None else read_back)
    assert got == json.loads(json.dumps(record))
    assert type(got.get("purpose", "")) is str and type(got.get("level", 0)) is int


def test_records_written_by_the_json_module_still_read(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    opened = store_from_url(f"sqlite:///{path}")
    opened.update("test", "made", lambda _: ({"v": 1}, None))  # the table exists
    opened.close()
    old = {"accents": "Zoë", "lone": "\udc80", "nan": float("nan")}
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO stepup_records (kind, key, value) VALUES ('test', 'old', ?)", (json.dumps(old),))
    opened = store_from_url(f"sqlite:///{path}")
    try:
        got = opened.get("test", "old")
        assert got["accents"] == "Zoë" and got["lone"] == "\udc80" and got["nan"] != got["nan"]
    finally:
        opened.close()


def test_without_orjson_the_json_module_writes_and_reads_the_same_records(tmp_path: Path) -> None:
    """orjson is a speedup (the ``speedups`` extra): a store without it keeps and reads the
    same records, and reads what a store with it wrote."""
    import subprocess
    import sys

    path = tmp_path / "s.sqlite3"
    with_it = store_from_url(f"sqlite:///{path}")
    with_it.update("test", "k", lambda _: ({"accents": "Zoë 認証", "n": [1, 0.5, None]}, None))
    with_it.close()
    script = f"""
import sys
sys.modules["orjson"] = None  # as if not installed
from stepup.stores import store_from_url
from stepup.stores import _json
assert _json.dumps.__name__ == "_std_dumps"
store = store_from_url("sqlite:///{path}")
assert store.get("test", "k") == {{"accents": "Zoë 認証", "n": [1, 0.5, None]}}
store.update("test", "k2", lambda _: ({{"purpose": "step_up", "keys": {{"1": 2}}}}, None))
try:
    store.update("test", "k3", lambda _: ({{"when": object()}}, None))
except TypeError:
    pass
else:
    raise SystemExit("an object was written")
store.close()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = store_from_url(f"sqlite:///{path}")
    assert again.get("test", "k2") == {"purpose": "step_up", "keys": {"1": 2}} and again.get("test", "k3") is None
    again.close()
